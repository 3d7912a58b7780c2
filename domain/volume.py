"""The compiled volume of *The South-South Matchmaker*: published case studies, by focus area.

Pure text assembly. Each case study is Markdown a person may have edited; the volume reads its
``##`` sections by name (the volume's own, or those of the generated draft, see ``ALIASES``),
puts them in the volume's order (context, the solution, the adaptation, results with impact
figures, lessons, contacts) and demotes every other heading, so that nothing an editor writes
can change the volume's outline: the volume is ``#``, a focus area ``##``, a case ``###``, a
section ``####``, anything inside a section ``#####`` or ``######``.
"""

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from domain.enums import FocusArea

VOLUME_TITLE = "The South-South Matchmaker"
SUBTITLE = "Case studies of the South-South Network for Public Service Innovation"
# The sections of a case, in the volume's order: (key, heading).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("context", "Context"),
    ("solution", "The solution"),
    ("adaptation", "The adaptation"),
    ("results", "Results"),
    ("lessons", "Lessons"),
    ("contacts", "Contacts"),
)
# ``##`` headings that open a section (casefolded): the volume's own and the generated draft's
# (domain/lifecycle/case_study.py). Any other ``##`` heading stays inside the section before it.
ALIASES: dict[str, str] = {
    **{heading.casefold(): key for key, heading in SECTIONS},
    "the match": "context",
    "background": "context",
    "solution": "solution",
    "field visit": "solution",
    "exchange": "solution",
    "adaptation": "adaptation",
    "results with impact figures": "results",
    "impact": "results",
    "lessons learned": "lessons",
    "lessons learned by the adopter": "lessons",
    "the provider's view": "lessons",
    "contact": "contacts",
}
# Headings kept as sub-headings where they stand (the reader still sees whose view it is).
KEEP_AS_SUBHEADING = {"the provider's view", "lessons learned by the adopter"}
# The line the generated draft carries under its title, which has no place in the volume.
DRAFT_MARK = re.compile(r"^\*Focus area: .* · Draft for The South-South Matchmaker\*$")
NOT_REPORTED = "*Not reported.*"

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_NAMES_SOLUTION = re.compile(r"^ {0,3}## +(the +)?solution[ \t#]*$", re.IGNORECASE | re.MULTILINE)
_LIST_ITEM = re.compile(r"^ {0,3}([-*+]|\d+[.)])([ \t]|$)")


class Partner(BaseModel):
    """An institution of a case and the person who speaks for it."""

    model_config = ConfigDict(frozen=True)

    institution: str
    country: str = Field(description="the country's name as a sentence uses it")
    contact: str = ""
    email: str = ""


class CaseFacts(BaseModel):
    """What the records say about a published case, beside its Markdown."""

    model_config = ConfigDict(frozen=True)

    match_id: str
    title: str
    focus_area: FocusArea
    markdown: str
    solution: str = ""
    workshop: str = ""
    provider: Partner | None = None
    adopter: Partner | None = None


class Case(BaseModel):
    """A case as the volume prints it: its title and the text of each section, in order."""

    model_config = ConfigDict(frozen=True)

    match_id: str
    title: str
    byline: str
    sections: tuple[tuple[str, str], ...]


def split_case(markdown: str) -> tuple[str | None, dict[str, str]]:
    """Read a case study: its ``#`` title (if it opens with one) and its sections by key, each
    text with its inner headings demoted below the section's level."""
    title: str | None = None
    parts: dict[str, list[str]] = {}
    current = "context"
    fence: str | None = None
    for number, line in enumerate(markdown.replace("\r\n", "\n").split("\n")):
        if fence is None:
            opened = _FENCE.match(line)
            if opened:
                fence = opened.group(1)
            else:
                heading = _ATX.match(line)
                if heading:
                    level, text = len(heading.group(1)), (heading.group(2) or "").strip()
                    name = text.casefold()
                    if level == 1 and title is None and not _written(parts) and text:
                        title = text
                        continue
                    if level == 2 and name in ALIASES:
                        current = ALIASES[name]
                        if name not in KEEP_AS_SUBHEADING:
                            parts.setdefault(current, [])
                            continue
                    line = f"{'#' * min(6, max(5, level + 3))} {text}".rstrip()
                elif DRAFT_MARK.match(line.strip()) and not _written(parts) and number < 4:
                    continue
        elif line.strip().startswith(fence) and not line.strip().strip(fence[0]):
            fence = None
        parts.setdefault(current, []).append(line)
    return title, {key: _setext_demoted("\n".join(lines)).strip() for key, lines in parts.items()}


def _written(parts: dict[str, list[str]]) -> bool:
    return any(line.strip() for lines in parts.values() for line in lines)


def _setext_demoted(text: str) -> str:
    """Turn setext headings (a line underlined with === or ---) into demoted ATX headings, and
    close a code block left open, so that it cannot swallow the sections after it."""
    out: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        opened = _FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
        elif fence is not None:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
        elif (
            _SETEXT.match(line)
            and out
            and out[-1].strip()
            and not _ATX.match(out[-1])
            and not _LIST_ITEM.match(out[-1])
        ):
            out[-1] = f"##### {out[-1].strip()}"
            continue
        out.append(line)
    if fence is not None:
        while out and not out[-1].strip():
            out.pop()
        out.append(fence)
    return "\n".join(out)


def arrange(facts: CaseFacts) -> Case:
    """Put a case study in the volume's sections, with what the records say where it is
    silent (the solution, the contacts)."""
    title, found = split_case(facts.markdown)
    fallback = {"solution": _solution_line(facts), "contacts": _contacts(facts)}
    if (
        found.get("solution")
        and fallback["solution"]
        and not _NAMES_SOLUTION.search(facts.markdown)
    ):
        # the generated draft tells how the solution was shared, not what it is: say that first
        found["solution"] = f"{fallback['solution']}\n\n{found['solution']}"
    sections = tuple(
        (heading, found.get(key) or fallback.get(key) or NOT_REPORTED) for key, heading in SECTIONS
    )
    return Case(
        match_id=facts.match_id,
        title=_one_line(title or facts.title),
        byline=_byline(facts),
        sections=sections,
    )


def _solution_line(facts: CaseFacts) -> str:
    if not facts.solution:
        return ""
    provider = facts.provider
    offered = f", offered by {provider.institution} ({provider.country})" if provider else ""
    return f"**{_escape(facts.solution)}**{_escape(offered)}. Focus area: {facts.focus_area.label}."


def _contacts(facts: CaseFacts) -> str:
    lines = []
    for role, partner in (("Provider", facts.provider), ("Adopter", facts.adopter)):
        if partner is None:
            continue
        who = f"{partner.institution}, {partner.country}"
        if partner.contact:
            who += f": {partner.contact}"
        if partner.email:
            who += f" ({partner.email})"
        lines.append(f"- **{role}**: {_escape(who)}")
    return "\n".join(lines)


def _byline(facts: CaseFacts) -> str:
    parts = []
    provider, adopter = facts.provider, facts.adopter
    if provider and adopter:
        parts.append(
            f"From {provider.institution} ({provider.country}) "
            f"to {adopter.institution} ({adopter.country})"
        )
    if facts.workshop:
        parts.append(f"matched at {facts.workshop}")
    return f"*{_escape(' · '.join(parts))}*" if parts else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _escape(text: str) -> str:
    """Escape what Markdown would read as emphasis or links inside a line we write."""
    return re.sub(r"([\\`*_\[\]<>#])", r"\\\1", text)


def slug(text: str) -> str:
    """The anchor of a heading, as GitHub and the HTML volume make it."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.strip().replace(" ", "-")


def compile_volume(cases: Iterable[CaseFacts], *, compiled_on: date) -> str:
    """The volume in Markdown: a contents list, then each focus area (in the Network's order)
    with its cases (by title), numbered through the volume."""
    by_area: dict[FocusArea, list[Case]] = {}
    for facts in sorted(cases, key=lambda c: (_title_key(c), c.match_id)):
        by_area.setdefault(facts.focus_area, []).append(arrange(facts))
    count = sum(len(v) for v in by_area.values())
    studies = "case study" if count == 1 else "case studies"
    lines = [
        f"# {VOLUME_TITLE}",
        "",
        f"*{SUBTITLE}*",
        "",
        f"{count} {studies}, compiled on {compiled_on.isoformat()}.",
    ]
    if not count:
        return "\n".join([*lines, "", "No case study has been published yet.", ""])
    contents, body, number = ["", "## Contents", ""], [], 0
    for area in FocusArea:
        if area not in by_area:
            continue
        contents.append(f"- [{area.label}](#{slug(area.label)})")
        body += ["", f"## {area.label}"]
        for case in by_area[area]:
            number += 1
            heading = f"{number}. {_escape(case.title)}"
            contents.append(f"  - [{_escape(case.title)}](#{slug(heading)})")
            body += ["", f"### {heading}"]
            if case.byline:
                body += ["", case.byline]
            for name, text in case.sections:
                body += ["", f"#### {name}", "", text]
    return "\n".join([*lines, *contents, *body, ""])


def _title_key(facts: CaseFacts) -> str:
    title, _ = split_case(facts.markdown)
    return (title or facts.title).casefold()
