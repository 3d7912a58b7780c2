"""Activities that email partners and the Secretariat, effectively once."""

from dataclasses import dataclass
from typing import Any

import pycountry
import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import (
    MarkUndeliverableInput,
    MarkUndeliverableResult,
    SendEmailInput,
    SendEmailResult,
)
from activities.failures import brief
from activities.mail import (
    PermanentDeliveryError,
    SmtpMailer,
    TemplateRenderer,
    TransientDeliveryError,
    build_message,
    message_id_for,
    smtp_address,
)
from store import writes as repository

logger = structlog.get_logger()

PERMANENT_DELIVERY_ERROR = "PermanentDeliveryError"


@dataclass(frozen=True)
class MailIdentity:
    """Who Matchmaker's emails come from."""

    sender: str
    sender_name: str
    secretariat_email: str
    public_base_url: str


def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


class Notifications:
    """Sends templated emails through an outbox row per business key."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker,
        mailer: SmtpMailer,
        identity: MailIdentity,
        renderer: TemplateRenderer | None = None,
    ) -> None:
        self._sessions = sessions
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

    @activity.defn
    async def send_email(self, data: SendEmailInput) -> SendEmailResult:
        """Send one email; a key already sent is not sent again, a 5xx refusal is final."""
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
        rendered = self._renderer.render(email.template.value, self._context(data, recipient))
        domain = self._identity.sender.rsplit("@", 1)[-1]
        # Two short units of work around the SMTP conversation: no connection is held
        # while the mail server answers.
        async with self._sessions() as session:
            claim = await repository.claim_outbox(
                session,
                business_key=email.key,
                message_id=message_id_for(email.key, domain=domain),
                match_id=data.match_id,
                kind=email.template.value,
                recipient=address,
                subject=rendered.subject,
            )
            await session.commit()
        row_id, message_id, already_sent = claim.id, claim.message_id, claim.already_sent
        if already_sent:
            log.info("email already sent", message_id=message_id)
            return SendEmailResult(message_id=message_id, already_sent=True)
        message = build_message(
            sender=self._identity.sender,
            sender_name=self._identity.sender_name,
            recipient=address,
            recipient_name=email.recipient_name,
            email=rendered,
            message_id=message_id,
            reply_to=self._identity.secretariat_email,
        )
        try:
            await self._mailer.send(
                message,
                sender=smtp_address(self._identity.sender),
                recipients=[smtp_address(address)],
            )
        except PermanentDeliveryError as exc:
            await self._mark(row_id, status="bounced", error=str(exc))
            log.warning("email refused permanently", error=str(exc))
            raise ApplicationError(
                brief(f"{address} refused: {exc}"),
                {"recipient": address, "error": str(exc)},
                type=PERMANENT_DELIVERY_ERROR,
                non_retryable=True,
            ) from None
        except TransientDeliveryError as exc:  # ServerDeliveryError too: never a bounce
            await self._mark(row_id, status="pending", error=str(exc))
            log.warning("email deferred", error=str(exc), attempt=info.attempt)
            raise ApplicationError(brief(str(exc)), type=type(exc).__name__) from None
        await self._mark(row_id, status="sent", error=None)
        log.info("email sent", message_id=message_id, template=email.template.value)
        return SendEmailResult(message_id=message_id, already_sent=False)

    @activity.defn
    async def mark_undeliverable(self, data: MarkUndeliverableInput) -> MarkUndeliverableResult:
        """Give an email up: its outbox row becomes ``failed`` unless it was sent after all."""
        async with self._sessions() as session:
            failed = await repository.fail_outbox(
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

    async def _mark(self, row_id: int, *, status: str, error: str | None) -> None:
        async with self._sessions() as session:
            await repository.mark_outbox(session, row_id=row_id, status=status, error=error)
            await session.commit()
