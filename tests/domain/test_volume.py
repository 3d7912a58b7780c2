"""The compiled volume: focus areas in the Network's order, cases by title, the volume's
sections whatever the editor wrote, and no heading of an edit that can break the outline."""

import re
from datetime import date

from domain.enums import FocusArea
from domain.volume import CaseFacts, Partner, compile_volume, slug, split_case
from tests.domain.lifecycle_helpers import Driver
from tests.domain.test_case_study import complete, visited

ON = date(2026, 11, 23)
SECTIONS = ["Context", "The solution", "The adaptation", "Results", "Lessons", "Contacts"]


def case(title: str, area: FocusArea, body: str = "", match_id: str = "") -> CaseFacts:
    markdown = f"# {title}\n\n## Context\n{body or 'Why it mattered.'}\n"
    return CaseFacts(
        match_id=match_id or f"match-{slug(title)}",
        title="stored title",
        focus_area=area,
        markdown=markdown,
        solution="Union Digital Centres",
        workshop="SSN4PSI Matchmaking Workshop, Nur-Sultan (2021-10-27)",
        provider=Partner(
            institution="a2i", country="Bangladesh", contact="Asad", email="asad@a2i.gov.bd"
        ),
        adopter=Partner(institution="ACSA", country="Kazakhstan", contact="Aigerim"),
    )


def headings(markdown: str, level: int) -> list[str]:
    """The headings of a level, outside code blocks."""
    outside = re.sub(r"^```.*?^```$", "", markdown, flags=re.M | re.S)
    return re.findall(rf"^{'#' * level} (.+)$", outside, flags=re.M)


def test_an_empty_volume_says_so():
    text = compile_volume([], compiled_on=ON)
    assert text.startswith("# The South-South Matchmaker\n")
    assert "0 case studies, compiled on 2026-11-23." in text
    assert "No case study has been published yet." in text
    assert headings(text, 2) == []


def test_cases_are_grouped_by_focus_area_in_the_networks_order_then_by_title():
    cases = [
        case("Zakat online", FocusArea.FUTURE_OF_FINANCE),
        case("Birth registration", FocusArea.FUTURE_OF_DATA_INNOVATION),
        case("Apprenticeships", FocusArea.FUTURE_OF_WORK),
        case("Agent banking", FocusArea.FUTURE_OF_FINANCE),
        case("Union Digital Centres", FocusArea.FUTURE_OF_PUBLIC_SERVICE),
    ]
    text = compile_volume(cases, compiled_on=ON)
    assert "5 case studies" in text
    assert headings(text, 2) == [
        "Contents",
        "Future of Public Service",
        "Future of Finance",
        "Future of Work",
        "Future of Data Innovation",
    ]
    assert headings(text, 3) == [
        "1. Union Digital Centres",
        "2. Agent banking",
        "3. Zakat online",
        "4. Apprenticeships",
        "5. Birth registration",
    ]
    # the contents list links every area and case to its heading's anchor
    assert "- [Future of Finance](#future-of-finance)" in text
    assert "  - [Zakat online](#3-zakat-online)" in text


def test_every_case_has_the_volumes_sections_in_order_with_the_records_where_it_is_silent():
    text = compile_volume([case("Union Digital Centres", FocusArea.FUTURE_OF_WORK)], compiled_on=ON)
    assert headings(text, 4) == SECTIONS
    assert "*From a2i (Bangladesh) to ACSA (Kazakhstan) · matched at SSN4PSI" in text
    solution = text.split("#### The solution\n\n", 1)[1].split("\n", 1)[0]
    assert solution == (
        "**Union Digital Centres**, offered by a2i (Bangladesh). Focus area: Future of Work."
    )
    assert "- **Provider**: a2i, Bangladesh: Asad (asad@a2i.gov.bd)" in text
    assert "- **Adopter**: ACSA, Kazakhstan: Aigerim" in text
    assert text.split("#### The adaptation\n\n", 1)[1].startswith("*Not reported.*")


def test_headings_inside_an_edit_do_not_break_the_outline():
    body = (
        "Before.\n\n# A new title\n\n## Background detail\n\n### Deeper\n\n"
        "Setext heading\n===\n\n```\n## Results\n# not a heading in code\n```\n\n"
        "## Results\nPeople reached: 1,000\n\n## Results\nMore results.\n\n"
        "```\nan unclosed code block\n"
    )
    text = compile_volume([case("Edited", FocusArea.FUTURE_OF_WORK, body)], compiled_on=ON)
    assert headings(text, 1) == ["The South-South Matchmaker"]
    assert headings(text, 2) == ["Contents", "Future of Work"]
    assert headings(text, 3) == ["1. Edited"]
    assert headings(text, 4) == SECTIONS
    context = text.split("#### Context\n\n", 1)[1].split("#### The solution", 1)[0]
    assert "##### A new title" in context and "##### Background detail" in context
    assert "###### Deeper" in context and "##### Setext heading" in context
    assert "```\n## Results\n# not a heading in code\n```" in context
    results = text.split("#### Results\n\n", 1)[1].split("#### Lessons", 1)[0]
    assert "People reached: 1,000" in results and "More results." in results
    # the code block left open is closed inside its section, before the next one
    assert results.rstrip().endswith("an unclosed code block\n```")


def test_a_title_cannot_bring_markdown_into_the_outline():
    text = compile_volume(
        [case("A *bold* [link](x) title", FocusArea.FUTURE_OF_WORK)], compiled_on=ON
    )
    assert "### 1. A \\*bold\\* \\[link\\](x) title" in text


def test_the_generated_draft_lands_in_the_volumes_sections(version):
    draft = complete(visited(version), lessons="start small", notes="well done")
    title, sections = split_case(draft)
    assert title and title.startswith("Union Digital Centres")
    assert set(sections) == {"context", "solution", "adaptation", "results", "lessons"}
    assert "expressed interest in" in sections["context"]
    assert "Draft for The South-South Matchmaker" not in "".join(sections.values())
    assert "A delegation of" in sections["solution"]
    assert "- People reached: 12,000" in sections["results"]
    assert "start small" in sections["lessons"]
    assert "##### The provider's view\nwell done" in sections["lessons"]


def test_a_remote_exchange_without_a_plan_still_fills_every_section():
    d = Driver(rules_version=2)
    d.both_agree(remote=True)
    text = compile_volume(
        [
            CaseFacts(
                match_id="m",
                title="t",
                focus_area=FocusArea.FUTURE_OF_PUBLIC_SERVICE,
                markdown=complete(d),
            )
        ],
        compiled_on=ON,
    )
    assert headings(text, 4) == SECTIONS
    solution = text.split("#### The solution\n\n", 1)[1].split("####", 1)[0]
    assert "share the solution remotely" in solution


def test_a_draft_telling_how_the_solution_was_shared_first_says_what_it_is():
    facts = case("Union Digital Centres", FocusArea.FUTURE_OF_WORK).model_copy(
        update={"markdown": "# T\n\n## Field visit\nA delegation of 5 people.\n"}
    )
    text = compile_volume([facts], compiled_on=ON)
    solution = text.split("#### The solution\n\n", 1)[1].split("\n\n####", 1)[0]
    assert solution == (
        "**Union Digital Centres**, offered by a2i (Bangladesh). Focus area: Future of Work."
        "\n\nA delegation of 5 people."
    )
    own = facts.model_copy(update={"markdown": "# T\n\n## The solution\nOur words.\n"})
    text = compile_volume([own], compiled_on=ON)
    assert text.split("#### The solution\n\n", 1)[1].startswith("Our words.\n")
