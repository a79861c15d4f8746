from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.web.chromium import launch


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[object]:
    """Headless Chromium for the browser tests."""
    yield from launch(monkeypatch, tmp_path)
