"""Text that may be stored and mailed: one line or several, never a control character.

Everything a person types ends up in a database column, an email header or body, and the
Temporal history. A line break in a name becomes a header injection, a NUL byte is refused by
PostgreSQL, and C1 controls render as garbage: input is refused with a message that names the
character, before anything is stored. The limits are the columns' (tests/test_limits.py reads
them from the tables so the two cannot drift).
"""

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

# Column sizes shared by the input models and the tables.
ID_MAX = 64  # workshop, solution and EOI ids
NAME_MAX = 200  # names of people and institutions, titles of workshops and solutions
# a name's casefolded key: casefolding turns one character into at most three ("ß" -> "ss",
# "ﬃ" -> "ffi")
NAME_KEY_MAX = 3 * NAME_MAX
ACTOR_MAX = 200  # who did something (a user, a partner on whose behalf)
REASON_MAX = 2000  # reasons and notes of Secretariat actions
TEXT_MAX = 5000  # what partners write (needs, lessons, plans)
EMAIL_MAX = 254  # RFC 5321 path (256) without its angle brackets
EMAIL_LOCAL_MAX = 64  # RFC 5321 local part
URL_MAX = 2000  # a web address (what browsers and servers commonly accept)

# C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators.
_NOT_IN_A_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The same, except tab, line feed and carriage return.
_NOT_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


def _describe(char: str) -> str:
    names = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab", "\x00": "a NUL byte"}
    return names.get(char, "a control character") + f" (U+{ord(char):04X})"


def one_line(value: str) -> str:
    """Refuse what cannot stand in a single line of a header or a table cell."""
    found = _NOT_IN_A_LINE.search(value)
    if found:
        raise ValueError(
            f"must be a single line of printable text; found {_describe(found.group())} "
            f"at position {found.start() + 1}"
        )
    return value


def printable(value: str) -> str:
    """Refuse control characters other than tabs and line breaks in longer text."""
    found = _NOT_IN_TEXT.search(value)
    if found:
        raise ValueError(
            f"must be printable text (line breaks and tabs allowed); found "
            f"{_describe(found.group())} at position {found.start() + 1}"
        )
    return value


def email_lengths(value: str) -> str:
    """Refuse addresses longer than SMTP carries (email-validator checks the total only)."""
    local = value.rsplit("@", 1)[0]
    if len(local.encode()) > EMAIL_LOCAL_MAX:
        raise ValueError(f"the part before the @ is longer than {EMAIL_LOCAL_MAX} characters")
    if len(value.encode()) > EMAIL_MAX:
        raise ValueError(f"an email address has at most {EMAIL_MAX} characters")
    return value


def _line(max_length: int, min_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


# A name of a person or an institution, or a title: one line, never empty.
Name = Annotated[str, _line(NAME_MAX, 1), AfterValidator(one_line)]
# Who did something.
Actor = Annotated[str, _line(ACTOR_MAX, 1), AfterValidator(one_line)]
# Why the Secretariat acts: a sentence or a paragraph.
Reason = Annotated[str, _line(REASON_MAX, 3), AfterValidator(printable)]
# What partners write; may be empty.
Text = Annotated[str, _line(TEXT_MAX, 0), AfterValidator(printable)]
# What partners must write.
RequiredText = Annotated[str, _line(TEXT_MAX, 1), AfterValidator(printable)]
# An optional line: a venue, a city; may be empty.
OptionalLine = Annotated[str, _line(NAME_MAX, 0), AfterValidator(one_line)]

_WEB_ADDRESS = re.compile(r"https?://[^\s/?#]+\.[^\s/?#]+\S*")


def web_address(value: str) -> str:
    """Refuse what is not a web address a browser opens (a meeting link)."""
    if value and not _WEB_ADDRESS.fullmatch(value):
        raise ValueError("must be a web address starting with https:// (or http://)")
    return value


# A meeting link; may be empty.
WebAddress = Annotated[
    str, _line(URL_MAX, 0), AfterValidator(one_line), AfterValidator(web_address)
]
