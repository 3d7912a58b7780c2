"""Entities and value objects of the export-import model: workshops, solutions, EOIs, matches."""

import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    TypeAdapter,
    field_validator,
    model_validator,
)
from pydantic_extra_types.country import CountryAlpha2
from pydantic_extra_types.language_code import LanguageAlpha2

from domain.enums import FocusArea
from domain.text import ID_MAX, Name, Text, email_lengths

WORKFLOW_ID_PREFIX = "match-"

# Identifiers end up in workflow ids, URLs and email headers: keep them plain.
IDENTIFIER_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
Identifier = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=ID_MAX, pattern=rf"^{IDENTIFIER_PATTERN}$"),
]
_MATCH_ID = re.compile(rf"{re.escape(WORKFLOW_ID_PREFIX)}{IDENTIFIER_PATTERN}")
# An address SMTP can carry: RFC 5321 lengths on top of email-validator's syntax checks.
Email = Annotated[EmailStr, AfterValidator(email_lengths)]
Country = Annotated[
    CountryAlpha2, BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v)
]
Language = Annotated[
    LanguageAlpha2, BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v)
]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a timezone, e.g. 2021-10-28T10:15:00Z")
    return value.astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Contact(_Value):
    """A person the Network writes to on behalf of an institution."""

    name: Name
    email: Email
    language: Language = Field(
        default=LanguageAlpha2("en"), description="ISO 639-1 code of the preferred language"
    )


class Institution(_Value):
    """A public institution taking part as provider or adopter."""

    name: Name
    country: Country = Field(description="ISO 3166-1 alpha-2 code")

    def same_as(self, other: "Institution") -> bool:
        """Tell whether two records name the same institution."""
        return self.country == other.country and self.name.casefold() == other.name.casefold()


class Workshop(_Value):
    """A matchmaking workshop where expressions of interest are filed."""

    id: Identifier
    title: Name
    date: date


class Solution(_Value):
    """A public-service innovation a provider institution offers to share."""

    id: Identifier
    title: Name
    focus_area: FocusArea
    provider: Institution
    contact: Contact

    @field_validator("focus_area", mode="before")
    @classmethod
    def _focus_area_label(cls, value: object) -> object:
        return FocusArea.parse(value) if isinstance(value, str) else value


class Adopter(_Value):
    """The institution that wants to import a solution, and who speaks for it."""

    institution: Institution
    contact: Contact


class ExpressionOfInterest(_Value):
    """An adopter's interest in a provider's solution, filed at a workshop."""

    id: Identifier
    workshop: Workshop
    solution: Solution
    adopter: Adopter
    interest_statement: Text = ""
    submitted_at: AwareDatetime

    @model_validator(mode="after")
    def _adopter_is_not_provider(self) -> "ExpressionOfInterest":
        if self.adopter.institution.same_as(self.solution.provider):
            raise ValueError("the adopter institution must differ from the provider institution")
        if self.adopter.contact.email == self.solution.contact.email:
            raise ValueError("the adopter contact must differ from the provider contact")
        return self

    @property
    def match_id(self) -> str:
        """Return the id of the match (and of its workflow) this EOI starts."""
        return match_id_for(self.id)

    def summary(self) -> str:
        """One line a person reads: solution — provider country → adopter institution, country."""
        return (
            f"{self.solution.title} — {self.solution.provider.country} → "
            f"{self.adopter.institution.name}, {self.adopter.institution.country}"
        )


def match_id_for(eoi_id: str) -> str:
    """Return the match (and workflow) id derived from an EOI id."""
    return f"{WORKFLOW_ID_PREFIX}{eoi_id}"


def is_match_id(value: str) -> bool:
    """Whether a string is one ``match_id_for`` can return (any other names no match)."""
    return _MATCH_ID.fullmatch(value) is not None


def load_reference_data() -> None:
    """Load the ISO country and language tables now (they load lazily on first validation).

    The Temporal workflow sandbox forbids file access, so a worker calls this before it decodes
    its first workflow input.
    """
    TypeAdapter(Country).validate_python("BD")
    TypeAdapter(Language).validate_python("en")
