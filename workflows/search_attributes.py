"""The search attributes every MatchLifecycle carries, and the one mapping from a match to them.

Registered on the namespace at start-up (workers/ hands ``ALL_KEYS`` to infra/), set when a
match starts (services/intake.py) and upserted by the workflow as the match moves.
"""

from datetime import datetime
from typing import Any

from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)

from domain.enums import MatchStatus, Stage
from domain.model import ExpressionOfInterest

MATCH_STAGE = SearchAttributeKey.for_keyword("MatchStage")
MATCH_STATUS = SearchAttributeKey.for_keyword("MatchStatus")
FOCUS_AREA = SearchAttributeKey.for_keyword("FocusArea")
ADOPTER_COUNTRY = SearchAttributeKey.for_keyword("AdopterCountry")
PROVIDER_COUNTRY = SearchAttributeKey.for_keyword("ProviderCountry")
WORKSHOP_ID = SearchAttributeKey.for_keyword("WorkshopId")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")

ALL_KEYS: tuple[SearchAttributeKey[Any], ...] = (
    MATCH_STAGE,
    MATCH_STATUS,
    FOCUS_AREA,
    ADOPTER_COUNTRY,
    PROVIDER_COUNTRY,
    WORKSHOP_ID,
    NEXT_DEADLINE,
)


def values(
    eoi: ExpressionOfInterest,
    *,
    stage: Stage = Stage.FOLLOW_UP,
    status: MatchStatus = MatchStatus.ACTIVE,
    next_deadline: datetime | None = None,
) -> dict[SearchAttributeKey[Any], Any]:
    """Return every search attribute of a match (None: unset)."""
    return {
        MATCH_STAGE: stage.value,
        MATCH_STATUS: status.value,
        FOCUS_AREA: eoi.solution.focus_area.value,
        ADOPTER_COUNTRY: eoi.adopter.institution.country,
        PROVIDER_COUNTRY: eoi.solution.provider.country,
        WORKSHOP_ID: eoi.workshop.id,
        NEXT_DEADLINE: next_deadline,
    }


def at_start(eoi: ExpressionOfInterest) -> TypedSearchAttributes:
    """The search attributes a match starts with (before its first deadline is known)."""
    return TypedSearchAttributes(
        [SearchAttributePair(k, v) for k, v in values(eoi).items() if v is not None]
    )


def updates(current: dict[SearchAttributeKey[Any], Any]) -> list[SearchAttributeUpdate[Any]]:
    """Turn attribute values into the upserts that set them (None unsets)."""
    return [k.value_set(v) if v is not None else k.value_unset() for k, v in current.items()]


def changed(
    wanted: dict[SearchAttributeKey[Any], Any], current: TypedSearchAttributes
) -> dict[SearchAttributeKey[Any], Any]:
    """The attributes whose wanted value (None: unset) differs from the workflow's current one."""
    return {k: v for k, v in wanted.items() if current.get(k) != v}
