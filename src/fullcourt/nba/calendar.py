"""The NBA calendar: season bounds, season day and week, the bootstrap period.

Dates are `datetime.date`; ranges are inclusive `[start, end]`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Season:
    """One regular season: `label` like "2021-22", first and last game date (inclusive)."""

    label: str
    start: date
    end: date
    all_star_break: tuple[date, date]

    @property
    def start_year(self) -> int:
        return self.start.year

    def contains(self, d: date) -> bool:
        return self.start <= d <= self.end


SEASONS: tuple[Season, ...] = (
    Season("2021-22", date(2021, 10, 19), date(2022, 4, 10), (date(2022, 2, 18), date(2022, 2, 23))),
    Season("2022-23", date(2022, 10, 18), date(2023, 4, 9), (date(2023, 2, 17), date(2023, 2, 22))),
    Season("2023-24", date(2023, 10, 24), date(2024, 4, 14), (date(2024, 2, 16), date(2024, 2, 21))),
    Season("2024-25", date(2024, 10, 22), date(2025, 4, 13), (date(2025, 2, 14), date(2025, 2, 19))),
)

BOOTSTRAP_DAYS = 14
"""Season days 0-13 are the bootstrap period: phase 4 writes no records there."""


def season_of(d: date) -> Season | None:
    """The season whose inclusive bounds contain `d`, or None (off-season)."""
    for season in SEASONS:
        if season.contains(d):
            return season
    return None


def season_by_label(label: str) -> Season | None:
    for season in SEASONS:
        if season.label == label:
            return season
    return None


def seasons_overlapping(start: date, end: date) -> list[Season]:
    """Seasons with at least one day inside the inclusive range [start, end]."""
    return [s for s in SEASONS if s.start <= end and start <= s.end]


def calendar_span() -> tuple[date, date]:
    """The first and last day any data can have: the August-July years of the first and last
    season (`season_label`), which hold their preseason and playoffs too."""
    return date(SEASONS[0].start_year, 8, 1), date(SEASONS[-1].start_year + 1, 7, 31)


def season_day(d: date) -> int | None:
    """Days since the season's first game (0 on opening night), None off-season."""
    season = season_of(d)
    return None if season is None else (d - season.start).days


def season_week(d: date) -> int | None:
    """Season week = season_day // 7 + 1, None off-season."""
    day = season_day(d)
    return None if day is None else day // 7 + 1


def is_bootstrap(d: date) -> bool:
    """True on season days 0-13 (phase 4 is skipped with reason `bootstrap`)."""
    day = season_day(d)
    return day is not None and day < BOOTSTRAP_DAYS


def season_label(d: date) -> str:
    """The season a date belongs to, by the August-July NBA year ("2021-22" for 2022-03-01)."""
    y = d.year if d.month >= 8 else d.year - 1
    return f"{y}-{(y + 1) % 100:02d}"


def season_label_sql(column: str) -> str:
    """SQL for season_label() of a DATE column (column must be a trusted identifier)."""
    y = f"(CASE WHEN month({column}) >= 8 THEN year({column}) ELSE year({column}) - 1 END)"
    return f"printf('%d-%02d', {y}, ({y} + 1) % 100)"
