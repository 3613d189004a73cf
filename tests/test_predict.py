"""Phase 5: moving average and trained model predictions, recommendations, grading, lines import."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from fullcourt.engine.ledger import LedgerRow, write_rows
from fullcourt.engine.warehouse import Warehouse
from fullcourt.errors import FullcourtError, InputError
from fullcourt.nba import predict as P
from fullcourt.nba.pipeline import catalog

OPENING = date(2021, 10, 19)  # 2021-22 opening night: retraining blocks start here, every 28 days
D = date(2021, 11, 16)  # season day 28: a block start



@pytest.fixture
def pwh(tmp_path: Path):
    """A fresh warehouse with the predictions migration and (if not built by the pipeline) a feature store."""
    base = catalog()
    have = {m.version for m in base.migrations}
    extra = tuple(m for m in P.MIGRATIONS if m.version not in have)
    cat = dataclasses.replace(base, migrations=base.migrations + extra)
    w = Warehouse(tmp_path / "p.duckdb", cat)
    assert w.table_exists(P.FEATURE_STORE)  # the real feature store from the pipeline's migrations
    w.con.execute("SELECT 1").fetchall()  # settle table_exists' pending result before con.register
    yield w
    w.close()


def add_features(wh: Warehouse, rows: list[dict]) -> None:
    """Insert feature rows given as dicts (game_date, person_id and any FEATURES; the rest defaulted)."""
    n = len(rows)
    get = lambda k, default: [r.get(k, default) for r in rows]  # noqa: E731
    data = {
        "game_date": np.array(get("game_date", None), dtype="datetime64[us]"),
        "person_id": np.array(get("person_id", None), dtype=np.int64),
        "games_found": np.array(get("games_found", 10), dtype=np.int32),
        "is_complete": np.array(get("is_complete", True), dtype=bool),
        "ready": np.array(get("is_production_ready", True), dtype=bool),
    }
    defaults = {"fatigue_score": 100.0, "points_std_last_10": 5.0}
    for c in P.FEATURES:
        data[c] = np.array([np.nan if v is None else v for v in get(c, defaults.get(c, 0.0))], dtype=float)
    assert all(len(v) == n for v in data.values())
    wh.con.register("_feat", data)
    feats = ", ".join(P.FEATURES)
    values = ", ".join(f"CASE WHEN isnan({c}) THEN NULL ELSE {c} END" for c in P.FEATURES)
    wh.con.execute(f"""
        INSERT INTO {P.FEATURE_STORE} (game_date, game_id, person_id, player_lookup, player_name, team_abbr,
            opponent_team_abbr, season, {feats}, feature_version, default_features, completeness,
            is_production_ready, run_id, processed_at)
        SELECT game_date::DATE, 'G' || strftime(game_date::DATE, '%Y%m%d'), person_id, 'player' || person_id,
               'Player ' || person_id, 'BOS', 'NYK', '2021-22', {values},
               'v2', []::VARCHAR[],
               {{'games_found': games_found, 'games_expected': 10, 'contributing_game_dates': []::DATE[],
                 'missing_game_dates': []::DATE[], 'is_complete': is_complete,
                 'incompleteness_reason': CASE WHEN is_complete THEN NULL ELSE 'upstream_gap' END}},
               ready, 'test', now()::TIMESTAMP
        FROM _feat""")
    wh.con.unregister("_feat")


def add_actuals(wh: Warehouse, rows: list[tuple[date, int, int]]) -> None:
    """Insert (game_date, person_id, points) into player_game_summary."""
    data = {
        "game_date": np.array([r[0] for r in rows], dtype="datetime64[us]"),
        "person_id": np.array([r[1] for r in rows], dtype=np.int64),
        "points": np.array([r[2] for r in rows], dtype=np.int32),
    }
    wh.con.register("_act", data)
    wh.con.execute(f"""
        INSERT INTO {P.ACTUALS} (game_date, game_id, season, person_id, player_lookup, player_name, team_abbr,
                                 opponent_team_abbr, is_home, minutes, points)
        SELECT game_date::DATE, 'G', '2021-22', person_id, 'player' || person_id, 'Player ' || person_id,
               'BOS', 'NYK', TRUE, 30.0, points FROM _act""")
    wh.con.unregister("_act")


def add_line(wh: Warehouse, d: date, line: float, person_id: int | None = None, lookup: str | None = None) -> None:
    wh.con.execute(
        f"INSERT INTO {P.PROPS} (game_date, person_id, player_lookup, market, line) VALUES (?, ?, ?, 'player_points', ?)",
        [d, person_id, lookup or f"player{person_id}", line])


STORED = "person_id, predicted_points, confidence, line, recommendation, feature_incomplete_flag, model_version"


def stored(wh: Warehouse, system: str, cols: str = STORED) -> list[tuple]:
    return wh.con.execute(f"SELECT {cols} FROM {P.PREDICTIONS} WHERE system_id = ? ORDER BY game_date, person_id",
                          [system]).fetchall()


def synthetic(players: int, days: int, seed: int = 0) -> tuple[list[dict], list[tuple[date, int, int]]]:
    """Feature rows and actual points where points = 0.6·L5 + 0.4·L10 + 3·home + noise."""
    rng = np.random.default_rng(seed)
    skill = rng.uniform(6, 30, players)
    feats, actuals = [], []
    for day in range(days):
        d = OPENING + timedelta(days=day)
        for p in range(players):
            l5, l10 = skill[p] + rng.normal(0, 3), skill[p] + rng.normal(0, 2)
            home = float(rng.integers(0, 2))
            feats.append({
                "game_date": d, "person_id": p + 1, "points_avg_last_5": l5, "points_avg_last_10": l10,
                "points_avg_season": skill[p] + rng.normal(0, 1), "points_std_last_10": rng.uniform(2, 8),
                "home_away": home, "fatigue_score": 100 - abs(rng.normal(0, 4)),
                "shot_zone_mismatch_score": rng.normal(0, 1), "pace_score": rng.normal(0, 0.5),
                "usage_spike_score": rng.normal(0, 0.5), "opponent_pace": rng.normal(100, 3),
            })
            points = 0.6 * l5 + 0.4 * l10 + 3 * home + rng.normal(0, 2)
            actuals.append((d, p + 1, int(max(0, round(points)))))
    return feats, actuals


# ---------------------------------------------------------------- pure


def test_block_start_is_the_four_week_block_start_or_monday():
    assert P.block_start(OPENING) == OPENING
    assert P.block_start(OPENING + timedelta(days=27)) == OPENING
    assert P.block_start(OPENING + timedelta(days=28)) == OPENING + timedelta(days=28)
    assert P.block_start(date(2021, 11, 20)) == date(2021, 11, 16)
    assert P.block_start(date(2021, 12, 13)) == date(2021, 11, 16)
    assert P.block_start(date(2021, 12, 14)) == date(2021, 12, 14)
    assert P.block_start(date(2021, 8, 5)) == date(2021, 8, 2)  # off-season: ISO week (a Monday)


@pytest.mark.parametrize("predicted, line, expected", [
    (18.8, 17.8, "OVER"), (18.8, 17.81, "PASS"), (18.8, 19.8, "UNDER"), (18.8, 19.79, "PASS"),
    (18.8, 18.3, "PASS"), (18.8, None, "PASS"), (None, 17.5, "PASS"),
])
def test_recommend(predicted, line, expected):
    assert P.recommend(predicted, line) == expected


# ---------------------------------------------------------------- moving average, recommendation


def test_moving_average_is_the_documented_arithmetic(pwh):
    row = {"game_date": D, "points_avg_last_5": 20.0, "points_avg_last_10": 18.0, "points_avg_season": 16.0,
           "shot_zone_mismatch_score": 2.0, "pace_score": 1.0, "usage_spike_score": -1.0, "fatigue_score": 80.0,
           "points_std_last_10": 4.0}
    add_features(pwh, [
        dict(row, person_id=1),
        # only a season average: L5 and L10 fall back to it; incomplete features: flag and half confidence
        {"game_date": D, "person_id": 2, "points_avg_last_5": None, "points_avg_last_10": None,
         "points_avg_season": 12.0, "points_std_last_10": 4.0, "games_found": 5, "is_complete": False},
        # not production-ready although complete: flagged too
        dict(row, person_id=3, is_production_ready=False),
    ])
    result = P.predict(pwh, D, D)
    assert result.rows_written == {"moving_average": 3, "gradient_boosting": 3}
    ma = stored(pwh, "moving_average")
    assert ma == [
        (1, 18.8, 0.8, None, "PASS", False, "moving_average_v1"),  # (1 - 4/20) · 10/10
        (2, 12.0, 0.2, None, "PASS", True, "moving_average_v1"),  # (1 - 4/20) · 5/10 · 0.5
        (3, 18.8, 0.4, None, "PASS", True, "moving_average_v1"),
    ]
    # no history to train on: the model system falls back to the moving average and passes
    gb = stored(pwh, "gradient_boosting")
    assert [r[1] for r in gb] == [18.8, 12.0, 18.8]
    assert {r[4] for r in gb} == {"PASS"}
    assert gb[0][6] == "moving_average_v1-fallback:train_rows=0<300"
    assert result.trainings[0].fallback and result.trainings[0].cutoff == D


def test_recommendation_against_lines(pwh):
    row = {"game_date": D, "points_avg_last_5": 20.0, "points_avg_last_10": 18.0, "points_avg_season": 16.0,
           "shot_zone_mismatch_score": 2.0, "pace_score": 1.0, "usage_spike_score": -1.0, "fatigue_score": 80.0}
    add_features(pwh, [dict(row, person_id=i) for i in (1, 2, 3, 4, 5)])  # all predict 18.8
    add_line(pwh, D, 17.8, person_id=1)  # +1.0 -> OVER
    add_line(pwh, D, 19.8, lookup="player2")  # -1.0 -> UNDER (matched on player_lookup, person_id NULL)
    add_line(pwh, D, 18.3, person_id=3)  # +0.5 -> PASS
    add_line(pwh, D, 10.0, person_id=4)  # two books: median line 11.0 -> OVER
    add_line(pwh, D, 12.0, person_id=4)
    add_line(pwh, D - timedelta(days=1), 5.0, person_id=5)  # another date: no line for 5 -> PASS
    P.predict(pwh, D, D)
    assert stored(pwh, "moving_average", "person_id, predicted_points, line, recommendation") == [
        (1, 18.8, 17.8, "OVER"), (2, 18.8, 19.8, "UNDER"), (3, 18.8, 18.3, "PASS"), (4, 18.8, 11.0, "OVER"),
        (5, 18.8, None, "PASS")]


# ---------------------------------------------------------------- grading


def test_grade_hand_made_predictions(pwh):
    preds = [  # person, predicted, line, recommendation; actual below
        (1, 20.0, 18.5, "OVER"),  # actual 25: hit, error -5
        (2, 10.0, 12.5, "UNDER"),  # actual 14: miss, error -4
        (3, 30.0, 28.0, "OVER"),  # actual 28: push (excluded), error +2
        (4, 15.0, None, "PASS"),  # actual 16: no line, error -1
        (5, 22.0, 20.5, "OVER"),  # did not play: not graded
    ]
    for pid, pred, line, rec in preds:
        pwh.con.execute(
            f"INSERT INTO {P.PREDICTIONS} (system_id, game_date, person_id, predicted_points, confidence, line, "
            "recommendation, feature_incomplete_flag, model_version) "
            "VALUES ('moving_average', ?, ?, ?, 0.5, ?, ?, ?, 'x')",
            [D, pid, pred, line, rec, pid == 4])
    add_actuals(pwh, [(D, 1, 25), (D, 2, 14), (D, 3, 28), (D, 4, 16), (D + timedelta(days=1), 5, 30)])
    g = P.grade(pwh, D, D).systems["moving_average"]
    assert (g.predictions, g.graded, g.mae, g.bias) == (5, 4, 3.0, -2.0)
    assert (g.with_line, g.bets, g.hits, g.pushes, g.hit_rate) == (4, 3, 1, 1, 0.5)
    assert g.recommendations == {"OVER": 3, "UNDER": 1, "PASS": 1}
    assert g.flagged_incomplete == 1
    empty = P.grade(pwh, D, D).to_dict()["systems"]["gradient_boosting"]
    assert (empty["predictions"], empty["mae"], empty["hit_rate"]) == (0, None, None)


# ---------------------------------------------------------------- trained model


def test_trained_model_never_sees_the_predicted_date_or_later(pwh):
    feats, actuals = synthetic(players=40, days=35)  # season days 0..34; D = day 28
    add_features(pwh, feats)
    add_actuals(pwh, actuals)
    d = D + timedelta(days=2)  # block starts at D: trained on days 0..27 only
    first = P.predict(pwh, d, d)
    assert first.trainings == [P.Training(D, 40 * 28, "hgb_v1:before=2021-11-16:rows=1120", False)]
    before = stored(pwh, "gradient_boosting")
    assert len(before) == 40 and {r[6] for r in before} == {"hgb_v1:before=2021-11-16:rows=1120"}

    # poison the predicted date and everything after it: absurd actual points, absurd features
    pwh.con.execute(f"UPDATE {P.ACTUALS} SET points = 999 WHERE game_date >= ?", [d])
    pwh.con.execute(f"UPDATE {P.FEATURE_STORE} SET points_avg_last_5 = 500 WHERE game_date > ?", [d])
    P.predict(pwh, d, d, force_rerun=True)
    assert stored(pwh, "gradient_boosting") == before

    # the check is sensitive: poisoning the training window does change the predictions
    pwh.con.execute(f"UPDATE {P.ACTUALS} SET points = 999 WHERE game_date = ?", [D - timedelta(days=1)])
    P.predict(pwh, d, d, force_rerun=True)
    assert stored(pwh, "gradient_boosting") != before


def test_trained_model_beats_moving_average_on_synthetic_features(pwh):
    feats, actuals = synthetic(players=100, days=42)  # 4,200 rows; predict season days 28..41 (1 block)
    add_features(pwh, feats)
    add_actuals(pwh, actuals)
    end = OPENING + timedelta(days=41)
    result = P.predict(pwh, D, end)
    assert [t.cutoff for t in result.trainings] == [D]
    assert [t.rows for t in result.trainings] == [2800]
    assert result.rows_written == {"moving_average": 1400, "gradient_boosting": 1400}
    g = P.grade(pwh, D, end).systems
    ma, gb = g["moving_average"].mae, g["gradient_boosting"].mae
    print(f"\nsynthetic MAE: moving_average={ma:.3f} gradient_boosting={gb:.3f} "
          f"(bias {g['moving_average'].bias:+.3f} / {g['gradient_boosting'].bias:+.3f})")
    assert g["gradient_boosting"].graded == 1400
    assert gb < ma - 0.3


# ---------------------------------------------------------------- rerun policy


def test_default_keeps_existing_predictions_and_force_rerun_replaces(pwh):
    d2 = D + timedelta(days=1)
    add_features(pwh, [{"game_date": d, "person_id": p, "points_avg_last_5": 10.0, "points_avg_last_10": 10.0,
                        "points_avg_season": 10.0} for d in (D, d2) for p in (1, 2)])
    first = P.predict(pwh, D, D)
    assert first.dates_written == {"moving_average": [D], "gradient_boosting": [D]}
    original = stored(pwh, "moving_average", "game_date, person_id, predicted_points, run_id, processed_at")

    pwh.con.execute(f"UPDATE {P.FEATURE_STORE} SET points_avg_last_5 = 20.0")
    again = P.predict(pwh, D, d2)
    assert again.dates_kept == {"moving_average": [D], "gradient_boosting": [D]}
    assert again.dates_written == {"moving_average": [d2], "gradient_boosting": [d2]}
    assert again.rows_written == {"moving_average": 2, "gradient_boosting": 2}
    now = stored(pwh, "moving_average", "game_date, person_id, predicted_points, run_id, processed_at")
    assert now[:2] == original  # D untouched
    assert [r[2] for r in now[2:]] == [15.0, 15.0]

    forced = P.predict(pwh, D, d2, force_rerun=True)
    assert forced.dates_kept == {"moving_average": [], "gradient_boosting": []}
    assert forced.rows_written == {"moving_average": 4, "gradient_boosting": 4}
    rows = stored(pwh, "moving_average", "game_date, person_id, predicted_points, run_id")
    assert rows == [(d, p, 15.0, forced.run_id) for d in (D, d2) for p in (1, 2)]  # replaced, no duplicates
    assert pwh.con.execute(f"SELECT count(*) FROM {P.PREDICTIONS}").fetchone()[0] == 8
    out = forced.to_dict()
    assert out["dates"] == ["2021-11-16", "2021-11-17"] and out["force_rerun"] is True
    ledger = pwh.con.execute(
        "SELECT run_id, data_date, phase, status, records_created FROM nba_reference.processor_run_history "
        "WHERE processor_name = 'PredictionCoordinator' ORDER BY started_at, data_date").fetchall()
    # one row per date each run wrote: 2 players x the systems it predicted that date
    assert ledger == [(first.run_id, D, "phase_5", "success", 4), (again.run_id, d2, "phase_5", "success", 4),
                      (forced.run_id, D, "phase_5", "success", 4), (forced.run_id, d2, "phase_5", "success", 4)]


def test_predict_reports_scheduled_dates_without_features(pwh):
    pwh.con.execute("INSERT INTO nba_raw.nbac_schedule (game_date, game_id, season, home_team_abbr, away_team_abbr, "
                    "game_status) VALUES (?, 'G1', '2021-22', 'BOS', 'NYK', 3)", [D])
    result = P.predict(pwh, D, D)
    assert result.dates == [] and result.dates_without_features == [D]
    assert result.rows_written == {"moving_average": 0, "gradient_boosting": 0}
    assert not result.ok and result.by_design == []  # phase 4 never ran there: a failure


def test_predict_dates_without_features_by_design_are_not_failures(pwh):
    """Phase 4 skips a season's first days on purpose (its ledger says `bootstrap`), and a run
    where every player is a tracked failure succeeds with no rows: no features there is
    expected. A later run of phase 4 that failed is not."""
    pwh.con.execute("INSERT INTO nba_raw.nbac_schedule (game_date, game_id, season, home_team_abbr, away_team_abbr, "
                    "game_status) VALUES (?, 'G1', '2021-22', 'BOS', 'NYK', 3)", [D])
    started = datetime(2021, 12, 1, 10, 0)
    write_rows(pwh.con, "nba_reference.processor_run_history", "r1",
               [LedgerRow(P.FEATURE_PROCESSOR, "phase_4", D, "skipped", started, started, skip_reason="bootstrap")], {})
    result = P.predict(pwh, D, D)
    assert result.ok and result.by_design == [D] and result.unexpected_without_features == []
    assert result.to_dict()["ok"] is True
    later = datetime(2021, 12, 2, 10, 0)  # the latest run decides
    write_rows(pwh.con, "nba_reference.processor_run_history", "r2",
               [LedgerRow(P.FEATURE_PROCESSOR, "phase_4", D, "failed", later, later)], {})
    assert not P.predict(pwh, D, D).ok
    latest = datetime(2021, 12, 3, 10, 0)  # every player a tracked failure: success, no rows
    write_rows(pwh.con, "nba_reference.processor_run_history", "r3",
               [LedgerRow(P.FEATURE_PROCESSOR, "phase_4", D, "success", latest, latest, records_failed=8)], {})
    assert P.predict(pwh, D, D).ok
    last = datetime(2021, 12, 4, 10, 0)  # a success with no rows and no tracked failure is not "by design"
    write_rows(pwh.con, "nba_reference.processor_run_history", "r4",
               [LedgerRow(P.FEATURE_PROCESSOR, "phase_4", D, "success", last, last)], {})
    assert not P.predict(pwh, D, D).ok


# ---------------------------------------------------------------- lines import


def props(wh: Warehouse) -> list[tuple]:
    return wh.con.execute(f"SELECT game_date, player_lookup, player_name, market, line, person_id FROM {P.PROPS} "
                          "ORDER BY game_date, player_lookup, market").fetchall()


def test_import_lines_csv_replaces_same_player_and_date(pwh, tmp_path):
    pwh.con.execute(f"INSERT INTO {P.PROPS} (game_date, player_lookup, market, line) "
                    "VALUES (?, 'lukadoncic', 'player_rebounds', 8.5)", [D])
    f = tmp_path / "lines.csv"
    f.write_text("player,game_date,line\nLuka Dončić,2021-11-16,27.5\nD'Angelo Russell,2021-11-16,14\n"
                 "Jayson Tatum,2021-11-17,26.5\n", encoding="utf-8")
    assert P.import_lines_csv(pwh, f)[0] == 3
    f2 = tmp_path / "update.csv"
    f2.write_text("Line,Player,Game_Date\n29.0,LUKA DONCIC,2021-11-16\n", encoding="utf-8")
    assert P.import_lines_csv(pwh, f2)[0] == 1
    assert props(pwh) == [
        (D, "dangelorussell", "D'Angelo Russell", "player_points", 14.0, None),
        (D, "lukadoncic", "LUKA DONCIC", "player_points", 29.0, None),
        (D, "lukadoncic", None, "player_rebounds", 8.5, None),  # another market is left alone
        (D + timedelta(days=1), "jaysontatum", "Jayson Tatum", "player_points", 26.5, None),
    ]


@pytest.mark.parametrize("text, problem", [
    ("player,date,line\nJayson Tatum,2021-11-16,26.5\n", "missing column game_date"),
    ("player,game_date,line\nJayson Tatum,2021-11-16,26.5\nLuka Doncic,16/11/2021,27.5\n",
     "row 3 has bad game_date '16/11/2021'"),
    ("player,game_date,line\nJayson Tatum,2021-11-16,twenty\n", "row 2 has non-numeric line 'twenty'"),
])
def test_import_lines_csv_bad_file_writes_nothing(pwh, tmp_path, text, problem):
    f = tmp_path / "bad.csv"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        P.import_lines_csv(pwh, f)
    message = str(info.value)
    assert str(f) in message and problem in message and "\n" not in message
    assert props(pwh) == []


# ---------------------------------------------------------------- contract with the feature store


def test_model_features_are_double_columns_of_the_feature_store(pwh):
    types = dict(pwh.con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'nba_predictions' AND table_name = 'ml_feature_store_v2'").fetchall())
    assert {c: types.get(c) for c in P.FEATURES} == {c: "DOUBLE" for c in P.FEATURES}


def test_predict_without_feature_store_says_what_to_run(pwh):
    pwh.con.execute(f"DROP TABLE {P.FEATURE_STORE}")
    with pytest.raises(FullcourtError, match="ml_feature_store_v2 does not exist") as info:
        P.predict(pwh, D, D)
    assert "fullcourt backfill --phase 4" in info.value.remedy
    with pytest.raises(FullcourtError, match="before start date"):
        P.grade(pwh, D, D - timedelta(days=1))
