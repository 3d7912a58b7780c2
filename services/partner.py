"""Partners at their signed links: read the prompt a link is for, and answer it.

The link is the only credential: the match, the prompt and the party come from its claims,
never from the form. An answer reaches the workflow as an Update whose id derives from the
token, so a form submitted twice is applied once.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from domain.enums import Party
from domain.lifecycle import events as ev
from domain.lifecycle.answers import Answer
from domain.lifecycle.state import HistoryEntry, MatchState, Prompt
from domain.partner_view import partner_history
from infra.signing import LinkClaims, PartnerLinks
from services import steering
from services.backend import Backend
from services.errors import MatchNotFound
from workflows.contracts import UpdateResult


class PromptNotOpen(Exception):
    """The prompt was answered, or the match moved on or closed: the page says where it is."""

    def __init__(self, page: "PromptPage") -> None:
        super().__init__(f"prompt {page.prompt.id} is {page.prompt.status}")
        self.page = page


@dataclass(frozen=True)
class PromptPage:
    """What a partner's page shows: the match, the prompt the link is for, what was said."""

    claims: LinkClaims
    state: MatchState
    prompt: Prompt
    history: list[HistoryEntry]

    @property
    def party(self) -> Party:
        return Party(self.claims.party)


async def open_link(
    backend: Backend, links: PartnerLinks, token: str, *, now: datetime
) -> PromptPage:
    """The page of a genuine link (LinkTampered / LinkExpired otherwise; MatchNotFound for a
    match or prompt that does not exist)."""
    claims = links.read(token, now=now)
    state = await steering.live_state(backend, match_id=claims.match_id)
    prompt = state.prompt(claims.prompt_id) if claims.prompt_id else None
    if prompt is None or prompt.party != claims.party:
        raise MatchNotFound(f"match {claims.match_id} has no such question for the {claims.party}")
    return PromptPage(claims=claims, state=state, prompt=prompt, history=partner_history(state))


def _update_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def answer(backend: Backend, page: PromptPage, token: str, answer: Answer) -> UpdateResult:
    """Give the partner's answer to the prompt of their link; PromptNotOpen when it no longer
    takes one (MoveRefused when the rules refuse it for another reason)."""
    if not page.prompt.is_open:
        raise PromptNotOpen(page)
    event = ev.Answered(prompt_id=page.prompt.id, party=page.party, answer=answer)
    return await steering.answer(
        backend,
        match_id=page.claims.match_id,
        event=event,
        entered_by=None,
        idempotency_key=_update_key(token),
    )
