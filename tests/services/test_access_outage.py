"""A key verified a moment ago still works while the database is down; others get 503."""

import pytest

from services import access
from services.errors import DatabaseUnavailable
from store.engine import make_engine, make_sessionmaker
from tests.support import api_key
from workers.ports import free_port


async def test_a_recently_verified_key_outlives_a_database_outage(sessions):
    token = await api_key(sessions)
    other = await api_key(sessions)
    verified = await access.authenticate(sessions, token=token)
    down = make_engine(f"postgresql+asyncpg://matchmaker@127.0.0.1:{free_port()}/matchmaker")
    try:
        during = await access.authenticate(make_sessionmaker(down), token=token)
        assert during == verified
        with pytest.raises(DatabaseUnavailable):  # never verified: nothing to go on
            await access.authenticate(make_sessionmaker(down), token=other)
        with pytest.raises(DatabaseUnavailable):  # the same id with another secret
            await access.authenticate(make_sessionmaker(down), token=token[:-4] + "AAAA")
        await access.revoke_key(sessions, key_id=verified.key_id)
        with pytest.raises(DatabaseUnavailable):  # revoked here: forgotten at once
            await access.authenticate(make_sessionmaker(down), token=token)
    finally:
        await down.dispose()
