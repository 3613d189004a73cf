"""Gap detection against an expected calendar (e.g. a schedule), at the grain of a key.

A gap is an expected key (date, key) absent from a table. A date without expected keys is
never a gap. The pipeline supplies the expected set as SQL returning (d DATE, key VARCHAR).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from fullcourt.engine.warehouse import check_identifier


@dataclass
class TableGaps:
    """Missing keys of one table: {date: [key, ...]} plus how many were expected."""

    table: str
    expected: int
    missing: dict[date, list[str]] = field(default_factory=dict)

    @property
    def missing_dates(self) -> list[date]:
        return sorted(self.missing)

    @property
    def missing_count(self) -> int:
        return sum(len(v) for v in self.missing.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "expected": self.expected,
            "missing_count": self.missing_count,
            "missing": {d.isoformat(): keys for d, keys in sorted(self.missing.items())},
        }


def find_gaps(
    con: duckdb.DuckDBPyConnection,
    expected_sql: str,
    table: str,
    date_column: str,
    key_column: str,
    start: date,
    end: date,
) -> TableGaps:
    """Expected (date, key) pairs in [start, end] (inclusive) that `table` lacks.

    `expected_sql` must select columns d, key and may use parameters $start and $end.
    """
    t = check_identifier(table)
    dc = check_identifier(date_column)
    kc = check_identifier(key_column)
    rows = con.execute(
        f"""
        WITH expected AS ({expected_sql}),
        present AS (SELECT DISTINCT {dc} AS d, {kc}::VARCHAR AS key FROM {t} WHERE {dc} BETWEEN $start AND $end)
        SELECT e.d, e.key, p.key IS NULL AS absent FROM expected e
        LEFT JOIN present p ON p.d = e.d AND p.key = e.key
        ORDER BY e.d, e.key
        """,
        {"start": start, "end": end},
    ).fetchall()
    gaps = TableGaps(table=table, expected=len(rows))
    for d, key, absent in rows:
        if absent:
            gaps.missing.setdefault(d, []).append(key)
    return gaps
