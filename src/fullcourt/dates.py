"""Date parsing at the edges and pure helpers on inclusive date ranges."""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Iterable

from fullcourt.errors import UsageError

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(text: str, option: str = "date") -> date:
    """Parse `YYYY-MM-DD` (only that form: Python would also take 20211118 or 2021-W46-4);
    raise UsageError naming the option otherwise."""
    try:
        if not ISO_DATE.fullmatch(text.strip()):
            raise ValueError(text)
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise UsageError(
            f"--{option} {text!r} is not a date", remedy=f"write it as YYYY-MM-DD, e.g. --{option} 2021-11-01"
        ) from None


def parse_date_list(text: str, option: str = "dates") -> list[date]:
    """Parse `D,D,...` into sorted unique dates; raise UsageError on any bad item."""
    items = [t for t in (text or "").split(",") if t.strip()]
    if not items:
        raise UsageError(f"--{option} is empty", remedy=f"give dates as --{option} 2021-11-01,2021-11-03")
    return sorted({parse_date(t, option) for t in items})


def date_range(start: date, end: date) -> list[date]:
    """Every date of the inclusive range [start, end]; empty when end < start."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def resolve_dates(start: date | None, end: date | None, dates: list[date] | None,
                  names: tuple[str, str] = ("start-date", "end-date"), with_list: bool = True) -> list[date]:
    """The dates a command covers: either the inclusive range or the explicit list.

    Raises UsageError when both or neither are given, or when end < start; its messages name
    the command's own options: `names` for the range, `--dates` only when `with_list`.
    """
    first, last = (f"--{n}" for n in names)
    if dates and (start or end):
        raise UsageError(f"give either {first}/{last} or --dates, not both",
                         remedy=f"drop {first}/{last} or --dates")
    if dates:
        return sorted(set(dates))
    if start is None or end is None:
        what = (f"{first} needs {last} too" if start is not None else f"{last} needs {first} too"
                if end is not None else "a date range is needed")
        remedy = f"add {first} D {last} D (inclusive)" + (" or --dates D,D" if with_list else "")
        raise UsageError(what, remedy=remedy)
    if end < start:
        raise UsageError(f"{last} {end} is before {first} {start}", remedy="swap them; ranges are inclusive")
    return date_range(start, end)


def runs_of(dates: Iterable[date]) -> list[tuple[date, date]]:
    """Collapse dates into sorted, merged inclusive runs of consecutive days."""
    out: list[tuple[date, date]] = []
    for d in sorted(set(dates)):
        if out and out[-1][1] + timedelta(days=1) == d:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def format_dates(dates: Iterable[date]) -> str:
    """Comma-separated ISO dates, for messages and `--dates` remedies."""
    return ",".join(d.isoformat() for d in sorted(set(dates)))
