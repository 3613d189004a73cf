"""The synthetic league source: schedule, rosters, payload consistency, determinism, faults."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from fullcourt.errors import UsageError
from fullcourt.dates import date_range as days
from fullcourt.nba.calendar import SEASONS
from fullcourt.nba.sources.synthetic import (
    LeagueConfig, ScrapeResult, build_season, canonical_json, props_payload, scrape_synthetic, shots_json,
    shots_payload, simulate_game,
)

S21 = SEASONS[0]  # 2021-22: 2021-10-19 .. 2022-04-10, break 2022-02-18 .. 2022-02-23
TINY = LeagueConfig(seed=7, teams=4, players_per_team=8)
WEEK = (date(2021, 11, 1), date(2021, 11, 7))


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _minutes(iso: str) -> float:
    m = re.fullmatch(r"PT(\d+)M(\d+)\.00S", iso)
    assert m, iso
    return int(m.group(1)) + int(m.group(2)) / 60


def _ascii_key(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()


# --- schedule ----------------------------------------------------------------------------------

def test_full_season_schedule_30_teams():
    model = build_season(S21, LeagueConfig())
    games = model.games
    assert len(games) == 1230
    played, home = Counter(), Counter()
    per_date = Counter(g.game_date for g in games)
    for g in games:
        played[g.home] += 1
        played[g.away] += 1
        home[g.home] += 1
    assert set(played.values()) == {82} and len(played) == 30
    assert set(home.values()) == {41}
    assert min(per_date) == S21.start and max(per_date) == S21.end
    assert max(per_date.values()) <= 15
    assert not [d for d in per_date if S21.all_star_break[0] <= d <= S21.all_star_break[1]]
    assert date(2021, 11, 25) not in per_date and date(2021, 12, 24) not in per_date
    slots = [(g.game_date, t) for g in games for t in (g.home, g.away)]
    assert len(slots) == len(set(slots)), "a team plays twice on a date"
    ids = [g.game_id for g in games]
    assert ids[0] == "0022100001" and ids[-1] == "0022101230"
    assert all(re.fullmatch(r"00221\d{5}", i) for i in ids)
    assert sorted(games, key=lambda g: (g.game_date, g.home)) == list(games)
    by_team = defaultdict(list)
    for g in games:
        by_team[g.home].append(g.game_date)
        by_team[g.away].append(g.game_date)
    b2b = {t: sum((b - a).days == 1 for a, b in zip(ds, ds[1:])) for t, ds in by_team.items()}
    assert min(b2b.values()) >= 1 and sum(b2b.values()) / 30 > 5
    # rest days agree with the dates
    g = next(g for g in games if g.home_rest == 1)
    assert g.game_date - timedelta(days=1) in by_team[g.home]


@pytest.mark.parametrize("teams", [2, 3, 4, 5, 7, 16, 29])
def test_small_and_odd_leagues_play_82_games(teams: int):
    model = build_season(SEASONS[1], LeagueConfig(seed=3, teams=teams, players_per_team=5))
    played, home = Counter(), Counter()
    for g in model.games:
        played[g.home] += 1
        played[g.away] += 1
        home[g.home] += 1
    assert len(model.games) == teams * 41
    assert set(played.values()) == {82} and set(home.values()) == {41}
    dates = model.game_dates()
    assert dates[0] == SEASONS[1].start and dates[-1] == SEASONS[1].end
    slots = [(g.game_date, t) for g in model.games for t in (g.home, g.away)]
    assert len(slots) == len(set(slots))


def test_config_bounds():
    with pytest.raises(UsageError, match="teams must be in 2..30, got 31"):
        LeagueConfig(teams=31)
    with pytest.raises(UsageError, match="players_per_team"):
        LeagueConfig(players_per_team=4)


# --- rosters -----------------------------------------------------------------------------------

def test_name_variety_in_30_team_league():
    names = [p.name for p in build_season(S21, LeagueConfig()).players]
    assert len(names) == len(set(names))
    assert any(_ascii_key(n) != n for n in names), "no name with diacritics"
    assert any("'" in n for n in names)
    assert any(n.split()[-1] in ("Jr.", "Sr.", "II", "III") for n in names)
    assert any("-" in n for n in names)


def test_name_variety_even_in_smallest_league():
    names = [p.name for p in build_season(S21, LeagueConfig(teams=2, players_per_team=5)).players]
    assert any(_ascii_key(n) != n for n in names) and any("'" in n for n in names)
    assert any(n.split()[-1] in ("Jr.", "Sr.", "II", "III") for n in names)


def test_identities_stable_across_seasons_and_league_sizes():
    a = {p.person_id: p.name for p in build_season(S21, LeagueConfig()).players if p.joins is None}
    b = {p.person_id: p.name for p in build_season(SEASONS[2], LeagueConfig(teams=4)).players if p.joins is None}
    assert b and all(a[k] == v for k, v in b.items())


def test_trades_move_players_with_their_person_id():
    big = build_season(S21, LeagueConfig())
    assert 3 <= len(big.trades) <= 5
    model = build_season(S21, TINY)
    assert len(model.trades) >= 1
    trade = model.trades[0]
    teams_seen = defaultdict(set)
    for g in model.games:
        res = simulate_game(model, g)
        for code, side in ((g.home, res.home), (g.away, res.away)):
            for x in side:
                if x.player.person_id == trade.person_a:
                    teams_seen["before" if g.game_date < trade.on else "after"].add(code)
    assert teams_seen["before"] == {trade.team_a} and teams_seen["after"] == {trade.team_b}


def test_injuries_and_rookies_show_in_gamebooks():
    model = build_season(S21, TINY)
    rookie = next(p for p in model.players if p.joins is not None)
    dnp_injury = Counter()
    rookie_games = 0
    for g in model.games:
        res = simulate_game(model, g)
        present = {x.player.person_id for x in res.home + res.away} | {a.player.person_id for a in res.absences}
        if g.game_date < rookie.joins:
            assert rookie.person_id not in present
        elif rookie.team in (g.home, g.away):
            assert rookie.person_id in present
            rookie_games += 1
        for a in res.absences:
            if a.reason.startswith("DNP - Injury/Illness"):
                dnp_injury[a.player.person_id] += 1
                assert a.status == "DNP" and model.injury_on(a.player.person_id, g.game_date) is not None
    assert max(dnp_injury.values()) >= 3, "injuries should sideline players for several games"
    assert len(model.injuries) >= 5 and rookie_games > 0
    deep = build_season(S21, LeagueConfig(teams=4, players_per_team=15))
    reasons = Counter(a.reason for g in deep.games for a in simulate_game(deep, g).absences)
    assert reasons["DNP - Coach's Decision"] > 50, "deep bench should sit some games"


def test_scoring_is_realistic_by_role():
    model = build_season(S21, LeagueConfig(teams=6))
    points = defaultdict(list)
    for g in model.games:
        res = simulate_game(model, g)
        for x in res.home + res.away:
            points[x.player.slot].append(x.points)
    mean = {slot: sum(v) / len(v) for slot, v in points.items()}
    assert 20 <= mean[0] <= 32
    assert all(9 <= mean[s] <= 20 for s in (1, 2, 3, 4))
    assert all(2 <= mean[s] <= 10 for s in (5, 6, 7, 8, 9, 10, 11))


# --- payloads ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def week(tmp_path_factory) -> tuple[Path, ScrapeResult]:
    root = tmp_path_factory.mktemp("week")
    return root, scrape_synthetic(root, *WEEK, config=TINY)


def test_scrape_result_and_layout(week):
    root, result = week
    model = build_season(S21, TINY)
    game_dates = [d for d in days(*WEEK) if model.games_on(d)]
    assert result.dates_written == game_dates and result.dates_failed == [] and result.games_dropped == []
    assert result.games_written == sum(len(model.games_on(d)) for d in game_dates)
    files = _files(root)
    assert result.files_written == len(files)
    assert sorted(p for p in {f.split("/")[0] for f in files}) == sorted([*map(str, game_dates), "schedule"])
    for d in game_dates:
        sb = _load(root / str(d) / "schedule.json")["scoreboard"]
        assert sb["gameDate"] == str(d)
        for g in sb["games"]:
            for kind in ("boxscore", "gamebook", "shots"):
                assert (root / str(d) / f"{kind}_{g['gameId']}.json").exists()
        assert (root / str(d) / "props.json").exists()
    league = _load(root / "schedule" / "2021-22.json")["leagueSchedule"]
    assert league["seasonYear"] == "2021-22"
    assert sum(len(gd["games"]) for gd in league["gameDates"]) == 4 * 41
    assert {g["gameStatus"] for gd in league["gameDates"] for g in gd["games"]} == {1}


def test_files_are_canonical_json(week):
    root, _ = week
    files = _files(root)
    assert len(files) > 10
    for rel, raw in files.items():
        text = raw.decode("utf-8")
        assert json.dumps(json.loads(text), ensure_ascii=False, sort_keys=True, indent=1) == text, rel
        assert not re.search(r"\d\d:\d\d", text), f"{rel} holds a timestamp"


def test_canonical_json_matches_json_dumps():
    samples = [{}, [], {"a": []}, {"b": {}, "a": [1, 2.5, None, True, "x\ny"]}, [{"k": "Dončić", "j": -0.0}] * 3,
               {"z": [{"a": 1}, {"b": {"c": [1, {}]}}]}, "s", 1.0, [[{"x": 1}]]]
    for obj in samples:
        assert canonical_json(obj) == json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=1)
    model = build_season(S21, TINY)
    res = simulate_game(model, model.games[0])
    assert shots_json(model, res) == json.dumps(shots_payload(model, res), ensure_ascii=False, sort_keys=True,
                                                indent=1)


def test_boxscores_are_consistent(week):
    root, _ = week
    boxes = sorted(root.glob("*/boxscore_*.json"))
    assert boxes
    fields = ("points", "fieldGoalsMade", "fieldGoalsAttempted", "threePointersMade", "threePointersAttempted",
              "freeThrowsMade", "freeThrowsAttempted", "reboundsOffensive", "reboundsDefensive", "reboundsTotal",
              "assists", "steals", "blocks", "turnovers", "foulsPersonal")
    for path in boxes:
        game = _load(path)["game"]
        assert path.name == f"boxscore_{game['gameId']}.json" and game["gameDate"] == path.parent.name
        sides = (game["homeTeam"], game["awayTeam"])
        for team in sides:
            players, stats = team["players"], team["statistics"]
            assert len({p["personId"] for p in players}) == len(players) >= 5
            for p in players:
                s = p["statistics"]
                assert _minutes(s["minutes"]) > 0
                assert s["points"] == 2 * (s["fieldGoalsMade"] - s["threePointersMade"]) + 3 * s["threePointersMade"] \
                    + s["freeThrowsMade"]
                assert 0 <= s["threePointersMade"] <= s["threePointersAttempted"]
                assert s["fieldGoalsMade"] <= s["fieldGoalsAttempted"]
                assert s["freeThrowsMade"] <= s["freeThrowsAttempted"]
                assert s["reboundsTotal"] == s["reboundsOffensive"] + s["reboundsDefensive"]
                assert s["foulsPersonal"] <= 6 and s["assists"] <= stats["fieldGoalsMade"]
                assert p["name"] == f"{p['firstName']} {p['familyName']}"
            assert sum(p["starter"] == "1" for p in players) == 5
            for f in fields:
                assert stats[f] == sum(p["statistics"][f] for p in players), f
            assert stats["minutes"] == "PT240M00.00S"
            assert abs(sum(_minutes(p["statistics"]["minutes"]) for p in players) - 240) < 1e-6
            assert team["score"] == stats["points"]
            assert 50 <= stats["points"] <= 200 and 50 <= stats["fieldGoalsAttempted"] <= 130
        home, away = sides
        assert home["score"] != away["score"]
        margin = home["score"] - away["score"]
        assert sum(p["statistics"]["plusMinusPoints"] for p in home["players"]) == 5 * margin
        assert home["statistics"]["reboundsOffensive"] + away["statistics"]["reboundsDefensive"] <= \
            home["statistics"]["fieldGoalsAttempted"] - home["statistics"]["fieldGoalsMade"] \
            + home["statistics"]["freeThrowsAttempted"] - home["statistics"]["freeThrowsMade"]
        board = {g["gameId"]: g for g in _load(path.parent / "schedule.json")["scoreboard"]["games"]}
        row = board[game["gameId"]]
        assert row["homeTeam"]["score"] == home["score"] and row["awayTeam"]["score"] == away["score"]
        assert row["gameStatus"] == 3 and row["gameStatusText"] == "Final"


def test_shot_logs_match_boxscores(week):
    root, _ = week
    zones = {"Restricted Area", "In The Paint (Non-RA)", "Mid-Range", "Above the Break 3", "Left Corner 3",
             "Right Corner 3"}
    checked = 0
    for path in sorted(root.glob("*/shots_*.json")):
        shots = _load(path)["shotchart"]["shots"]
        box = _load(path.with_name(path.name.replace("shots_", "boxscore_")))["game"]
        tally: dict[int, Counter] = defaultdict(Counter)
        for s in shots:
            c = tally[s["personId"]]
            c["fga"] += 1
            c["fgm"] += s["shotResult"] == "Made"
            assert s["shotResult"] in ("Made", "Missed") and s["basicZone"] in zones
            assert 1 <= s["period"] <= 4 and _minutes(s["clock"]) <= 12
            d = s["shotDistance"]
            if s["shotType"] == "3PT":
                c["3pa"] += 1
                c["3pm"] += s["shotResult"] == "Made"
                assert 22 <= d <= 30 and s["basicZone"].endswith(" 3")
                if "Corner" in s["basicZone"]:
                    assert abs(s["x"]) >= 22 and (s["x"] > 0) == s["basicZone"].startswith("Left")
            else:
                assert s["shotType"] == "2PT" and not s["basicZone"].endswith(" 3")
                if s["basicZone"] == "Mid-Range":
                    assert 8 <= d <= 23
                else:
                    assert d < 8 and (d < 4) == (s["basicZone"] == "Restricted Area")
                assert abs(s["x"]) < 22
            assert abs((s["x"] ** 2 + s["y"] ** 2) ** 0.5 - d) < 0.2
        actions = [s["actionNumber"] for s in shots]
        assert actions == sorted(set(actions))
        for team in (box["homeTeam"], box["awayTeam"]):
            for p in team["players"]:
                st, c = p["statistics"], tally.pop(p["personId"], Counter())
                assert (c["fga"], c["fgm"], c["3pa"], c["3pm"]) == (
                    st["fieldGoalsAttempted"], st["fieldGoalsMade"], st["threePointersAttempted"],
                    st["threePointersMade"]), p["name"]
                checked += 1
        assert not tally, "shots by players absent from the box score"
    assert checked > 50


def test_gamebooks_list_the_rest_of_the_roster(week):
    root, _ = week
    model = build_season(S21, TINY)
    paths = sorted(root.glob("*/gamebook_*.json"))
    assert paths
    inactive = 0
    for path in paths:
        book = _load(path)["gamebook"]
        box = _load(path.with_name(path.name.replace("gamebook_", "boxscore_")))["game"]
        d = date.fromisoformat(book["gameDate"])
        for side in ("homeTeam", "awayTeam"):
            code = box[side]["teamTricode"]
            played = {p["personId"] for p in box[side]["players"]}
            out = {a["personId"] for a in book["inactivePlayers"] if a["teamTricode"] == code}
            assert not played & out
            assert played | out == {p.person_id for p in model.roster(code, d)}
        for a in book["inactivePlayers"]:
            assert a["status"] in ("DNP", "NWT") and a["reason"].startswith(a["status"] + " - ")
            inactive += 1
    assert inactive > 0


def test_props_lines(week):
    root, _ = week
    lines = 0
    for path in sorted(root.glob("*/props.json")):
        props = _load(path)["props"]
        assert props["gameDate"] == path.parent.name and props["market"] == "player_points"
        board = {g["gameId"]: g for g in _load(path.parent / "schedule.json")["scoreboard"]["games"]}
        for line in props["lines"]:
            assert line["line"] % 1 == 0.5 and line["line"] > 0
            g = board[line["gameId"]]
            assert line["teamTricode"] in (g["homeTeam"]["teamTricode"], g["awayTeam"]["teamTricode"])
            assert (line["overPrice"], line["underPrice"]) in ((-110, -110), (-115, -105), (-105, -115), (-120, 100))
            lines += 1
    assert lines > 20


def test_props_track_scoring_over_a_season():
    model = build_season(S21, TINY)
    actual = {}
    for g in model.games:
        res = simulate_game(model, g)
        for x in res.home + res.away:
            actual[(g.game_id, x.player.person_id)] = x.points
    pairs = [(ln["line"], actual[(ln["gameId"], ln["personId"])]) for d in model.game_dates()
             for ln in props_payload(model, d)["props"]["lines"]]
    err = sum(abs(a - b) for a, b in pairs) / len(pairs)
    spread = sum(abs(b - sum(x for _, x in pairs) / len(pairs)) for _, b in pairs) / len(pairs)
    assert err < 0.8 * spread, "lines should predict points better than a constant"


# --- determinism and faults ---------------------------------------------------------------------

def test_same_config_gives_identical_bytes(tmp_path: Path):
    a = scrape_synthetic(tmp_path / "a", *WEEK, config=TINY)
    b = scrape_synthetic(tmp_path / "b", *WEEK, config=TINY)
    assert a == b
    fa, fb = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert fa == fb and len(fa) > 10
    other = scrape_synthetic(tmp_path / "c", *WEEK, config=LeagueConfig(seed=8, teams=4, players_per_team=8))
    assert other.files_written and _files(tmp_path / "c") != fa


def test_bytes_do_not_depend_on_process_hash_seed(tmp_path: Path):
    d = date(2021, 11, 5)
    scrape_synthetic(tmp_path / "here", d, d, config=TINY)
    code = (
        "import sys; from datetime import date; from pathlib import Path;"
        "from fullcourt.nba.sources.synthetic import scrape_synthetic, LeagueConfig;"
        "scrape_synthetic(Path(sys.argv[1]), date(2021, 11, 5), date(2021, 11, 5), LeagueConfig(7, 4, 8))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "there")], check=True, env=env)
    assert _files(tmp_path / "here") == _files(tmp_path / "there")


def test_a_dates_files_do_not_depend_on_the_range(tmp_path: Path):
    d = date(2021, 11, 5)
    scrape_synthetic(tmp_path / "one", d, d, config=TINY)
    scrape_synthetic(tmp_path / "all", S21.start, date(2021, 12, 31), config=TINY)
    one, whole = _files(tmp_path / "one"), _files(tmp_path / "all")
    assert any(k.startswith("2021-11-05/") for k in one)
    assert {k: v for k, v in whole.items() if k.startswith("2021-11-05/") or k.startswith("schedule/")} == one


def test_fail_dates_leave_the_folder_absent(tmp_path: Path):
    model = build_season(S21, TINY)
    bad = model.game_dates()[3]
    result = scrape_synthetic(tmp_path, S21.start, bad + timedelta(days=3), config=TINY, fail_dates=frozenset({bad}))
    assert result.dates_failed == [bad] and bad not in result.dates_written
    assert not (tmp_path / str(bad)).exists()
    league = _load(tmp_path / "schedule" / "2021-22.json")["leagueSchedule"]["gameDates"]
    listed = {gd["gameDate"]: [g["gameId"] for g in gd["games"]] for gd in league}
    assert listed[str(bad)] == [g.game_id for g in model.games_on(bad)]
    assert (tmp_path / str(model.game_dates()[4]) / "schedule.json").exists()


def test_fail_games_drop_three_files_but_keep_the_scoreboard(tmp_path: Path):
    model = build_season(S21, TINY)
    d = model.game_dates()[5]
    victim = model.games_on(d)[0].game_id
    with pytest.raises(UsageError, match="--fail-games 0029999999: no such game"):
        scrape_synthetic(tmp_path, d, d, config=TINY, fail_games=frozenset({victim, "0029999999"}))
    assert not any(tmp_path.iterdir())  # an unknown gameId is refused before any file is written
    result = scrape_synthetic(tmp_path, d, d, config=TINY, fail_games=frozenset({victim}))
    assert result.games_dropped == [victim] and result.dates_written == [d]
    folder = tmp_path / str(d)
    for kind in ("boxscore", "gamebook", "shots"):
        assert not (folder / f"{kind}_{victim}.json").exists()
    board = _load(folder / "schedule.json")["scoreboard"]["games"]
    assert victim in [g["gameId"] for g in board]
    assert (folder / "props.json").exists()
    assert result.games_written == len(model.games_on(d)) - 1


def test_dates_outside_seasons_are_silently_empty(tmp_path: Path):
    result = scrape_synthetic(tmp_path, date(2021, 6, 1), date(2021, 7, 31), config=TINY)
    assert result == ScrapeResult()
    assert not any(tmp_path.iterdir())
    result = scrape_synthetic(tmp_path, date(2021, 12, 24), date(2021, 12, 24), config=TINY)
    assert result.dates_written == [] and result.files_written == 1  # only the league schedule


def test_scrape_overwrites_existing_files(tmp_path: Path):
    d = date(2021, 11, 5)
    scrape_synthetic(tmp_path, d, d, config=TINY)
    board = tmp_path / str(d) / "schedule.json"
    good = board.read_bytes()
    board.write_text("garbage")
    scrape_synthetic(tmp_path, d, d, config=TINY)
    assert board.read_bytes() == good


def test_correct_box_score_adds_two_free_throws_to_one_line_and_its_team(tmp_path):
    from fullcourt.nba.sources.synthetic import correct_box_score
    day = date(2021, 10, 19)
    scrape_synthetic(tmp_path, day, day, LeagueConfig(seed=3, teams=4, players_per_team=8))
    before = json.loads(sorted((tmp_path / day.isoformat()).glob("boxscore_*.json"))[0].read_text())
    path = correct_box_score(tmp_path, day)
    after = json.loads(path.read_text())
    b, a = before["game"]["homeTeam"], after["game"]["homeTeam"]
    for key in ("freeThrowsMade", "freeThrowsAttempted", "points"):
        assert a["players"][0]["statistics"][key] == b["players"][0]["statistics"][key] + 2
        assert a["statistics"][key] == b["statistics"][key] + 2
        assert a["players"][1]["statistics"][key] == b["players"][1]["statistics"][key]
    assert a["score"] == b["score"] + 2 and after["game"]["awayTeam"] == before["game"]["awayTeam"]
