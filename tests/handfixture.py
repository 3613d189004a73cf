"""A tiny hand-written landing folder: 2021-11-01 has two games (BOS-NYK, LAL-GSW), 2021-11-02
is scheduled (GSW-LAL) but its scrape failed (no date folder). Values are chosen so that the
phase 3 results can be worked out by hand in the tests."""
from __future__ import annotations

import json
from pathlib import Path

D1 = "2021-11-01"
D2 = "2021-11-02"
G1, G2, G3 = "0022100101", "0022100102", "0022100103"
IDS = {"BOS": 1610612738, "NYK": 1610612752, "LAL": 1610612747, "GSW": 1610612744}

# name, id, minutes, fgm, fga, fg3m, fg3a, ftm, fta, oreb, dreb, ast, stl, blk, tov, pf
PLAYERS = {
    "BOS": [("Jayson Tatum", 1, "PT36M00.00S", 10, 20, 3, 8, 5, 6, 1, 7, 4, 1, 0, 3, 2),
            ("Al Horford", 2, "PT30M00.00S", 5, 10, 1, 4, 2, 2, 2, 6, 2, 0, 2, 1, 3)],
    "NYK": [("RJ Barrett", 3, "PT40M00.00S", 8, 16, 2, 6, 4, 4, 0, 5, 3, 2, 0, 2, 1),
            ("Kristaps Porziņģis", 4, "PT25M30.00S", 4, 9, 0, 1, 1, 2, 2, 4, 1, 0, 1, 1, 4)],
    "LAL": [("D'Angelo Russell", 5, "PT30M00.00S", 6, 12, 2, 5, 3, 4, 1, 3, 7, 1, 0, 4, 2)],
    "GSW": [("Gary Payton II", 6, "PT20M00.00S", 3, 5, 1, 2, 0, 0, 1, 2, 1, 2, 0, 0, 3)],
}
# person id -> list of (shotType, distance, made, count)
SHOTS = {
    1: [("3PT", 25.0, True, 3), ("3PT", 25.0, False, 5), ("2PT", 3.0, True, 5), ("2PT", 3.0, False, 2),
        ("2PT", 15.0, True, 2), ("2PT", 15.0, False, 3)],
    2: [("3PT", 24.0, True, 1), ("3PT", 24.0, False, 3), ("2PT", 4.0, True, 3), ("2PT", 4.0, False, 1),
        ("2PT", 16.0, True, 1), ("2PT", 16.0, False, 1)],
    3: [("3PT", 26.0, True, 2), ("3PT", 26.0, False, 4), ("2PT", 5.0, True, 4), ("2PT", 5.0, False, 2),
        ("2PT", 12.0, True, 2), ("2PT", 12.0, False, 2)],
    4: [("3PT", 24.0, False, 1), ("2PT", 8.0, True, 4), ("2PT", 8.0, False, 4)],
    5: [("3PT", 24.0, True, 2), ("3PT", 24.0, False, 3), ("2PT", 2.0, True, 4), ("2PT", 2.0, False, 3)],
    6: [("3PT", 24.0, True, 1), ("3PT", 24.0, False, 1), ("2PT", 12.0, True, 2), ("2PT", 12.0, False, 1)],
}
KEYS = ("fieldGoalsMade", "fieldGoalsAttempted", "threePointersMade", "threePointersAttempted",
        "freeThrowsMade", "freeThrowsAttempted", "reboundsOffensive", "reboundsDefensive", "assists",
        "steals", "blocks", "turnovers", "foulsPersonal")


def player_stats(row: tuple) -> dict:
    name, pid, minutes, *vals = row
    s = dict(zip(KEYS, vals))
    s["minutes"] = minutes
    s["reboundsTotal"] = s["reboundsOffensive"] + s["reboundsDefensive"]
    s["points"] = 2 * (s["fieldGoalsMade"] - s["threePointersMade"]) + 3 * s["threePointersMade"] + s["freeThrowsMade"]
    s["plusMinusPoints"] = 0.0
    return s


def team(code: str) -> dict:
    players = []
    totals = {k: 0 for k in KEYS + ("reboundsTotal", "points")}
    for row in PLAYERS[code]:
        st = player_stats(row)
        for k in totals:
            totals[k] += st[k]
        players.append({"personId": row[1], "name": row[0], "firstName": row[0].split()[0],
                        "familyName": row[0].split()[-1], "position": "F", "starter": "1", "statistics": st})
    totals["minutes"] = "PT240M00.00S"
    return {"teamId": IDS[code], "teamTricode": code, "score": totals["points"], "statistics": totals,
            "players": players}


def shots(codes: tuple[str, str]) -> list[dict]:
    out, n = [], 0
    for code in codes:
        for row in PLAYERS[code]:
            for shot_type, dist, made, count in SHOTS[row[1]]:
                for _ in range(count):
                    n += 1
                    out.append({"actionNumber": n, "personId": row[1], "teamTricode": code, "period": 1,
                                "clock": "PT10M00.00S", "shotType": shot_type, "shotDistance": dist,
                                "x": 0.0, "y": dist, "shotResult": "Made" if made else "Missed",
                                "basicZone": None})
    return out


def dump(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=1), encoding="utf-8")


def sched_game(gid: str, home: str, away: str, status: int = 1) -> dict:
    return {"gameId": gid, "gameStatus": status, "gameStatusText": "Scheduled" if status == 1 else "Final",
            "homeTeam": {"teamId": IDS[home], "teamTricode": home},
            "awayTeam": {"teamId": IDS[away], "teamTricode": away}}


def write_hand_fixture(landing: Path) -> None:
    """Write the hand fixture into `landing`."""
    dump(landing / "schedule" / "2021-22.json", {"leagueSchedule": {"seasonYear": "2021-22", "leagueId": "00",
         "gameDates": [{"gameDate": D1, "games": [sched_game(G1, "BOS", "NYK"), sched_game(G2, "LAL", "GSW")]},
                       {"gameDate": D2, "games": [sched_game(G3, "GSW", "LAL")]}]}})
    games = [(G1, "BOS", "NYK"), (G2, "LAL", "GSW")]
    board = []
    for gid, home, away in games:
        h, a = team(home), team(away)
        g = sched_game(gid, home, away, 3)
        g["homeTeam"]["score"], g["awayTeam"]["score"] = h["score"], a["score"]
        board.append(g)
        dump(landing / D1 / f"boxscore_{gid}.json",
             {"game": {"gameId": gid, "gameDate": D1, "gameStatus": 3, "homeTeam": h, "awayTeam": a}})
        inactive = [] if gid == G2 else [{"personId": 7, "name": "Derrick Rose", "teamTricode": "NYK",
                                          "status": "DNP", "reason": "DNP - Injury/Illness - Right Ankle; Sprain"}]
        dump(landing / D1 / f"gamebook_{gid}.json",
             {"gamebook": {"gameId": gid, "gameDate": D1, "inactivePlayers": inactive}})
        dump(landing / D1 / f"shots_{gid}.json",
             {"shotchart": {"gameId": gid, "gameDate": D1, "shots": shots((home, away))}})
    dump(landing / D1 / "schedule.json", {"scoreboard": {"gameDate": D1, "leagueId": "00", "games": board}})
