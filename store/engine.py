"""Engine, sessions and schema migrations."""

from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import CursorResult, Result, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create an async engine; SQLite gets foreign keys, WAL, a busy timeout, one connection.

    No error or echoed statement carries its parameters: they hold names and addresses, and an
    error's text reaches the logs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # SQLite allows one writer at a time: one pooled connection per engine queues writers
        # in-process instead of letting them spin in SQLite's busy handler.
        engine = create_async_engine(
            url,
            echo=echo,
            hide_parameters=True,
            connect_args={"timeout": 30},
            pool_size=1,
            max_overflow=0,
            pool_timeout=120,
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across app crashes
            cursor.execute("PRAGMA busy_timeout=30000")
            # 64 MiB of page cache (the default is 2 MiB): a report reads every match, and
            # 100,000 of them are some 80 MiB (bench/monitor.py)
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.close()

        return engine
    connect_args = {}
    if parsed.get_driver_name() == "asyncpg":
        # no JIT: the read model's queries are short, and compiling one that the planner
        # guesses costly (a funnel or an overview over thousands of matches, just after they
        # changed) took longer than the query itself (bench/console.py)
        connect_args["server_settings"] = {"jit": "off"}
    return create_async_engine(
        url, echo=echo, hide_parameters=True, pool_pre_ping=True, connect_args=connect_args
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return the session factory every unit of work uses."""
    return async_sessionmaker(engine, expire_on_commit=False)


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE, DELETE or INSERT matched: its result is a CursorResult at run
    time, though ``session.execute`` is typed to return any Result."""
    return cast(CursorResult[Any], result).rowcount


def alembic_config(url: str) -> Config:
    """Build an Alembic config pointing at the project's migrations and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logging"] = False
    return cfg


def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (blocking; call from a thread in async code)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)
