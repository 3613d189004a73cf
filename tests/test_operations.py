"""Daily operations (seed 002): the daily run, strict-mode blocks, triggers, workers, alerts.

One small league is scraped once per module with a scraper outage on X (2021-11-17) and
backfilled (phases 2-4) up to the day before; each test works on its own copy of the store.
X is a game date, Y the next game date, Z a later game date whose 15-day lookback covers X.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from fullcourt import api
from fullcourt.cli import app
from fullcourt.dates import date_range
from fullcourt.engine.alerts import WEBHOOK_ENV
from fullcourt.engine.checks import strict_check
from fullcourt.engine.triggers import topic_for
from fullcourt.engine.warehouse import Warehouse
from fullcourt.nba.pipeline import catalog, registry
from fullcourt.nba.sources.synthetic import LeagueConfig, scrape_synthetic
from remedies import no_traceback  # noqa: E402

CONFIG = LeagueConfig(seed=5, teams=6, players_per_team=10)
SEASON_START, SCRAPE_END = date(2021, 10, 19), date(2021, 11, 30)
X, Y, Z = date(2021, 11, 17), date(2021, 11, 18), date(2021, 11, 22)
LEDGER = catalog().ledger_table
OUTBOX = catalog().outbox_table
ALERTS = catalog().alerts_table
FAILED_ON_OUTAGE = {  # the phase 2 processors that read the per-game payloads the outage removed
    "NbacGamebookProcessor", "NbacPlayerBoxscoreProcessor", "NbacShotsProcessor", "NbacTeamBoxscoreProcessor",
}
PHASE2 = {s.name for s in registry().phase(2)}
DOWNSTREAM = {s.name for s in registry().phase(3) + registry().phase(4)}
OUTPUT = {s.name: (s.output_table, s.date_column) for s in registry().order}
BLOCKED_BY_X = {  # the processors of Y whose windows read X; their children never become ready
    "UpcomingPlayerGameContextProcessor", "PlayerShotZoneAnalysisProcessor", "TeamDefenseZoneAnalysisProcessor",
}
NEVER_READY = {"PlayerCompositeFactorsProcessor", "PlayerDailyCacheProcessor", "MLFeatureStoreProcessor"}
REMEDY_X = "fullcourt backfill --phase 2 --dates 2021-11-17"

cli = CliRunner()


@dataclass
class Store:
    db: Path
    landing: Path


def q(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    """Read from a store between commands (the connection is closed before returning)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def write(db: Path, sql: str, params: list[Any] | None = None, many: bool = False) -> None:
    con = duckdb.connect(str(db))
    try:
        (con.executemany if many else con.execute)(sql, params or [])
    finally:
        con.close()


def ledger(db: Path, d: date) -> dict[str, list[tuple]]:
    """processor -> [(status, triggered_by, trigger_message_id, strict_mode, skip_downstream_trigger)]."""
    out: dict[str, list[tuple]] = {}
    for name, *rest in q(db, f"SELECT processor_name, status, triggered_by, trigger_message_id, strict_mode, "
                             f"skip_downstream_trigger FROM {LEDGER} WHERE data_date = ? ORDER BY started_at", [d]):
        out.setdefault(name, []).append(tuple(rest))
    return out


def rows_on(db: Path, processor: str, d: date) -> int:
    table, column = OUTPUT[processor]
    return q(db, f"SELECT count(*) FROM {table} WHERE {column} = ?", [d])[0][0]


def outbox(db: Path) -> list[tuple]:
    return q(db, f"SELECT * FROM {OUTBOX} ORDER BY published_at, message_id")


def alerts(db: Path) -> list[tuple]:
    """(severity, processor, data_date, message, remedy, delivered), oldest first."""
    return q(db, f"SELECT severity, processor, data_date, message, remedy, delivered FROM {ALERTS} "
                 "ORDER BY created_at")


def rescrape_x(store: Store) -> None:
    """The outage is over: the scraper writes X's payloads (same league, nothing failed)."""
    result = scrape_synthetic(store.landing, X, X, CONFIG)
    assert result.dates_written == [X] and not result.dates_failed


@pytest.fixture(scope="module")
def league(tmp_path_factory) -> Store:
    root = tmp_path_factory.mktemp("ops")
    base = Store(root / "base.duckdb", root / "landing")
    scraped = scrape_synthetic(base.landing, SEASON_START, SCRAPE_END, CONFIG, fail_dates=frozenset({X}))
    assert scraped.dates_failed == [X]
    season = json.loads((base.landing / "schedule" / "2021-22.json").read_text())["leagueSchedule"]["gameDates"]
    game_dates = sorted(date.fromisoformat(g["gameDate"][:10]) for g in season if g.get("games"))
    assert X in game_dates and game_dates[game_dates.index(X) + 1] == Y
    assert Z in game_dates and Y < Z <= X + timedelta(days=15)
    history = date_range(SEASON_START, X - timedelta(days=1))
    for phase in (2, 3, 4):
        assert api.backfill(base.db, base.landing, history, phase=phase, skip_preflight=True).ok
    return base


@pytest.fixture(scope="module")
def x_failed(league: Store, tmp_path_factory) -> Store:
    """The league after the daily run of X failed (scenario B's first run): the start of scenario C."""
    root = tmp_path_factory.mktemp("x_failed")
    failed = Store(root / "x_failed.duckdb", league.landing)
    shutil.copy(league.db, failed.db)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(WEBHOOK_ENV, raising=False)
        assert api.run(failed.db, failed.landing, X).exit_code == 1
    return failed


def copy_of(base: Store, tmp_path: Path) -> Store:
    mine = Store(tmp_path / "f.duckdb", tmp_path / "landing")
    shutil.copy(base.db, mine.db)
    shutil.copytree(base.landing, mine.landing)
    return mine


@pytest.fixture
def store(league: Store, tmp_path: Path) -> Store:
    """A private copy of the league's store (history up to X, exclusive) and landing folder."""
    return copy_of(league, tmp_path)


@pytest.fixture(scope="module")
def x_unprocessed(league: Store, tmp_path_factory) -> Store:
    """X's payloads are in the landing folder but X was never processed: phases 2-3 are
    backfilled for the dates after X up to Z (exclusive); no run of X exists, none failed."""
    unprocessed = copy_of(league, tmp_path_factory.mktemp("x_unprocessed"))
    rescrape_x(unprocessed)
    between = date_range(Y, Z - timedelta(days=1))  # X excluded
    for phase in (2, 3):
        assert api.backfill(unprocessed.db, unprocessed.landing, between, phase=phase, skip_preflight=True).ok
    return unprocessed


@pytest.fixture
def after_x_failed(x_failed: Store, tmp_path: Path) -> Store:
    """A private copy of the store in which X's daily run failed."""
    return copy_of(x_failed, tmp_path)


@pytest.fixture(autouse=True)
def no_webhook(monkeypatch):
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)


def test_same_day_failure_then_rerun_cascades_through_phases_3_and_4(store):
    """Scenario B: X's phase 2 fails (alerts, nothing downstream); after the re-scrape, one
    `run` of X cascades by itself through phases 3 and 4 via trigger messages."""
    first = api.run(store.db, store.landing, X)
    assert first.exit_code == 1 and not first.blocks
    assert sorted(first.failed) == sorted((p, X) for p in FAILED_ON_OUTAGE)
    assert {(a.severity, a.processor, a.data_date) for a in first.alerts} == {("error", p, X) for p in FAILED_ON_OUTAGE}
    stored = alerts(store.db)
    assert sorted((s, p, d) for s, p, d, *_ in stored) == sorted(("error", p, X) for p in FAILED_ON_OUTAGE)
    assert all(m.startswith(f"FAILED: {p} for 2021-11-17: no ") for _, p, _, m, _, _ in stored)
    assert all(delivered is None for *_, delivered in stored)  # no webhook configured
    assert set(ledger(store.db, X)) == PHASE2  # nothing downstream ran

    rescrape_x(store)
    second = api.run(store.db, store.landing, X)
    assert second.exit_code == 0, second.to_dict()
    assert not second.failed and not second.blocks and not second.alerts
    # status shows the latest run's errors (none), not the failed run's: a NULL is the latest value
    latest = {r.processor: r for r in api.status(store.db, X, X).rows}
    assert {p: (latest[p].status, latest[p].errors) for p in FAILED_ON_OUTAGE} == \
        {p: ("success", []) for p in FAILED_ON_OUTAGE}
    runs = ledger(store.db, X)
    assert set(runs) == PHASE2 | DOWNSTREAM
    consumed = {m for m, c in q(store.db, f"SELECT message_id, consumed_at IS NOT NULL FROM {OUTBOX}") if c}
    for name in DOWNSTREAM:
        assert len(runs[name]) == 1, name
        status, by, message_id, strict, _ = runs[name][0]
        assert (status, by, strict) == ("success", "trigger", True), name
        assert message_id in consumed, name
    for name in ("PlayerGameSummaryProcessor", "PlayerShotZoneAnalysisProcessor", "MLFeatureStoreProcessor"):
        assert rows_on(store.db, name, X) > 0, name
    pgs_games = q(store.db, "SELECT DISTINCT game_id FROM nba_analytics.player_game_summary WHERE game_date = ? "
                            "ORDER BY 1", [X])
    assert pgs_games == q(store.db, "SELECT game_id FROM nba_raw.nbac_schedule WHERE game_date = ? ORDER BY 1", [X])
    assert q(store.db, f"SELECT count(*) FROM {OUTBOX} WHERE consumed_at IS NULL") == [(0,)]


def test_rerun_of_a_complete_day_runs_each_processor_once(store):
    """Rerunning a day whose downstream already succeeded: a processor waits until none of its
    ancestors has a trigger still pending for the day, so it runs once, on fresh inputs (it ran
    twice before: PCF on the old TDZA row, then again after TDZA's rerun)."""
    rescrape_x(store)
    assert api.run(store.db, store.landing, X).exit_code == 0
    again = api.run(store.db, store.landing, X)
    assert again.exit_code == 0, again.to_dict()
    runs = ledger(store.db, X)
    for name in DOWNSTREAM:
        assert [r[0] for r in runs[name]] == ["success", "success"], (name, runs[name])
    assert sorted(r.processor for r in again.runs) == sorted(PHASE2 | DOWNSTREAM)
    started = {n: q(store.db, f"SELECT max(started_at) FROM {LEDGER} WHERE processor_name = ? AND data_date = ?",
                    [n, X])[0][0] for n in PHASE2 | DOWNSTREAM}
    for spec in registry().order:  # every rerun started after its parents' reruns
        for parent in registry().upstream(spec):
            assert started[spec.name] > started[parent.name], (spec.name, parent.name)


def test_a_child_waiting_on_an_ancestor_that_does_not_rerun_still_runs(store):
    """Rerunning a complete day whose shot logs are now missing: PGS cannot rerun, so the
    context (UPGC), which waited for the box-score triggers, is checked again when the queue
    is empty and runs once, as do its descendants that are ready; nothing runs twice."""
    rescrape_x(store)
    assert api.run(store.db, store.landing, X).exit_code == 0
    for f in (store.landing / X.isoformat()).glob("shots_*.json"):
        f.unlink()
    again = api.run(store.db, store.landing, X)
    assert ("NbacShotsProcessor", X) in again.failed
    ran = [r.processor for r in again.runs if r.rows]
    assert len(ran) == len(set(ran)), ran
    assert "UpcomingPlayerGameContextProcessor" in ran and "PlayerGameSummaryProcessor" not in ran


def test_next_day_run_is_blocked_by_yesterdays_failure(after_x_failed):
    """Scenario C: Y's processors whose windows read X are blocked, write nothing, alert."""
    store = after_x_failed
    res = api.run(store.db, store.landing, Y)
    assert res.exit_code == 3
    assert {b.processor for b in res.blocks} == BLOCKED_BY_X
    for b in res.blocks:
        assert b.kind == "Upstream Failure" and b.data_date == Y and b.dates == [X]
        assert "NbacPlayerBoxscoreProcessor" in b.culprits and set(b.culprits) <= FAILED_ON_OUTAGE
        assert b.message.startswith(f"BLOCKED: Upstream Failure: {b.processor} for 2021-11-18: ")
        assert "2021-11-17" in b.message and REMEDY_X in b.remedy
    runs = ledger(store.db, Y)
    for name in BLOCKED_BY_X:
        assert [r[0] for r in runs[name]] == ["blocked"], name
        assert rows_on(store.db, name, Y) == 0, name
    for name in NEVER_READY:
        assert name not in runs and rows_on(store.db, name, Y) == 0, name
    assert [r[0] for r in runs["PlayerGameSummaryProcessor"]] == ["success"]  # reads Y only
    assert rows_on(store.db, "PlayerGameSummaryProcessor", Y) > 0
    critical = [a for a in alerts(store.db) if a[0] == "critical"]
    assert sorted(a[1] for a in critical) == sorted(BLOCKED_BY_X)
    for _, _, d, message, remedy, _ in critical:
        assert d == Y and message.startswith("BLOCKED: Upstream Failure") and REMEDY_X in remedy
        assert remedy.endswith("then rerun: fullcourt run --date 2021-11-18")


def test_cli_blocked_run_exits_3_and_prints_the_remedy(after_x_failed):
    store = after_x_failed
    r = cli.invoke(app, ["run", "--date", "2021-11-18", "--db", str(store.db), "--landing", str(store.landing)])
    assert r.exit_code == 3, r.output
    assert "BLOCKED: Upstream Failure" in r.stderr
    assert f"fullcourt backfill --db {store.db} --landing {store.landing} --phase 2 --dates 2021-11-17" \
        in " ".join(r.stderr.split())  # the remedy names the store and landing the command was given
    assert no_traceback(r)


def assert_blocked_by_gap_on_x(res) -> None:
    assert res.exit_code == 3
    assert {b.processor for b in res.blocks} == BLOCKED_BY_X
    for b in res.blocks:
        assert (b.kind, b.data_date, b.dates) == ("Data Gaps", Z, [X])
        assert "missing dates 2021-11-17" in b.message and REMEDY_X in b.remedy


def test_gap_in_lookback_blocks_until_backfilled(x_unprocessed, tmp_path):
    """Scenario D: X's games are scheduled (its schedule landed) but nothing else of X was
    processed, and no run of X failed: Z's lookback has a data gap until X is backfilled."""
    store = copy_of(x_unprocessed, tmp_path)
    assert api.backfill(store.db, store.landing, [X], processor="schedule", skip_preflight=True).ok
    assert set(ledger(store.db, X)) == {"NbacScheduleProcessor"}

    blocked = api.run(store.db, store.landing, Z)
    assert_blocked_by_gap_on_x(blocked)
    runs = ledger(store.db, Z)
    for name in BLOCKED_BY_X:
        assert [r[0] for r in runs[name]] == ["blocked"] and rows_on(store.db, name, Z) == 0, name
    assert {a[1] for a in alerts(store.db) if a[0] == "critical" and a[2] == Z} == BLOCKED_BY_X

    for phase in (2, 3):
        assert api.backfill(store.db, store.landing, [X], phase=phase, skip_preflight=True).ok
    again = api.run(store.db, store.landing, Z)
    assert again.exit_code == 0, again.to_dict()
    latest = {name: runs[-1][0] for name, runs in ledger(store.db, Z).items()}
    assert latest == {name: "success" for name in PHASE2 | DOWNSTREAM}
    for name in BLOCKED_BY_X | NEVER_READY:
        assert rows_on(store.db, name, Z) > 0, name


def test_gap_of_a_date_that_never_ran_at_all_blocks(x_unprocessed, tmp_path):
    """Scenario D as the seed tells it: X failed to scrape and was never re-run (no ledger row
    of X at all, not even the schedule's), yet X is in the league schedule: strict mode must
    see the gap in Z's lookback."""
    store = copy_of(x_unprocessed, tmp_path)
    assert ledger(store.db, X) == {}
    with Warehouse(store.db, catalog()) as wh:
        block = strict_check(wh, registry(), registry().get("upgc"), Z)
    assert block is not None and (block.kind, block.dates) == ("Data Gaps", [X])


def test_skip_downstream_trigger_runs_phase_2_only_and_publishes_nothing(store):
    earlier = X - timedelta(days=1)
    write(store.db, f"INSERT INTO {OUTBOX} VALUES ('pending-1', 'phase3-trigger', 'NbacPlayerBoxscoreProcessor', ?, "
                    "'r1', TIMESTAMP '2021-11-16 08:00:00', NULL, NULL, '{}')", [earlier])
    before = outbox(store.db)
    before_earlier = ledger(store.db, earlier)

    res = api.run(store.db, store.landing, Y, skip_downstream_trigger=True)
    assert res.exit_code == 0 and res.messages == 0
    assert {r.processor for r in res.runs} == PHASE2
    assert outbox(store.db) == before  # nothing published, the pending message not consumed
    runs = ledger(store.db, Y)
    assert set(runs) == PHASE2
    assert all(r == [("success", "cli", None, True, True)] for r in runs.values())
    assert ledger(store.db, earlier) == before_earlier


def test_strict_mode_false_runs_what_strict_mode_blocks(after_x_failed):
    store = after_x_failed
    res = api.run(store.db, store.landing, Y, strict_mode=False)
    assert res.exit_code == 0 and not res.blocks and not res.failed
    runs = ledger(store.db, Y)
    assert all(r[0] != "blocked" for rs in runs.values() for r in rs)
    for name in BLOCKED_BY_X:
        assert [(r[0], r[3]) for r in runs[name]] == [("success", False)], name
    assert rows_on(store.db, "UpcomingPlayerGameContextProcessor", Y) > 0
    assert not [a for a in alerts(store.db) if a[0] == "critical"]


def test_two_workers_consume_each_message_exactly_once(store):
    """24 pending messages (every phase 2 success of X and Y, each published twice, as a
    redelivering publisher would) and two `worker --once` processes started together: each
    message is consumed once, by one of them, and each downstream processor runs once per date."""
    rescrape_x(store)
    days = [X, Y]
    assert api.backfill(store.db, store.landing, days, phase=2, skip_preflight=True).ok
    assert outbox(store.db) == []
    reg = registry()
    successes = q(store.db, f"SELECT processor_name, data_date FROM {LEDGER} WHERE status = 'success' "
                            "AND data_date IN (SELECT unnest(?::DATE[])) ORDER BY data_date, processor_name", [days])
    assert sorted(successes) == sorted((p, d) for p in PHASE2 for d in days)
    t0 = datetime(2021, 11, 19, 6, 0)
    seeded = [(f"seed-{i:02d}", topic_for(reg, reg.by_name[p]), p, d, "seed-run", t0 + timedelta(seconds=i), "{}")
              for i, (p, d) in enumerate(successes * 2)]
    assert len(seeded) == 24
    write(store.db, f"INSERT INTO {OUTBOX} (message_id, topic, processor, data_date, run_id, published_at, attributes) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", seeded, many=True)

    env = {**os.environ, "FULLCOURT_LOCK_TIMEOUT": "60"}
    env.pop(WEBHOOK_ENV, None)
    cmd = [sys.executable, "-c", "from fullcourt.cli import main; main()", "worker", "--once", "--json",
           "--db", str(store.db), "--landing", str(store.landing)]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    try:
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    names = {f"worker-{p.pid}" for p in procs}

    messages = q(store.db, f"SELECT message_id, consumed_at, consumed_by FROM {OUTBOX}")
    ids = [m for m, _, _ in messages]
    assert len(ids) == len(set(ids)) and {s[0] for s in seeded} <= set(ids)
    assert all(at is not None and by.rsplit("-", 1)[0] in names for _, at, by in messages)
    assert sum(json.loads(out)["messages_consumed"] for out, _ in outs) == len(messages)

    runs = q(store.db, f"SELECT processor_name, data_date, count(*), list(status), list(triggered_by), "
                       f"list(trigger_message_id) FROM {LEDGER} WHERE data_date IN (SELECT unnest(?::DATE[])) "
                       "GROUP BY 1, 2", [days])
    by_key = {(p, d): (n, st, by, mid) for p, d, n, st, by, mid in runs}
    assert set(by_key) == {(p, d) for p in PHASE2 | DOWNSTREAM for d in days}
    for (p, d), (n, st, by, mid) in by_key.items():
        if p in PHASE2:
            assert (n, by) == (1, ["backfill"]), (p, d)
        else:
            assert (n, st, by) == (1, ["success"], ["trigger"]), (p, d)
            assert mid[0] in ids, (p, d)


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[str, dict]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook():
    handler = type("Hook", (_Hook,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler.received
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_alerts_post_to_the_webhook_and_a_dead_webhook_fails_nothing(after_x_failed, hook, monkeypatch):
    """Scenario C with $FULLCOURT_ALERT_WEBHOOK set: each block is posted as a Slack-style JSON
    body; with the hook down the run still blocks the same way and the rows say undelivered."""
    store = after_x_failed
    url, received = hook
    before = alerts(store.db)  # X's failure alerts, raised without a webhook
    assert [(s, delivered) for s, *_, delivered in before] == [("error", None)] * len(FAILED_ON_OUTAGE)
    monkeypatch.setenv(WEBHOOK_ENV, url)
    assert api.run(store.db, store.landing, Y).exit_code == 3
    posted = alerts(store.db)[len(before):]
    assert sorted((s, p, d, delivered) for s, p, d, _, _, delivered in posted) == \
        sorted(("critical", p, Y, True) for p in BLOCKED_BY_X)
    assert len(received) == len(BLOCKED_BY_X)
    for ctype, body in received:
        assert ctype == "application/json"
        assert body["text"].startswith(":rotating_light: fullcourt critical: BLOCKED: Upstream Failure: ")
        assert REMEDY_X in body["text"]
    assert sorted(body["text"] for _, body in received) == \
        sorted(f":rotating_light: fullcourt critical: {m}\nFix: `{r}`" for _, _, _, m, r, _ in posted)

    monkeypatch.setenv(WEBHOOK_ENV, f"http://127.0.0.1:{closed_port()}/hook")
    res = api.run(store.db, store.landing, Y)  # still blocked, now alerting into a dead hook
    assert res.exit_code == 3 and {b.processor for b in res.blocks} == BLOCKED_BY_X
    assert [a.delivered for a in res.alerts] == [False] * len(BLOCKED_BY_X)
    undelivered = alerts(store.db)[len(before) + len(posted):]
    assert sorted((s, p, d, delivered) for s, p, d, _, _, delivered in undelivered) == \
        sorted(("critical", p, Y, False) for p in BLOCKED_BY_X)
    assert len(received) == len(BLOCKED_BY_X)  # the live hook got nothing more

    monkeypatch.setenv(WEBHOOK_ENV, "notaurl")  # malformed: urllib cannot even build the request
    res = api.run(store.db, store.landing, Y)
    assert res.exit_code == 3 and {b.processor for b in res.blocks} == BLOCKED_BY_X
    assert [a.delivered for a in res.alerts] == [False] * len(BLOCKED_BY_X)
    assert len(alerts(store.db)) == len(before) + 3 * len(BLOCKED_BY_X)


def test_a_dispatch_killed_after_claiming_leaves_its_messages_for_the_next_one(store, monkeypatch):
    """The dispatcher claims a message, then dies before the children it triggers have run:
    the message stays pending (claimed, never acknowledged), so a worker reruns that work and
    the day ends as complete as an uninterrupted run's."""
    from fullcourt.engine import triggers

    rescrape_x(store)

    def killed(self, spec, d):
        raise KeyboardInterrupt  # the process dies right after its first claim

    with monkeypatch.context() as mp:
        mp.setattr(triggers.Flow, "ready", killed)
        with pytest.raises(KeyboardInterrupt):
            api.run(store.db, store.landing, X)
    assert set(ledger(store.db, X)) == PHASE2  # phase 2 committed and published; nothing below ran
    claimed = q(store.db, f"SELECT count(*) FROM {OUTBOX} WHERE consumed_by IS NOT NULL AND consumed_at IS NULL")
    assert claimed == [(1,)]

    res = api.worker(store.db, store.landing, once=True)
    assert res.exit_code == 0, res.to_dict()
    latest = {name: runs[-1][0] for name, runs in ledger(store.db, X).items()}
    assert latest == {name: "success" for name in PHASE2 | DOWNSTREAM}
    assert q(store.db, f"SELECT count(*) FROM {OUTBOX} WHERE consumed_at IS NULL") == [(0,)]


def test_a_rerun_backfill_takes_over_the_claims_of_a_killed_one(store, monkeypatch):
    """The same backfill command rerun after a kill is another dispatch: it takes the messages
    the killed one claimed and never acknowledged, and the downstream phases run."""
    from fullcourt.engine import triggers

    rescrape_x(store)

    def killed(self, spec, d):
        raise KeyboardInterrupt

    with monkeypatch.context() as mp:
        mp.setattr(triggers.Flow, "ready", killed)
        with pytest.raises(KeyboardInterrupt):
            api.backfill(store.db, store.landing, [X], phase=2, skip_preflight=True, trigger_downstream=True)
    assert set(ledger(store.db, X)) == PHASE2
    report = api.backfill(store.db, store.landing, [X], phase=2, skip_preflight=True, trigger_downstream=True)
    assert report.ok, report.to_dict()
    latest = {name: runs[-1][0] for name, runs in ledger(store.db, X).items()}
    assert latest == {name: "success" for name in PHASE2 | DOWNSTREAM}
    assert q(store.db, f"SELECT count(*) FROM {OUTBOX} WHERE consumed_at IS NULL") == [(0,)]


def test_a_message_whose_work_raises_is_consumed_and_does_not_block_the_queue(store, monkeypatch):
    """An error (not a kill) while handling a message consumes that message: otherwise every
    later dispatch would claim it first and fail on it again."""
    from fullcourt.engine import triggers

    rescrape_x(store)
    calls = []

    def broken(self, spec, d):
        calls.append(spec.name)
        raise RuntimeError("boom")

    with monkeypatch.context() as mp:
        mp.setattr(triggers.Flow, "ready", broken)
        with pytest.raises(RuntimeError):
            api.run(store.db, store.landing, X)
    assert len(calls) == 1
    states = q(store.db, f"SELECT consumed_by IS NOT NULL, consumed_at IS NOT NULL, count(*) FROM {OUTBOX} "
                         "WHERE data_date = ? GROUP BY ALL ORDER BY ALL", [X])
    assert states == [(False, False, len(PHASE2) - 1), (True, True, 1)]  # the failing one consumed, the rest pending
    res = api.worker(store.db, store.landing, once=True)  # the queue moves on: the day completes
    assert res.exit_code == 0, res.to_dict()
    latest = {name: runs[-1][0] for name, runs in ledger(store.db, X).items()}
    assert latest == {name: "success" for name in PHASE2 | DOWNSTREAM}


def test_worker_once_with_nothing_pending_exits_0_and_consumes_nothing(store):
    write(store.db, f"INSERT INTO {OUTBOX} VALUES ('done-1', 'phase3-trigger', 'NbacPlayerBoxscoreProcessor', ?, "
                    "'r1', TIMESTAMP '2021-11-16 08:00:00', TIMESTAMP '2021-11-16 08:01:00', 'worker-1', '{}')",
          [X - timedelta(days=1)])
    before_outbox = outbox(store.db)
    before_ledger = q(store.db, f"SELECT count(*) FROM {LEDGER}")
    r = cli.invoke(app, ["worker", "--once", "--json", "--db", str(store.db), "--landing", str(store.landing)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["exit_code"] == 0 and out["messages_consumed"] == 0 and out["runs"] == [] and out["alerts"] == []
    assert outbox(store.db) == before_outbox
    assert q(store.db, f"SELECT count(*) FROM {LEDGER}") == before_ledger


def test_preflight_for_phase_5_names_the_game_dates_without_features(after_x_failed):
    """predict reads the feature store: preflight --phase 5 names the scheduled game dates
    without feature rows (X, whose daily run failed), not the season's first days that phase 4
    skips on purpose (bootstrap), which predict accepts too."""
    store = after_x_failed
    bootstrap = {d for (d,) in q(store.db, f"SELECT data_date FROM {LEDGER} WHERE processor_name = "
                                           "'MLFeatureStoreProcessor' AND skip_reason = 'bootstrap'")}
    assert bootstrap and max(bootstrap) < X
    args = ["preflight", "--phase", "5", "--start-date", str(SEASON_START), "--json", "--db", str(store.db)]
    r = cli.invoke(app, [*args, "--end-date", str(X - timedelta(days=1))])
    assert r.exit_code == 0 and json.loads(r.stdout)["dates"] == [], r.output
    r = cli.invoke(app, [*args, "--end-date", str(X)])
    out = json.loads(r.stdout)
    assert r.exit_code == 1 and out["dates"] == [str(X)], r.output
    assert out["missing"] == {"nba_predictions.ml_feature_store_v2": [str(X)]}
    assert f"--start-date {X} --end-date {X} shows why" in out["remedy"]
    predicted = api.predict(store.db, SEASON_START, X)  # predict agrees
    assert predicted.unexpected_without_features == [X]
