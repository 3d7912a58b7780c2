"""Failure messages that activities hand to Temporal."""

MAX_FAILURE_CHARS = 1000


def brief(text: str, limit: int = MAX_FAILURE_CHARS) -> str:
    """Return ``text`` on one line, cut to ``limit`` characters.

    Temporal keeps an activity's last failure only up to a few kilobytes (message, stack
    trace and causes together); past that its UI shows "Failure exceeds size limit." instead
    of the reason. Mail servers and templates can produce long, multi-line messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
