"""Processor specs (data, not classes) and the DAG the engine derives from them.

A processor is a name, a phase, an output table keyed by a date column and an entity key,
its upstream dependencies with their windows, a minimum game count, and a way to compute a
whole set of dates at once (a SQL query over the temp table `run_dates(d DATE)`, or a loader
function for sources that are files). The engine orders, runs, checks and traces processors
from these fields alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Literal, Sequence

WindowKind = Literal["same_date", "last_n_games", "lookback_days", "season_to_date"]


@dataclass(frozen=True)
class Window:
    """How many upstream dates a record of date d reads.

    same_date: exactly d. last_n_games(n): the entity's n most recent games strictly before d.
    lookback_days(n): the n days before d (d-n .. d-1). season_to_date: every date of d's
    season strictly before d.
    """

    kind: WindowKind
    n: int = 0

    def __str__(self) -> str:
        return self.kind if self.kind in ("same_date", "season_to_date") else f"{self.kind}({self.n})"


def same_date() -> Window:
    return Window("same_date")


def last_n_games(n: int) -> Window:
    return Window("last_n_games", n)


def lookback_days(n: int) -> Window:
    return Window("lookback_days", n)


def season_to_date() -> Window:
    return Window("season_to_date")


@dataclass(frozen=True)
class Dependency:
    """An upstream table read through a window. `entity` names the entity whose games count
    for last_n_games windows ("player" or "team"; free text the pipeline interprets).

    `via` declares a cross-entity edge: (table, column) where a record of date d reads the
    parent's rows of the entities named in `column` of its own row in `table` on d (a
    player's PCF reads the TDZA row of his opponent: (upcoming context, "opponent_team_abbr")).
    `table` must be a same-date dependency of the same processor keyed by the same label. The
    cascade then maps a changed team to the players that read it instead of the whole date.
    """

    table: str
    window: Window
    entity: str | None = None
    via: tuple[str, str] | None = None


@dataclass
class ComputeContext:
    """What a compute function gets: a connection with temp table `run_dates(d DATE)` holding
    the dates to compute (and `run_labels(d, label)`: the dates restricted to some entities,
    see engine/scope.py), the run id, and the pipeline's parameters (e.g. the landing folder)."""

    con: Any
    dates: list[date]
    run_id: str
    params: dict[str, Any]
    stage: str


@dataclass
class Computed:
    """What a compute returns.

    `stage`: a temp table with the output rows (must carry the spec's date column).
    `failures_stage`: optional temp table (date, entity_id, failure_category, failure_reason,
    can_retry) of expected entities that produced no record.
    `date_errors`: dates that failed; nothing is written for them. `warnings`: dates that
    succeeded with remarks (e.g. a scheduled game without payload). `no_work`: dates found to
    have nothing to do (no ledger row, partition untouched). `extra_dates`: dates beyond the run's
    whose partitions the compute also produced completely (reference data such as a calendar);
    they are replaced in the same transaction but get no ledger row of their own.
    `backing`: temp tables the stages are views over (no copy); with it, `stage` and
    `failures_stage` are temp views. The runner drops all of them after the write.
    """

    stage: str
    failures_stage: str | None = None
    backing: tuple[str, ...] = ()
    date_errors: dict[date, list[str]] = field(default_factory=dict)
    warnings: dict[date, list[str]] = field(default_factory=dict)
    no_work: set[date] = field(default_factory=set)
    extra_dates: set[date] = field(default_factory=set)


ComputeFn = Callable[[ComputeContext], Computed]


@dataclass(frozen=True)
class ProcessorSpec:
    """A processor as data. `sql` (a SELECT over `run_dates`) or `compute` must be given.

    `work_dates_sql`: SELECT returning which of `run_dates` have work (default: all);
    `skip_reason`: dates the processor skips by design (e.g. "bootstrap"), recorded as skipped.
    `complete_on`: the output column that must hold every expected key of a date (the
    catalog's expected_keys_sql, e.g. every scheduled game_id); gap checks use it.
    `label_column`: the output column naming a record's entity for people (player_lookup,
    team_abbr); it is also the failures' entity_id. The cascade tracks changes by it and counts
    last-N-games windows over it.
    `expected_sql`: SELECT over `run_dates` returning (d DATE, entity_id VARCHAR), the entities
    each date must end with as a record or a tracked failure; the coverage reconcile reports
    any other as UNTRACKED.
    `entities_from`: an upstream table (one of the dependencies) whose labels on a date include
    every label this processor can have on that date (a player × game table: the player box
    scores). Cascade detection names those entities on a
    date where nothing of this processor is stored yet, instead of "every entity".
    """

    name: str
    phase: int
    output_table: str
    date_column: str
    entity_key: tuple[str, ...]
    dependencies: tuple[Dependency, ...] = ()
    min_games: int = 0
    sql: str | None = None
    compute: ComputeFn | None = None
    work_dates_sql: str | None = None
    skip_reason: Callable[[date], str | None] | None = None
    complete_on: str | None = None
    label_column: str | None = None
    aliases: tuple[str, ...] = ()
    description: str = ""
    compare_exclude: tuple[str, ...] = ("run_id", "processed_at")
    expected_sql: str | None = None
    entities_from: str | None = None

    def __post_init__(self) -> None:
        if (self.sql is None) == (self.compute is None):
            raise ValueError(f"processor {self.name}: give exactly one of sql / compute")
        if self.entities_from is not None and self.entities_from not in self.upstream_tables:
            raise ValueError(f"processor {self.name}: entities_from {self.entities_from} is not a dependency")
        same_date_tables = {d.table for d in self.dependencies if d.window.kind == "same_date"}
        for dep in self.dependencies:
            if dep.via is not None and dep.via[0] not in same_date_tables:
                raise ValueError(f"processor {self.name}: via table {dep.via[0]} of {dep.table} "
                                 "is not a same-date dependency")

    @property
    def upstream_tables(self) -> tuple[str, ...]:
        return tuple(d.table for d in self.dependencies)


def _check_via(spec: ProcessorSpec, by_table: dict[str, ProcessorSpec]) -> None:
    """A `via` table must carry this processor's own labels through an entity-local same-date
    dependency: a player whose row there changes is then traced through that dependency, so
    mapping teams through its stored rows cannot lose him."""
    local = {d.table for d in spec.dependencies if d.window.kind == "same_date" and d.entity is not None}
    for dep in spec.dependencies:
        if dep.via is None:
            continue
        through = by_table.get(dep.via[0])
        if dep.via[0] not in local or through is None or through.label_column != spec.label_column:
            raise ValueError(f"processor {spec.name}: via table {dep.via[0]} of {dep.table} must be a registered "
                             f"same-date dependency with an entity and label column {spec.label_column}")


class Registry:
    """The processors of a pipeline, indexed by name, alias and output table, in DAG order."""

    def __init__(self, specs: Sequence[ProcessorSpec]) -> None:
        self.by_name: dict[str, ProcessorSpec] = {}
        self.by_table: dict[str, ProcessorSpec] = {}
        for spec in specs:
            if spec.name in self.by_name:
                raise ValueError(f"duplicate processor {spec.name}")
            self.by_name[spec.name] = spec
            if spec.output_table in self.by_table:
                raise ValueError(f"table {spec.output_table} has two producers")
            self.by_table[spec.output_table] = spec
        for spec in specs:
            _check_via(spec, self.by_table)
        self.order: list[ProcessorSpec] = topological_order(list(specs), self.by_table)

    def get(self, name_or_alias: str) -> ProcessorSpec | None:
        key = name_or_alias.strip().lower()
        for spec in self.order:
            if spec.name.lower() == key or key in (a.lower() for a in spec.aliases):
                return spec
        return None

    def phase(self, phase: int) -> list[ProcessorSpec]:
        return [s for s in self.order if s.phase == phase]

    def upstream(self, spec: ProcessorSpec) -> list[ProcessorSpec]:
        """Processors producing the tables `spec` reads (direct parents), in DAG order."""
        tables = set(spec.upstream_tables)
        return [s for s in self.order if s.output_table in tables]

    def downstream(self, spec: ProcessorSpec) -> list[ProcessorSpec]:
        """Processors reading `spec`'s output (direct children), in DAG order."""
        return [s for s in self.order if spec.output_table in s.upstream_tables]

    def ancestors(self, spec: ProcessorSpec) -> list[ProcessorSpec]:
        """Every processor `spec` depends on, directly or not, in DAG order."""
        seen: set[str] = set()
        frontier = [spec]
        while frontier:
            cur = frontier.pop()
            for parent in self.upstream(cur):
                if parent.name not in seen:
                    seen.add(parent.name)
                    frontier.append(parent)
        return [s for s in self.order if s.name in seen]

    def descendants(self, spec: ProcessorSpec) -> list[ProcessorSpec]:
        """Every processor reachable downstream of `spec`, in DAG order."""
        seen: set[str] = set()
        frontier = [spec]
        while frontier:
            cur = frontier.pop()
            for child in self.downstream(cur):
                if child.name not in seen:
                    seen.add(child.name)
                    frontier.append(child)
        return [s for s in self.order if s.name in seen]


def topological_order(specs: list[ProcessorSpec], by_table: dict[str, ProcessorSpec]) -> list[ProcessorSpec]:
    """Kahn's algorithm; ties broken by (phase, name) so the order is deterministic.

    Raises ValueError on a cycle.
    """
    parents = {
        s.name: {by_table[t].name for t in s.upstream_tables if t in by_table and by_table[t].name != s.name}
        for s in specs
    }
    done: list[ProcessorSpec] = []
    placed: set[str] = set()
    remaining = sorted(specs, key=lambda s: (s.phase, s.name))
    while remaining:
        ready = [s for s in remaining if parents[s.name] <= placed]
        if not ready:
            raise ValueError("processor dependencies form a cycle: " + ", ".join(s.name for s in remaining))
        nxt = ready[0]
        done.append(nxt)
        placed.add(nxt.name)
        remaining.remove(nxt)
    return done


def levels(registry: Registry, specs: Sequence[ProcessorSpec]) -> list[list[ProcessorSpec]]:
    """Group `specs` into levels whose members do not depend on each other (for parallel runs)."""
    names = {s.name for s in specs}
    depth: dict[str, int] = {}
    for s in registry.order:
        if s.name not in names:
            continue
        ups = [depth[u.name] for u in _ancestors_in(registry, s, names)]
        depth[s.name] = 1 + max(ups) if ups else 0
    out: dict[int, list[ProcessorSpec]] = {}
    for s in registry.order:
        if s.name in depth:
            out.setdefault(depth[s.name], []).append(s)
    return [out[k] for k in sorted(out)]


def _ancestors_in(registry: Registry, spec: ProcessorSpec, names: set[str]) -> list[ProcessorSpec]:
    found: dict[str, ProcessorSpec] = {}
    frontier = registry.upstream(spec)
    while frontier:
        cur = frontier.pop()
        if cur.name in names:
            found[cur.name] = cur
        else:
            frontier.extend(registry.upstream(cur))
    return list(found.values())


def split_compute(sql: str, date_column: str, whole_sql: str | None = None) -> ComputeFn:
    """A compute for a query that returns records and failures together.

    The query must return the output columns plus `failure_category` (NULL for a record),
    `failure_reason`, `can_retry` and `entity_id`. Rows with a category go to the failures
    stage (keyed by `date_column` as analysis_date), the others to the output stage.
    `whole_sql`, when given, is the same query without the entity restriction (`run_labels`),
    used when the run restricts no date: a query can be much faster without that filter.
    """

    def compute(ctx: ComputeContext) -> Computed:
        con = ctx.con
        query = sql
        if whole_sql and not con.execute("SELECT count(*) FROM run_labels").fetchone()[0]:
            query = whole_sql
        con.execute(f"CREATE OR REPLACE TEMP TABLE {ctx.stage}_all AS {query}")
        # views, not copies: the write reads each once
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {ctx.stage} AS SELECT * EXCLUDE "
            f"(failure_category, failure_reason, can_retry, entity_id) FROM {ctx.stage}_all "
            "WHERE failure_category IS NULL"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {ctx.stage}_failures AS SELECT {date_column} AS analysis_date, "
            f"entity_id, failure_category, failure_reason, can_retry FROM {ctx.stage}_all "
            "WHERE failure_category IS NOT NULL"
        )
        return Computed(stage=ctx.stage, failures_stage=f"{ctx.stage}_failures", backing=(f"{ctx.stage}_all",))

    return compute
