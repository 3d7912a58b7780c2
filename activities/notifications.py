"""Activities that email partners and the Secretariat, effectively once."""

from dataclasses import dataclass
from typing import Any

import pycountry
import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import SendPromptInput, SendPromptResult
from activities.mail import (
    PermanentDeliveryError,
    SmtpMailer,
    TemplateRenderer,
    TransientDeliveryError,
    build_message,
    message_id_for,
)
from activities.store import repository
from activities.store.tables import utcnow

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

    def _context(self, data: SendPromptInput) -> dict[str, Any]:
        eoi = data.eoi
        return {
            "match_id": data.match_id,
            "recipient": data.recipient,
            "party": data.party.value,
            "workshop": eoi.workshop,
            "solution": eoi.solution,
            "adopter": eoi.adopter,
            "interest_statement": eoi.interest_statement,
            "focus_area_label": eoi.solution.focus_area.label,
            "provider_country_name": _country_name(eoi.solution.provider.country),
            "adopter_country_name": _country_name(eoi.adopter.institution.country),
            "answer_within_days": data.answer_within_days,
            "secretariat_email": self._identity.secretariat_email,
            "public_base_url": self._identity.public_base_url,
            **data.extra,
        }

    @activity.defn
    async def send_prompt(self, data: SendPromptInput) -> SendPromptResult:
        """Email one partner; a key already sent is not sent again, a 5xx refusal is final."""
        info = activity.info()
        log = logger.bind(
            workflow_id=info.workflow_id, match_id=data.match_id, business_key=data.business_key
        )
        email = self._renderer.render(data.kind.value, self._context(data))
        domain = self._identity.sender.rsplit("@", 1)[-1]
        message_id = message_id_for(data.business_key, domain=domain)
        async with self._sessions() as session:
            row = await repository.claim_outbox(
                session,
                business_key=data.business_key,
                message_id=message_id,
                match_id=data.match_id,
                kind=data.kind.value,
                recipient=data.recipient.email,
                subject=email.subject,
            )
            if row.status == "sent":
                await session.commit()
                log.info("email already sent", message_id=row.message_id)
                return SendPromptResult(message_id=row.message_id, already_sent=True)
            row.attempts += 1
            message = build_message(
                sender=self._identity.sender,
                sender_name=self._identity.sender_name,
                recipient=data.recipient.email,
                recipient_name=data.recipient.name,
                email=email,
                message_id=row.message_id,
                reply_to=self._identity.secretariat_email,
            )
            try:
                await self._mailer.send(message)
            except PermanentDeliveryError as exc:
                row.status, row.last_error = "bounced", str(exc)
                await session.commit()
                log.warning("email refused permanently", error=str(exc))
                raise ApplicationError(
                    f"{data.recipient.email} refused: {exc}",
                    type=PERMANENT_DELIVERY_ERROR,
                    non_retryable=True,
                ) from exc
            except TransientDeliveryError as exc:
                row.last_error = str(exc)
                await session.commit()
                log.warning("email deferred", error=str(exc), attempt=info.attempt)
                raise
            row.status, row.sent_at, row.last_error = "sent", utcnow(), None
            await session.commit()
        log.info("email sent", message_id=row.message_id, kind=data.kind.value)
        return SendPromptResult(message_id=row.message_id, already_sent=False)
