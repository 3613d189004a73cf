"""The command line: exit codes, one-line errors with a remedy, --json output."""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fullcourt.cli import app
from fullcourt.engine.warehouse import Warehouse
from fullcourt.nba.pipeline import catalog
from remedies import bare, no_traceback  # noqa: E402

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny league scraped for 2021-10-19..2021-10-24 with 2021-10-22 failed, phase 2 run."""
    root = tmp_path_factory.mktemp("cli")
    db, landing = root / "f.duckdb", root / "landing"
    r = run("scrape", "--start-date", "2021-10-19", "--end-date", "2021-10-24", "--teams", "4",
            "--players-per-team", "8", "--fail-dates", "2021-10-22", "--landing", str(landing), "--json")
    assert r.exit_code == 0, r.output
    assert "2021-10-22" in json.loads(r.stdout)["dates_failed"][0]
    r = run("backfill", "--phase", "2", "--start-date", "2021-10-19", "--end-date", "2021-10-24",
            "--landing", str(landing), "--db", str(db), "--json")
    assert r.exit_code == 1 and "preflight for phase 2 failed" in r.stderr  # the outage day has no payloads
    assert "2021-10-22" in r.stderr and "--skip-preflight" in r.stderr
    r = run("backfill", "--phase", "2", "--start-date", "2021-10-19", "--end-date", "2021-10-24",
            "--landing", str(landing), "--db", str(db), "--json", "--skip-preflight")
    assert r.exit_code == 1, r.output
    return db, landing


def test_bad_date_is_usage_error_with_remedy():
    r = run("status", "--start-date", "2021-13-01", "--end-date", "2021-11-02")
    assert r.exit_code == 2
    assert "Error: --start-date '2021-13-01' is not a date" in r.stderr
    assert "Try:" in r.stderr and no_traceback(r)


def test_reversed_range_is_usage_error():
    r = run("gaps", "--start-date", "2021-11-05", "--end-date", "2021-11-01")
    assert r.exit_code == 2 and "before --start-date" in r.stderr


def test_unknown_processor_lists_known_ones(tmp_path):
    r = run("backfill", "--processor", "nope", "--dates", "2021-11-01", "--db", str(tmp_path / "x.duckdb"))
    assert r.exit_code == 2
    assert "unknown processor 'nope'" in r.stderr and "psza" in r.stderr


def test_failed_backfill_lists_dates_and_retry_command(store):
    db, landing = store
    r = run("backfill", "--phase", "2", "--start-date", "2021-10-19", "--end-date", "2021-10-24",
            "--landing", str(landing), "--db", str(db), "--json", "--skip-preflight", "--no-resume")
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert out["failed_dates"] == ["2021-10-22"]
    assert bare(out["retry"]) == "fullcourt backfill --phase 2 --dates 2021-10-22"
    assert out["retry"] == f"fullcourt backfill --db {db} --landing {landing} --phase 2 --dates 2021-10-22"
    r = run("backfill", "--phase", "2", "--dates", "2021-10-22", "--landing", str(landing), "--db", str(db),
            "--skip-preflight")
    assert r.exit_code == 1
    assert "re-scrape the date (fullcourt scrape --start-date 2021-10-22 --end-date 2021-10-22)" in r.stdout
    assert "Fix the cause (the errors above say it), then retry them with: " \
           "fullcourt backfill --phase 2 --dates 2021-10-22" in bare(" ".join(r.stdout.split()))


def test_gaps_exit_one_and_name_the_missing_date(store):
    db, _ = store
    r = run("gaps", "--start-date", "2021-10-19", "--end-date", "2021-10-24", "--phase", "2", "--db", str(db),
            "--json")
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert out["missing_dates"] == ["2021-10-22"]
    box = next(t for t in out["tables"] if t["table"] == "nba_raw.nbac_player_boxscore")
    assert list(box["missing"]) == ["2021-10-22"] and box["missing_count"] == len(box["missing"]["2021-10-22"]) > 0


def test_status_json_has_latest_run_per_date(store):
    db, _ = store
    r = run("status", "--start-date", "2021-10-21", "--end-date", "2021-10-23", "--db", str(db), "--json")
    assert r.exit_code == 0
    rows = json.loads(r.stdout)["rows"]
    box = {x["date"]: x for x in rows if x["processor"] == "NbacPlayerBoxscoreProcessor"}
    assert box["2021-10-22"]["status"] == "failed"
    assert "2021-10-21" not in box  # no games that day in this league: no work, no ledger row
    assert box["2021-10-23"]["status"] == "success" and box["2021-10-23"]["records_created"] > 0


def test_nba_api_source_explains_it_needs_network(tmp_path):
    r = run("scrape", "--source", "nba-api", "--start-date", "2021-11-01", "--end-date", "2021-11-01",
            "--landing", str(tmp_path))
    assert r.exit_code == 2 and "network" in r.stderr


@pytest.mark.parametrize("option, value", [("--batch-size", "0"), ("--parallel-dates", "0"),
                                                  ("--parallel", "0")])
def test_cascade_reprocess_rejects_batch_options_below_one(tmp_path, option, value):
    r = run("cascade", "reprocess", "--start-date", "2021-11-17", "--end-date", "2021-11-17", option, value,
            "--db", str(tmp_path / "x.duckdb"))
    assert r.exit_code == 2 and "is below 1" in r.stderr and no_traceback(r)


def test_strict_mode_takes_true_or_false(store, tmp_path):
    """`--strict-mode false` (as the README writes it) turns the checks off: the day after the
    outage blocks in strict mode (exit 3) and runs through without it; any other value is a
    usage error."""
    import shutil

    db, landing = store
    blocked, relaxed = tmp_path / "strict.duckdb", tmp_path / "relaxed.duckdb"
    shutil.copy(db, blocked)
    shutil.copy(db, relaxed)
    r = run("run", "--date", "2021-10-23", "--landing", str(landing), "--db", str(blocked), "--json")
    assert r.exit_code == 3, r.output
    assert json.loads(r.stdout)["blocks"]
    r = run("run", "--date", "2021-10-23", "--strict-mode", "false", "--landing", str(landing), "--db", str(relaxed),
            "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert not out["blocks"] and "MLFeatureStoreProcessor" in {x["processor"] for x in out["runs"]}
    r = run("run", "--date", "2021-10-23", "--strict-mode", "maybe", "--db", str(tmp_path / "x.duckdb"))
    assert r.exit_code == 2 and "--strict-mode takes true or false" in r.stderr


def test_bad_output_paths_are_usage_errors_before_any_write(store, tmp_path):
    """An --output or --report-dir that cannot be written is refused before the store changes
    (the detection's cascade_runs row and flags would otherwise be written with no file)."""
    import shutil

    import duckdb

    db, _ = store
    copy = tmp_path / "c.duckdb"
    shutil.copy(db, copy)
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    cases = [
        (("cascade", "detect", "--dates", "2021-10-20", "--output", str(tmp_path / "no" / "a.json")), "does not exist"),
        (("cascade", "detect", "--dates", "2021-10-20", "--output", str(tmp_path)), "is a folder"),
        # the store itself (a mistyped --output once overwrote it with the list)
        (("cascade", "detect", "--dates", "2021-10-20", "--output", str(copy)), "is a DuckDB database"),
        (("cascade", "close", "--start-date", "2021-10-19", "--end-date", "2021-10-24", "--report-dir", str(afile)),
         "is a file, not a folder"),
        (("cascade", "close", "--start-date", "2021-10-19", "--end-date", "2021-10-24", "--report-dir",
          str(afile / "sub")), "is a file, not a folder"),
    ]
    for args, words in cases:
        r = run(*args, "--db", str(copy))
        assert r.exit_code == 2 and words in r.stderr and no_traceback(r), (args, r.output)
    con = duckdb.connect(str(copy), read_only=True)
    assert con.execute("SELECT count(*) FROM nba_processing.cascade_runs").fetchone()[0] == 0
    con.close()
    r = run("cascade", "reprocess", "--affected-file", str(tmp_path), "--db", str(copy))
    assert r.exit_code == 2 and f"affected file {tmp_path} is a folder" in r.stderr and no_traceback(r)


def test_bad_numbers_in_options_and_environment(tmp_path, monkeypatch):
    import duckdb

    r = run("worker", "--poll-seconds", "-1", "--db", str(tmp_path / "w.duckdb"))
    assert r.exit_code == 2 and "--poll-seconds -1 is not above 0" in r.stderr
    assert not (tmp_path / "w.duckdb").exists()
    duckdb.connect(str(tmp_path / "s.duckdb")).close()
    for value in ("abc", "-5"):
        monkeypatch.setenv("FULLCOURT_LOCK_TIMEOUT", value)
        r = run("status", "--start-date", "2021-10-19", "--end-date", "2021-10-20", "--db", str(tmp_path / "s.duckdb"))
        assert r.exit_code == 2 and "FULLCOURT_LOCK_TIMEOUT" in r.stderr and no_traceback(r)


@pytest.mark.parametrize("args", [
    ("status", "--start-date", "2021-10-19", "--end-date", "2021-10-20"),
    ("gaps", "--start-date", "2021-10-19", "--end-date", "2021-10-20"),
    ("completeness", "verify", "--start-date", "2021-10-19", "--end-date", "2021-10-20", "--expect-complete"),
    ("cascade", "detect", "--dates", "2021-10-20"),
    ("predict", "--start-date", "2021-10-19", "--end-date", "2021-10-20"),
    ("preflight", "--phase", "3", "--start-date", "2021-10-19", "--end-date", "2021-10-20"),
    ("backfill", "--phase", "3", "--start-date", "2021-10-19", "--end-date", "2021-10-20"),
    ("worker", "--once"),
])
def test_commands_on_a_missing_store_say_so_and_create_nothing(tmp_path, args):
    """A mistyped --db is not an empty store that "passes": the commands that read a store
    refuse a missing file, and create none."""
    db = tmp_path / "typo.duckdb"
    r = run(*args, "--db", str(db))
    assert r.exit_code == 2 and f"database {db} does not exist" in r.stderr, r.output
    assert not db.exists()


def test_missing_landing_folder_is_a_usage_error_and_writes_nothing(store, tmp_path):
    """A mistyped --landing is not read as "no files": that replaced stored partitions with
    empty ones. Commands reading phase 1 files refuse it before opening the store."""
    import shutil

    import duckdb

    db, landing = store
    copy = tmp_path / "c.duckdb"
    shutil.copy(db, copy)
    typo = tmp_path / "landng"
    for args in (("backfill", "--phase", "2", "--dates", "2021-10-20", "--no-resume"),
                 ("backfill", "--processor", "props", "--dates", "2021-10-20"),
                 ("run", "--date", "2021-10-20"),
                 ("preflight", "--phase", "2", "--start-date", "2021-10-19", "--end-date", "2021-10-24")):
        r = run(*args, "--landing", str(typo), "--db", str(copy))
        assert r.exit_code == 2, (args, r.output)
        assert f"landing folder {typo} does not exist" in r.stderr and no_traceback(r)
    r = run("backfill", "--phase", "2", "--dates", "2021-10-20", "--landing", str(typo), "--db", str(tmp_path / "n.db"))
    assert r.exit_code == 2 and not (tmp_path / "n.db").exists()
    con = duckdb.connect(str(copy), read_only=True)
    orig = duckdb.connect(str(db), read_only=True)
    q = "SELECT count(*) FROM nba_raw.odds_player_props WHERE game_date = DATE '2021-10-20'"
    assert con.execute(q).fetchone()[0] == orig.execute(q).fetchone()[0] > 0
    con.close()
    orig.close()


def test_preflight_without_the_season_schedule_fails(tmp_path):
    """A landing folder without the season's schedule file cannot say which games to expect:
    preflight fails instead of reporting full coverage."""
    (tmp_path / "landing").mkdir()
    r = run("preflight", "--phase", "2", "--start-date", "2021-10-19", "--end-date", "2021-10-24",
            "--landing", str(tmp_path / "landing"), "--db", str(tmp_path / "p.duckdb"))
    assert r.exit_code == 1 and "no league schedule" in r.stderr and "2021-22.json" in r.stderr


def test_imported_lines_survive_a_reload_of_their_date(store, tmp_path):
    """Lines imported from a CSV for a date without props.json are kept when phase 2 reloads
    the date; a date with props.json takes its lines from the file."""
    import shutil

    import duckdb

    db, landing = store
    copy, land = tmp_path / "c.duckdb", tmp_path / "landing"
    shutil.copy(db, copy)
    shutil.copytree(landing, land)
    (land / "2021-10-20" / "props.json").unlink()
    con = duckdb.connect(str(copy), read_only=True)
    player = con.execute("SELECT player_name FROM nba_raw.nbac_player_boxscore WHERE game_date = DATE '2021-10-20' "
                         "ORDER BY player_name LIMIT 1").fetchone()[0]
    with_file = con.execute("SELECT count(*) FROM nba_raw.odds_player_props WHERE game_date = DATE '2021-10-19'"
                            ).fetchone()[0]
    con.close()
    csv = tmp_path / "lines.csv"
    csv.write_text(f"player,game_date,line\n{player},2021-10-20,20.5\n", encoding="utf-8")
    r = run("import", "--format", "lines-csv", "--path", str(csv), "--db", str(copy))
    assert r.exit_code == 0, r.output
    r = run("backfill", "--phase", "2", "--start-date", "2021-10-19", "--end-date", "2021-10-20", "--no-resume",
            "--landing", str(land), "--db", str(copy), "--json")
    assert r.exit_code == 0, r.output
    con = duckdb.connect(str(copy), read_only=True)
    kept = con.execute("SELECT player_name, line FROM nba_raw.odds_player_props WHERE game_date = DATE '2021-10-20' "
                       "AND market = 'player_points' AND line = 20.5").fetchall()
    reloaded = con.execute("SELECT count(*) FROM nba_raw.odds_player_props WHERE game_date = DATE '2021-10-19'"
                           ).fetchone()[0]
    con.close()
    assert kept == [(player, 20.5)]
    assert reloaded == with_file > 0


@pytest.mark.parametrize("args, message, remedy", [
    (("status", "--start-date", "2021-10-19"), "--start-date needs --end-date too", "--end-date D (inclusive)"),
    (("cascade", "reprocess", "--end-date", "2021-10-19"), "--end-date needs --start-date too", "(inclusive)"),
    (("cascade", "detect", "--backfill-start", "2021-10-20", "--backfill-end", "2021-10-19"),
     "--backfill-end 2021-10-19 is before --backfill-start 2021-10-20", "swap them"),
    (("backfill", "--phase", "2", "--start-date", "2021-10-19"), "--start-date needs --end-date too", "or --dates D,D"),
    (("gaps", "--start-date", "2021-10-19", "--end-date", "2021-10-20", "--table", "nba_raw.nbac_shots", "--phase", "3"),
     "nba_raw.nbac_shots is in phase 2, not 3", "use --phase 2"),
])
def test_errors_name_the_commands_own_options(tmp_path, args, message, remedy):
    """Messages and remedies name options the command has: --dates only where it exists, the
    backfill-start/-end pair for cascade detect."""
    r = run(*args, "--db", str(tmp_path / "e.duckdb"))
    assert r.exit_code == 2, r.output
    assert message in r.stderr and remedy in r.stderr
    if "--dates" not in message + remedy:
        assert "--dates" not in r.stderr


def test_a_failed_first_import_leaves_no_store(tmp_path):
    """An import into a store that did not exist, failing on its input, removes the store it
    created: nothing partial is left behind."""
    db = tmp_path / "new.duckdb"
    bad = tmp_path / "lines.csv"
    bad.write_text("player,game_date\nx,2021-11-01\n", encoding="utf-8")  # no line column
    r = run("import", "--format", "lines-csv", "--path", str(bad), "--db", str(db))
    assert r.exit_code == 1 and "missing column line" in r.stderr and no_traceback(r)
    assert not db.exists() and not (tmp_path / "new.duckdb.wal").exists()
    (tmp_path / "bundle").mkdir()
    r = run("import", "--format", "nba-shotchart", "--path", str(tmp_path / "bundle"), "--db", str(db),
            "--landing", str(tmp_path / "landing"))
    assert r.exit_code == 1 and r.stderr.startswith("Error: ") and no_traceback(r)
    assert not db.exists()


def test_phase_5_backfill_refuses_options_it_cannot_honour(tmp_path):
    r = run("backfill", "--phase", "5", "--start-date", "2022-03-01", "--end-date", "2022-03-02", "--cascade",
            "--order", "date-first", "--db", str(tmp_path / "p.duckdb"))
    assert r.exit_code == 2 and "--cascade, --order do not apply to --phase 5" in r.stderr
    assert not (tmp_path / "p.duckdb").exists()


def test_checks_with_nothing_to_check_do_not_pass(store):
    """gaps over a range without a scheduled game and completeness verify --expect-complete
    over a range without a windowed record exit 1 and say there was nothing to check."""
    db, _ = store
    r = run("gaps", "--start-date", "2021-08-01", "--end-date", "2021-08-10", "--db", str(db))
    assert r.exit_code == 1 and "Nothing to check" in r.stdout
    r = run("gaps", "--start-date", "2021-08-01", "--end-date", "2021-08-10", "--db", str(db), "--json")
    assert r.exit_code == 1 and json.loads(r.stdout)["ok"] is False
    r = run("completeness", "verify", "--start-date", "2021-08-01", "--end-date", "2021-08-10", "--expect-complete",
            "--db", str(db))
    assert r.exit_code == 1 and "Nothing to verify" in r.stdout


def test_gaps_on_off_days_inside_a_loaded_season_pass(store):
    """A day without games between two game days of the loaded schedule (Thanksgiving, the
    All-Star break) is not a missing schedule: a daily `gaps` check of it passes."""
    db, _ = store
    with Warehouse(db, catalog()) as wh:
        days = [d for (d,) in wh.con.execute("SELECT DISTINCT game_date FROM nba_raw.nbac_schedule ORDER BY 1")
                .fetchall()]
    off = next(a + timedelta(days=1) for a, b in zip(days, days[1:]) if (b - a).days > 1)
    r = run("gaps", "--start-date", str(off), "--end-date", str(off), "--db", str(db))
    assert r.exit_code == 0 and "no game is scheduled on these dates" in r.stdout, r.output
    r = run("gaps", "--start-date", str(off), "--end-date", str(off), "--db", str(db), "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["off_days"] is True
    # from the last game day on to after the season: not inside a season, nothing was checked
    after = days[-1] + timedelta(days=1)
    r = run("gaps", "--start-date", str(after), "--end-date", str(after + timedelta(days=20)), "--db", str(db))
    assert r.exit_code == 1 and "does not lie inside one loaded season" in " ".join(r.stdout.split())
    assert f"runs from {days[0]} to {days[-1]}" in " ".join(r.stdout.split())


def test_scrape_refuses_an_outage_outside_its_range(tmp_path):
    r = run("scrape", "--start-date", "2021-10-19", "--end-date", "2021-10-20", "--teams", "4",
            "--players-per-team", "8", "--fail-dates", "2021-11-17", "--landing", str(tmp_path / "l"))
    assert r.exit_code == 2 and "--fail-dates 2021-11-17 outside 2021-10-19..2021-10-20" in r.stderr
    assert not (tmp_path / "l").exists()


def test_lines_import_names_players_without_a_box_score(store, tmp_path):
    import shutil

    db, _ = store
    copy = tmp_path / "c.duckdb"
    shutil.copy(db, copy)
    csv = tmp_path / "lines.csv"
    csv.write_text("player,game_date,line\nNobody Atall,2021-10-20,12.5\n", encoding="utf-8")
    r = run("import", "--format", "lines-csv", "--path", str(csv), "--db", str(copy), "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["unknown_players"] == ["Nobody Atall"]
    r = run("import", "--format", "lines-csv", "--path", str(csv), "--db", str(copy))
    assert "1 players have no box score in this store" in r.stdout and "Nobody Atall" in r.stdout
    # the note names this file's players, not those of an earlier file at the same path
    csv.write_text("player,game_date,line\nSomeone Else,2021-10-21,9.5\n", encoding="utf-8")
    r = run("import", "--format", "lines-csv", "--path", str(csv), "--db", str(copy), "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["unknown_players"] == ["Someone Else"]


def test_run_on_a_day_without_games_says_so(store, tmp_path):
    import shutil

    db, landing = store
    copy = tmp_path / "c.duckdb"
    shutil.copy(db, copy)
    r = run("run", "--date", "2021-08-01", "--landing", str(landing), "--db", str(copy))
    assert r.exit_code == 0 and "No game is scheduled on 2021-08-01" in r.stdout


def test_cascade_that_loads_nothing_prints_one_json_document(store, tmp_path):
    import shutil

    db, landing = store
    copy = tmp_path / "c.duckdb"
    shutil.copy(db, copy)
    args = ("backfill", "--phase", "2", "--start-date", "2021-10-19", "--end-date", "2021-10-20", "--cascade",
            "--landing", str(landing), "--db", str(copy), "--json")
    assert run(*args).exit_code == 0
    r = run(*args)  # resumes: nothing left to load
    out = json.loads(r.stdout)  # one document
    assert r.exit_code == 2 and out["backfill"]["processors"] == [] and "nothing to cascade" in out["cascade"]["message"]


def test_the_retry_command_keeps_cascade():
    from fullcourt.api import backfill_request

    req = backfill_request([date(2021, 11, d) for d in (19, 20, 21)], 2, None, policy="stop")
    req.cascade = True
    assert req.rerun_command() == ("fullcourt backfill --phase 2 --start-date 2021-11-19 --end-date 2021-11-21 "
                                   "--error-policy stop --cascade")


def test_help_names_what_each_option_takes(monkeypatch):
    """Every command's help, as the `fullcourt` script builds it: flags show no value, dates
    DATE, counts N, files and folders PATH (Typer alone prints <bool>, <str>, <int>)."""
    from fullcourt import cli

    monkeypatch.setattr("typer.testing._get_command", lambda _app: cli.command())
    paths: list[list[str]] = []

    def walk(cmd, path):
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*path, name])
        else:
            paths.append(path)
    walk(cli.command(), [])
    assert len(paths) >= 15
    for path in paths:
        r = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert r.exit_code == 0, (path, r.output)
        for typed in ("<bool>", "<str>", "<int>", "<float>"):
            assert typed not in r.output, (path, typed)
    r = runner.invoke(app, ["cascade", "reprocess", "--help"], env={"COLUMNS": "200"})
    lines = {line.split()[1]: line.split()[2] for line in r.output.splitlines()
             if len(line.split()) > 2 and line.split()[1].startswith("--")}
    assert (lines["--start-date"], lines["--batch-size"], lines["--parallel-dates"], lines["--db"]) == \
        ("DATE", "N", "N", "PATH")
    assert not lines["--with-predictions"].isupper()  # a flag: its help text follows the name
