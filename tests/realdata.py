"""Where the tests find the real NBA.com bundles (tests/data/real/README.md)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENDORED = ROOT / "tests" / "data" / "real"
PLACES = [Path(p) for p in (os.environ.get("FULLCOURT_REAL_DATA"),) if p] + [
    ROOT.parent / "shared" / "data" / "real", Path("/work/shared/data/real"), VENDORED]


def bundle(name: str) -> Path | None:
    """The first folder named `name` among the known places, or None."""
    for place in PLACES:
        if (place / name).is_dir() and any((place / name).iterdir()):
            return place / name
    return None


BOXSCORES = bundle("nba-stats-boxscores")
SHOTCHART = bundle("nba-shotchart")
needs_shotchart = pytest.mark.skipif(SHOTCHART is None, reason="the nba-shotchart bundle is not on this machine "
                                                              "(set FULLCOURT_REAL_DATA)")


def require(*bundles: Path | None) -> None:
    """Skip the calling test module when a bundle it needs is missing."""
    if any(b is None for b in bundles):
        pytest.skip("a real-data bundle is not on this machine (set FULLCOURT_REAL_DATA)", allow_module_level=True)


def build_box_store(root: Path, start, end) -> Path:
    """A store of the box-score bundle's game dates in [start, end], built through phase 4."""
    from fullcourt import api
    from fullcourt.dates import date_range

    db, landing = root / "box.duckdb", root / "landing"
    api.import_bundle(db, landing, "nba-stats-boxscores", BOXSCORES, start, end)
    for phase in (2, 3, 4):
        api.backfill(db, landing, date_range(start, end), phase=phase, skip_preflight=True)
    return db
