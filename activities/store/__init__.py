"""Persistence adapter: SQLAlchemy tables, engine and repository functions.

Activities write through it; the API reads the read model through it.
"""
