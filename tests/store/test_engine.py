"""What the engine sets on each connection of the read model."""

from sqlalchemy import text

from store.engine import make_engine


async def test_each_backend_gets_its_connection_settings(database_url):
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            if engine.dialect.name != "postgresql":
                foreign_keys = await connection.scalar(text("PRAGMA foreign_keys"))
                assert foreign_keys == 1
                return
            # compiling a query the planner guesses costly took longer than running it
            assert await connection.scalar(text("SHOW jit")) == "off"
    finally:
        await engine.dispose()
