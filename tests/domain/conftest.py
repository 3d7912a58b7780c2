import pytest

from domain.lifecycle.state import RULES_VERSIONS


@pytest.fixture(params=RULES_VERSIONS, ids=[f"v{v}" for v in RULES_VERSIONS])
def version(request) -> int:
    """Every rules version: for paths whose behaviour no version changed."""
    return request.param
