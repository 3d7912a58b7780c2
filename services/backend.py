"""What the use cases run on, built once by the composition root (workers/)."""

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from domain.policy import SECONDS_PER_DAY, TimingPolicy


@dataclass(frozen=True)
class Backend:
    """The Temporal client, the database sessions, where matches run, the timing policy
    new matches start with (from settings; a running match keeps its own) and how long an
    email may wait in the outbox before health says so."""

    client: Client
    sessions: async_sessionmaker[AsyncSession]
    task_queue: str
    namespace: str = "default"
    temporal_ui_url: str = "http://127.0.0.1:8233"
    policy: TimingPolicy = field(default_factory=TimingPolicy)
    # /healthz says the outbox is behind when an email has waited longer than this
    outbox_alert_seconds: float = 900.0
    # a training or demo stack's day (settings.day_seconds): dates live on its calendar
    day_seconds: float = SECONDS_PER_DAY

    @property
    def compressed_days(self) -> bool:
        return self.day_seconds != SECONDS_PER_DAY

    def workflow_url(self, workflow_id: str) -> str:
        """The match's page in the Temporal Web UI."""
        return f"{self.temporal_ui_url}/namespaces/{self.namespace}/workflows/{workflow_id}"
