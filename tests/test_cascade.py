"""The cascade proof: after late data and a cascade, the store equals a from-scratch rebuild on
the complete data (run metadata aside), and detection misses no record that changed.

Scenarios are built from the synthetic league: a "truth" landing folder (complete, with any
late corrections applied) and a "gapped" one (outages, dropped games, the uncorrected values).
The gapped store is built first; then the late files arrive, phase 2 reloads those dates and
the cascade runs. The truth store is rebuilt from scratch with the same processors.
"""
from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from typer.testing import CliRunner

from fullcourt import api, cascade_api
from fullcourt.cli import app
from fullcourt.dates import date_range
from fullcourt.engine.warehouse import Warehouse
from fullcourt.engine.cascade import WILDCARD, precision, reprocess
from fullcourt.nba.pipeline import catalog, registry
from fullcourt.nba.sources.synthetic import LeagueConfig, correct_box_score, scrape_synthetic
from remedies import no_traceback  # noqa: E402

START, END = date(2021, 10, 19), date(2021, 12, 5)
DAYS = date_range(START, END)
BOOKKEEPING = {"nba_predictions.ml_predictions_v2"}


def game_dates(landing: Path) -> list[date]:
    sched = json.loads((landing / "schedule" / "2021-22.json").read_text())["leagueSchedule"]["gameDates"]
    return [d for d in (date.fromisoformat(g["gameDate"][:10]) for g in sched if g["games"]) if START <= d <= END]


def build(db: Path, landing: Path) -> None:
    for phase in (2, 3, 4):
        api.backfill(db, landing, DAYS, phase=phase, skip_preflight=True, parallel=1)


def snapshot(db: Path) -> dict[str, list[str]]:
    """Every data table (and tracked failures) without run metadata, as sorted row reprs."""
    with Warehouse(db, catalog()) as wh:
        tables = [t for (t,) in wh.con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_schema IN "
            "('nba_raw', 'nba_analytics', 'nba_precompute', 'nba_predictions')").fetchall() if t not in BOOKKEEPING]
        out = {t: sorted(repr(r) for r in wh.con.execute(
            f"SELECT * EXCLUDE (run_id, processed_at) FROM {t}").fetchall()) for t in tables}
        out["failures"] = sorted(repr(r) for r in wh.con.execute(
            "SELECT * EXCLUDE (run_id, created_at) FROM nba_processing.precompute_failures").fetchall())
    return out


def correct(landing: Path, d: date) -> None:
    """A late correction: the first home player of d's first game gets two more free throws."""
    correct_box_score(landing, d)


def scenario(root: Path, seed: int, fail_dates: set[date], fail_games: set[str], corrections: set[date]):
    """Build gapped and truth stores, deliver the late files, cascade; return the reports."""
    config = LeagueConfig(seed=seed, teams=4, players_per_team=8)
    root.mkdir(parents=True, exist_ok=True)
    truth, gapped = root / "truth", root / "gapped"
    scrape_synthetic(truth, START, END, config)
    scrape_synthetic(gapped, START, END, config, frozenset(fail_dates), frozenset(fail_games))
    for d in corrections:
        correct(truth, d)
    build(root / "truth.duckdb", truth)
    build(root / "cascade.duckdb", gapped)
    late = sorted(set(fail_dates) | set(corrections) | {d for d in game_dates(truth)
                                                         for g in fail_games if (truth / d.isoformat() /
                                                                                 f"boxscore_{g}.json").exists()})
    for d in late:
        shutil.rmtree(gapped / d.isoformat(), ignore_errors=True)
        shutil.copytree(truth / d.isoformat(), gapped / d.isoformat())
    db = root / "cascade.duckdb"
    loaded = api.backfill(db, gapped, late, phase=2, skip_preflight=True)
    assert loaded.ok, loaded.to_dict()
    shutil.copy(db, root / "loaded.duckdb")  # the late data reloaded, before the cascade
    detected = cascade_api.cascade_detect(db, late)
    reprocessed = cascade_api.cascade_reprocess(db, gapped, late)
    return root / "truth.duckdb", db, detected, reprocessed


def assert_equal_stores(truth: Path, cascaded: Path) -> None:
    a, b = snapshot(truth), snapshot(cascaded)
    assert a.keys() == b.keys()
    for table in a:
        assert a[table] == b[table], f"{table}: {len(set(a[table]) ^ set(b[table]))} rows differ from the rebuild"


def recall_and_precision(detected, reprocessed, db: Path) -> tuple[float, float]:
    """Recall must be 1.0 (a date wildcard covers every record of its processor and date);
    precision = detected records that changed / detected, a wildcard counting as every record
    and failure of its processor and date in the cascaded store `db`."""
    changed = reprocessed.result.records()
    assert changed, "the late data changed nothing: the scenario proves nothing"
    missed = detected.result.missed(changed)
    assert not missed, f"detection missed {len(missed)} changed records, e.g. {sorted(missed)[:3]}"
    with Warehouse(db, catalog()) as wh:
        return 1.0, precision(wh, registry(), detected.result, reprocessed.result)


@pytest.fixture(scope="module")
def two_gaps(tmp_path_factory):
    """A whole-date outage and a single dropped game on another date, plus a late correction."""
    root = tmp_path_factory.mktemp("cascade")
    probe = root / "probe"
    scrape_synthetic(probe, START, END, LeagueConfig(seed=21, teams=4, players_per_team=8))
    days = game_dates(probe)
    outage, partial, corrected = days[18], days[24], days[12]
    dropped = json.loads((probe / partial.isoformat() / "schedule.json").read_text())["scoreboard"]["games"][0]
    return scenario(root, 21, {outage}, {dropped["gameId"]}, {corrected}) + (outage, partial)


def test_cascade_equals_a_rebuild_and_detection_misses_nothing(two_gaps):
    truth, cascaded, detected, reprocessed, *_ = two_gaps
    assert_equal_stores(truth, cascaded)
    recall, found = recall_and_precision(detected, reprocessed, cascaded)
    assert recall == 1.0 and 0 < found <= 1
    summary = reprocessed.to_dict()
    assert summary["records_changed"] == len(reprocessed.result.records()) > 0
    assert summary["records_recomputed"] >= summary["records_changed"]
    assert summary["records_unchanged"] == summary["records_recomputed"] - summary["records_changed"]


def test_detect_names_the_players_of_a_reloaded_date_from_its_box_scores(two_gaps):
    """Nothing of player_game_summary was stored on the outage date; detect names its players
    from the reloaded box scores (entities_from), not a wildcard, and they are exactly the
    records the reprocess wrote there."""
    _, cascaded, detected, _, outage, _ = two_gaps
    pgs = {e for p, d, e in detected.result.records() if p == "PlayerGameSummaryProcessor" and d == outage}
    with Warehouse(cascaded, catalog()) as wh:
        stored = {e for (e,) in wh.con.execute(
            "SELECT player_lookup FROM nba_analytics.player_game_summary WHERE game_date = ?", [outage]).fetchall()}
        row = wh.con.execute("SELECT summary FROM nba_processing.cascade_runs WHERE kind = 'detect'").fetchall()
    assert WILDCARD not in pgs and pgs == stored and len(stored) > 10
    counts = json.loads(row[0][0])["affected_by_date"]  # the run's row keeps counts, the file the names
    assert counts == {d.isoformat(): len(es) for d, es in detected.affected().items()}


def test_detect_marks_needs_reprocessing_and_close_clears_it(tmp_path, two_gaps):
    _, cascaded, detected, reprocessed, outage, _ = two_gaps
    db = tmp_path / "close.duckdb"
    shutil.copy(cascaded, db)
    reload = tmp_path / "reload.duckdb"
    shutil.copy(cascaded, reload)
    assert detected.already_reprocessed is None  # the first detection: nothing reprocessed yet
    again = cascade_api.cascade_detect(db, [outage])
    assert again.marked > 0
    # detection after the cascade names the reprocess that already recomputed those records
    assert again.already_reprocessed["cascade_id"] == reprocessed.cascade_id
    # a later repair of the date's own records only (the range form) is not a cascade: still the first
    repair = cascade_api.cascade_reprocess(reload, cascaded.parent / "gapped", None, [outage])
    assert repair.to_dict()["range_only"]
    assert cascade_api.cascade_detect(reload, [outage], dry_run=True).already_reprocessed["cascade_id"] \
        == reprocessed.cascade_id
    # ... unless the date was reloaded after it: then the prediction is new work
    assert api.backfill(reload, cascaded.parent / "gapped", [outage], phase=2, skip_preflight=True).ok
    assert cascade_api.cascade_detect(reload, [outage], dry_run=True).already_reprocessed is None
    with Warehouse(db, catalog()) as wh:
        flagged = wh.con.execute("SELECT count(*) FROM nba_precompute.player_shot_zone_analysis "
                                 "WHERE historical_completeness.needs_reprocessing").fetchall()[0][0]
    assert flagged > 0
    report = cascade_api.cascade_close(db, START, END, tmp_path / "reports")
    assert report.cleared >= flagged and report.incomplete_total == 0 and report.secondary_gaps == []
    md, js = (Path(f) for f in report.files)
    assert "Cascade incident report" in md.read_text() and json.loads(js.read_text())["needs_reprocessing_cleared"]
    with Warehouse(db, catalog()) as wh:
        assert wh.con.execute("SELECT count(*) FROM nba_precompute.player_shot_zone_analysis "
                              "WHERE historical_completeness.needs_reprocessing").fetchall()[0][0] == 0
        kinds = [k for (k,) in wh.con.execute("SELECT kind FROM nba_processing.cascade_runs ORDER BY started_at").fetchall()]
    assert kinds == ["detect", "reprocess", "detect", "close"]


def test_close_reports_only_the_incident_since_the_last_close_of_the_range(tmp_path, two_gaps):
    _, cascaded, _, _, outage, _ = two_gaps
    db, gapped = tmp_path / "twice.duckdb", tmp_path / "gapped"
    shutil.copy(cascaded.parent / "loaded.duckdb", db)
    shutil.copytree(cascaded.parent / "gapped", gapped)  # corrected below: the fixture's stays as it is
    cascade_api.cascade_detect(db, [outage])
    cascade_api.cascade_reprocess(db, gapped, [outage])
    first = cascade_api.cascade_close(db, START, END, tmp_path / "reports")
    correct(gapped, outage)  # a second incident on the same range: a late correction of the outage day
    assert api.backfill(db, gapped, [outage], phase=2, skip_preflight=True).ok
    cascade_api.cascade_detect(db, [outage])
    second = cascade_api.cascade_reprocess(db, gapped, [outage])
    report = cascade_api.cascade_close(db, START, END, tmp_path / "reports")
    assert first.first_detected < first.closed_at < report.first_detected
    assert report.reprocessed == {p["processor"]: {"records_recomputed": p["records_recomputed"],
                                                   "records_changed": p["records_changed"]}
                                  for p in second.to_dict()["processors"]}


def test_zero_affected_records_explain_why(tmp_path, two_gaps):
    _, cascaded, *_ = two_gaps
    db = tmp_path / "zero.duckdb"
    shutil.copy(cascaded, db)
    off_day = date(2021, 11, 25)  # Thanksgiving: no games in the synthetic league
    report = cascade_api.cascade_detect(db, [off_day], dry_run=True)
    assert report.to_dict()["total_affected_records"] == 0
    assert "no scheduled games on 2021-11-25" in report.why_empty


def test_a_secondary_gap_stays_incomplete_and_close_names_it(tmp_path):
    probe = tmp_path / "probe"
    scrape_synthetic(probe, START, END, LeagueConfig(seed=33, teams=4, players_per_team=8))
    days = game_dates(probe)
    first, second = days[20], days[23]
    config = LeagueConfig(seed=33, teams=4, players_per_team=8)
    gapped = tmp_path / "gapped"
    scrape_synthetic(gapped, START, END, config, frozenset({first, second}))
    db = tmp_path / "store.duckdb"
    build(db, gapped)
    scrape_synthetic(gapped, first, first, config)  # only the first missing day arrives
    assert api.backfill(db, gapped, [first], phase=2, skip_preflight=True).ok
    cascade_api.cascade_detect(db, [first])
    cascade_api.cascade_reprocess(db, gapped, [first])
    report = cascade_api.cascade_close(db, first, END, tmp_path / "reports")
    assert report.incomplete_total > 0
    assert report.secondary_gaps == [second]
    assert all(r["reason"] == "upstream_gap" for r in report.incomplete)
    assert str(second) in Path(report.files[0]).read_text()


PLAYER_TABLE_OF = {"PlayerShotZoneAnalysisProcessor": "nba_precompute.player_shot_zone_analysis",
                   "PlayerCompositeFactorsProcessor": "nba_precompute.player_composite_factors",
                   "PlayerDailyCacheProcessor": "nba_precompute.player_daily_cache"}
PLAYER_TABLES = {"nba_precompute.player_shot_zone_analysis": "analysis_date",
                 "nba_precompute.player_composite_factors": "game_date",
                 "nba_precompute.player_daily_cache": "cache_date"}


def player_rows(db: Path, table: str, dc: str, player: str, keep: bool, skip: Sequence[date] = ()) -> list[str]:
    """Rows of `table` (without run metadata and the detection flag) of `player`, or of the
    others, outside the dates `skip`."""
    with Warehouse(db, catalog()) as wh:
        return sorted(repr(r) for r in wh.con.execute(
            f"SELECT * EXCLUDE (run_id, processed_at, historical_completeness), historical_completeness.missing_game_dates "
            f"FROM {table} WHERE (player_lookup = ?) = ? AND {dc} NOT IN (SELECT unnest(?::DATE[])) ORDER BY {dc}",
            [player, keep, list(skip)]).fetchall())


def test_reprocess_players_recomputes_only_those_players(tmp_path, two_gaps):
    truth, cascaded, detected, _, outage, partial = two_gaps
    loaded = cascaded.parent / "loaded.duckdb"
    db = tmp_path / "players.duckdb"
    shutil.copy(loaded, db)
    with Warehouse(db, catalog()) as wh:
        player = wh.con.execute("SELECT min(player_lookup) FROM nba_raw.nbac_player_boxscore "
                                "WHERE game_date = ? AND minutes > 0", [outage]).fetchall()[0][0]
    affected = tmp_path / "affected.json"  # the outage, the dropped game's day and the corrected day
    affected.write_text(json.dumps(detected.to_dict()))
    r = CliRunner().invoke(app, ["cascade", "reprocess", "--affected-file", str(affected),
                                 "--players", f" {player} ", "--db", str(db), "--landing",
                                 str(cascaded.parent / "gapped"), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["players"] == [player] and out["records_changed"] > 0
    player_keyed = {"PlayerShotZoneAnalysisProcessor", "PlayerCompositeFactorsProcessor",
                    "PlayerDailyCacheProcessor", "MLFeatureStoreProcessor"}
    for p in out["processors"]:
        if p["processor"] in player_keyed:
            assert p["records_recomputed"] <= p["dates"], p  # one record (or failure) per date at most
    # dates phase 4 never finished in the loaded store (the dropped game's day) are left for a
    # full cascade: some players' records there would record the date as done
    left = {p["processor"]: [date.fromisoformat(d) for d in p.get("left_for_a_full_cascade", [])]
            for p in out["processors"]}
    assert partial in left["PlayerShotZoneAnalysisProcessor"]
    assert "Left for a full cascade" in CliRunner().invoke(app, ["cascade", "reprocess", "--affected-file", str(affected),
                                                                 "--players", player, "--db", str(db), "--landing",
                                                                 str(cascaded.parent / "gapped")]).stdout
    for table, dc in PLAYER_TABLES.items():
        skip = left[next(p for p, t in PLAYER_TABLE_OF.items() if t == table)]
        assert player_rows(db, table, dc, player, True, skip) == player_rows(truth, table, dc, player, True, skip), table
        assert player_rows(db, table, dc, player, False) == player_rows(loaded, table, dc, player, False), table


def test_an_interrupted_reprocess_keeps_its_flags_and_its_rerun_equals_a_rebuild(tmp_path, two_gaps, monkeypatch):
    """Killed in PSZA's second batch (phase 3 and PSZA's first batch committed): the dates it did
    not reach keep the flags detection set, and rerunning the same command finishes the cascade
    (the committed phase 3 compares equal to what it wrote, so early cutoff alone would stop)."""
    from fullcourt.engine import cascade as engine

    truth, cascaded, detected, _, outage, _ = two_gaps
    gapped = cascaded.parent / "gapped"
    db = tmp_path / "resume.duckdb"
    shutil.copy(cascaded.parent / "loaded.duckdb", db)
    late = detected.result.seed_dates
    assert cascade_api.cascade_detect(db, late).marked > 0
    real, batches = engine.run_processor, []

    def dies(wh, spec, dates, *args, **kwargs):
        if spec.name == "PlayerShotZoneAnalysisProcessor":
            batches.append(list(dates))
            if len(batches) == 2:
                raise KeyboardInterrupt
        return real(wh, spec, dates, *args, **kwargs)

    with monkeypatch.context() as mp:
        mp.setattr(engine, "run_processor", dies)
        with pytest.raises(KeyboardInterrupt):
            cascade_api.cascade_reprocess(db, gapped, late, batch_size=3, parallel=1)
    psza = "nba_precompute.player_shot_zone_analysis"
    with Warehouse(db, catalog()) as wh:
        flags = dict(wh.con.execute(f"SELECT analysis_date > ?, count(*) FROM {psza} WHERE needs_reprocessing "
                                    "GROUP BY 1", [max(batches[0])]).fetchall())
        pending = wh.con.execute("SELECT cascade_id FROM nba_processing.cascade_runs "
                                 "WHERE kind = 'reprocess' AND finished_at IS NULL").fetchall()
    assert flags.get(True, 0) > 0 and flags.get(False, 0) == 0  # cleared only where the batch committed
    assert len(pending) == 1
    # the unfinished run's row has its range: a close of another range does not report it
    other = cascade_api.cascade_close(db, START, START, tmp_path / "reports")
    assert other.backfill_dates == [] and other.first_detected is None
    from fullcourt.errors import InputError

    with pytest.raises(InputError, match=f"the reprocess {pending[0][0]} .* did not finish"):
        cascade_api.cascade_close(db, START, END, tmp_path / "reports")  # a close would hide the stale records

    rerun = cascade_api.cascade_reprocess(db, gapped, late)
    assert rerun.resumed == [pending[0][0]] and rerun.to_dict()["resumed"] == rerun.resumed
    assert_equal_stores(truth, db)
    with Warehouse(db, catalog()) as wh:
        rows = wh.con.execute("SELECT cascade_id, finished_at IS NULL, summary FROM nba_processing.cascade_runs "
                              "WHERE kind = 'reprocess' ORDER BY started_at").fetchall()
    assert [(c, unfinished, json.loads(s).get("resumed_by")) for c, unfinished, s in rows] == \
        [(pending[0][0], True, rerun.cascade_id), (rerun.cascade_id, False, None)]
    assert cascade_api.cascade_reprocess(db, gapped, late).resumed == []  # nothing left to resume


@pytest.mark.parametrize("before", ["phase 3 by hand, then a reload", "phase 3 and PSZA by hand", "--players",
                                    "a range repair", "phase 3 and TDZA by hand, then a reload",
                                    "phases 3 and 4 by hand, phase 4 in alphabetical order",
                                    "phases 3 and 4 by hand, PSZA last"])
def test_a_cascade_after_work_done_outside_it_equals_a_rebuild(tmp_path, two_gaps, before):
    """Early cutoff compares with the stored records. When some of them were already recomputed
    from the late data outside the cascade (a daily run or the blocked-run alert's backfills of
    the late day, a manual backfill, a --players or range repair), they compare equal while the
    records that read them are stale: the cascade must still reach those."""
    truth, cascaded, detected, _, outage, _ = two_gaps
    gapped = cascaded.parent / "gapped"
    db = tmp_path / "outside.duckdb"
    shutil.copy(cascaded.parent / "loaded.duckdb", db)
    late = detected.result.seed_dates
    if before == "phase 3 by hand, then a reload":
        assert api.backfill(db, gapped, late, phase=3, skip_preflight=True).ok
        assert api.backfill(db, gapped, late, phase=2, skip_preflight=True, resume=False).ok
    elif before == "phase 3 and TDZA by hand, then a reload":  # the reload time alone would miss TDZA's work
        assert api.backfill(db, gapped, late, phase=3, skip_preflight=True).ok
        api.backfill(db, gapped, DAYS, processor="TeamDefenseZoneAnalysisProcessor", skip_preflight=True)
        assert api.backfill(db, gapped, late, phase=2, skip_preflight=True, resume=False).ok
    elif before == "phase 3 and PSZA by hand":
        assert api.backfill(db, gapped, late, phase=3, skip_preflight=True).ok
        api.backfill(db, gapped, DAYS, processor="PlayerShotZoneAnalysisProcessor", skip_preflight=True)
    elif before.startswith("phases 3 and 4 by hand"):
        # found by an adversarial round: PCF, PDC and MLFS read the old PSZA (and TDZA), which
        # are rewritten after them; every phase 3 row's readers are newer than it, so only the
        # rewritten PSZA and TDZA rows can carry the change, and nothing upstream of them changed
        rest = [d for d in DAYS if d >= min(late)]
        assert api.backfill(db, gapped, rest, phase=3, skip_preflight=True).ok
        names = sorted(s.name for s in registry().order if s.phase == 4)  # MLFS, PCF, PDC, PSZA, TDZA
        if before.endswith("PSZA last"):
            names = [n for n in names if n != "PlayerShotZoneAnalysisProcessor"] + ["PlayerShotZoneAnalysisProcessor"]
        for name in names:
            api.backfill(db, gapped, rest, processor=name, skip_preflight=True)
    elif before == "--players":
        with Warehouse(db, catalog()) as wh:
            player = wh.con.execute("SELECT min(player_lookup) FROM nba_raw.nbac_player_boxscore "
                                    "WHERE game_date = ? AND minutes > 0", [outage]).fetchall()[0][0]
        cascade_api.cascade_reprocess(db, gapped, late, players=[player])
    else:
        cascade_api.cascade_reprocess(db, gapped, None, late)
    cascade_api.cascade_detect(db, late)
    cascade_api.cascade_reprocess(db, gapped, late)
    assert_equal_stores(truth, db)


def test_reprocess_unknown_player_is_a_usage_error_and_writes_nothing(tmp_path, two_gaps):
    _, cascaded, _, _, outage, _ = two_gaps
    db = tmp_path / "bad.duckdb"
    shutil.copy(cascaded.parent / "loaded.duckdb", db)

    def counts() -> tuple[int, int]:
        with Warehouse(db, catalog()) as wh:
            return (wh.con.execute("SELECT count(*) FROM nba_processing.cascade_runs").fetchall()[0][0],
                    wh.con.execute("SELECT count(*) FROM nba_reference.processor_run_history").fetchall()[0][0])

    before = counts()
    r = CliRunner().invoke(app, ["cascade", "reprocess", "--start-date", str(outage), "--end-date", str(outage),
                                 "--players", "nosuchplayer,alsonotone", "--db", str(db)])
    assert r.exit_code == 2
    assert "unknown players 'alsonotone', 'nosuchplayer'" in r.stderr and no_traceback(r)
    assert counts() == before


@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_property_random_gaps_and_corrections(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("prop")
    seed = data.draw(st.integers(1, 500), label="seed")
    probe = root / "probe"
    scrape_synthetic(probe, START, END, LeagueConfig(seed=seed, teams=4, players_per_team=8))
    days = [d for d in game_dates(probe) if date(2021, 11, 1) <= d <= date(2021, 11, 28)]
    gaps = data.draw(st.sets(st.sampled_from(days), min_size=0, max_size=3), label="outages")
    rest = [d for d in days if d not in gaps]
    dropped_days = data.draw(st.sets(st.sampled_from(rest), max_size=1), label="dropped game days")
    fixes = data.draw(st.sets(st.sampled_from([d for d in rest if d not in dropped_days]), max_size=2),
                      label="corrections")
    if not gaps and not dropped_days and not fixes:
        fixes = {rest[0]}
    dropped = {json.loads((probe / d.isoformat() / "schedule.json").read_text())["scoreboard"]["games"][0]["gameId"]
               for d in dropped_days}
    truth, cascaded, detected, reprocessed = scenario(root / "run", seed, gaps, dropped, fixes)
    assert_equal_stores(truth, cascaded)
    recall_and_precision(detected, reprocessed, cascaded)


def test_a_cross_entity_edge_reaches_only_the_players_who_read_the_changed_team(two_gaps):
    """PCF reads the TDZA row of the player's opponent: a changed team maps to the players
    facing it that day (through the upcoming context), not to the whole date."""
    from fullcourt.engine.cascade import Cascade

    _, cascaded, *_ = two_gaps
    upgc = "nba_analytics.upcoming_player_game_context"
    with Warehouse(cascaded, catalog()) as wh:
        d, team = wh.con.execute(f"SELECT game_date, opponent_team_abbr FROM {upgc} ORDER BY 1, 2 LIMIT 1").fetchall()[0]
        facing = {e for (e,) in wh.con.execute(
            f"SELECT player_lookup FROM {upgc} WHERE game_date = ? AND opponent_team_abbr = ?", [d, team]).fetchall()}
        everyone = {e for (e,) in wh.con.execute(f"SELECT player_lookup FROM {upgc} WHERE game_date = ?", [d]).fetchall()}
        cas = Cascade(wh, registry())
        via = (upgc, "opponent_team_abbr")
        assert cas._via(via, [(d, {team})], {}) == [(d, facing)]
        assert 0 < len(facing) < len(everyone)
        assert cas._via(via, [(d, None)], {}) == [(d, None)]  # unknown teams: the whole date
        moving = {"UpcomingPlayerGameContextProcessor": {d: {WILDCARD}}}  # its rows there are unknown
        assert cas._via(via, [(d, {team})], moving) == [(d, None)]


def test_a_via_table_must_be_a_same_date_dependency():
    from fullcourt.engine.spec import Dependency, ProcessorSpec, last_n_games, same_date

    with pytest.raises(ValueError, match="not a same-date dependency"):
        ProcessorSpec(name="X", phase=4, output_table="main.x", date_column="d", entity_key=("p",), sql="SELECT 1",
                      dependencies=(Dependency("main.ctx", last_n_games(3)),
                                    Dependency("main.team", same_date(), entity="team", via=("main.ctx", "team"))))


def test_a_via_table_must_carry_the_processors_own_labels():
    from fullcourt.engine.spec import Dependency, ProcessorSpec, Registry, same_date

    ctx = ProcessorSpec(name="Ctx", phase=3, output_table="main.ctx", date_column="d", entity_key=("p",),
                        sql="SELECT 1", label_column="team")  # labels teams, not players
    x = ProcessorSpec(name="X", phase=4, output_table="main.x", date_column="d", entity_key=("p",), sql="SELECT 1",
                      label_column="player",
                      dependencies=(Dependency("main.ctx", same_date(), entity="player"),
                                    Dependency("main.team", same_date(), entity="team", via=("main.ctx", "team"))))
    with pytest.raises(ValueError, match="label column player"):
        Registry([ctx, x])


@pytest.fixture(scope="module")
def one_correction(tmp_path_factory):
    """A late stat correction of one loaded date alone: values change, no game is added."""
    root = tmp_path_factory.mktemp("correction")
    probe = root / "probe"
    scrape_synthetic(probe, START, END, LeagueConfig(seed=8, teams=4, players_per_team=8))
    corrected = game_dates(probe)[15]
    return scenario(root, 8, set(), set(), {corrected}) + (corrected,)


def test_a_correction_detects_team_records_by_team_code_only(one_correction):
    """Labels of one kind of entity do not flow into a processor labelled by another: after a
    box-score correction, each team table lists exactly its stored teams of each date (team
    codes, one per stored record or tracked failure; on the corrected date the teams that
    played), and no player table lists a team code."""
    truth, cascaded, detected, reprocessed, corrected = one_correction
    assert_equal_stores(truth, cascaded)
    recall_and_precision(detected, reprocessed, cascaded)
    landing = cascaded.parent / "gapped"
    season = json.loads((landing / "schedule" / "2021-22.json").read_text())["leagueSchedule"]["gameDates"]
    league = {g[side]["teamTricode"] for day in season for g in day["games"] for side in ("homeTeam", "awayTeam")}
    games = json.loads((landing / corrected.isoformat() / "schedule.json").read_text())["scoreboard"]["games"]
    playing = {g[side]["teamTricode"] for g in games for side in ("homeTeam", "awayTeam")}
    counts = {p: v["records"] for p, v in detected.to_dict()["by_processor"].items()}
    stored: dict[str, dict[date, list[str]]] = {}  # team processors' records and failures per detected date
    players = []
    with Warehouse(cascaded.parent / "loaded.duckdb", catalog()) as wh:  # the store detect read
        for change in detected.result.processors:
            spec = registry().by_name[change.processor]
            t, dc, lab = spec.output_table, spec.date_column, spec.label_column
            if not {e for (e,) in wh.con.execute(f"SELECT DISTINCT {lab}::VARCHAR FROM {t}").fetchall()} <= league:
                players.append(change)
                continue
            rows = stored.setdefault(change.processor, {})
            for d, e in wh.con.execute(
                    f"SELECT {dc}, {lab}::VARCHAR FROM {t} WHERE {dc} IN (SELECT unnest(?::DATE[])) UNION ALL "
                    "SELECT analysis_date, entity_id FROM nba_processing.precompute_failures "
                    "WHERE processor_name = ? AND analysis_date IN (SELECT unnest(?::DATE[]))",
                    [sorted(change.changed), change.processor, sorted(change.changed)]).fetchall():
                rows.setdefault(d, []).append(e)
    teams = {c.processor: c.changed for c in detected.result.processors if c.processor in stored}
    assert sum(corrected in changed for changed in teams.values()) >= 2, teams.keys()  # offense and defense
    for p, changed in teams.items():
        for d, labels in changed.items():
            assert labels <= league, (p, d, len(labels), sorted(labels - league)[:5])
            assert labels == set(stored[p].get(d, ())), (p, d)
        assert counts[p] == sum(len(stored[p].get(d, ())) for d in changed), p
        if corrected in changed:
            assert changed[corrected] == playing, p
    for change in players:
        assert not any(labels & league for labels in change.changed.values()), change.processor


def test_a_correction_of_a_store_built_in_order_stops_where_nothing_changed(tmp_path, one_correction):
    """The store was built phase by phase, so every downstream record was computed after the
    rows it reads: no record is newer than its readers, nothing propagates unchanged, and early
    cutoff stops at records that compare equal. (It used to propagate everything written since
    the date's first load: a one-player correction recomputed as much as a lost day.)"""
    truth, cascaded, detected, reprocessed, _ = one_correction
    assert_equal_stores(truth, cascaded)
    summary = reprocessed.to_dict()
    assert summary["records_propagated_unchanged"] == 0
    assert all("records_propagated_unchanged" not in p for p in summary["processors"])
    # the same cascade without early cutoff (every candidate propagates, as the old rule made
    # every row since the first load do) recomputes more
    copy = tmp_path / "no-cutoff.duckdb"
    shutil.copy(cascaded.parent / "loaded.duckdb", copy)
    late = detected.result.seed_dates
    with Warehouse(copy, catalog()) as wh:
        whole = reprocess(wh, registry(), {s.name: late for s in cascade_api.seed_specs()},
                          {"landing": cascaded.parent / "gapped"}, cutoff=False)
    assert summary["records_recomputed"] < sum(p.recomputed for p in whole.processors)


def test_close_that_cannot_write_its_report_clears_nothing(tmp_path, two_gaps, monkeypatch):
    from fullcourt.errors import InputError

    _, cascaded, _, _, outage, _ = two_gaps
    db = tmp_path / "full.duckdb"
    shutil.copy(cascaded, db)
    cascade_api.cascade_detect(db, [outage])

    def state() -> tuple:
        with Warehouse(db, catalog()) as wh:
            return (wh.con.execute("SELECT count(*) FROM nba_precompute.player_shot_zone_analysis "
                                   "WHERE needs_reprocessing").fetchall()[0][0],
                    wh.con.execute("SELECT count(*) FROM nba_processing.cascade_runs WHERE kind = 'close'")
                    .fetchall()[0][0])

    before = state()
    assert before[0] > 0
    real = Path.write_text

    def disk_full(self, *args, **kwargs):
        if self.name.endswith(".json.tmp"):  # the second file: the first was written
            raise OSError(28, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", disk_full)
    with pytest.raises(InputError, match="No space left on device.*nothing was cleared"):
        cascade_api.cascade_close(db, START, END, tmp_path / "reports")
    monkeypatch.undo()
    assert state() == before
    assert list((tmp_path / "reports").iterdir()) == []
    report = cascade_api.cascade_close(db, START, END, tmp_path / "reports")
    assert state() == (0, 1) and report.cleared >= before[0]
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == sorted(Path(f).name for f in report.files)


def test_with_predictions_repredicts_a_reloaded_date_whose_lines_changed(tmp_path, two_gaps):
    """A late correction of the points lines changes no feature, but the predictions of its
    date carry the lines: --with-predictions re-predicts the reloaded dates too."""
    truth, cascaded, _, _, outage, _ = two_gaps
    db, landing = tmp_path / "lines.duckdb", tmp_path / "truth"
    shutil.copy(truth, db)
    shutil.copytree(cascaded.parent / "truth", landing)
    api.predict(db, outage, outage)
    path = landing / outage.isoformat() / "props.json"
    props = json.loads(path.read_text())
    for line in props["props"]["lines"]:
        line["line"] += 3
    path.write_text(json.dumps(props))
    assert api.backfill(db, landing, [outage], phase=2, skip_preflight=True, resume=False).ok
    report = cascade_api.cascade_reprocess(db, landing, [outage], with_predictions=True)
    assert report.predicted_dates == [outage] and report.result.count == 0  # no feature changed
    with Warehouse(db, catalog()) as wh:
        lines = dict(wh.con.execute("SELECT person_id, line FROM nba_predictions.ml_predictions_v2 "
                                    "WHERE game_date = ? AND line IS NOT NULL", [outage]).fetchall())
    expected = {x["personId"]: x["line"] for x in props["props"]["lines"]}
    assert lines and all(lines[p] == expected[p] for p in lines)
    with Warehouse(db, catalog()) as wh:  # the report counts what predict wrote there
        stored = dict(wh.con.execute("SELECT system_id, count(*) FROM nba_predictions.ml_predictions_v2 "
                                     "WHERE game_date = ? GROUP BY 1", [outage]).fetchall())
    made = report.to_dict()["predictions"]
    assert report.ok and made["ok"] and made["dates_without_features_unexpected"] == []
    assert made["rows_written"] == stored and sum(stored.values()) > 0
    with Warehouse(db, catalog()) as wh:  # and the run's row in cascade_runs says the same
        (summary,) = wh.con.execute("SELECT summary FROM nba_processing.cascade_runs WHERE cascade_id = ? "
                                    "AND kind = 'reprocess'", [report.cascade_id]).fetchone()
    stored_summary = json.loads(summary)
    assert stored_summary["predictions"] == made and stored_summary["predicted_dates"] == [outage.isoformat()]
    assert stored_summary["ok"] is True and stored_summary["records_changed"] == 0


def test_reprocess_is_not_ok_when_a_re_predicted_date_has_no_features():
    """--with-predictions: a game date predict finds without feature rows (phase 4 failed or
    did not run there, not on purpose) makes the reprocess exit 1, with predict's remedy."""
    from fullcourt.engine.cascade import CascadeResult
    from fullcourt.nba.predict import PredictResult
    d, e = date(2022, 1, 5), date(2022, 1, 6)
    empty = PredictResult(d, e, "r1", dates=[e], dates_without_features=[d])
    by_design = PredictResult(d, e, "r2", dates=[e], dates_without_features=[d], by_design=[d])
    report = cascade_api.ReprocessReport(CascadeResult([d]), with_predictions=True, predictions=[by_design])
    assert report.ok and report.to_dict()["predictions"]["ok"]
    report.predictions.append(empty)
    made = report.to_dict()["predictions"]
    assert not report.ok and not made["ok"] and made["dates_without_features_unexpected"] == [d.isoformat()]
    assert made["remedy"] and "backfill --phase" in made["remedy"]


def test_a_second_reprocess_after_a_finished_cascade_changes_nothing(tmp_path, two_gaps):
    """The records a finished cascade wrote since the reload are its own (propagated by it):
    they do not count as changed, so the rerun stops at early cutoff."""
    truth, cascaded, detected, _, _, _ = two_gaps
    db = tmp_path / "again.duckdb"
    shutil.copy(cascaded, db)
    again = cascade_api.cascade_reprocess(db, cascaded.parent / "gapped", detected.result.seed_dates).to_dict()
    assert again["records_changed"] == 0 and again["records_recomputed"] > 0
    assert again["records_propagated_unchanged"] == 0  # early cutoff: nothing propagated past phase 3's readers
    assert_equal_stores(truth, db)


def test_a_reprocess_with_a_failed_date_exits_1_and_names_it(tmp_path, two_gaps, monkeypatch):
    """A date whose recomputation fails is in the ledger, the report and the exit code; the same
    command run again recomputes it."""
    from fullcourt.engine import runner

    truth, cascaded, detected, _, _, _ = two_gaps
    db = tmp_path / "failed.duckdb"
    shutil.copy(cascaded.parent / "loaded.duckdb", db)
    affected = tmp_path / "affected.json"
    affected.write_text(json.dumps(detected.to_dict()))
    args = ["cascade", "reprocess", "--affected-file", str(affected), "--db", str(db), "--landing",
            str(cascaded.parent / "gapped")]

    def full_disk(spec, dates):
        if spec.name == "PlayerCompositeFactorsProcessor":
            import duckdb
            raise duckdb.IOException("No space left on device")

    with monkeypatch.context() as mp:
        mp.setattr(runner, "_before_commit", full_disk)
        r = CliRunner().invoke(app, args + ["--json"])
    assert r.exit_code == 1, r.output
    failed = {p["processor"]: p.get("failed") for p in json.loads(r.stdout)["processors"]}
    assert failed["PlayerCompositeFactorsProcessor"] and not failed["PlayerShotZoneAnalysisProcessor"]
    from contextlib import contextmanager
    from fullcourt import render
    seen: list[tuple[str, int, int]] = []

    @contextmanager
    def recorded(enabled=True):  # the progress bar's callback, as on a terminal
        yield lambda name, done, total: seen.append((name, done, total))

    with monkeypatch.context() as mp:
        mp.setattr(render, "progress", recorded)
        r = CliRunner().invoke(app, args)
    assert r.exit_code == 0 and "Failed" not in r.stdout, r.output
    # --affected-file shows progress too: one step per DAG level, then done
    assert seen[0][1] == 0 and seen[-1] == ("", seen[-1][2], seen[-1][2])
    assert any("PlayerCompositeFactorsProcessor" in name for name, _, _ in seen)
    assert_equal_stores(truth, db)


@pytest.mark.parametrize("failed_reload", [False, True])
def test_work_by_hand_between_two_reloads_of_a_corrected_day_still_propagates(tmp_path, monkeypatch, failed_reload):
    """A day a whole cascade already covered is corrected late: its new data arrives with the
    first reload after that cascade. Work done by hand after it (phase 3, TDZA) and a second
    reload (or one that fails: it writes nothing) must not hide that work from the cascade."""
    from fullcourt.engine import runner

    config = LeagueConfig(seed=21, teams=4, players_per_team=8)
    truth, gapped, pristine = tmp_path / "truth", tmp_path / "gapped", tmp_path / "pristine"
    scrape_synthetic(pristine, START, END, config)
    day = game_dates(pristine)[18]
    scrape_synthetic(truth, START, END, config)
    correct(truth, day)
    scrape_synthetic(gapped, START, END, config, frozenset({day}))
    build(tmp_path / "truth.duckdb", truth)
    db = tmp_path / "store.duckdb"
    build(db, gapped)
    shutil.copytree(pristine / day.isoformat(), gapped / day.isoformat())  # the day arrives, uncorrected
    assert api.backfill(db, gapped, [day], phase=2, skip_preflight=True).ok
    cascade_api.cascade_reprocess(db, gapped, [day])  # a whole cascade covers it
    shutil.rmtree(gapped / day.isoformat())
    shutil.copytree(truth / day.isoformat(), gapped / day.isoformat())  # the correction
    assert api.backfill(db, gapped, [day], phase=2, skip_preflight=True, resume=False).ok
    assert api.backfill(db, gapped, [day], phase=3, skip_preflight=True, resume=False).ok
    api.backfill(db, gapped, DAYS, processor="TeamDefenseZoneAnalysisProcessor", skip_preflight=True, resume=False)
    if failed_reload:
        def fails(spec, dates):
            import duckdb
            raise duckdb.IOException("disk full")

        with monkeypatch.context() as mp:
            mp.setattr(runner, "_before_commit", fails)
            assert not api.backfill(db, gapped, [day], phase=2, skip_preflight=True, resume=False).ok
    assert api.backfill(db, gapped, [day], phase=2, skip_preflight=True, resume=False).ok
    report = cascade_api.cascade_reprocess(db, gapped, [day]).to_dict()
    assert report["records_propagated_unchanged"] > 0  # phase 3 and TDZA's work, by hand
    assert_equal_stores(tmp_path / "truth.duckdb", db)


def test_an_interrupted_range_reload_with_cascade_rerun_cascades_every_loaded_date(tmp_path):
    """`backfill --phase 2 <range> --cascade` stopped after its first chunk committed: the rerun
    resumes the load (it skips that chunk) and must still cascade the chunk's dates."""
    import datetime

    from fullcourt.engine import backfill as bf

    config = LeagueConfig(seed=21, teams=4, players_per_team=8)
    landing, truth_landing = tmp_path / "landing", tmp_path / "truth"
    scrape_synthetic(landing, START, END, config)
    scrape_synthetic(truth_landing, START, END, config)
    db = tmp_path / "store.duckdb"
    build(db, landing)
    late = game_dates(landing)[12]  # in the first 31-day chunk
    correct(landing, late)
    correct(truth_landing, late)
    build(tmp_path / "truth.duckdb", truth_landing)
    lo, hi = START + datetime.timedelta(days=3), START + datetime.timedelta(days=42)
    args = ["backfill", "--phase", "2", "--start-date", str(lo), "--end-date", str(hi), "--cascade", "--parallel",
            "1", "--skip-preflight", "--db", str(db), "--landing", str(landing), "--json"]
    real, calls = bf.run_processor, []

    def ctrl_c(wh, spec, dates, *args_, **kwargs):  # Ctrl-C in the last phase 2 processor's second chunk
        if spec.name == "OddsPlayerPropsProcessor":
            calls.append(dates)
            if len(calls) == 2:
                raise KeyboardInterrupt
        return real(wh, spec, dates, *args_, **kwargs)

    bf.run_processor = ctrl_c
    try:
        assert CliRunner().invoke(app, args).exit_code == 130
    finally:
        bf.run_processor = real
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert late.isoformat() in json.loads(r.stdout)["reprocess"]["backfill_dates"]
    assert_equal_stores(tmp_path / "truth.duckdb", db)


def test_least_within_takes_the_least_value_up_to_the_end_of_each_dates_period():
    """The oldest reader of a row on d lives on a date from d to the end of d's period; periods
    here: November and December (a catalog's seasons), or d + 366 days (no seasons)."""
    from fullcourt.engine.cascade import least_within
    values = {date(2021, 11, 3): 5, date(2021, 11, 20): 2, date(2021, 11, 29): 7,
              date(2021, 12, 2): 1, date(2021, 12, 30): 9}
    month_end = lambda d: date(2021, 11, 30) if d.month == 11 else date(2021, 12, 31)  # noqa: E731
    f = least_within(values, month_end)
    assert [f(d) for d in (date(2021, 11, 1), date(2021, 11, 3), date(2021, 11, 21), date(2021, 11, 30),
                           date(2021, 12, 1), date(2021, 12, 3), date(2021, 12, 31))] == [2, 2, 7, None, 1, 9, None]
    g = least_within(values, lambda d: d + timedelta(days=366))  # no seasons: every later date counts
    assert [g(date(2021, 11, 1)), g(date(2021, 11, 21)), g(date(2021, 12, 3))] == [1, 1, 9]
    assert least_within({}, month_end)(date(2021, 11, 1)) is None



def test_labels_grouped_by_date_keep_every_label_as_stored():
    """Labels cross from DuckDB as one joined string per date; a label holding the separator,
    an empty label or a NULL one comes back as stored (the list fallback), and so do plain ones."""
    import duckdb
    from fullcourt.engine.cascade import _by_date
    con = duckdb.connect()
    con.execute("CREATE TABLE t (d DATE, e VARCHAR)")
    d1, d2, d3 = date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)
    plain = [(d1, "lebronjames"), (d1, "(203507, LAL)"), (d1, ""), (d2, "ATL")]
    con.executemany("INSERT INTO t VALUES (?, ?)", plain)
    assert _by_date(con, "SELECT d, e FROM t WHERE d >= ?", [d1]) == {
        d1: {"lebronjames", "(203507, LAL)", ""}, d2: {"ATL"}}
    con.executemany("INSERT INTO t VALUES (?, ?)", [(d2, "a\x1fb"), (d3, None)])
    assert _by_date(con, "SELECT d, e FROM t", []) == {
        d1: {"lebronjames", "(203507, LAL)", ""}, d2: {"ATL", "a\x1fb"}, d3: {None}}
    # several group columns before the labels (as next games' (x, last, reach, labels)), both ways
    from fullcourt.engine.cascade import _grouped
    for where in ("e <> 'a\x1fb'", "true"):
        rows = _grouped(con, lambda labels: f"SELECT d, d + 1, {labels} FROM t WHERE e IS NOT NULL AND {where} "
                                            "GROUP BY 1, 2 ORDER BY 1", "e", [])
        assert rows == [(d1, d1 + timedelta(days=1), {"lebronjames", "(203507, LAL)", ""}),
                        (d2, d2 + timedelta(days=1), {"ATL"} | ({"a\x1fb"} if where == "true" else set()))]

@pytest.fixture(scope="module")
def complete_season(tmp_path_factory):
    """The complete landing folder of seed 21's small league and its store built from scratch:
    (landing, truth.duckdb)."""
    root = tmp_path_factory.mktemp("complete")
    truth = root / "truth"
    scrape_synthetic(truth, START, END, LeagueConfig(seed=21, teams=4, players_per_team=8))
    build(root / "truth.duckdb", truth)
    return truth, root / "truth.duckdb"


@pytest.mark.parametrize("case", ["an outage mid-window", "an outage on the last day the flow ran",
                                  "PSZA and TDZA run by hand while the outage is open",
                                  "the outage day run without triggering its readers"])
def test_a_cascade_after_an_outage_run_by_the_daily_flow_equals_a_rebuild(tmp_path, complete_season, case):
    """The daily flow runs on through an outage: phase 2 fails on the outage day, every later
    day blocks PSZA and TDZA, and PCF, PDC and MLFS never run there (no ledger row). When the
    late day arrives, the cascade must fill those too, past their last ledger date; and the
    outage day itself when it is the last day the flow ran (no phase 3 or 4 ledger row on or
    after it). Found by two adversarial rounds: exit 0 with those records missing. The outage
    day run with --skip-downstream-trigger orphans nothing there, yet it lies inside PCF's
    history, which its orphaned days after the outage extend (a ninth round: PSZA was rebuilt
    there and PCF, PDC and MLFS were not)."""
    truth, truth_db = complete_season
    gapped = tmp_path / "gapped"
    at = {"an outage on the last day the flow ran": -1, "the outage day run without triggering its readers": -4}
    outage = game_dates(truth)[at.get(case, -10)]  # late in the window: fewer days of daily runs
    scrape_synthetic(gapped, START, END, LeagueConfig(seed=21, teams=4, players_per_team=8), frozenset({outage}))
    db = tmp_path / "daily.duckdb"
    before = [d for d in DAYS if d < outage]
    for phase in (2, 3, 4):
        assert api.backfill(db, gapped, before, phase=phase, skip_preflight=True, parallel=1).ok
    for d in DAYS:
        if d >= outage:  # the outage day fails; later days' phase 4 is blocked
            api.run(db, gapped, d, skip_downstream_trigger=d == outage and case.startswith("the outage day run"))
    if case.startswith("PSZA and TDZA"):  # they succeed by hand; their readers never ran there
        later = [d for d in DAYS if d > outage]
        for name in ("PlayerShotZoneAnalysisProcessor", "TeamDefenseZoneAnalysisProcessor"):
            assert api.backfill(db, gapped, later, processor=name, skip_preflight=True, parallel=1).ok
    shutil.rmtree(gapped / outage.isoformat(), ignore_errors=True)
    shutil.copytree(truth / outage.isoformat(), gapped / outage.isoformat())
    assert api.backfill(db, gapped, [outage], phase=2, skip_preflight=True).ok
    cascade_api.cascade_detect(db, [outage])
    report = cascade_api.cascade_reprocess(db, gapped, [outage])
    assert report.ok
    assert_equal_stores(truth_db, db)


def remove_line(landing: Path, d: date) -> None:
    """A late correction that removes a line credited in error: the last home player of d's
    first game leaves the box score (his share of the team totals and his shots with him)."""
    path = sorted((landing / d.isoformat()).glob("boxscore_*.json"))[0]
    box = json.loads(path.read_text())
    team = box["game"]["homeTeam"]
    gone = team["players"].pop()
    for key, value in gone["statistics"].items():
        if isinstance(value, (int, float)) and key in team["statistics"] and key != "plusMinusPoints":
            team["statistics"][key] -= value
    team["score"] -= gone["statistics"].get("points", 0)
    path.write_text(json.dumps(box, ensure_ascii=False, sort_keys=True, indent=1))
    shots = landing / d.isoformat() / f"shots_{box['game']['gameId']}.json"
    chart = json.loads(shots.read_text())
    chart["shotchart"]["shots"] = [s for s in chart["shotchart"]["shots"] if s["personId"] != gone["personId"]]
    shots.write_text(json.dumps(chart, ensure_ascii=False, sort_keys=True, indent=1))


def interrupted_at_phase_4(monkeypatch, db: Path, landing: Path, days: list[date]) -> None:
    """A cascade reprocess of `days` killed when phase 4 starts (phase 3 committed)."""
    from fullcourt.engine import cascade as engine
    real = engine.run_processor

    def dies(wh, spec, *a, **k):
        if spec.phase == 4:
            raise KeyboardInterrupt
        return real(wh, spec, *a, **k)

    with monkeypatch.context() as mp:
        mp.setattr(engine, "run_processor", dies)
        with pytest.raises(KeyboardInterrupt):
            cascade_api.cascade_reprocess(db, landing, days, parallel=1)


@pytest.fixture(scope="module")
def removed_line(tmp_path_factory):
    """A store built in order, then a late correction of one day that removes a player's line,
    reloaded (phase 2) and not cascaded yet: (root, day). root holds truth.duckdb (the rebuild),
    loaded.duckdb and the landing folder."""
    root = tmp_path_factory.mktemp("removed")
    config = LeagueConfig(seed=21, teams=4, players_per_team=8)
    truth, landing = root / "truth", root / "landing"
    scrape_synthetic(truth, START, END, config)
    scrape_synthetic(landing, START, END, config)
    day = game_dates(truth)[12]
    remove_line(truth, day)
    build(root / "truth.duckdb", truth)
    build(root / "loaded.duckdb", landing)
    shutil.rmtree(landing / day.isoformat())
    shutil.copytree(truth / day.isoformat(), landing / day.isoformat())
    assert api.backfill(root / "loaded.duckdb", landing, [day], phase=2, skip_preflight=True).ok
    return root, day


@pytest.mark.parametrize("outside", ["nothing", "a daily run of the day", "an interrupted reprocess"])
def test_a_removed_line_reaches_its_readers_after_work_outside_the_cascade(tmp_path, monkeypatch, removed_line,
                                                                           outside):
    """Work outside a cascade that deletes the removed player's records (a daily run of the
    day, or a reprocess interrupted after phase 3) leaves no stored row to compare or to name
    him; his later records still hold the removed game. The deletions are logged by label
    (removed_records) and the cascade propagates them (found by an adversarial round)."""
    root, day = removed_line
    landing, db = root / "landing", tmp_path / "store.duckdb"
    shutil.copy(root / "loaded.duckdb", db)
    if outside == "a daily run of the day":
        api.run(db, landing, day)
    elif outside == "an interrupted reprocess":
        interrupted_at_phase_4(monkeypatch, db, landing, [day])
    detected = cascade_api.cascade_detect(db, [day])
    with Warehouse(db, catalog()) as wh:
        logged = dict(wh.con.execute(LOGGED_REMOVALS).fetchall())
    reprocessed = cascade_api.cascade_reprocess(db, landing, [day])
    assert reprocessed.ok
    assert_equal_stores(root / "truth.duckdb", db)
    if outside != "an interrupted reprocess":  # a resumed run recomputes what the first one left
        assert not detected.result.missed(reprocessed.result.records())
    # the runs before the cascade logged the removal (the reload's, the daily run's, the
    # interrupted reprocess's); the finished cascade propagated them and its own runs'
    # removals, so no entry is left (a later cascade: the next test)
    assert logged and ("cascade-interrupted" in logged) == (outside == "an interrupted reprocess")
    with Warehouse(db, catalog()) as wh:
        assert wh.con.execute(LOGGED_REMOVALS).fetchall() == []


def late_edits(tmp_path: Path, edits: Sequence[tuple[int, Callable[[Path, date], None]]]
               ) -> tuple[Path, Path, list[date]]:
    """Seed 21's small league built from scratch into store.duckdb; the late `edits` ((game
    date index, edit(landing, day))) made to the final data in tmp_path/truth, rebuilt into
    truth.duckdb, and their days' files copied into the store's landing folder (not loaded):
    (landing, store, the edited days)."""
    config = LeagueConfig(seed=21, teams=4, players_per_team=8)
    truth, landing = tmp_path / "truth", tmp_path / "landing"
    scrape_synthetic(truth, START, END, config)
    scrape_synthetic(landing, START, END, config)
    days = [game_dates(truth)[i] for i, _ in edits]
    db = tmp_path / "store.duckdb"
    build(db, landing)
    for d, (_, edit) in zip(days, edits):
        edit(truth, d)
    build(tmp_path / "truth.duckdb", truth)
    for d in days:
        shutil.rmtree(landing / d.isoformat())
        shutil.copytree(truth / d.isoformat(), landing / d.isoformat())
    return landing, db, days


def test_a_later_cascade_of_an_earlier_day_needs_no_removal_a_whole_cascade_propagated(tmp_path):
    """An earlier day corrected and reloaded, not cascaded; a daily run of a later day removes a
    player's line (logged); that day's cascade propagates the removal and forgets it. The
    earlier day's cascade then counts the daily run among the runs since its reload (it would
    read the log), and still ends equal to a rebuild: the removal's readers were recomputed."""
    landing, db, (earlier, later) = late_edits(tmp_path, [(5, correct), (12, remove_line)])
    assert api.backfill(db, landing, [earlier], phase=2, skip_preflight=True).ok
    api.run(db, landing, later)
    with Warehouse(db, catalog()) as wh:
        assert "daily" in dict(wh.con.execute(LOGGED_REMOVALS).fetchall())
    assert cascade_api.cascade_reprocess(db, landing, [later]).ok
    with Warehouse(db, catalog()) as wh:
        assert wh.con.execute(LOGGED_REMOVALS).fetchall() == []
        runs = cascade_api._fresh_runs(wh, [s.name for s in cascade_api.seed_specs()], [earlier])
        daily = wh.con.execute("SELECT DISTINCT run_id FROM nba_reference.processor_run_history "
                               "WHERE data_date = ? AND triggered_by <> 'cascade'", [later]).fetchall()
    assert {r for r, in daily} & set(runs)  # the earlier day's cascade counts the daily run
    assert cascade_api.cascade_reprocess(db, landing, [earlier]).ok
    assert_equal_stores(tmp_path / "truth.duckdb", db)


def test_a_resumed_cascade_reaches_the_readers_of_a_line_it_removes_itself(tmp_path, monkeypatch):
    """A removed line reloaded and its reprocess interrupted after phase 3; then another line
    removed on a later day, reloaded and cascaded whole. That cascade resumes the first (no
    early cutoff: whole dates pass on without labels), and its own phase 3 run deletes the
    second player's record, so neither the stored rows nor the removed-records log of earlier
    runs name him: his later windows kept the removed game (found by an adversarial round;
    PSZA 40 rows, PCF/PDC 14, MLFS 18 unlike a rebuild). The labels a whole date passes on
    without are kept as removed for its readers' windows."""
    landing, db, (first, later) = late_edits(tmp_path, [(12, remove_line), (20, remove_line)])
    assert api.backfill(db, landing, [first], phase=2, skip_preflight=True).ok
    interrupted_at_phase_4(monkeypatch, db, landing, [first])
    assert api.backfill(db, landing, [later], phase=2, skip_preflight=True).ok
    cascade_api.cascade_detect(db, [later])
    report = cascade_api.cascade_reprocess(db, landing, [later])
    assert report.ok and report.resumed and report.result.seed_dates == [first, later]
    assert_equal_stores(tmp_path / "truth.duckdb", db)


LOGGED_REMOVALS = """
    SELECT CASE WHEN l.triggered_by <> 'cascade' THEN 'daily'
                WHEN c.finished_at IS NULL THEN 'cascade-interrupted' ELSE 'cascade-finished' END, count(*)
    FROM nba_processing.removed_records r
    JOIN (SELECT DISTINCT run_id, triggered_by, started_at FROM nba_reference.processor_run_history) l USING (run_id)
    LEFT JOIN nba_processing.cascade_runs c
      ON c.kind = 'reprocess' AND l.started_at BETWEEN c.started_at AND coalesce(c.finished_at, c.started_at)
    GROUP BY 1"""


@pytest.mark.parametrize("late, built, outage", [
    (10, "to 25", False),  # a correction inside phase 4's range
    (30, "to 25", False),  # a correction after its last date
    (20, "from 25", True),  # an outage before its first date: phase 2 fails, phase 3 skips it
], ids=["inside", "after-its-last-date", "outage-before-its-first-date"])
def test_a_cascade_does_not_build_phase_4_where_it_was_never_built(tmp_path, late, built, outage):
    """Phases 2 and 3 over the whole window, phase 4 over part of it; a late day, inside that
    part or outside it. The cascade fills history, it does not extend phase 4 to dates the user
    never built downstream: the store equals a rebuild of the same phases over the same dates.
    Adversarial rounds found half-built phase 4 dates (only the corrected game's players,
    recorded as done) and, outside the part, phase 4 built whole on the late day: a reloaded
    date phase 4 never ran on was let in, and so was a date where a backfill's phase 3 skipped
    (a backfill triggers nothing: its skip does not mean phase 4 was meant to run there)."""
    config = LeagueConfig(seed=21, teams=4, players_per_team=8)
    landing, final = tmp_path / "landing", tmp_path / "final"
    scrape_synthetic(final, START, END, config)
    days = game_dates(final)
    day = days[late]
    scrape_synthetic(landing, START, END, config, frozenset({day}) if outage else frozenset())
    if not outage:
        correct(final, day)
    part = [d for d in DAYS if (d <= days[25] if built == "to 25" else d >= days[25])]
    ranges = [(2, DAYS), (3, DAYS), (4, part)]
    for db, folder in ((tmp_path / "truth.duckdb", final), (tmp_path / "store.duckdb", landing)):
        for phase, ds in ranges:
            report = api.backfill(db, folder, ds, phase=phase, skip_preflight=True, parallel=1)
            assert report.ok or (outage and folder == landing)
    shutil.rmtree(landing / day.isoformat(), ignore_errors=True)
    shutil.copytree(final / day.isoformat(), landing / day.isoformat())
    db = tmp_path / "store.duckdb"
    assert api.backfill(db, landing, [day], phase=2, skip_preflight=True).ok
    cascade_api.cascade_detect(db, [day])
    assert cascade_api.cascade_reprocess(db, landing, [day]).ok
    assert_equal_stores(tmp_path / "truth.duckdb", db)
