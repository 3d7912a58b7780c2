"""The bounds on callers' failures: counted in the database, so every API replica sees them.

``SharedLimiter`` (services/limits.py) is what the API, the partner pages and the console use;
``FailureLimiter`` (domain/limits.py) counts in one process's memory: the shared one falls back
on it while the database is down, and a process without a database uses it alone."""

from domain.limits import FailureLimiter
from services.limits import API_KEYS, PARTNER_FORMS, SIGN_IN, SharedLimiter

__all__ = ["API_KEYS", "PARTNER_FORMS", "SIGN_IN", "FailureLimiter", "SharedLimiter"]
