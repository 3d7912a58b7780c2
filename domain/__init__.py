"""Pure rules of the match lifecycle: entities, value objects, enums.

Nothing in this package touches Temporal, the database, the network or settings.
"""
