"""Typed search attributes every MatchLifecycle carries (registered on the namespace at start-up)."""

from temporalio.common import SearchAttributeKey

MATCH_STAGE = SearchAttributeKey.for_keyword("MatchStage")
MATCH_STATUS = SearchAttributeKey.for_keyword("MatchStatus")
FOCUS_AREA = SearchAttributeKey.for_keyword("FocusArea")
ADOPTER_COUNTRY = SearchAttributeKey.for_keyword("AdopterCountry")
PROVIDER_COUNTRY = SearchAttributeKey.for_keyword("ProviderCountry")
WORKSHOP_ID = SearchAttributeKey.for_keyword("WorkshopId")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")

ALL_KEYS: tuple[SearchAttributeKey, ...] = (
    MATCH_STAGE,
    MATCH_STATUS,
    FOCUS_AREA,
    ADOPTER_COUNTRY,
    PROVIDER_COUNTRY,
    WORKSHOP_ID,
    NEXT_DEADLINE,
)
