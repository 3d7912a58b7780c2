"""What partners ask from their own pages: a fresh link, the Secretariat's help (version 2).

Neither existed before partner pages, so no stored history holds them: the rules accept them
from version 2 on and leave every earlier event as it was.
"""

from datetime import timedelta

from domain.enums import NoticeKind, Party
from domain.lifecycle import events as e
from domain.lifecycle.refusals import InvalidMove
from domain.lifecycle.run import ENDED, Run

FRESH_LINK_EVERY = timedelta(days=1)


def link_requested(run: Run, event: e.LinkRequested) -> None:
    """Email an open prompt again with a fresh link, at most once a day."""
    run.refuse_before_v2("asking for a fresh link")
    prompt = run.find_prompt(event.prompt_id, refusal="no fresh link: ")
    if prompt.party != event.party:
        raise InvalidMove(
            f"prompt {prompt.id} is for the {prompt.party}, not the {event.party}",
            code="prompt_of_other_party",
            prompt_id=prompt.id,
            party=prompt.party,
        )
    if not prompt.is_open:
        raise InvalidMove(
            f"prompt {prompt.id} is no longer open: {ENDED[prompt.status]}",
            code="prompt_not_open",
            prompt_id=prompt.id,
            status=prompt.status,
        )
    if prompt.link_sent_at is not None and run.at - prompt.link_sent_at < FRESH_LINK_EVERY:
        again = (prompt.link_sent_at + FRESH_LINK_EVERY).isoformat(timespec="minutes")
        raise InvalidMove(
            f"a fresh link was sent at {prompt.link_sent_at.isoformat(timespec='minutes')}; "
            f"another can be sent from {again}",
            code="fresh_link_too_soon",
            sent_at=prompt.link_sent_at,
            again=prompt.link_sent_at + FRESH_LINK_EVERY,
        )
    prompt.link_sent_at = run.at
    prompt.sends += 1
    run.email_prompt(prompt)
    run.record(
        "link_resent",
        f"The {event.party} asked for a fresh link to {prompt.kind}",
        actor=event.party,
        prompt_id=prompt.id,
    )


def help_requested(run: Run, event: e.HelpRequested) -> None:
    """Tell the Secretariat a partner needs help; the match needs attention until a note."""
    run.refuse_before_v2("asking the Secretariat for help")
    run.s.attention[f"help:{event.party}"] = f"The {event.party} asks for help: {event.message}"
    run.notice(NoticeKind.HELP_REQUEST, Party.SECRETARIAT, about=event.party, message=event.message)
    run.record(
        "help_requested",
        f"The {event.party} asked the Secretariat for help",
        actor=event.party,
        message=event.message,
    )
