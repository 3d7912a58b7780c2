"""What a partner may see of their match: the history kinds that concern them, nothing internal.

Secretariat notes, escalations, delivery failures, contact changes (addresses) and reminders
stay with the Secretariat; a partner sees what was asked, answered and decided.
"""

from domain.enums import Party
from domain.lifecycle.state import HistoryEntry, MatchState, Prompt

PARTNER_VISIBLE = frozenset(
    {
        "match_recorded",
        "prompt_opened",
        "answered",
        "stage_entered",
        "visit_scheduled",
        "visit_cancelled",
        "visit_recorded",
        "visit_ended",
        "progress_reported",
        "support_requested",
        "outcome_recorded",
        "closed",
    }
)


def partner_history(state: MatchState) -> list[HistoryEntry]:
    """The entries of the match a partner may read, oldest first."""
    return [entry for entry in state.history if entry.kind in PARTNER_VISIBLE]


def prompts_of(state: MatchState, party: Party) -> list[Prompt]:
    """The prompts put to a party, newest first."""
    return sorted(
        (p for p in state.prompts if p.party == party), key=lambda p: p.opened_at, reverse=True
    )
