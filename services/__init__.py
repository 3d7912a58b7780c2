"""Use cases: intake, apply an answer or action, read a match. The one door to the engine:
the web layers reach Temporal and the database only through here."""
