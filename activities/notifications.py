"""Activities that email partners and the Secretariat, effectively once."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pycountry
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import (
    MarkUndeliverableInput,
    MarkUndeliverableResult,
    SendEmailInput,
    SendEmailResult,
)
from activities.failures import cut, database_errors
from activities.mail import (
    EmailNotBuildable,
    RenderedEmail,
    TemplateRenderer,
    build_message,
    message_id_for,
    smtp_address,
)
from activities.smtp import PermanentDeliveryError, SmtpMailer, TransientDeliveryError
from domain.enums import Party
from infra.console_links import console_match_url
from infra.metrics import EMAIL_ATTEMPTS
from infra.signing import PartnerLinks
from store import outbox

logger = structlog.get_logger()

# Failure types of send_email that the workflow tells apart.
PERMANENT_DELIVERY_ERROR = "PermanentDeliveryError"  # a bounce: the row is ``bounced``
EMAIL_NOT_BUILDABLE = "EmailNotBuildable"  # a template or header error: the row is ``failed``
HEARTBEAT_EVERY_SECONDS = 2.0


@dataclass(frozen=True)
class MailIdentity:
    """Who Matchmaker's emails come from."""

    sender: str
    sender_name: str
    secretariat_email: str
    public_base_url: str
    link_lifetime_days: int = 90  # a partner link without a deadline works this long


@asynccontextmanager
async def _heartbeating(every: float) -> AsyncIterator[None]:
    """Heartbeat every ``every`` seconds while the block runs (an SMTP server may take its
    time; a dead worker stops heartbeating and Temporal retries its attempt)."""

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(every)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():  # we are cancelled too
                raise


def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


class Notifications:
    """Sends templated emails through an outbox row per business key."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        mailer: SmtpMailer,
        identity: MailIdentity,
        renderer: TemplateRenderer | None = None,
        heartbeat_every: float = HEARTBEAT_EVERY_SECONDS,
        links: PartnerLinks | None = None,
    ) -> None:
        self._sessions = sessions
        self._links = links
        self._heartbeat_every = heartbeat_every
        self._mailer = mailer
        self._identity = identity
        self._renderer = renderer or TemplateRenderer()

    def _context(self, data: SendEmailInput, recipient: dict[str, str]) -> dict[str, Any]:
        eoi = data.eoi
        return {
            "match_id": data.match_id,
            "recipient": recipient,
            "party": data.email.party.value,
            "workshop": eoi.workshop,
            "solution": eoi.solution,
            "adopter": eoi.adopter,
            "interest_statement": eoi.interest_statement,
            "focus_area_label": eoi.solution.focus_area.label,
            "provider_country_name": _country_name(eoi.solution.provider.country),
            "adopter_country_name": _country_name(eoi.adopter.institution.country),
            "secretariat_email": self._identity.secretariat_email,
            "public_base_url": self._identity.public_base_url,
            "round": data.email.round,
            "prompt_id": data.email.prompt_id,
            "answer_by": None,
            **data.email.context,
        }

    def _links_of(self, data: SendEmailInput, context: dict[str, Any]) -> dict[str, str]:
        """The links of an email: for the Secretariat, the match in its console (no partner
        token); for a partner, their signed page of the match and the page that answers the
        prompt (none from a worker without a signer)."""
        email, links = data.email, self._links
        if email.party == Party.SECRETARIAT or email.recipient_email is None:
            url = console_match_url(self._identity.public_base_url, data.match_id)
            return {"console_url": url}
        if links is None:
            return {}
        base, now = self._identity.public_base_url.rstrip("/"), datetime.now(UTC)
        lifetime = timedelta(days=self._identity.link_lifetime_days)
        party = email.party.value
        page = links.mint(
            match_id=data.match_id,
            party=party,
            expires_at=links.expiry(None, now=now, lifetime=lifetime),
        )
        urls = {"match_url": f"{base}/match/{page}"}
        if email.prompt_id:
            answer_by = context.get("answer_by")
            deadline = datetime.fromisoformat(answer_by).replace(tzinfo=UTC) if answer_by else None
            token = links.mint(
                match_id=data.match_id,
                party=party,
                prompt_id=email.prompt_id,
                expires_at=links.expiry(deadline, now=now, lifetime=lifetime),
            )
            urls["respond_url"] = f"{base}/respond/{token}"
        return urls

    @activity.defn
    async def send_email(self, data: SendEmailInput) -> SendEmailResult:
        """Send one email; a key already sent is not sent again, a bounce or an email that
        cannot be built is final, anything else is retried by Temporal.

        Heartbeats while it works, so that the attempt of a worker that died mid-send is
        retried within the heartbeat timeout rather than the attempt timeout."""
        async with _heartbeating(self._heartbeat_every):
            return await self._send_email(data)

    async def _send_email(self, data: SendEmailInput) -> SendEmailResult:
        info = activity.info()
        email = data.email
        log = logger.bind(
            workflow_id=info.workflow_id, match_id=data.match_id, business_key=email.key
        )
        address = email.recipient_email or self._identity.secretariat_email
        recipient = {
            "name": email.recipient_name,
            "email": address,
            "language": email.recipient_language,
        }
        try:
            context = self._context(data, recipient)
            context.update(self._links_of(data, context))
            rendered = self._renderer.render(email.template.value, context)
        except EmailNotBuildable as exc:
            claim = await self._claim(data, address, subject="")
            if claim.already_sent:  # the template broke after this email went out
                return SendEmailResult(message_id=claim.message_id, already_sent=True)
            raise await self._not_buildable(claim, exc, log) from None
        # Two short units of work around the SMTP conversation: no connection is held
        # while the mail server answers.
        claim = await self._claim(data, address, subject=rendered.subject)
        if claim.already_sent:
            log.info("email already sent", message_id=claim.message_id)
            return SendEmailResult(message_id=claim.message_id, already_sent=True)
        if claim.previous_status == "sending":
            log.warning(
                "possible duplicate: an earlier attempt died during its SMTP conversation and "
                "may have reached the server; sending again with the same Message-ID",
                message_id=claim.message_id,
                attempt=info.attempt,
            )
        await self._deliver(claim, data, address, rendered, log)
        await self._mark(claim.id, status="sent", error=None)
        log.info("email sent", message_id=claim.message_id, template=email.template.value)
        return SendEmailResult(message_id=claim.message_id, already_sent=False)

    async def _deliver(
        self,
        claim: outbox.OutboxClaim,
        data: SendEmailInput,
        address: str,
        rendered: RenderedEmail,
        log: structlog.stdlib.BoundLogger,
    ) -> None:
        """Build the message and hand it to the mail server; record a failure on the row and
        raise it as the ApplicationError the workflow tells apart (short: see ``cut``)."""
        try:
            message = build_message(
                sender=self._identity.sender,
                sender_name=self._identity.sender_name,
                recipient=address,
                recipient_name=data.email.recipient_name,
                email=rendered,
                message_id=claim.message_id,
                reply_to=self._identity.secretariat_email,
            )
            await self._mailer.send(
                message,
                sender=smtp_address(self._identity.sender),
                recipients=[smtp_address(address)],
            )
        except EmailNotBuildable as exc:
            raise await self._not_buildable(claim, exc, log) from None
        except PermanentDeliveryError as exc:
            await self._mark(claim.id, status="bounced", error=str(exc))
            log.warning("email refused permanently", error=str(exc))
            raise ApplicationError(
                cut(f"{address} refused: {exc}"),
                {"recipient": address, "error": str(exc)},
                type=PERMANENT_DELIVERY_ERROR,
                non_retryable=True,
            ) from None
        except TransientDeliveryError as exc:  # ServerDeliveryError too: never a bounce
            await self._mark(claim.id, status="pending", error=str(exc))
            log.warning("email deferred", error=str(exc), attempt=activity.info().attempt)
            raise ApplicationError(cut(str(exc)), type=type(exc).__name__) from None

    @activity.defn
    async def mark_undeliverable(self, data: MarkUndeliverableInput) -> MarkUndeliverableResult:
        """Give an email up: its outbox row becomes ``failed`` unless it was sent after all."""
        with database_errors("giving the email up"):
            async with self._sessions() as session:
                failed = await outbox.fail_outbox(
                    session, business_key=data.business_key, error=data.error
                )
                await session.commit()
        logger.warning(
            "email undeliverable",
            workflow_id=activity.info().workflow_id,
            business_key=data.business_key,
            error=data.error,
            already_sent=not failed,
        )
        return MarkUndeliverableResult(already_sent=not failed)

    async def _mark(self, row_id: int, *, status: outbox.OutboxStatus, error: str | None) -> None:
        # an attempt back to ``pending`` was deferred: it is retried
        EMAIL_ATTEMPTS.labels(result="deferred" if status == "pending" else status).inc()
        with database_errors("recording the attempt"):
            async with self._sessions() as session:
                await outbox.mark_outbox(session, row_id=row_id, status=status, error=error)
                await session.commit()

    async def _claim(
        self, data: SendEmailInput, address: str, *, subject: str
    ) -> outbox.OutboxClaim:
        """Start an attempt: the email's outbox row turns ``sending`` (unless sent)."""
        domain = self._identity.sender.rsplit("@", 1)[-1]
        with database_errors("claiming the email in the outbox"):
            async with self._sessions() as session:
                claim = await outbox.claim_outbox(
                    session,
                    business_key=data.email.key,
                    message_id=message_id_for(data.email.key, domain=domain),
                    match_id=data.match_id,
                    kind=data.email.template.value,
                    recipient=address,
                    subject=subject,
                )
                await session.commit()
        return claim

    async def _not_buildable(
        self,
        claim: outbox.OutboxClaim,
        exc: EmailNotBuildable,
        log: structlog.stdlib.BoundLogger,
    ) -> ApplicationError:
        """Give up an email that cannot be built: its row turns ``failed`` and the caller
        gets a non-retryable failure (retrying the same data would fail the same way)."""
        reason = str(exc)  # short, and ends with what to do
        await self._mark(claim.id, status="failed", error=reason)
        log.error("email cannot be built", error=reason)
        return ApplicationError(reason, type=EMAIL_NOT_BUILDABLE, non_retryable=True)
