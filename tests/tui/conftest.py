from __future__ import annotations

import pytest

from tests.tui.fakes import Harness


@pytest.fixture
def harness() -> Harness:
    return Harness()
