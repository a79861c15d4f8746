import pytest


@pytest.fixture(autouse=True)
def _invariants(invariants_after: None) -> None:
    """Every scenario here ends with the invariants of `proactive doctor` holding."""
