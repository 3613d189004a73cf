"""What a user sees when the input is wrong or incomplete: a one-line error with a remedy and
the right exit code, nothing written, and no silent zero when upstream never ran."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from fullcourt import api
from fullcourt.cli import app
from remedies import bare, no_traceback  # noqa: E402

runner = CliRunner()
LEDGER = "nba_reference.processor_run_history"


def run(*args: str):
    return runner.invoke(app, list(args))


def one_error(r, exit_code: int, *needles: str) -> None:
    """`r` failed with `exit_code`, an `Error:` line holding every needle, a `Try:` line, no traceback."""
    assert r.exit_code == exit_code, r.output
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith("Error: ") and lines[1].startswith("Try: "), r.stderr
    for needle in needles:
        assert needle in r.stderr, (needle, r.stderr)
    assert no_traceback(r)


@pytest.fixture(scope="module")
def league(tmp_path_factory) -> tuple[Path, list[str]]:
    """A tiny league's landing folder for 2021-10-19..2021-10-25 and its game dates."""
    landing = tmp_path_factory.mktemp("league") / "landing"
    r = run("scrape", "--start-date", "2021-10-19", "--end-date", "2021-10-25", "--teams", "4",
            "--players-per-team", "8", "--landing", str(landing), "--json")
    assert r.exit_code == 0, r.output
    days = sorted(p.name for p in landing.iterdir() if (p / "schedule.json").exists())
    assert len(days) >= 4, days
    return landing, days


def test_phase_3_skips_dates_whose_phase_2_never_ran_and_names_the_upstream_backfill(league, tmp_path):
    """The seeds' silent zero: phase 3 over days phase 2 never loaded found no rows and recorded
    success with 0 records. Now those days are skipped ("upstream ... not run") and the report
    names the phase 2 backfill that lets them run."""
    landing, days = league
    db = tmp_path / "s.duckdb"
    loaded, never = days[:2], days[2:]
    r = run("backfill", "--phase", "2", "--dates", ",".join(loaded), "--landing", str(landing), "--db", str(db))
    assert r.exit_code == 0, r.output
    r = run("backfill", "--phase", "3", "--start-date", days[0], "--end-date", days[-1], "--landing", str(landing),
            "--db", str(db), "--skip-preflight")
    assert r.exit_code == 1, r.output
    flat = " ".join(r.stdout.split())
    assert f"Their upstream first: fullcourt backfill --db {db} --landing {landing} --phase 2" in flat
    flat = bare(flat)
    assert f"Their upstream first: fullcourt backfill --phase 2 --dates {','.join(never)}" in flat
    assert f"Then retry them with: fullcourt backfill --phase 3 --dates {','.join(never)}" in flat
    con = duckdb.connect(str(db), read_only=True)
    try:
        latest = {(p, str(d)): (st, why, n) for p, d, st, why, n in con.execute(
            f"""SELECT processor_name, data_date, arg_max(status, started_at), arg_max(skip_reason, started_at),
                       arg_max(records_created, started_at)
                FROM {LEDGER} WHERE processor_name = 'PlayerGameSummaryProcessor' GROUP BY 1, 2""").fetchall()}
        games = con.execute("SELECT DISTINCT game_date::VARCHAR FROM nba_analytics.player_game_summary").fetchall()
    finally:
        con.close()
    for d in never:
        status, why, _ = latest[("PlayerGameSummaryProcessor", d)]
        assert status == "skipped" and why.startswith("upstream ") and why.endswith(f" not run for {d}"), why
    for d in loaded:
        status, _, records = latest[("PlayerGameSummaryProcessor", d)]
        assert status == "success" and records > 0
    assert sorted(g for (g,) in games) == loaded  # nothing written for the days never loaded

    r = run("backfill", "--phase", "3", "--start-date", days[0], "--end-date", days[-1], "--landing", str(landing),
            "--db", str(db), "--skip-preflight", "--error-policy", "continue", "--no-resume", "--json")
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert out["blocked_dates"] == never and out["failed_dates"] == []
    assert bare(out["upstream_retry"]) == f"fullcourt backfill --phase 2 --dates {','.join(never)}"

    # one phase 3 processor alone: its phase 3 parent was blocked there, phase 2 never ran: both named
    r = run("backfill", "--processor", "upcoming_player_game_context", "--dates", ",".join(never),
            "--landing", str(landing), "--db", str(db), "--json")
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert out["skipped_for_upstream"] == never
    assert bare(out["upstream_retry"]) == (f"fullcourt backfill --phase 2 --dates {','.join(never)} && "
                                     f"fullcourt backfill --processor PlayerGameSummaryProcessor --dates {','.join(never)}")


def test_a_file_that_is_not_a_duckdb_store_is_refused(tmp_path, monkeypatch):
    csv = tmp_path / "lines.csv"
    csv.write_text("a,b\n1,2\n", encoding="utf-8")
    r = run("status", "--start-date", "2021-11-01", "--end-date", "2021-11-02", "--db", str(csv))
    one_error(r, 2, f"database {csv} is not a DuckDB database file")
    assert csv.read_text(encoding="utf-8") == "a,b\n1,2\n"  # left as it was
    empty = tmp_path / "empty.duckdb"  # left to DuckDB (another process may be creating it): refused
    empty.touch()
    r = run("status", "--start-date", "2021-11-01", "--end-date", "2021-11-02", "--db", str(empty))
    one_error(r, 2, f"database {empty} is not a DuckDB database file")
    assert empty.stat().st_size == 0
    r = run("status", "--start-date", "2021-11-01", "--end-date", "2021-11-02", "--db", str(tmp_path))
    one_error(r, 2, f"database {tmp_path} is a folder, not a database file")
    monkeypatch.setenv("FULLCOURT_DB", str(tmp_path))  # the path may come from the environment
    r = run("status", "--start-date", "2021-11-01", "--end-date", "2021-11-02")
    one_error(r, 2, f"database {tmp_path} is a folder", "--db or FULLCOURT_DB")


def test_scrape_refuses_dates_outside_the_calendar_and_unknown_game_ids(tmp_path, league):
    landing = tmp_path / "landing"
    r = run("scrape", "--start-date", "2019-11-18", "--end-date", "2019-11-19", "--landing", str(landing))
    one_error(r, 2, "2019-11-18..2019-11-19 is outside every season of the calendar", "--start-date 2021-10-19")
    r = run("scrape", "--start-date", "2021-10-19", "--end-date", "2021-10-20", "--teams", "4",
            "--players-per-team", "8", "--fail-games", "123", "--landing", str(landing))
    one_error(r, 2, "--fail-games 123: no such game in 2021-10-19..2021-10-20")
    assert not landing.exists()  # checked before any file is written
    # a real game id of the range is taken: its three game files are left out
    known_landing, days = league
    day = days[0]
    game = json.loads((known_landing / day / "schedule.json").read_text())["scoreboard"]["games"][0]["gameId"]
    r = run("scrape", "--start-date", day, "--end-date", day, "--teams", "4", "--players-per-team", "8",
            "--fail-games", game, "--landing", str(landing), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["games_dropped"] == [game]
    assert not (landing / day / f"boxscore_{game}.json").exists()


def test_daily_run_without_the_seasons_schedule_is_an_error_not_a_quiet_day(tmp_path, league):
    landing, _ = league
    r = run("run", "--date", "2022-11-01", "--landing", str(landing), "--db", str(tmp_path / "r.duckdb"))
    one_error(r, 1, f"no league schedule {landing / 'schedule' / '2022-23.json'}",
              "cannot tell whether 2022-11-01 has games")
    assert not (tmp_path / "r.duckdb").exists()


@pytest.mark.parametrize("text", ["20211118", "2021-W46-4", "2021-11-1"])
def test_dates_must_be_written_yyyy_mm_dd(text):
    r = run("status", "--start-date", text, "--end-date", "2021-11-20")
    one_error(r, 2, f"--start-date '{text}' is not a date", "YYYY-MM-DD")


def test_affected_file_errors_say_what_is_wrong_in_words(tmp_path):
    """A file that is not what cascade detect wrote is a usage error (exit 2) naming the problem,
    before the store is opened (the store here does not exist)."""
    ok = '"backfill_dates": ["2021-11-17"], "affected_by_date": {"2021-11-18": ["ATL"]}'
    cases = {
        "missing.json": (None, "does not exist"),
        "empty.json": ("", "is not JSON (line 1, column 1"),
        "binary.json": (b"\xff\xfe\x00", "not UTF-8 text"),
        "bad.json": ('{"a": 1', "is not JSON (line 1, column 8"),
        "list.json": ("[1, 2]", "no backfill_dates or affected_by_date field"),
        "half.json": ('{"backfill_dates": ["2021-11-17"]}', "no affected_by_date field"),
        "shape.json": ('{"backfill_dates": "2021-11-17", "affected_by_date": {}}',
                       "backfill_dates must be a list and affected_by_date an object of YYYY-MM-DD dates"),
        "names.json": ('{"backfill_dates": ["2021-11-17"], "affected_by_date": {"2021-11-18": "ATL"}}',
                       "affected_by_date[2021-11-18] is not a list of names"),
        "nulls.json": ('{"backfill_dates": ["2021-11-17"], "affected_by_date": {"2021-11-18": [1, null]}}',
                       "affected_by_date[2021-11-18] is not a list of names"),
        "processors.json": ("{" + ok + ', "by_processor": "x"}', "by_processor is not an object"),
        "start.json": ("{" + ok + ', "cascade_start": 5}', "cascade_start is not a YYYY-MM-DD date"),
        "span.json": ("{" + ok + ', "cascade_start": "2021-11-20", "cascade_end": "2021-11-18"}',
                      "cascade_start is after cascade_end"),
    }
    for name, (body, needle) in cases.items():
        path = tmp_path / name
        if isinstance(body, bytes):
            path.write_bytes(body)
        elif body is not None:
            path.write_text(body, encoding="utf-8")
        r = run("cascade", "reprocess", "--affected-file", str(path), "--db", str(tmp_path / "none.duckdb"))
        one_error(r, 2, f"affected file {path}", needle)
        assert "Error" not in r.stderr.split("Error: ", 1)[1]  # no Python exception names


def test_cascade_reprocess_without_options_points_to_the_affected_file():
    r = run("cascade", "reprocess")
    one_error(r, 2, "say what to reprocess", "--affected-file FILE", "--start-date D --end-date D")


def test_lines_import_errors(tmp_path):
    db = tmp_path / "l.duckdb"
    r = run("import", "--format", "lines-csv", "--path", str(tmp_path / "missing.csv"), "--db", str(db))
    one_error(r, 2, f"--path {tmp_path / 'missing.csv'} does not exist")
    bad = tmp_path / "bad.csv"
    bad.write_text("player,game_date,line\nLeBron James,2021-11-32,25.5\n", encoding="utf-8")
    r = run("import", "--format", "lines-csv", "--path", str(bad), "--db", str(db))
    one_error(r, 1, "row 2 has bad game_date '2021-11-32'", "nothing was written")
    assert not db.exists()  # the failed first import left no store behind


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, lambda: RuntimeError("Query interrupted")])
def test_interrupt_says_committed_work_is_kept(monkeypatch, interrupt):
    """Ctrl-C reaches Python as KeyboardInterrupt, or inside a DuckDB query as its RuntimeError."""
    def interrupted(*args, **kwargs):
        raise interrupt()

    monkeypatch.setattr(api, "status", interrupted)
    r = run("status", "--start-date", "2021-11-01", "--end-date", "2021-11-02")
    assert r.exit_code == 130
    assert r.stderr == "Interrupted: committed work is kept; rerun the same command to continue.\n"


def test_interrupt_while_the_command_loads_is_one_line(monkeypatch, capsys):
    """Ctrl-C in the second the CLI's modules take to load (the import of fullcourt.cli fails with
    KeyboardInterrupt, simulated here) ends with one line and exit 130, not the import's traceback."""
    import sys
    import types

    from fullcourt import entry

    class Loading(types.ModuleType):
        def __getattr__(self, name):
            raise KeyboardInterrupt

    monkeypatch.setitem(sys.modules, "fullcourt.cli", Loading("fullcourt.cli"))
    with pytest.raises(SystemExit) as stop:
        entry.main()
    assert stop.value.code == 130
    assert capsys.readouterr().err == "Interrupted before anything ran; run the command again.\n"


def test_backfill_status_of_a_backfill_that_never_ran_says_so(tmp_path, league):
    landing, days = league
    db = tmp_path / "n.duckdb"
    api.backfill(db, landing, [date.fromisoformat(days[0])], phase=2, skip_preflight=True)  # not this backfill
    r = run("backfill", "--phase", "3", "--start-date", days[0], "--end-date", days[-1], "--status", "--db", str(db))
    assert r.exit_code == 0, r.output
    flat = " ".join(r.stdout.split())
    assert "No checkpoint yet for: fullcourt backfill --phase 3" in flat and "this backfill has not run" in flat
    assert "Checkpoint " not in flat


def test_a_landing_folder_keeps_its_league(tmp_path):
    """A printed remedy `fullcourt scrape --start-date D --end-date D` (no league options) scrapes
    the folder's own league; another league, or real data, is refused before any write."""
    landing = tmp_path / "landing"
    r = run("scrape", "--start-date", "2021-10-19", "--end-date", "2021-10-25", "--teams", "6",
            "--players-per-team", "8", "--landing", str(landing))
    assert r.exit_code == 0, r.output
    schedule = landing / "schedule" / "2021-22.json"
    before = schedule.read_bytes()
    league = json.loads(before)["leagueSchedule"]["gameDates"]
    teams = {t for day in league for g in day["games"] for t in (g["homeTeam"]["teamTricode"],
                                                                 g["awayTeam"]["teamTricode"])}
    assert len(teams) == 6
    r = run("scrape", "--start-date", "2021-10-26", "--end-date", "2021-10-26", "--landing", str(landing), "--json")
    assert r.exit_code == 0, r.output
    assert schedule.read_bytes() == before  # the same league: its schedule is unchanged
    assert json.loads(r.stdout)["games_written"] == len(
        json.loads((landing / "2021-10-26" / "schedule.json").read_text())["scoreboard"]["games"]) <= 3
    r = run("scrape", "--start-date", "2021-10-27", "--end-date", "2021-10-27", "--teams", "30",
            "--landing", str(landing))
    one_error(r, 2, "holds the synthetic league --seed 7, --teams 6, --players-per-team 8", "--teams 30 would mix")
    (tmp_path / "bundle").mkdir()
    r = run("import", "--format", "nba-shotchart", "--path", str(tmp_path / "bundle"), "--landing", str(landing),
            "--db", str(tmp_path / "i.duckdb"))
    one_error(r, 2, "holds a synthetic league; adding real data would mix two leagues")
    assert schedule.read_bytes() == before and not (landing / "2021-10-27").exists()
    assert not (tmp_path / "i.duckdb").exists()


def test_a_partial_day_blocks_with_a_remedy_that_fetches_the_missing_game(tmp_path):
    """Phase 2 loads every file there is, so it succeeds on a day missing one game's files; phase
    3 then blocks on the gap. Reloading phase 2 cannot fill it: the remedy scrapes the day first."""
    probe = tmp_path / "probe"
    r = run("scrape", "--start-date", "2021-10-19", "--end-date", "2021-10-25", "--teams", "8",
            "--players-per-team", "8", "--landing", str(probe))
    assert r.exit_code == 0, r.output
    boards = {p.name: json.loads((p / "schedule.json").read_text())["scoreboard"]["games"]
              for p in sorted(probe.iterdir()) if (p / "schedule.json").exists()}
    day = next(d for d, games in boards.items() if len(games) >= 2)  # the day keeps another game
    game = boards[day][0]["gameId"]
    landing, db = tmp_path / "landing", tmp_path / "p.duckdb"
    r = run("scrape", "--start-date", day, "--end-date", day, "--teams", "8", "--players-per-team", "8",
            "--fail-games", game, "--landing", str(landing))
    assert r.exit_code == 0, r.output
    res = api.run(db, landing, date.fromisoformat(day))
    assert res.exit_code == 3
    gaps = [b for b in res.blocks if b.kind == "Data Gaps"]
    assert gaps and all(b.remedy.startswith(f"fetch the missing files again (fullcourt scrape --start-date {day} "
                                            f"--end-date {day}, or the import that wrote them), then: "
                                            f"fullcourt backfill --phase 2 --dates {day}") for b in gaps), \
        [b.remedy for b in res.blocks]


@pytest.mark.parametrize("row, needle", [
    ("LeBron James,20211119,25.5", "row 2 has bad game_date '20211119' (expected YYYY-MM-DD)"),
    ("LeBron James,2021-W46-5,25.5", "row 2 has bad game_date '2021-W46-5'"),
    ("LeBron James,2021-11-19,1_000", "row 2 has non-numeric line '1_000'"),
    ("LeBron James,2021-11-19,nan", "row 2 has non-numeric line 'nan'"),
    ("LeBron James,2021-11-19,-5", "row 2 has line '-5': a points line is above 0"),
])
def test_lines_csv_values_are_checked_strictly(tmp_path, row, needle):
    csv_file = tmp_path / "lines.csv"
    csv_file.write_text(f"player,game_date,line\n{row}\n", encoding="utf-8")
    r = run("import", "--format", "lines-csv", "--path", str(csv_file), "--db", str(tmp_path / "l.duckdb"))
    one_error(r, 1, needle, "nothing was written")
    assert not (tmp_path / "l.duckdb").exists()


def test_predict_names_the_dates_it_could_not_predict(tmp_path, league):
    landing, days = league
    db = tmp_path / "p.duckdb"
    assert api.backfill(db, landing, [date.fromisoformat(d) for d in days], phase=2, skip_preflight=True).ok
    r = run("predict", "--start-date", days[0], "--end-date", days[-1], "--db", str(db))
    assert r.exit_code == 1, r.output  # a daily job whose phase 4 did not run must not pass
    flat = " ".join(r.stdout.split())
    assert f"No feature rows on {len(days)} scheduled game dates, nothing predicted there: {', '.join(days)}" in flat
    assert f"fullcourt status --db {db} --start-date {days[0]} --end-date {days[-1]}" in flat  # the remedy keeps --db
    assert f"--phase 2, 3 or 4 --start-date {days[0]} --end-date {days[-1]}" in flat
    r = run("backfill", "--phase", "5", "--start-date", days[0], "--end-date", days[-1], "--db", str(db), "--json")
    assert r.exit_code == 1 and json.loads(r.stdout)["dates_without_features_unexpected"] == days


def test_status_shows_the_tracked_failures_of_a_successful_day(capsys):
    """A phase 4 day whose every expected player ended as a tracked failure succeeded with 0
    records: the cell says so instead of a bare "✓ 0"."""
    from fullcourt import render

    d = date(2021, 11, 2)
    rows = [api.StatusRow(d, "PlayerShotZoneAnalysisProcessor", "phase_4", "success", 0, 12, 0.1, None, []),
            api.StatusRow(d, "TeamDefenseZoneAnalysisProcessor", "phase_4", "success", 30, 0, 0.1, None, [])]
    render.status(api.StatusResult(d, d, [r.processor for r in rows], rows, {"PlayerShotZoneAnalysisProcessor": "psza",
                                                                          "TeamDefenseZoneAnalysisProcessor": "tdza"}))
    out = capsys.readouterr().out
    assert "✓ 0 +12" in out and "✓ 30" in out and "✓ 30 +" not in out


def test_remedies_get_the_commands_own_store_once_and_absolute(tmp_path, monkeypatch):
    from fullcourt import context
    from fullcourt.cli import _know_options

    _know_options()
    monkeypatch.chdir(tmp_path)
    odd = tmp_path / "fullcourt run" / "x.duckdb"  # a path that itself reads like a command
    context.remember({"db": str(odd), "landing": "land"})
    try:
        once = context.locate("fullcourt backfill --phase 2 --dates 2021-11-17 && fullcourt gaps --start-date D "
                              "--end-date D, then rerun: fullcourt run --date 2021-11-18")
        assert context.locate(once) == once  # locating twice (alert, then console) changes nothing
        quoted = f"'{odd}'"
        assert once == (f"fullcourt backfill --db {quoted} --landing {tmp_path / 'land'} --phase 2 --dates 2021-11-17"
                        f" && fullcourt gaps --db {quoted} --start-date D --end-date D, then rerun: "
                        f"fullcourt run --db {quoted} --landing {tmp_path / 'land'} --date 2021-11-18")
    finally:
        context.forget()
    assert context.locate("fullcourt status --start-date D") == "fullcourt status --start-date D"


def test_a_landing_folder_from_before_the_league_record_is_checked_by_its_schedule(tmp_path):
    from fullcourt.nba.sources.synthetic import LeagueConfig, scrape_synthetic

    landing = tmp_path / "landing"
    scrape_synthetic(landing, date(2021, 10, 19), date(2021, 10, 20), LeagueConfig(teams=6, players_per_team=8))
    before = (landing / "schedule" / "2021-22.json").read_bytes()
    r = run("scrape", "--start-date", "2021-10-21", "--end-date", "2021-10-21", "--landing", str(landing))
    one_error(r, 2, "schedule 2021-22.json has 6 teams; --teams 30 would mix two leagues", "pass --teams 6")
    assert (landing / "schedule" / "2021-22.json").read_bytes() == before
    (landing / api.LEAGUE_FILE).write_text("[1, 2]", encoding="utf-8")
    r = run("scrape", "--start-date", "2021-10-21", "--end-date", "2021-10-21", "--landing", str(landing))
    one_error(r, 2, f"{landing / api.LEAGUE_FILE} is not a league record fullcourt wrote")


def test_cascade_with_another_phase_is_refused_before_the_backfill_runs(tmp_path, league):
    landing, days = league
    db = tmp_path / "c.duckdb"
    assert run("backfill", "--phase", "2", "--dates", days[0], "--landing", str(landing), "--db", str(db)).exit_code == 0
    def runs() -> int:
        with duckdb.connect(str(db)) as con:
            return con.execute(f"SELECT count(*) FROM {LEDGER}").fetchall()[0][0]

    before = runs()
    r = run("backfill", "--phase", "3", "--dates", days[0], "--cascade", "--skip-preflight", "--landing", str(landing),
            "--db", str(db))
    one_error(r, 2, "--cascade follows a phase 2 backfill")
    assert runs() == before > 0  # nothing ran


@pytest.mark.parametrize("damage", ["date", "game"])
def test_a_damaged_league_schedule_is_a_one_line_error(tmp_path, league, damage):
    import shutil

    source, days = league
    landing = tmp_path / "landing"
    shutil.copytree(source, landing)
    path = landing / "schedule" / "2021-22.json"
    data = json.loads(path.read_text())
    day = data["leagueSchedule"]["gameDates"][0]
    if damage == "date":
        day["gameDate"] = "10/19/2021"
    else:
        day["games"][0] = None
    path.write_text(json.dumps(data))
    r = run("preflight", "--phase", "2", "--start-date", days[0], "--end-date", days[-1], "--landing", str(landing),
            "--db", str(tmp_path / "p.duckdb"))
    one_error(r, 1, f"league schedule {path} is unreadable")


def test_a_daily_run_outside_every_season_says_so(tmp_path, league):
    landing, _ = league
    r = run("run", "--date", "2030-01-01", "--landing", str(landing), "--db", str(tmp_path / "r.duckdb"))
    one_error(r, 2, "2030-01-01 is outside every season of the calendar")
    assert "scrape" not in r.stderr and not (tmp_path / "r.duckdb").exists()


def test_a_remedy_names_only_options_the_command_has():
    """validate coverage has no --phase: a processor of another phase is refused with the ones it
    checks; backfill without --phase lists every phase it takes, predict's 5 included."""
    r = run("validate", "coverage", "--start-date", "2021-11-01", "--end-date", "2021-11-02", "--processor", "pgs")
    one_error(r, 2, "validate coverage checks the phase 4 processors; PlayerGameSummaryProcessor is in phase 3",
              "psza, tdza, pcf, pdc, mlfs")
    assert "--phase" not in r.stderr
    r = run("backfill", "--start-date", "2021-11-01", "--end-date", "2021-11-02")
    one_error(r, 2, "say which phase to run", "--phase 2, 3, 4 or 5 (predict)")


def test_a_range_is_clipped_to_the_calendar_and_one_outside_it_is_refused(tmp_path, league):
    """No data lies outside the calendar's seasons: a range over centuries walked millions of
    empty days (a phase 3 backfill of 2000..2029 took 68 s and wrote ledger rows), and one
    wholly outside answered "nothing" differently per command. Clipped, the same backfill does
    the calendar's days only; wholly outside, every command says so before opening the store."""
    landing, days = league
    db = tmp_path / "c.duckdb"
    assert api.backfill(db, landing, [date.fromisoformat(d) for d in days], phase=2, skip_preflight=True).ok
    r = run("backfill", "--phase", "3", "--start-date", "0001-01-01", "--end-date", "9999-12-31", "--skip-preflight",
            "--landing", str(landing), "--db", str(db), "--json")
    out = json.loads(r.stdout)
    assert (out["dates"][0], out["dates"][-1]) == ("2021-08-01", "2025-07-31")  # the calendar's span
    # the league's other game dates are skipped: their phase 2 never ran (exit 1 says so)
    assert r.exit_code == 1 and out["skipped_for_upstream"] and days[0] not in out["skipped_for_upstream"]
    for args in (("gaps", "--start-date", "2030-01-01", "--end-date", "2030-01-03"),
                 ("status", "--start-date", "1990-01-01", "--end-date", "2021-07-31"),
                 ("cascade", "detect", "--backfill-start", "2030-01-01", "--backfill-end", "2030-01-02")):
        r = run(*args, "--db", str(tmp_path / "none.duckdb"))
        one_error(r, 2, "is outside every season of the calendar (2021-22 .. 2024-25)")


@pytest.mark.parametrize("args, option", [
    (("scrape", "--start-date", "2021-10-19", "--end-date", "2021-10-20", "--fail-games", ",,"), "--fail-games"),
    (("cascade", "detect", "--dates", "2021-10-20", "--output", ""), "--output"),
    (("cascade", "close", "--start-date", "2021-10-19", "--end-date", "2021-10-20", "--report-dir", " "),
     "--report-dir"),
    (("status", "--start-date", "2021-10-19", "--end-date", "2021-10-20", "--db", ""), "--db"),
    (("backfill", "--phase", "2", "--dates", ",", "--landing", ""), "--dates"),
])
def test_an_empty_path_or_list_is_refused_not_read_as_the_default(tmp_path, monkeypatch, args, option):
    """`--output ""` silently meant no file, `--report-dir ""` ./cascade_reports, `--db ""` the
    default store, `--fail-games ,,` no game: each is now a usage error naming the option."""
    monkeypatch.chdir(tmp_path)
    r = run(*args)
    one_error(r, 2, f"{option} is empty")
    assert list(tmp_path.iterdir()) == []  # nothing written, no store created
