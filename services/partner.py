"""Partners at their signed links: the prompt a link is for, their page of the match, and
what they can do there (answer, report progress, ask for help, ask for a fresh link).

The link is the only credential: the match, the prompt and the party come from its claims,
never from the form. What a partner sends reaches the workflow as an Update whose id derives
from the token (and the content), so a form submitted twice is applied once.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

from domain.enums import CloseReason, Party, PromptKind, Stage
from domain.lifecycle import events as ev
from domain.lifecycle.answers import Answer, CheckInAnswer, VisitPlan
from domain.lifecycle.state import HistoryEntry, MatchState, Prompt
from domain.partner_view import partner_history
from infra.signing import LinkClaims, LinkExpired, PartnerLinks
from services import steering
from services.backend import Backend
from services.errors import Busy, MatchNotFound, Unavailable
from workflows.contracts import UpdateResult


@dataclass(frozen=True)
class PartnerView:
    """One party's view of a match: the claims of their link, the state, what they may see."""

    claims: LinkClaims
    state: MatchState
    history: list[HistoryEntry]

    @property
    def party(self) -> Party:
        return Party(self.claims.party)

    @property
    def match_id(self) -> str:
        return self.claims.match_id

    def open_prompts(self) -> list[Prompt]:
        """Every question awaited, from anyone, soonest deadline first."""
        return sorted(self.state.open_prompts(), key=lambda p: (p.lapse_at is None, p.lapse_at))

    @property
    def may_report_progress(self) -> bool:
        s = self.state
        return (
            self.party == Party.ADOPTER
            and s.stage == Stage.ADAPTATION
            and not s.closed
            and s.rules_version >= 2
        )

    @property
    def may_ask_for_help(self) -> bool:
        return not self.state.closed and self.state.rules_version >= 2

    @property
    def today(self) -> date:
        """Today on the match's calendar (a visit must begin after it)."""
        return self.day(datetime.now(UTC))

    def day(self, instant: datetime) -> date:
        """The date of an instant on the match's calendar (the stack's, when it compresses
        days): every date a partner reads."""
        return self.state.clock.today(instant)

    @property
    def visit_ahead(self) -> VisitPlan | None:
        """The agreed visit still ahead (or under way), whose report will be asked after it."""
        visit = self.state.visit
        if self.state.closed or visit is None or not visit.confirmed or visit.ends_at is None:
            return None
        return visit.plan

    @property
    def declined_by(self) -> str | None:
        """Which party declined, when the match closed so."""
        if self.state.close_reason != CloseReason.DECLINED:
            return None
        closing = [h for h in self.state.history if h.kind == "closed"]
        if not closing:
            return None
        party = closing[-1].data.get("party")
        return str(party) if party else None

    @property
    def report_asked_on(self) -> date | None:
        """When the adopter will be asked how the visit went: the day after its last."""
        visit = self.state.visit
        if self.visit_ahead is None or visit is None or visit.ends_at is None:
            return None
        return self.day(visit.ends_at)


@dataclass(frozen=True)
class PromptPage(PartnerView):
    """The view of a link to one prompt."""

    prompt: Prompt


class PromptNotOpen(Exception):
    """The prompt was answered, or the match moved on or closed: the page says where it is."""

    def __init__(self, page: PromptPage) -> None:
        super().__init__(f"prompt {page.prompt.id} is {page.prompt.status}")
        self.page = page


async def _view(backend: Backend, claims: LinkClaims) -> tuple[MatchState, list[HistoryEntry]]:
    state = await steering.live_state(backend, match_id=claims.match_id)
    return state, partner_history(state)


async def open_link(
    backend: Backend, links: PartnerLinks, token: str, *, now: datetime
) -> PromptPage:
    """The page of a genuine link to a prompt (LinkTampered / LinkExpired otherwise;
    MatchNotFound for a match or prompt that does not exist)."""
    return await _prompt_page(backend, links.read(token, now=now))


async def _prompt_page(backend: Backend, claims: LinkClaims) -> PromptPage:
    state, history = await _view(backend, claims)
    prompt = state.prompt(claims.prompt_id) if claims.prompt_id else None
    if prompt is None or prompt.party != claims.party:
        raise MatchNotFound(f"match {claims.match_id} has no such question for the {claims.party}")
    return PromptPage(claims=claims, state=state, history=history, prompt=prompt)


async def open_match(
    backend: Backend, links: PartnerLinks, token: str, *, now: datetime
) -> PartnerView:
    """A party's page of the match, from a genuine link to it."""
    claims = links.read(token, now=now)
    if claims.prompt_id is not None:  # a link to one prompt opens its own page
        raise MatchNotFound("this link is for one question, not for the page of the match")
    state, history = await _view(backend, claims)
    return PartnerView(claims=claims, state=state, history=history)


async def language_at(backend: Backend, claims: LinkClaims) -> str | None:
    """The language of the contact of a link's party (an expired link too: its page speaks
    the partner's language), or None when the match cannot be read."""
    try:
        state = await steering.live_state(backend, match_id=claims.match_id)
    except (MatchNotFound, Unavailable, Busy):
        return None
    contact = state.contacts.get(Party(claims.party))  # a signed link names a partner
    return contact.language if contact is not None else None


def _key(token: str, *parts: str) -> str:
    return hashlib.sha256("\0".join((token, *parts)).encode()).hexdigest()


def kind_of(claims: LinkClaims) -> PromptKind:
    """The kind of question a link is for, from its prompt id ("check_in-3"); ValueError for
    a link to no question."""
    if claims.prompt_id is None:
        raise ValueError("this link is for the page of the match, not for one question")
    return PromptKind(claims.prompt_id.rsplit("-", 1)[0])


async def answer_at(
    backend: Backend, claims: LinkClaims, token: str, answer: Answer
) -> UpdateResult:
    """Give the answer of a link's party to its question straight to the workflow (the rules
    check that it is open, theirs and of its kind: MoveRefused, MatchNotFound otherwise)."""
    if claims.prompt_id is None:
        raise MatchNotFound("this link is for the page of the match, not for one question")
    event = ev.Answered(prompt_id=claims.prompt_id, party=Party(claims.party), answer=answer)
    return await steering.answer(
        backend,
        match_id=claims.match_id,
        event=event,
        entered_by=None,
        # the same answer sent twice is applied once; another answer meets the rules' refusal
        idempotency_key=_key(token, answer.model_dump_json()),
    )


async def request_fresh_link(
    backend: Backend, links: PartnerLinks, token: str, *, now: datetime
) -> PromptPage:
    """Have the prompt of a genuine link (expired or not) emailed again with a fresh link;
    MoveRefused when one was sent less than a day ago or the prompt is closed."""
    try:
        claims = links.read(token, now=now)
    except LinkExpired as exc:
        claims = exc.claims
    page = await _prompt_page(backend, claims)
    if not page.prompt.is_open:
        raise PromptNotOpen(page)
    event = ev.LinkRequested(prompt_id=page.prompt.id, party=page.party)
    await steering.partner_request(backend, match_id=page.match_id, event=event)
    return page


async def ask_for_help(
    backend: Backend, view: PartnerView, token: str, message: str
) -> UpdateResult:
    """Tell the Secretariat the party needs help (the same message twice counts once)."""
    event = ev.HelpRequested(party=view.party, message=message)
    return await steering.partner_request(
        backend, match_id=view.match_id, event=event, idempotency_key=_key(token, message)
    )


async def report_progress(
    backend: Backend, view: PartnerView, token: str, report: CheckInAnswer
) -> UpdateResult:
    """The adopter's progress report from their page of the match."""
    event = ev.ReportProgress(report=report)
    return await steering.report_progress(
        backend,
        match_id=view.match_id,
        event=event,
        entered_by=None,
        idempotency_key=_key(token, report.model_dump_json()),
    )
