"""Entity scopes of a run, and writing only the records that changed.

A run normally recomputes and replaces whole date partitions. A *scoped* run recomputes some
dates only for some entities: `Scope` maps a date to the labels (the spec's `label_column`
values, which are also the tracked failures' entity_id) to recompute there; a date absent from
the scope is recomputed whole. The runner publishes the scope to the compute as the temp table
`run_labels(d DATE, label VARCHAR)` (restricted dates only; empty for a whole-date run). A compute
may use it to do less work; it must still produce every in-scope record and failure. The runner
keeps exactly the in-scope rows of what it computed, so a compute that ignores `run_labels`
(computing whole dates) is correct, only slower.

`write_changes` replaces in-scope records and failures by key, but only those that differ from
the stored ones (run metadata and the needs_reprocessing flag aside). Unchanged records keep
their run_id, processed_at and flag. It returns the labels that changed: the cascade's early
cutoff.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable, Mapping, Sequence

import duckdb
import numpy as np

from fullcourt.engine.spec import ProcessorSpec
from fullcourt.engine.warehouse import check_identifier

Scope = Mapping[date, "set[str] | frozenset[str]"]
"""date -> the labels to recompute on that date (a date not in the scope: every entity)."""
FAILURE_COLUMNS = ("analysis_date", "entity_id", "failure_category", "failure_reason", "can_retry")
STORED_COMPLETENESS = "completeness"
"""The stored STRUCT of a record's window completeness: the fields of historical_completeness (a
generated column assembled from it and the flag, nba/schema.py) except the flag."""
FLAG = "needs_reprocessing"
"""The flag set by cascade detection and cleared by close-out: bookkeeping, not data, so a column
of its own (flipping it rewrites one boolean, not the STRUCT's lists). A record that differs from
the recomputed one only by the flag has not changed: computes do not produce it, and a written
record takes its default (false)."""


def flag_tables(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> set[str]:
    """Those of `tables` (schema.table, known names) that have the needs_reprocessing flag, read
    from each table's own columns: the catalog-wide duckdb_columns() costs ~30 ms on a new
    connection, and the cascade reads these tables anyway. Raises duckdb.CatalogException for a
    table that does not exist (the migrations create every processor's table)."""
    return {t for t in tables
            if FLAG in {c[0] for c in con.execute(f"SELECT * FROM {check_identifier(t)} LIMIT 0").description}}


def labels_table(con: duckdb.DuckDBPyConnection, name: str, labels: Mapping[date, Iterable[str]]) -> None:
    """(Re)create temp table `name(d DATE, label VARCHAR)` with each date's labels.

    The pairs cross into DuckDB as two numpy arrays it scans in place (date ordinals and the
    label strings): bound as query parameters, 80k labels cost ~65 ms grouped by date and
    ~200 ms as flat pairs; as arrays ~29 ms. No key: the pairs come from sets (unique already),
    and an index costs ~25 ms per 10k labels."""
    name = check_identifier(name)
    ds = [d for d in labels if labels[d]]
    if not ds:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} (d DATE, label VARCHAR)")
        return
    groups = [list(labels[d]) for d in ds]
    view = f"{name}_arrays"
    con.register(view, {
        "o": np.repeat(np.array([d.toordinal() for d in ds], dtype=np.int32), [len(g) for g in groups]),
        "e": np.array([e for g in groups for e in g], dtype=object),
    })
    try:  # ordinal 1 is 0001-01-01
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS "
                    f"SELECT DATE '0001-01-01' + (o - 1) AS d, e::VARCHAR AS label FROM {view}")
    finally:  # after a failed statement in a transaction, unregistering fails too: keep the first error
        with contextlib.suppress(duckdb.Error):
            con.unregister(view)


def set_run_labels(con: duckdb.DuckDBPyConnection, scope: Scope | None, dates: Sequence[date]) -> None:
    """(Re)create temp table `run_labels(d, label)` with the scope's pairs for `dates`."""
    keep = set(dates)
    labels_table(con, "run_labels", {d: ls for d, ls in (scope or {}).items() if d in keep})


def in_scope_sql(date_expr: str, label_expr: str) -> str:
    """SQL predicate: the row (date_expr, label_expr) is in the run's scope (`run_labels`):
    its date is not restricted, or its label is listed for its date."""
    return (f"({date_expr} NOT IN (SELECT d FROM run_labels) "
            f"OR ({date_expr}, ({label_expr})::VARCHAR) IN (SELECT d, label FROM run_labels))")


@dataclass(frozen=True)
class Fresh:
    """Stored rows that propagate even when they compare equal (see write_changes): per processor
    name, the (run id, date) pairs whose rows on that date may have readers computed before them."""

    rows: Mapping[str, tuple[tuple[str, date], ...]] = field(default_factory=dict)
    removed: Mapping[str, Mapping[date, frozenset[str]]] = field(default_factory=dict)
    """Per processor and date, labels whose records such a run removed: they propagate like
    changed records (no stored row is left to compare)."""

    def of(self, processor: str) -> tuple[list[str], list[date]]:
        """`processor`'s pairs as two parallel lists (run ids, dates), for binding."""
        pairs = self.rows.get(processor, ())
        return [r for r, _ in pairs], [d for _, d in pairs]


@dataclass
class Changes:
    """What a change-only write did: in-scope rows computed, and the labels whose records or
    tracked failures differ from the stored ones, per date."""

    recomputed: int = 0
    changed: dict[date, set[str]] = field(default_factory=dict)
    fresh: dict[date, set[str]] = field(default_factory=dict)
    """Labels whose stored rows equal the recomputed ones but were written by a `Fresh` run."""


def label_sql(spec: ProcessorSpec, alias: str = "") -> str:
    """SQL naming a record's entity: the label column, else the entity key as text."""
    a = f"{alias}." if alias else ""
    if spec.label_column:
        return f"{a}{check_identifier(spec.label_column)}::VARCHAR"
    return "(" + ", ".join(f"{a}{check_identifier(k)}" for k in spec.entity_key) + ")::VARCHAR"


def _bounds(dates: Sequence[date]) -> tuple[str, str]:
    """SQL date literals of the first and last of `dates` (typed dates, not user text)."""
    if not dates:
        raise ValueError("no dates to write")
    return f"DATE '{min(dates).isoformat()}'", f"DATE '{max(dates).isoformat()}'"


def write_changes(con: duckdb.DuckDBPyConnection, spec: ProcessorSpec, stage: str, failures_stage: str | None,
                  failures_table: str, run_id: str, dates: Sequence[date],
                  fresh: Fresh | None = None, removed_table: str = "") -> Changes:
    """Inside the caller's transaction: for `dates` (also in temp table `ok_dates`), replace the
    in-scope stored records and tracked failures of `spec` that differ from `stage` /
    `failures_stage`. Keys are (date column, entity key) and (analysis_date, entity_id).

    `fresh`: a stored record or failure written on a date by a run that `fresh` pairs with that
    date propagates like a changed one (`Changes.fresh`) even when it equals the recomputed one;
    it is not rewritten, nor reported as changed. A cascade passes the rows written since its
    dates were reloaded, outside finished whole cascades, that some downstream record predates
    (cascade.stale_readers): such a record was computed from the new data by something else (a
    daily run, a manual backfill, a --players or range repair, an interrupted cascade) after
    records that read it, so those may still hold the old values and must not be cut off.
    `removed_table`: where the stored records that no recomputed one replaces are logged
    (processor, date, label, run id)."""
    out = check_identifier(spec.output_table)
    dc = check_identifier(spec.date_column)
    stage = check_identifier(stage)
    cols = [r[0] for r in con.execute(f"SELECT * FROM {stage} LIMIT 0").description if r[0] != FLAG]
    col_list = ", ".join(check_identifier(c) for c in cols)
    keys = [dc] + [check_identifier(k) for k in spec.entity_key]
    lo, hi = _bounds(dates)
    within = f"{dc} BETWEEN {lo} AND {hi} AND {dc} IN (SELECT d FROM ok_dates)"  # bounds prune row groups
    scoped = f"{within} AND {in_scope_sql(dc, label_sql(spec))}"
    result = Changes()
    stale = (fresh or Fresh()).of(spec.name)
    diff = _diff(con, "write_keys", f"SELECT {col_list} FROM {stage} WHERE {scoped}",
                 f"SELECT {col_list}, run_id AS _run FROM {out} WHERE {scoped}",
                 keys, cols, (label_sql(spec, "n"), label_sql(spec, "o")), [], result, stale)
    result.recomputed = diff.recomputed
    if removed_table and diff.gone:  # stored records with no recomputed one: logged by label (see Fresh.removed)
        con.execute(f"INSERT INTO {check_identifier(removed_table)} SELECT DISTINCT ?, {dc}, label, ?, "
                    "now()::TIMESTAMP FROM write_keys WHERE changed AND NOT computed", [spec.name, run_id])
    changed = f"SELECT {', '.join(keys)} FROM write_keys WHERE changed"
    key_list = ", ".join(keys)
    if diff.changed:  # nothing changed (early cutoff's common case): no statement to run
        con.execute(f"DELETE FROM {out} WHERE {within} AND ({key_list}) IN ({changed})")
    # the new records straight from the stage (no copy of the in-scope rows is made first): its
    # in-scope rows whose key is a computed changed one (every row of a duplicated key, as deleted)
    on = " AND ".join(f"s.{k} = w.{k}" for k in keys)
    if diff.changed > diff.gone:
        con.execute(
            f"INSERT INTO {out} BY NAME SELECT {', '.join(f's.{check_identifier(c)}' for c in cols)}, "
            "?::VARCHAR AS run_id, now()::TIMESTAMP AS processed_at "
            f"FROM {stage} s JOIN (SELECT DISTINCT {key_list} FROM write_keys WHERE changed AND computed) w ON {on} "
            f"WHERE {in_scope_sql(f's.{dc}', label_sql(spec, 's'))}", [run_id])
    _write_failures(con, spec, failures_stage, check_identifier(failures_table), run_id, lo, hi, result, stale)
    for t in ("write_keys", "write_fkeys"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return result


@dataclass(frozen=True)
class _Diff:
    """What _diff found: new rows (records recomputed), changed pairs, and changed pairs with no
    new row (stored rows that go)."""

    recomputed: int
    changed: int
    gone: int


def _diff(con: duckdb.DuckDBPyConnection, name: str, new: str, old: str, keys: Sequence[str], cols: Sequence[str],
          labels: tuple[str, str], params: list[Any], result: Changes,
          stale: tuple[list[str], list[date]] = ([], [])) -> _Diff:
    """Create temp table `name` (keys, label, computed, changed, fresh) from one hash join of the
    `new` and `old` rows on `keys`: a row per pair, `computed` when the new side exists, `changed`
    when a side is missing or a column of `cols` differs (a duplicated key compares every pair,
    so any difference replaces it), `fresh` when the old row's (run, date) (its `_run` column
    and first key) is among the `stale` pairs (run ids, dates). Adds the changed labels to
    `result.changed`, and the fresh ones that did not change to `result.fresh`; returns the
    counts (the writes skip what has nothing to do)."""
    differs = " OR ".join(f"n.{check_identifier(c)} IS DISTINCT FROM o.{check_identifier(c)}" for c in cols)
    first = keys[0]
    # each new row is numbered (`stage_row`): a key stored twice pairs it twice, and is counted once
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {check_identifier(name)} AS
            SELECT {', '.join(f'coalesce(n.{k}, o.{k}) AS {k}' for k in keys)},
                   coalesce({labels[0]}, {labels[1]}) AS label, n.{first} IS NOT NULL AS computed,
                   n.{first} IS NULL OR o.{first} IS NULL OR {differs} AS changed,
                   coalesce((o._run, o.{first}) IN (SELECT unnest(?::VARCHAR[]), unnest(?::DATE[])), false) AS fresh,
                   n.stage_row
            FROM (SELECT *, row_number() OVER () AS stage_row FROM ({new})) n FULL JOIN ({old}) o
              ON {' AND '.join(f'n.{k} = o.{k}' for k in keys)}""",
        [stale[0], stale[1], *params])
    counts = _Diff(0, 0, 0)
    # one query: the changed (date, label) pairs (and the fresh ones, `changed` false), and a
    # row marked `counts`
    for is_counts, d, lab, changed, n, n_changed, n_gone in con.execute(
            f"SELECT DISTINCT false, {first}, label, changed, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT FROM {name} "
            f"WHERE changed OR fresh UNION ALL SELECT true, NULL, NULL, NULL, count(DISTINCT stage_row), "
            f"count(*) FILTER (WHERE changed), count(*) FILTER (WHERE changed AND NOT computed) FROM {name}"
            ).fetchall():
        if is_counts:
            counts = _Diff(n, n_changed, n_gone)
        else:
            (result.changed if changed else result.fresh).setdefault(d, set()).add(lab)
    return counts


def _write_failures(con: duckdb.DuckDBPyConnection, spec: ProcessorSpec, failures_stage: str | None, ft: str,
                    run_id: str, lo: str, hi: str, result: Changes,
                    stale: tuple[list[str], list[date]] = ([], [])) -> None:
    """write_changes' second half: the tracked failures, keyed (analysis_date, entity_id)."""
    f_cols = ", ".join(FAILURE_COLUMNS)
    f_within = f"analysis_date BETWEEN {lo} AND {hi} AND analysis_date IN (SELECT d FROM ok_dates)"
    f_scoped = f"{f_within} AND {in_scope_sql('analysis_date', 'entity_id')}"
    if not failures_stage:  # none computed: every stored in-scope failure is gone (one statement)
        for d, lab in con.execute(f"DELETE FROM {ft} WHERE processor_name = ? AND {f_scoped} "
                                  "RETURNING analysis_date, entity_id", [spec.name]).fetchall():
            result.changed.setdefault(d, set()).add(lab)
        return
    fs = check_identifier(failures_stage)
    keys = ("analysis_date", "entity_id")
    # as for records: one hash join on the key, a key changed when a side is missing or a value differs
    diff = _diff(con, "write_fkeys", f"SELECT {f_cols} FROM {fs} WHERE {f_scoped}",
                 f"SELECT {f_cols}, run_id AS _run FROM {ft} "
                 f"WHERE processor_name = ? AND {f_scoped}", keys,
                 FAILURE_COLUMNS[2:], ("n.entity_id", "o.entity_id"), [spec.name], result, stale)
    result.recomputed += diff.recomputed
    changed = "SELECT analysis_date, entity_id FROM write_fkeys WHERE changed"
    if diff.changed:
        con.execute(f"DELETE FROM {ft} WHERE processor_name = ? AND {f_within} "
                    f"AND (analysis_date, entity_id) IN ({changed})", [spec.name])
    if diff.changed > diff.gone:
        con.execute(
            f"""INSERT INTO {ft} BY NAME
                SELECT ?::VARCHAR AS processor_name, {f_cols}, ?::VARCHAR AS run_id, now()::TIMESTAMP AS created_at
                FROM {fs} WHERE (analysis_date, entity_id) IN ({changed} AND computed)""",
            [spec.name, run_id])
