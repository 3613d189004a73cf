"""Backfill over a range on a tiny synthetic league: the error policies of seed 003 (test 3),
checkpoints and resume (also after SIGKILL), the two orders, parallel levels, preflight,
the database lock and downstream triggers.

Stores are compared table by table, without the run metadata columns, against an
uninterrupted run into a fresh database (or, for orders and parallelism, the other variant).
"""
from __future__ import annotations

import json
import shlex
import shutil
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from fullcourt import api
from fullcourt.api import PreflightError
from fullcourt.cli import app
from fullcourt.dates import date_range
from fullcourt.nba.pipeline import catalog, registry
from fullcourt.nba.sources.synthetic import LeagueConfig, scrape_synthetic
from remedies import bare, no_traceback  # noqa: E402

CONFIG = LeagueConfig(seed=9, teams=4, players_per_team=8)
SCRAPE_START, SCRAPE_END = date(2021, 10, 19), date(2021, 11, 20)
LEDGER = catalog().ledger_table
OUTBOX = catalog().outbox_table
ALERTS = catalog().alerts_table
META = ("run_id", "processed_at", "created_at")
SOURCE_FILE = r"regexp_replace(source_file, '^.*/landing[^/]*/', '') AS source_file"
PHASE2 = [s.name for s in registry().phase(2)]
PHASE3 = [s.name for s in registry().phase(3)]
BOX = "NbacPlayerBoxscoreProcessor"
# entity key (with the date) of every phase 2 table: no key appears twice after any backfill
RAW_KEYS = {
    "nba_raw.nbac_schedule": "game_date, game_id",
    "nba_raw.nbac_gamebook": "game_date, game_id, person_id",
    "nba_raw.nbac_player_boxscore": "game_date, game_id, person_id",
    "nba_raw.nbac_team_boxscore": "game_date, game_id, team_abbr",
    "nba_raw.nbac_shots": "game_date, game_id, action_number",
    "nba_raw.odds_player_props": "game_date, player_lookup, market",
}

runner = CliRunner()


def cli(*args: object, env: dict[str, str] | None = None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def csv(dates: list[date]) -> str:
    return ",".join(d.isoformat() for d in dates)


def span(dates: list[date]) -> list[object]:
    """The inclusive range from the first to the last of `dates`, as CLI options (a range resumes)."""
    return ["--start-date", dates[0], "--end-date", dates[-1]]


def hint_args(command: str) -> list[str]:
    """The arguments of a printed `fullcourt ...` command, to run it exactly as an operator would."""
    words = shlex.split(command)
    assert words[:2] == ["fullcourt", "backfill"], command
    return words[1:]


# --- reading a store --------------------------------------------------------------------------


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def snapshot(db: Path, schema: str, where: str = "") -> dict[str, list[tuple]]:
    """Every table of `schema`: its rows without run metadata, sorted (source files relative to
    their landing folder, so stores loaded from copies of the landing compare equal)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = ? ORDER BY 1",
            [schema]).fetchall()]
        out = {}
        for t in tables:
            cols = [SOURCE_FILE if r[0] == "source_file" else r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                "ORDER BY ordinal_position", [schema, t]).fetchall() if r[0] not in META]
            out[f"{schema}.{t}"] = con.execute(
                f"SELECT {', '.join(cols)} FROM {schema}.{t} {where} ORDER BY ALL").fetchall()
        return out
    finally:
        con.close()


def ledger_count(db: Path, where: str = "TRUE") -> int:
    return query(db, f"SELECT count(*) FROM {LEDGER} WHERE {where}")[0][0]


def ledger_dates(db: Path, processor: str, status: str = "success") -> list[date]:
    return [r[0] for r in query(
        db, f"SELECT DISTINCT data_date FROM {LEDGER} WHERE processor_name = ? AND status = ? ORDER BY 1",
        [processor, status])]


def table_dates(db: Path, table: str) -> list[date]:
    return [r[0] for r in query(db, f"SELECT DISTINCT game_date FROM {table} ORDER BY 1")]


def assert_no_duplicates(db: Path, retried: tuple[str, date] | None = None) -> None:
    """No entity key twice in a phase 2 table; one ledger row per processor and date, except
    a `retried` (processor, date): failed, then success."""
    for table, key in RAW_KEYS.items():
        n, distinct = query(db, f"SELECT count(*), count(DISTINCT ({key})) FROM {table}")[0]
        assert n == distinct > 0, table
    twice = query(db, f"SELECT processor_name, data_date, list(status ORDER BY started_at) FROM {LEDGER} "
                      "GROUP BY 1, 2 HAVING count(*) > 1")
    assert twice == ([(*retried, ["failed", "success"])] if retried else [])


def copy_db(src: Path, dst: Path) -> Path:
    shutil.copy(src, dst)
    return dst


# --- the league -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def league(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("backfill")
    scrape_synthetic(root / "landing", SCRAPE_START, SCRAPE_END, CONFIG)
    return root


@pytest.fixture(scope="module")
def game_dates(league) -> list[date]:
    """Game dates of the scraped range, from the league schedule file."""
    sched = json.loads((league / "landing" / "schedule" / "2021-22.json").read_text())
    days = [date.fromisoformat(d["gameDate"][:10]) for d in sched["leagueSchedule"]["gameDates"] if d["games"]]
    return [d for d in days if SCRAPE_START <= d <= SCRAPE_END]


@pytest.fixture(scope="module")
def ten(game_dates) -> list[date]:
    """Ten consecutive game dates (the league has idle days, so they span more calendar days)."""
    days = game_dates[:10]
    assert len(days) == 10 and (days[-1] - days[0]).days > 9
    return days


@pytest.fixture(scope="module")
def bad_landing(league, ten) -> Path:
    """The landing with the 5th date's box scores cut into malformed JSON (present: preflight passes)."""
    path = league / "landing_bad"
    shutil.copytree(league / "landing", path)
    files = sorted((path / ten[4].isoformat()).glob("boxscore_*.json"))
    assert files
    for f in files:
        f.write_text(f.read_text()[:40])
    return path


@pytest.fixture(scope="module")
def clean10(league, ten) -> Path:
    """Phase 2 over the ten dates into a fresh store, uninterrupted (the reference)."""
    db = league / "clean10.duckdb"
    report = api.backfill(db, league / "landing", ten, phase=2)
    assert report.ok and report.failed_dates == []
    return db


@pytest.fixture(scope="module")
def phase2(league, game_dates) -> Path:
    """Phase 2 over every game date of the scraped range."""
    db = league / "phase2.duckdb"
    assert api.backfill(db, league / "landing", game_dates, phase=2).ok
    return db


@pytest.fixture(scope="module")
def phase3(league, phase2, game_dates) -> Path:
    db = copy_db(phase2, league / "phase3.duckdb")
    assert api.backfill(db, league / "landing", game_dates, phase=3).ok
    return db


# --- 1. error policies (seed 003, test 3) -----------------------------------------------------


@pytest.mark.parametrize("order", ["date-first", "phase-first"])
def test_stop_ends_the_backfill_at_the_failed_date(tmp_path, league, ten, bad_landing, clean10, order):
    db = tmp_path / "stop.duckdb"
    fifth = ten[4]
    command = ["backfill", "--phase", 2, *span(ten), "--error-policy", "stop", "--order", order]
    args = [*command, "--parallel", 1, "--db", db, "--json"]
    r = cli(*args, "--landing", bad_landing)
    assert r.exit_code == 1, r.output
    out = json.loads(r.stdout)
    assert out["failed_dates"] == [fifth.isoformat()]
    assert out["stopped_at"] == fifth.isoformat()
    # the hint is the same command (the default order is not repeated): it resumes from the checkpoint
    same = [str(a) for a in command if order == "date-first" or a not in ("--order", order)]
    assert hint_args(bare(out["retry"])) == same
    failed = query(db, f"SELECT processor_name, data_date, errors FROM {LEDGER} WHERE status = 'failed'")
    assert [(p, d) for p, d, _ in failed] == [(BOX, fifth)]
    assert "malformed JSON" in failed[0][2] and f"{fifth}/boxscore_" in failed[0][2]
    # dates 1-4 are written, nothing of the failed processor from date 5 on
    assert table_dates(db, "nba_raw.nbac_player_boxscore") == ten[:4]
    done = {p: ledger_dates(db, p) for p in PHASE2}
    first_two = ("NbacScheduleProcessor", "NbacGamebookProcessor")  # before the box scores in DAG order
    if order == "date-first":
        # seed 003: "stops at date 5, doesn't process dates 6-10", for every processor
        assert done == {p: ten[:5] if p in first_two else ten[:4] for p in PHASE2}
        assert ledger_count(db, f"data_date > DATE '{fifth}'") == 0
        for table in RAW_KEYS:
            if table != "nba_raw.nbac_schedule":  # the calendar: a run loads its whole season
                assert max(table_dates(db, table)) <= fifth, table
    else:
        # phase-first runs each processor over the whole range before the next (parallel 1: in
        # DAG order): the two before the box scores did dates 6-10, the ones after never start
        assert done == {p: ten if p in first_two else ten[:4] if p == BOX else [] for p in PHASE2}
        assert ledger_count(db, f"data_date > DATE '{fifth}' AND processor_name NOT IN {first_two}") == 0
    status = {p["processor"]: p for p in json.loads(cli(*args, "--status").stdout)["processors"]}
    assert (status[BOX]["status"], status[BOX]["last_completed_date"]) == ("stopped", ten[3].isoformat())
    assert status[BOX]["failed_dates"] == [fifth.isoformat()]
    if order == "phase-first":  # (date-first: the same path, three times slower)
        # after fixing the payload the hint (the same command) resumes at the failed date and ends
        # equal to an uninterrupted run: done processors skip, the stopped one and the unstarted ones run
        r = cli(*hint_args(bare(out["retry"])), "--parallel", 1, "--db", db, "--json", "--landing", league / "landing")
        assert r.exit_code == 0, r.output
        out = json.loads(r.stdout)
        assert out["resumed_after"] == {**{p: ten[-1].isoformat() for p in first_two}, BOX: ten[3].isoformat()}
        assert {p["processor"]: [d["date"] for d in p["dates"]] for p in out["processors"]} == {
            p: [d.isoformat() for d in (ten[4:] if p == BOX else ten)] for p in PHASE2 if p not in first_two}
        assert snapshot(db, "nba_raw") == snapshot(clean10, "nba_raw")
        assert_no_duplicates(db, retried=(BOX, fifth))


def test_stop_on_listed_dates_hints_every_date_left_and_the_hint_finishes_them(tmp_path, league, ten, bad_landing,
                                                                               clean10):
    """Listed dates are not one range: the hint lists every date some processor has still to run
    (the failed one and those that did not run), and running it finishes the backfill."""
    db = tmp_path / "stop-dates.duckdb"
    fifth = ten[4]
    r = cli("backfill", "--phase", 2, "--dates", csv(ten), "--error-policy", "stop", "--order", "date-first",
            "--parallel", 1, "--landing", bad_landing, "--db", db, "--json")
    assert r.exit_code == 1, r.output
    out = json.loads(r.stdout)
    assert out["stopped_at"] == fifth.isoformat()
    # from the ledger: the dates where some phase 2 processor has no success yet
    left = [d for d in ten if any(d not in ledger_dates(db, p) for p in PHASE2)]
    assert fifth in left and ten[-1] in left and ten[0] not in left
    assert hint_args(bare(out["retry"])) == ["backfill", "--phase", "2", "--dates", csv(left), "--error-policy", "stop",
                                       "--order", "date-first"]
    r = cli(*hint_args(bare(out["retry"])), "--parallel", 1, "--landing", league / "landing", "--db", db, "--json")
    assert r.exit_code == 0, r.output
    assert snapshot(db, "nba_raw") == snapshot(clean10, "nba_raw")
    latest = query(db, f"SELECT processor_name, data_date, arg_max(status, started_at) FROM {LEDGER} GROUP BY 1, 2")
    assert sorted(latest) == sorted((p, d, "success") for p in PHASE2 for d in ten)


@pytest.fixture(scope="module")
def continued(league, ten, bad_landing) -> tuple[Path, dict, int]:
    """Phase 2 over the range of the ten dates with the 5th failing, error policy continue."""
    db = league / "continue.duckdb"
    r = cli("backfill", "--phase", 2, *span(ten), "--error-policy", "continue",
            "--landing", bad_landing, "--db", db, "--json")
    return db, json.loads(r.stdout), r.exit_code


def test_continue_runs_every_date_and_lists_the_failure(continued, ten, clean10):
    db, out, code = continued
    fifth = ten[4]
    assert code == 1
    assert out["failed_dates"] == [fifth.isoformat()] and out["stopped_at"] is None
    assert bare(out["retry"]) == f"fullcourt backfill --phase 2 --dates {fifth}"
    # both box-score processors read the broken file; everything else succeeded everywhere
    failed = query(db, f"SELECT processor_name, data_date FROM {LEDGER} WHERE status = 'failed' ORDER BY 1")
    assert failed == [(BOX, fifth), ("NbacTeamBoxscoreProcessor", fifth)]
    assert ledger_count(db, "status = 'success'") == 6 * 10 - 2
    for table in ("nba_raw.nbac_player_boxscore", "nba_raw.nbac_team_boxscore"):
        assert table_dates(db, table) == ten[:4] + ten[5:]  # dates 6-10 ran and are written
    for table in ("nba_raw.nbac_shots", "nba_raw.odds_player_props"):
        assert table_dates(db, table) == ten
    assert set(ten) <= set(table_dates(db, "nba_raw.nbac_schedule"))
    assert snapshot(db, "nba_raw", f"WHERE game_date <> DATE '{fifth}'") == snapshot(
        clean10, "nba_raw", f"WHERE game_date <> DATE '{fifth}'")


def test_skip_deps_records_the_skip_downstream(tmp_path, continued, ten, bad_landing, league):
    src, _, _ = continued
    db = copy_db(src, tmp_path / "skipdeps.duckdb")
    fifth = ten[4]
    before = ledger_count(db)
    r = cli("backfill", "--phase", 3, "--dates", csv(ten), "--error-policy", "skip-deps",
            "--landing", bad_landing, "--db", db, "--json")
    assert r.exit_code == 1 and f"upstream incomplete on {fifth}" in r.stderr  # preflight sees the failure
    assert ledger_count(db) == before
    r = cli("backfill", "--phase", 3, "--dates", csv(ten), "--error-policy", "skip-deps", "--skip-preflight",
            "--landing", bad_landing, "--db", db, "--json")
    assert r.exit_code == 1, r.output
    out = json.loads(r.stdout)
    assert out["skipped_for_upstream"] == [fifth.isoformat()] and out["failed_dates"] == []
    assert bare(out["retry"]) == f"fullcourt backfill --phase 3 --dates {fifth}"
    rows = query(db, f"SELECT processor_name, data_date, status, skip_reason FROM {LEDGER} "
                     "WHERE phase = 'phase_3' ORDER BY 1, 2")
    assert len(rows) == 4 * 10
    for name, d, status, reason in rows:
        if d == fifth:
            assert status == "skipped" and reason.startswith("upstream") and str(fifth) in reason, (name, reason)
        else:
            assert status == "success" and reason is None, (name, d)
    reasons = {name: reason for name, d, _, reason in rows if d == fifth}
    assert reasons["PlayerGameSummaryProcessor"] == f"upstream {BOX} failed for {fifth}"
    assert reasons["UpcomingPlayerGameContextProcessor"] == f"upstream PlayerGameSummaryProcessor skipped for {fifth}"
    assert table_dates(db, "nba_analytics.player_game_summary") == ten[:4] + ten[5:]


def latest_status(db: Path, processors: list[str], d: date) -> dict[str, str]:
    """Latest ledger status of each of `processors` for `d` (those with a row)."""
    return dict(query(db, f"SELECT processor_name, arg_max(status, started_at) FROM {LEDGER} "
                          "WHERE data_date = ? AND processor_name IN (SELECT unnest(?::VARCHAR[])) GROUP BY 1",
                      [d, processors]))


def expected_block(db: Path, processor: str, d: date) -> str:
    """The reason a processor is blocked for `d`: its first parent (by name) whose latest run for
    `d` did not succeed, as the ledger has it."""
    parents = [p.name for p in registry().upstream(registry().get(processor))]
    bad = sorted((name, st) for name, st in latest_status(db, parents, d).items() if st != "success")
    assert bad, (processor, d)
    return f"BLOCKED: Upstream Failure: {processor} for {d}: upstream {bad[0][0]} {bad[0][1]} for {d}"


def phase3_outcome(db: Path) -> list[tuple]:
    return query(db, f"SELECT processor_name, data_date, status, errors FROM {LEDGER} WHERE phase = 'phase_3' "
                     "ORDER BY 1, 2")


@pytest.mark.parametrize("policy", ["stop", "continue"])
def test_a_date_whose_upstream_failed_is_blocked_not_computed(tmp_path, continued, league, ten, phase3, policy):
    """stop and continue never record a date as done when its upstream failed: the date is
    blocked (nothing computed), like strict mode; stop ends there, continue lists it."""
    src, _, _ = continued
    db = copy_db(src, tmp_path / f"{policy}.duckdb")
    fifth = ten[4]
    assert "failed" in latest_status(db, PHASE2, fifth).values()  # the premise: phase 2 failed on the 5th
    command = ["backfill", "--phase", 3, *span(ten), "--error-policy", policy, "--skip-preflight"]
    r = cli(*command, "--parallel", 1, "--landing", league / "landing", "--db", db, "--json")
    assert r.exit_code == 1, r.output
    out = json.loads(r.stdout)
    rows = phase3_outcome(db)
    assert not [row for row in rows if row[1] == fifth and row[2] != "blocked"]
    blocked = [(name, errors) for name, d, status, errors in rows if status == "blocked"]
    assert blocked and all(json.loads(errors) == [expected_block(db, name, fifth)] for name, errors in blocked)
    assert out["blocked_dates"] == [fifth.isoformat()] and out["failed_dates"] == []
    assert bare(out["upstream_retry"]) == f"fullcourt backfill --phase 2 --dates {fifth}"
    for table in ("nba_analytics.player_game_summary", "nba_analytics.team_defense_game_summary"):
        assert fifth not in table_dates(db, table)
    # each block raised a critical alert whose remedy reloads the upstream first
    alerts = query(db, f"SELECT processor, data_date, remedy FROM {ALERTS} WHERE severity = 'critical' ORDER BY 1")
    assert [(p, d) for p, d, _ in alerts] == sorted((name, fifth) for name, _ in blocked)
    assert all(bare(remedy).startswith(f"fullcourt backfill --phase 2 --dates {fifth}") for _, _, remedy in alerts)
    assert all(f" --db {db} " in remedy for _, _, remedy in alerts)  # the store the command was given
    first = PHASE3[0]  # DAG order, one at a time
    if policy == "stop":
        # the block is the first failure: the first processor did the dates before it, nothing ran after it
        assert out["stopped_at"] == fifth.isoformat()
        assert [(n, d, s) for n, d, s, _ in rows] == [(first, d, "success") for d in ten[:4]] + [
            (first, fifth, "blocked")]
        assert hint_args(bare(out["retry"])) == [str(a) for a in command]
        # once phase 2 is fixed for the date, the hint resumes at the blocked date and completes
        assert cli("backfill", "--phase", 2, "--dates", fifth, "--landing", league / "landing", "--db", db,
                   "--json").exit_code == 0
        r = cli(*hint_args(bare(out["retry"])), "--parallel", 1, "--landing", league / "landing", "--db", db, "--json")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["resumed_after"] == {first: (fifth - timedelta(days=1)).isoformat()}
        where = f"WHERE game_date BETWEEN DATE '{ten[0]}' AND DATE '{ten[-1]}'"
        assert snapshot(db, "nba_analytics") == snapshot(phase3, "nba_analytics", where)
    else:
        assert out["stopped_at"] is None
        assert bare(out["retry"]) == f"fullcourt backfill --phase 3 --dates {fifth}"
        assert sorted((n, d, s) for n, d, s, _ in rows) == sorted(
            (n, d, "blocked" if d == fifth else "success") for n in PHASE3 for d in ten)
        # continue computes exactly what skip-deps computes; only the record of the date differs
        other = copy_db(src, tmp_path / "skip-deps.duckdb")
        assert cli("backfill", "--phase", 3, *span(ten), "--skip-preflight", "--parallel", 1,
                   "--landing", league / "landing", "--db", other).exit_code == 1
        assert snapshot(db, "nba_analytics") == snapshot(other, "nba_analytics")
        assert [(n, d, "skipped" if s == "blocked" else s) for n, d, s, _ in rows] == [
            (n, d, s) for n, d, s, _ in phase3_outcome(other)]


# --- 2. checkpoints ---------------------------------------------------------------------------


def test_a_completed_backfill_resumes_to_nothing_and_no_resume_recomputes(tmp_path, league, ten, clean10):
    db = copy_db(clean10, tmp_path / "ckpt.duckdb")
    landing = league / "landing"
    before = ledger_count(db)
    assert before == 6 * 10
    report = api.backfill(db, landing, ten, phase=2)
    assert report.resumed == {name: ten[-1] for name in PHASE2}
    assert report.runs == [] and report.ok
    assert ledger_count(db) == before

    r = cli("backfill", "--phase", 2, "--dates", csv(ten), "--no-resume", "--landing", landing, "--db", db, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["resumed_after"] == {}
    assert ledger_count(db) == 2 * before
    assert snapshot(db, "nba_raw") == snapshot(clean10, "nba_raw")

    r = cli("backfill", "--phase", 2, "--dates", csv(ten[2:4]), "--landing", landing, "--db", db, "--json")
    assert r.exit_code == 0, r.output
    new = query(db, f"SELECT DISTINCT data_date FROM {LEDGER} GROUP BY processor_name, data_date "
                    "HAVING count(*) = 3 ORDER BY 1")
    assert [d for (d,) in new] == ten[2:4]
    assert ledger_count(db) == 2 * before + 6 * 2

    r = cli("backfill", "--phase", 2, "--dates", csv(ten), "--status", "--db", db, "--json")
    assert r.exit_code == 0, r.output
    status = json.loads(r.stdout)
    assert status["command"] == f"fullcourt backfill --phase 2 --dates {csv(ten)}"
    assert [p["processor"] for p in status["processors"]] == PHASE2
    for p in status["processors"]:
        assert (p["dates_done"], p["dates_total"], p["status"]) == (10, 10, "complete"), p
        assert p["last_completed_date"] == ten[-1].isoformat() and p["failed_dates"] == []


def test_listed_dates_run_again_after_a_completed_backfill_while_a_range_resumes(tmp_path, league, ten, clean10):
    """DESIGN: `--dates` retries given dates. A backfill of listed dates runs them again even
    when the same backfill completed (its checkpoint is replaced, as --no-resume does); the
    range form of the same dates keeps resuming from the checkpoint."""
    db = tmp_path / "again.duckdb"
    landing = league / "landing"
    day = ten[2]
    assert api.backfill(db, landing, [day], phase=2).ok
    done = api.backfill(db, landing, [day], phase=2)  # the range day..day: resumes to nothing
    assert done.runs == [] and done.resumed == {p: day for p in PHASE2}
    box = "nba_raw.nbac_player_boxscore"
    where = f"WHERE game_date = DATE '{day}'"
    con = duckdb.connect(str(db))  # the day's box scores are damaged behind the ledger's back
    con.execute(f"DELETE FROM {box} {where}")
    con.close()
    assert snapshot(db, "nba_raw", where)[box] == []
    before = ledger_count(db)

    again = api.backfill(db, landing, [day], phase=2, explicit_dates=True)
    assert again.ok and again.resumed == {}
    assert {p.processor: [r.data_date for r in p.rows] for p in again.runs} == {p: [day] for p in PHASE2}
    assert ledger_count(db) == before + len(PHASE2)
    assert snapshot(db, "nba_raw", where) == snapshot(clean10, "nba_raw", where)

    r = cli("backfill", "--phase", 2, "--dates", day, "--status", "--db", db, "--json")
    assert r.exit_code == 0, r.output
    status = json.loads(r.stdout)
    assert status["command"] == f"fullcourt backfill --phase 2 --dates {day}"
    assert [(p["status"], p["dates_done"], p["dates_total"], p["last_completed_date"])
            for p in status["processors"]] == [("complete", 1, 1, day.isoformat())] * len(PHASE2)
    done = api.backfill(db, landing, [day], phase=2)  # the range form still resumes
    assert done.runs == [] and set(done.resumed) == set(PHASE2)
    assert ledger_count(db) == before + len(PHASE2)


def test_cli_dates_run_again_after_a_completed_backfill(tmp_path, league, ten):
    db = tmp_path / "cli-again.duckdb"
    args = ["backfill", "--phase", 2, "--dates", ten[2], "--landing", league / "landing", "--db", db, "--json"]
    assert cli(*args).exit_code == 0
    r = cli(*args)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["resumed_after"] == {}
    assert {p["processor"]: [d["date"] for d in p["dates"]] for p in out["processors"]} == {
        p: [ten[2].isoformat()] for p in PHASE2}


def test_stop_checkpoint_counts_only_the_dates_done(tmp_path, league, ten, bad_landing):
    db = tmp_path / "count.duckdb"
    args = ["backfill", "--phase", 2, *span(ten), "--error-policy", "stop", "--parallel", 1, "--db", db]
    days = date_range(ten[0], ten[-1])
    fifth = ten[4]
    r = cli(*args, "--landing", bad_landing)  # the console output
    assert r.exit_code == 1
    assert f"Stopped at {fifth}" in r.stdout and "Retry them with" not in r.stdout
    hint = f"fullcourt backfill --phase 2 --start-date {ten[0]} --end-date {ten[-1]} --error-policy stop"
    assert f"Fix the cause, then rerun the same command (it resumes at {fifth}): {hint}" in bare(" ".join(r.stdout.split()))

    def box() -> dict:
        status = json.loads(cli(*args, "--status", "--json").stdout)
        assert status["command"] == hint  # the command that wrote the checkpoint, as typed
        return next(p for p in status["processors"] if p["processor"] == BOX)

    stopped = box()
    assert (stopped["status"], stopped["last_completed_date"]) == ("stopped", (fifth - timedelta(days=1)).isoformat())
    assert cli(*args, "--landing", league / "landing").exit_code == 0
    done = box()
    assert (done["status"], done["dates_total"]) == ("complete", len(days))
    assert (stopped["dates_done"], done["dates_done"]) == (len([d for d in days if d < fifth]), len(days))
    assert done["failed_dates"] == []  # the retried date is no longer listed


def test_rerunning_a_backfill_with_failed_dates_does_not_report_success(tmp_path, continued, league, ten):
    src, _, _ = continued
    db = copy_db(src, tmp_path / "rerun.duckdb")
    fifth = ten[4]
    r = cli("backfill", "--phase", 2, *span(ten), "--error-policy", "continue",
            "--landing", league / "landing", "--db", db, "--json")  # the input is fixed now
    out = json.loads(r.stdout)
    # the rerun retries the date that failed (and only it), and now succeeds
    assert fifth in table_dates(db, "nba_raw.nbac_player_boxscore")
    assert (r.exit_code, out["ok"], out["failed_dates"]) == (0, True, [])
    box = next(p for p in out["processors"] if p["processor"] == BOX)
    assert [d["date"] for d in box["dates"]] == [fifth.isoformat()]


# --- 3. SIGKILL mid-range ---------------------------------------------------------------------


KILLER = """
import os, signal, sys
from datetime import date, timedelta
from fullcourt import api
from fullcourt.engine import backfill, runner

db, landing, days, where = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
count = 0
if where == "after-step":  # after the 4th step has committed
    step = backfill.Backfill._step
    def killing_step(self, *args, **kwargs):
        global count
        step(self, *args, **kwargs)
        count += 1
        if count == 4:
            os.kill(os.getpid(), signal.SIGKILL)
    backfill.Backfill._step = killing_step
else:  # inside the 5th step's write transaction, before COMMIT
    def killing_hook(spec, dates):
        global count
        count += 1
        if count == 5:
            os.kill(os.getpid(), signal.SIGKILL)
    runner._before_commit = killing_hook
api.backfill(db, landing, [date.fromisoformat(d) for d in days.split(",")], phase=2, chunk_days=3, parallel=1,
             skip_preflight=True)
print("not killed")
"""
KILL_DAYS = date_range(date(2021, 10, 19), date(2021, 11, 12))  # 25 calendar days: 9 steps of 3 days


@pytest.fixture(scope="module")
def uninterrupted(league) -> Path:
    """The same range in one go (default chunks: the result does not depend on the chunking)."""
    db = league / "uninterrupted.duckdb"
    report = api.backfill(db, league / "landing", KILL_DAYS, phase=2, parallel=1, skip_preflight=True)
    assert report.ok and report.resumed == {}
    return db


@pytest.mark.parametrize("where", ["after-step", "before-commit"])
def test_a_killed_backfill_resumes_without_duplicates(tmp_path, league, game_dates, uninterrupted, where):
    db = tmp_path / "killed.duckdb"
    proc = subprocess.run([sys.executable, "-c", KILLER, str(db), str(league / "landing"), csv(KILL_DAYS), where],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    # exactly four steps committed: the schedule's game dates of Oct 19-30 (4 chunks of 3 days)
    schedule_done = [d for d in game_dates if d <= date(2021, 10, 30)]
    assert ledger_dates(db, "NbacScheduleProcessor") == schedule_done
    assert ledger_count(db) == len(schedule_done)
    # the schedule is the calendar: its first run loaded every game date of the season
    sched = json.loads((league / "landing" / "schedule" / "2021-22.json").read_text())
    season = sorted(date.fromisoformat(d["gameDate"][:10]) for d in sched["leagueSchedule"]["gameDates"] if d["games"])
    assert table_dates(db, "nba_raw.nbac_schedule") == season
    assert query(db, "SELECT processor, last_completed_date, dates_done, status "
                     f"FROM {catalog().checkpoints_table}") == [
        ("NbacScheduleProcessor", date(2021, 10, 30), 12, "running")]

    report = api.backfill(db, league / "landing", KILL_DAYS, phase=2, chunk_days=3, parallel=1, skip_preflight=True)
    assert report.ok
    assert report.resumed == {"NbacScheduleProcessor": date(2021, 10, 30)}
    schedule_rows = next(p for p in report.runs if p.processor == "NbacScheduleProcessor").rows
    assert [r.data_date for r in schedule_rows] == [d for d in game_dates if date(2021, 10, 30) < d <= KILL_DAYS[-1]]
    assert snapshot(db, "nba_raw") == snapshot(uninterrupted, "nba_raw")
    assert_no_duplicates(db)
    assert ledger_count(db) == ledger_count(uninterrupted)


# --- 4. orders --------------------------------------------------------------------------------


def test_date_first_equals_phase_first_and_interleaves_by_date(tmp_path, phase2, league, ten):
    days = ten[:6]
    runs = {}
    for order in ("phase-first", "date-first"):
        db = copy_db(phase2, tmp_path / f"{order}.duckdb")
        report = api.backfill(db, league / "landing", days, phase=3, order=order, parallel=1)
        assert report.ok and report.request.order == order
        runs[order] = db
    first, second = runs["phase-first"], runs["date-first"]
    assert snapshot(first, "nba_analytics") == snapshot(second, "nba_analytics")
    assert all(len(rows) > 0 for rows in snapshot(first, "nba_analytics").values())

    def starts(db: Path) -> dict[date, tuple]:
        return {d: (lo, hi) for d, lo, hi in query(
            db, f"SELECT data_date, min(started_at), max(started_at) FROM {LEDGER} WHERE phase = 'phase_3' "
                "GROUP BY 1")}

    by_date = starts(second)
    assert sorted(by_date) == days
    for d1, d2 in zip(days, days[1:]):
        assert by_date[d1][1] < by_date[d2][0], f"a processor for {d2} started before all of {d1} had"
    # phase-first: every date of PlayerGameSummary starts before any date of the context built on it
    pgs, upgc = (query(first, f"SELECT min(started_at), max(started_at) FROM {LEDGER} WHERE processor_name = ?",
                       [name])[0] for name in ("PlayerGameSummaryProcessor", "UpcomingPlayerGameContextProcessor"))
    assert pgs[1] < upgc[0]
    assert not starts(first)[days[0]][1] < starts(first)[days[1]][0]


# --- 5. parallel levels -----------------------------------------------------------------------


def test_phase_4_in_parallel_equals_sequential(tmp_path, phase3, league, game_dates):
    days = game_dates[8:]  # from the last days of the bootstrap skip into November
    dbs = {}
    for n in (1, 2):
        db = copy_db(phase3, tmp_path / f"p{n}.duckdb")
        report = api.backfill(db, league / "landing", days, phase=4, parallel=n)
        assert report.ok
        dbs[n] = db
    for schema in ("nba_precompute", "nba_predictions", "nba_processing"):
        seq, par = snapshot(dbs[1], schema), snapshot(dbs[2], schema)
        if schema == "nba_processing":  # keep the precompute failures; the other tables are bookkeeping
            seq, par = seq["nba_processing.precompute_failures"], par["nba_processing.precompute_failures"]
            assert seq == par and len(seq) > 0
        else:
            assert seq == par
    sizes = {t: len(rows) for t, rows in snapshot(dbs[2], "nba_precompute").items()}
    assert min(sizes.values()) > 0, sizes
    outcome = (f"SELECT processor_name, data_date, status, skip_reason, records_created, records_failed "
               f"FROM {LEDGER} WHERE phase = 'phase_4' ORDER BY 1, 2")
    assert query(dbs[1], outcome) == query(dbs[2], outcome)
    statuses = {r[2] for r in query(dbs[2], outcome)}
    assert statuses == {"success", "skipped"}  # the first two weeks are the bootstrap skip


# --- 6. preflight -----------------------------------------------------------------------------


def test_preflight_gates_phase_3(tmp_path, phase2, phase3, league, game_dates):
    db = copy_db(phase2, tmp_path / "pre.duckdb")
    landing = league / "landing"
    start, end = game_dates[0], game_dates[-1]
    r = cli("preflight", "--phase", 3, "--start-date", start, "--end-date", end, "--db", db, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["dates"] == []

    gap_date = game_dates[7]
    gid = query(db, "SELECT min(game_id) FROM nba_raw.nbac_player_boxscore WHERE game_date = ?", [gap_date])[0][0]
    con = duckdb.connect(str(db))
    deleted = con.execute("DELETE FROM nba_raw.nbac_player_boxscore WHERE game_id = ?", [gid]).fetchall()[0][0]
    con.close()
    assert deleted > 0
    r = cli("preflight", "--phase", 3, "--start-date", start, "--end-date", end, "--db", db, "--json")
    assert r.exit_code == 1, r.output
    out = json.loads(r.stdout)
    assert out["dates"] == [gap_date.isoformat()]
    assert out["missing"] == {"nba_raw.nbac_player_boxscore": [gap_date.isoformat()]}
    assert bare(out["remedy"]).startswith(f"fullcourt backfill --phase 2 --dates {gap_date}")
    assert f"--db {db} " in out["remedy"]  # the --json remedy names the store it was given too

    before = ledger_count(db)
    r = cli("backfill", "--phase", 3, "--start-date", start, "--end-date", end, "--landing", landing, "--db", db)
    assert r.exit_code == 1
    assert f"preflight for phase 3 failed: upstream incomplete on {gap_date}" in r.stderr
    assert "--skip-preflight" in r.stderr and no_traceback(r)
    assert ledger_count(db) == before
    assert query(db, "SELECT count(*) FROM nba_analytics.player_game_summary")[0][0] == 0

    r = cli("backfill", "--phase", 3, "--start-date", start, "--end-date", end, "--skip-preflight",
            "--landing", landing, "--db", db, "--json")
    assert r.exit_code == 0, r.output
    assert ledger_count(db, "phase = 'phase_3' AND status = 'success'") == 4 * len(game_dates)
    # the gap date ran on what was there: the other games of the date, exactly as in a full run
    where = f"WHERE game_date = DATE '{gap_date}' AND game_id <> '{gid}'"
    pgs = "nba_analytics.player_game_summary"
    assert snapshot(db, "nba_analytics", where)[pgs] == snapshot(phase3, "nba_analytics", where)[pgs] != []
    assert query(db, f"SELECT count(*) FROM {pgs} WHERE game_id = ?", [gid])[0][0] == 0
    assert table_dates(db, pgs) == game_dates


def test_preflight_of_phase_2_lists_a_date_missing_from_landing(tmp_path, game_dates):
    landing = tmp_path / "landing"
    outage = game_dates[3]
    scrape_synthetic(landing, game_dates[0], game_dates[9], CONFIG, fail_dates=frozenset({outage}))
    assert not (landing / outage.isoformat()).exists()
    db = tmp_path / "p.duckdb"
    r = cli("preflight", "--phase", 2, "--start-date", game_dates[0], "--end-date", game_dates[9],
            "--landing", landing, "--db", db, "--json")
    assert r.exit_code == 1, r.output
    out = json.loads(r.stdout)
    assert out["dates"] == [outage.isoformat()] and out["missing"] == {"landing": [outage.isoformat()]}
    assert "--skip-preflight" in out["remedy"]
    with pytest.raises(PreflightError, match=str(outage)):
        api.backfill(db, landing, game_dates[:10], phase=2)
    assert ledger_count(db) == 0


# --- 7. the database lock ---------------------------------------------------------------------


HOLDER = """
import sys
from fullcourt.engine.warehouse import Warehouse
from fullcourt.nba.pipeline import catalog
wh = Warehouse(sys.argv[1], catalog())
print("ready", flush=True)
sys.stdin.readline()  # hold the file until the test closes our stdin
wh.close()
"""


def test_a_held_database_fails_fast_and_is_never_half_written(tmp_path, league, ten, clean10):
    db = tmp_path / "held.duckdb"
    args = ["backfill", "--phase", 2, "--dates", csv(ten), "--landing", league / "landing", "--db", db]
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready", f"holder did not start (rc={proc.poll()})"
        r = cli(*args, env={"FULLCOURT_LOCK_TIMEOUT": "0.5"})
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
        proc.stdout.close()
    assert proc.returncode == 0
    assert r.exit_code == 1
    assert f"database {db} is in use by another process" in r.stderr
    assert "waited 0.5s" in r.stderr and "FULLCOURT_LOCK_TIMEOUT" in r.stderr
    assert no_traceback(r)
    assert ledger_count(db) == 0 and query(db, "SELECT count(*) FROM nba_raw.nbac_schedule")[0][0] == 0

    r = cli(*args, env={"FULLCOURT_LOCK_TIMEOUT": "0.5"})
    assert r.exit_code == 0, r.output
    assert snapshot(db, "nba_raw") == snapshot(clean10, "nba_raw")
    assert ledger_count(db) == ledger_count(clean10)


# --- 8. downstream triggers -------------------------------------------------------------------


def test_trigger_downstream_runs_phase_3_from_the_outbox(tmp_path, league, ten, phase3):
    days = ten[:2]
    db = tmp_path / "trig.duckdb"
    r = cli("backfill", "--phase", 2, "--dates", csv(days), "--trigger-downstream", "--landing", league / "landing",
            "--db", db, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    messages = query(db, f"SELECT count(*), count(consumed_at) FROM {OUTBOX}")[0]
    # one message per successful run and date (the message exists iff the data does), all consumed
    assert messages == (ledger_count(db, "status = 'success'"),) * 2
    assert out["messages_consumed"] == messages[0] > 6 * len(days)
    triggered = query(db, f"SELECT data_date, triggered_by, trigger_message_id IS NOT NULL FROM {LEDGER} "
                          "WHERE processor_name = 'PlayerGameSummaryProcessor' ORDER BY 1")
    assert triggered == [(d, "trigger", True) for d in days]
    assert {r[0] for r in query(db, f"SELECT DISTINCT processor_name FROM {LEDGER} WHERE phase = 'phase_3'")} == \
        set(PHASE3)
    where = f"WHERE game_date IN ({', '.join(repr(d.isoformat()) for d in days)})"
    assert snapshot(db, "nba_analytics", where) == snapshot(phase3, "nba_analytics", where)


def test_without_trigger_downstream_the_outbox_stays_empty(tmp_path, league, ten):
    db = tmp_path / "quiet.duckdb"
    r = cli("backfill", "--phase", 2, "--dates", csv(ten[:3]), "--landing", league / "landing", "--db", db, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["messages_consumed"] == 0
    assert query(db, f"SELECT count(*) FROM {OUTBOX}")[0][0] == 0
    assert ledger_count(db, "phase <> 'phase_2'") == 0
    assert ledger_count(db, "triggered_by <> 'backfill'") == 0


def test_a_block_by_a_processor_of_the_same_phase_names_it_in_the_remedy(tmp_path, league, ten, phase3):
    """A one-processor backfill blocked by a failed parent of its own phase: the alert's remedy
    reruns that parent (`--processor`), then this backfill (no lower phase to reload)."""
    db = copy_db(phase3, tmp_path / "same-phase.duckdb")
    fifth = ten[4]
    con = duckdb.connect(str(db))
    con.execute(f"INSERT INTO {LEDGER} SELECT * REPLACE ('failed' AS status, started_at + INTERVAL 1 HOUR AS "
                f"started_at) FROM {LEDGER} WHERE processor_name = 'PlayerGameSummaryProcessor' AND data_date = ?",
                [fifth])
    con.close()
    r = cli("backfill", "--processor", "UpcomingPlayerGameContextProcessor", "--dates", fifth, "--error-policy",
            "continue", "--landing", league / "landing", "--db", db, "--json")
    assert r.exit_code == 1, r.output
    assert json.loads(r.stdout)["blocked_dates"] == [fifth.isoformat()]
    remedies = [(bare(r),) for (r,) in query(db, f"SELECT remedy FROM {ALERTS} WHERE severity = 'critical' "
                                                 "AND data_date = ?", [fifth])]
    assert remedies == [(f"fullcourt backfill --processor PlayerGameSummaryProcessor --dates {fifth} && "
                         f"fullcourt backfill --processor UpcomingPlayerGameContextProcessor --dates {fifth}",)]
