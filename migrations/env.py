"""Alembic environment: runs migrations through the async engine."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from store.engine import make_engine
from store.tables import FREE_TEXT_INDEX, FREE_TEXT_TABLES, Base

config = context.config
target_metadata = Base.metadata


def _modelled(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leave the free-text indexes made outside the models (store/tables.py) out of checks."""
    if type_ == "table" and name and name.startswith(FREE_TEXT_TABLES):
        return False
    return not (type_ == "index" and name == FREE_TEXT_INDEX)


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite alters a column by copying its table; a table others refer to can only be
        # dropped with the checks off (outside a transaction: the pragma is a no-op inside
        # one). They are verified once the migrations have run.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_modelled,
    )
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migrations broke foreign keys: {broken[:5]}")
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")


async def _run_async() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
