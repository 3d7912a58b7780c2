"""Persistence: SQLAlchemy tables and engine, writes (activities' units of work) and queries
(the read side). Knows no caller: it imports only domain/."""
