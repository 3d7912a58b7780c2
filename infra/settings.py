"""Runtime configuration: one pydantic-settings class, read once per entry point."""

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import EmailStr, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.policy import SECONDS_PER_DAY, TimingPolicy
from infra.payload_codec import parse_key

DEV_SIGNING_SECRET = "dev-only-signing-secret-change-me"  # noqa: S105 - refused outside dev
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def _as_host_header(host: str) -> str:
    """A host as the Host header carries it: an IPv6 literal in brackets (``[::1]``)."""
    host = host.strip().lower()
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _default_allowed_hosts(data: dict[str, Any]) -> list[str]:
    """Loopback and the host partners reach the API at (from ``public_base_url``)."""
    public = urlsplit(data.get("public_base_url") or "").hostname
    hosts = [*LOOPBACK_HOSTS, *([public] if public else [])]
    return list(dict.fromkeys(_as_host_header(host) for host in hosts))


class Settings(BaseSettings):
    """Everything Matchmaker reads from its environment (prefix ``MATCHMAKER_``)."""

    model_config = SettingsConfigDict(
        env_prefix="MATCHMAKER_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        env_nested_delimiter="__",
        extra="ignore",
    )

    env: Literal["dev", "test", "production"] = Field(
        default="dev", description="dev allows the built-in signing secret; production does not"
    )
    data_dir: Path = Field(
        default=Path(".data"), description="where the embedded stack keeps files"
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; defaults to a SQLite file in data_dir",
    )

    temporal_target: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = Field(default="matchmaker", description="the task queue workers poll")
    worker_max_cached_workflows: int = Field(
        default=250,
        ge=0,
        description="matches a worker keeps in memory between their steps; a match not kept "
        "is rebuilt from its history when it next moves or is queried. Bounds the worker's "
        "memory however many matches are open (bench/scale.py)",
    )
    worker_max_concurrent_workflow_tasks: int = Field(
        default=100,
        ge=2,
        gt=0,
        description="workflow tasks (match steps) a worker runs at once",
    )
    worker_max_concurrent_activities: int = Field(
        default=100,
        gt=0,
        description="activities (emails, database writes) a worker runs at once",
    )
    worker_workflow_sandbox: bool = Field(
        default=True,
        description="run the match workflow in Temporal's sandbox, which stops a "
        "non-deterministic call as it is made. The tests and the replay checks always use it; "
        "a production worker may turn it off to cut each match step's CPU (docs/operations.md)",
    )
    temporal_ui_port: int = 8233
    temporal_ui_url: str | None = Field(
        default=None,
        description="the Temporal Web UI as the Secretariat's browsers reach it; default: "
        "http://127.0.0.1:<temporal_ui_port> (the dev stack's)",
    )

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: Literal["none", "starttls", "tls"] = "none"
    smtp_timeout_seconds: float = 30.0
    mail_from: EmailStr = "matchmaker@ssn4psi.org"
    mail_from_name: str = "SSN4PSI Matchmaker"
    secretariat_email: EmailStr = "secretariat@ssn4psi.org"
    alert_email: EmailStr | None = Field(
        default=None,
        description="who Alertmanager emails the deployment's alerts to; default: the "
        "Secretariat's address",
    )

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=_default_allowed_hosts,
        description="Host headers the API answers (comma-separated; *.example.org allowed); "
        "default: loopback and the host of public_base_url",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="addresses or networks of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed (comma-separated); empty: none, the client is the "
        "connection's peer",
    )
    api_max_body_bytes: int = Field(
        default=1_048_576, gt=0, description="request bodies beyond this are refused with 413"
    )
    api_graceful_shutdown_seconds: float = Field(
        default=10.0,
        ge=0,
        description="on SIGTERM, how long requests under way may finish before they are cut",
    )
    api_auth_failures_per_minute: int = Field(
        default=10,
        gt=0,
        description="failed authentications a client address may make in a minute before "
        "the API answers it 429 (counted in the database: shared by every API replica)",
    )
    partner_answers_per_minute: int = Field(
        default=30,
        gt=0,
        description="answers a client address may send from partner pages in a minute before "
        "it is answered 429 (counted in the database: shared by every API replica)",
    )
    console_idle_minutes: int = Field(
        default=60,
        ge=1,
        le=24 * 60,
        description="a console session unused this long ends (sign in again)",
    )
    console_session_hours: int = Field(
        default=12,
        ge=1,
        le=24 * 30,
        description="a console session ends this long after sign-in, however busy",
    )
    console_sign_in_failures_per_minute: int = Field(
        default=5,
        gt=0,
        description="failed console sign-ins a client address (or one account) may make in a "
        "minute before sign-in is refused with 429 (counted in the database: shared by every "
        "API replica)",
    )
    signing_secret: SecretStr = Field(
        default=SecretStr(DEV_SIGNING_SECRET),
        description="signs partner links (and keys the log masking); at least 32 characters "
        "outside dev",
    )
    previous_signing_secrets: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="secrets that signed earlier links, still accepted (comma-separated): "
        "rotate by moving the old signing_secret here",
    )
    link_grace_days: int = Field(
        default=14, ge=0, le=365, description="a partner link works this long past its deadline"
    )
    link_lifetime_days: int = Field(
        default=90, ge=1, le=730, description="how long a link without a deadline works"
    )

    timing: TimingPolicy = Field(
        default_factory=TimingPolicy,
        description="the timing policy new matches start with, in policy days "
        "(MATCHMAKER_TIMING__LAPSE_DAY=45, or MATCHMAKER_TIMING as JSON); a running match keeps "
        "the policy it started with",
    )
    day_seconds: float = Field(
        default=SECONDS_PER_DAY,
        gt=0,
        description="how many seconds one policy day lasts: 86400 in production; a training "
        "or demo stack compresses time by setting it lower (60: a month in half an hour)",
    )

    payload_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="keys that encrypt workflow payloads in Temporal, comma-separated "
        "'id:base64key' (AES, 32 bytes), newest first: the first seals new payloads, every one "
        "opens the payloads it sealed; required outside dev (dev makes one under data_dir)",
    )
    codec_host: str = "127.0.0.1"
    codec_port: int = Field(default=8081, description="port of `matchmaker codec-server`")
    codec_cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://127.0.0.1:8233", "http://localhost:8233"],
        description="origins of the Temporal Web UI allowed to call the codec server "
        "(comma-separated)",
    )
    codec_max_body_bytes: int = Field(
        default=4_194_304, gt=0, description="codec server request bodies beyond this get 413"
    )
    codec_ui_token: SecretStr | None = Field(
        default=None,
        description="a token the Temporal UI's codec endpoint carries in its path "
        "(URL/ui/TOKEN): for a UI that cannot send an API key; `matchmaker dev` makes one",
    )
    outbox_alert_seconds: float = Field(
        default=900.0,
        gt=0,
        description="/healthz says the outbox is behind (status degraded) once an email has "
        "waited longer than this to be sent",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="the address the Prometheus endpoints listen on (0.0.0.0 inside a private "
        "network; never the public one)",
    )
    api_metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="the API process serves /metrics on this port of its own, not on the "
        "public API port; unset: no endpoint",
    )
    worker_metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="the worker process serves /metrics on this port; unset: no endpoint",
    )
    temporal_metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="the Temporal SDK serves its own metrics (workflow and activity tasks, "
        "polls, latencies) on this port; unset: none",
    )
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector traces are exported to (http://collector:4318); "
        "unset: no tracing at all",
    )

    log_level: str = "INFO"
    log_json: bool | None = Field(
        default=None, description="force JSON logs; default: when not a TTY"
    )

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        """Read ``MATCHMAKER_ALLOWED_HOSTS=a.example.org,localhost,::1`` as a list."""
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            return [_as_host_header(str(host)) for host in value if str(host).strip()]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        """Read ``MATCHMAKER_TRUSTED_PROXIES=10.0.0.5,172.16.0.0/12`` as a list."""
        if isinstance(value, str):
            value = [proxy.strip() for proxy in value.split(",") if proxy.strip()]
        for proxy in value if isinstance(value, list | tuple) else ():
            try:
                ipaddress.ip_network(str(proxy), strict=False)
            except ValueError:
                raise ValueError(
                    f"{proxy!r} is not an IP address or network (e.g. 10.0.0.5, 172.16.0.0/12)"
                ) from None
        return value

    @field_validator("previous_signing_secrets", mode="before")
    @classmethod
    def _split_secrets(cls, value: object) -> object:
        if isinstance(value, str):
            return [secret.strip() for secret in value.split(",") if secret.strip()]
        return value

    @field_validator("payload_keys", "codec_cors_origins", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("payload_keys")
    @classmethod
    def _check_payload_keys(cls, value: list[SecretStr]) -> list[SecretStr]:
        ids = [parse_key(key.get_secret_value()).id for key in value]
        if len(set(ids)) != len(ids):
            raise ValueError("MATCHMAKER_PAYLOAD_KEYS names a key id twice; each id once")
        return value

    def proxy_options(self) -> dict[str, Any]:
        """uvicorn's options for forwarded headers: believed only from the trusted proxies
        (uvicorn itself trusts 127.0.0.1 by default, so any loopback client could say who it
        is)."""
        if not self.trusted_proxies:
            return {"proxy_headers": False}
        return {"proxy_headers": True, "forwarded_allow_ips": list(self.trusted_proxies)}

    @property
    def log_mask_key(self) -> bytes:
        """The key of the email mask in the logs and the traces (infra/log.MaskEmails)."""
        return self.signing_secret.get_secret_value().encode()

    @property
    def link_secrets(self) -> list[str]:
        """Every secret a partner link may be signed with; the first one signs."""
        secrets = [self.signing_secret, *self.previous_signing_secrets]
        return [s.get_secret_value() for s in secrets]

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "Settings":
        if self.env != "dev":
            secret = self.signing_secret.get_secret_value()
            if not secret or secret == DEV_SIGNING_SECRET or len(secret) < 32:
                raise ValueError(
                    "MATCHMAKER_SIGNING_SECRET must be set to a random value of at least 32 "
                    "characters outside dev mode"
                )
            if not self.payload_keys:
                raise ValueError(
                    "MATCHMAKER_PAYLOAD_KEYS must be set outside dev mode: 'id:base64key' of a "
                    "32-byte AES key, newest first (make one with `matchmaker payload-key`)"
                )
        if self.env == "production":
            public = urlsplit(self.public_base_url)
            if (
                public.scheme not in ("http", "https")
                or not public.hostname
                or (public.hostname in LOOPBACK_HOSTS or public.hostname.endswith(".localhost"))
            ):
                raise ValueError(
                    "MATCHMAKER_PUBLIC_BASE_URL must be the address partners reach in production "
                    f"(e.g. https://matchmaker.example.org), not {self.public_base_url!r}: every "
                    "link in every email is built on it"
                )
            if public.scheme != "https":
                raise ValueError(
                    "MATCHMAKER_PUBLIC_BASE_URL must be https in production, not "
                    f"{self.public_base_url!r}: partners' answers and the console's sign-in "
                    "travel over it (docker-compose.yml puts a TLS proxy in front)"
                )
        return self

    @property
    def timing_policy(self) -> TimingPolicy:
        """The policy new matches start with: ``timing`` with every duration scaled by
        ``day_seconds``."""
        return self.timing.scaled(self.day_seconds / SECONDS_PER_DAY)

    @property
    def resolved_temporal_ui_url(self) -> str:
        """Where the console links a match's workflow to (without a trailing slash)."""
        return (self.temporal_ui_url or f"http://127.0.0.1:{self.temporal_ui_port}").rstrip("/")

    @property
    def console_cookie_secure(self) -> bool:
        """Whether the console's cookie is Secure: always, unless the public URL is plain
        http on loopback (the dev stack, where a Secure cookie would never come back)."""
        public = urlsplit(self.public_base_url)
        return not (public.scheme == "http" and public.hostname in LOOPBACK_HOSTS)

    @property
    def resolved_database_url(self) -> str:
        """Return the database URL, defaulting to a SQLite file under data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'matchmaker.db').resolve()}"

    @property
    def mail_dir(self) -> Path:
        """Return the Maildir where the embedded SMTP catcher stores messages."""
        return self.data_dir / "mail"

    @property
    def temporal_db_file(self) -> Path:
        """Return the SQLite file the embedded Temporal dev server persists to."""
        return self.data_dir / "temporal.db"
