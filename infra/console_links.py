"""Where the Secretariat's console shows a match: the one place its address is built.

Secretariat emails (escalations, delivery failures, help and support requests, closed
matches, refused records) link here, never to a partner's signed pages: the console is behind
the Secretariat's own sign-in, so the link carries no token and nothing secret.
"""

from urllib.parse import quote

CONSOLE_MATCH_PATH = "/console/matches/{match_id}"


def console_match_url(public_base_url: str, match_id: str) -> str:
    """The absolute address of a match in the Secretariat's console."""
    path = CONSOLE_MATCH_PATH.format(match_id=quote(match_id, safe=""))
    return f"{public_base_url.rstrip('/')}{path}"
