"""The warehouse: one DuckDB file, ordered migrations, bounded waiting for the file lock.

The engine knows nothing of the pipeline's tables: a `Catalog` (built by the pipeline) names
the schemas, the migrations and the bookkeeping tables the engine writes to.
"""
from __future__ import annotations

import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Iterator, Sequence

import duckdb

from fullcourt.errors import DatabaseLockedError, FullcourtError, UsageError

DEFAULT_DB = "fullcourt.duckdb"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")


@dataclass(frozen=True)
class Migration:
    """One schema change: applied once, in `version` order, inside a transaction."""

    version: int
    name: str
    sql: str


@dataclass(frozen=True)
class Catalog:
    """What the engine needs to know of a pipeline's storage and calendar.

    `ledger_table` holds one row per processor, date and run; `failures_table` one row per
    expected entity that produced no record; `migrations_table` records applied migrations;
    `outbox_table` trigger messages; `checkpoints_table` backfill progress; `alerts_table`
    alerts; `removed_table` the records a run removed, by label (a cascade propagates them:
    no stored row is left to compare). `expected_keys_sql` selects (d, key) of what should exist between $start and $end
    (e.g. scheduled games) in every output whose spec declares `complete_on`;
    `period_start(d)` is the first date a season-long window of d reads, `period_end(d)`
    the last date whose windows can read d.
    """

    schemas: tuple[str, ...]
    migrations: tuple[Migration, ...]
    migrations_table: str
    ledger_table: str
    failures_table: str
    outbox_table: str = ""
    checkpoints_table: str = ""
    alerts_table: str = ""
    removed_table: str = ""
    expected_keys_sql: str = ""
    period_start: Callable[[date], date] | None = None
    period_end: Callable[[date], date] | None = None


def check_identifier(name: str) -> str:
    """Return `name` if it is a plain (schema.)table identifier, else raise.

    Identifiers are never taken from user text without this check and a membership test
    against the known tables.
    """
    if not IDENTIFIER.match(name):
        raise FullcourtError(f"{name!r} is not a valid table identifier")
    return name


def resolve_db_path(db: str | Path | None) -> Path:
    """`--db`, else $FULLCOURT_DB, else ./fullcourt.duckdb."""
    return Path(db or os.environ.get("FULLCOURT_DB") or DEFAULT_DB)


class Warehouse:
    """An open DuckDB file with the catalog's migrations applied.

    Opening waits up to `lock_timeout` seconds while another process holds the file, then
    raises DatabaseLockedError. Use as a context manager or call `close()`.
    """

    def __init__(
        self,
        path: str | Path,
        catalog: Catalog,
        lock_timeout: float = 10.0,
        threads: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.catalog = catalog
        self.con = _connect(self.path, lock_timeout)
        self.con.execute("SET enable_progress_bar = false")
        # always the ASOF operator: under a small estimate of its left side DuckDB plans an ASOF
        # join as a nested loop, and a window's "team at an absent game" join (estimated small,
        # 2 M rows in fact) took 19.6 s instead of 0.1 s. GLOBAL: the cursors see it too.
        self.con.execute("SET GLOBAL asof_loop_join_threshold = 0")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.applied = migrate(self.con, catalog)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Warehouse":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, con: duckdb.DuckDBPyConnection | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """BEGIN … COMMIT on `con` (default the main connection); ROLLBACK on any exception."""
        c = con or self.con
        c.execute("BEGIN TRANSACTION")
        try:
            yield c
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")

    def table_exists(self, name: str) -> bool:
        schema, _, table = check_identifier(name).partition(".")
        row = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchall()
        return bool(row and row[0][0])


DUCKDB_MAGIC = b"DUCK"
DUCKDB_MAGIC_END = 12
"""A DuckDB file's header: an 8-byte checksum, then the magic bytes."""


def is_duckdb_file(path: Path) -> bool:
    """`path` (an existing file) starts with a DuckDB header. Raises OSError when unreadable."""
    with open(path, "rb") as f:
        head = f.read(DUCKDB_MAGIC_END)
    return head[DUCKDB_MAGIC_END - len(DUCKDB_MAGIC):] == DUCKDB_MAGIC


def _connect(path: Path, lock_timeout: float) -> duckdb.DuckDBPyConnection:
    if path.parent and not path.parent.exists():
        raise UsageError(
            f"folder {path.parent} for the database does not exist",
            remedy=f"create it (mkdir -p {path.parent}) or pass another --db",
        )
    if path.is_dir():
        raise UsageError(f"database {path} is a folder, not a database file",
                         remedy="pass the store's .duckdb file (--db or FULLCOURT_DB)")
    # DuckDB 2.0 would open a CSV or JSON file as a read-only view. An empty file is left to
    # DuckDB: another process may be creating the store (it waits for the lock), else DuckDB
    # refuses it, and so do we. The messages name the path, which may come from FULLCOURT_DB.
    if path.is_file() and path.stat().st_size > 0:
        try:
            duckdb_file = is_duckdb_file(path)
        except OSError as err:
            raise FullcourtError(f"cannot open database {path}: {err.strerror or err}",
                                 remedy="check that the file is readable and writable, or pass another --db") from None
        if not duckdb_file:
            raise UsageError(f"database {path} is not a DuckDB database file",
                             remedy="pass the store's .duckdb file (--db or FULLCOURT_DB)")
    deadline = time.monotonic() + lock_timeout
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            text = str(exc)
            if "not a valid DuckDB database file" in text:  # an empty file nobody is creating
                raise UsageError(f"database {path} is not a DuckDB database file",
                                 remedy="pass the store's .duckdb file (--db or FULLCOURT_DB)") from None
            if "lock" not in text.lower():
                raise FullcourtError(f"cannot open database {path}: {text.splitlines()[0]}",
                                     remedy="check that the file is readable and writable, or pass another --db"
                                     ) from None
            if time.monotonic() >= deadline:
                holder = re.search(r"PID (\d+)", text)
                who = f" (PID {holder.group(1)})" if holder else ""
                raise DatabaseLockedError(
                    f"database {path} is in use by another process{who}; waited {lock_timeout:g}s",
                    remedy="wait for it to finish (another fullcourt command, or any program with the file open), "
                           "or set FULLCOURT_LOCK_TIMEOUT to wait longer",
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def migrate(con: duckdb.DuckDBPyConnection, catalog: Catalog) -> list[int]:
    """Apply the catalog's migrations not yet recorded, each in its own transaction.

    Returns the versions applied now (empty when the store is current: re-running is a no-op).
    """
    for schema in catalog.schemas:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {check_identifier(schema)}")
    table = check_identifier(catalog.migrations_table)
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {table} (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)"
    )
    done = {r[0] for r in con.execute(f"SELECT version FROM {table}").fetchall()}
    applied: list[int] = []
    for m in sorted(catalog.migrations, key=lambda m: m.version):
        if m.version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in _statements(m.sql):
                con.execute(statement)
            con.execute(f"INSERT INTO {table} VALUES (?, ?, now())", [m.version, m.name])
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        applied.append(m.version)
    return applied


def _statements(sql: str) -> Sequence[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]
