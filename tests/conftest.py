from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fullcourt.engine.warehouse import Warehouse  # noqa: E402
from fullcourt.nba.pipeline import catalog  # noqa: E402


@pytest.fixture
def wh(tmp_path: Path):
    w = Warehouse(tmp_path / "t.duckdb", catalog())
    yield w
    w.close()
