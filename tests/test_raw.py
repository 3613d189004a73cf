"""Phase 2 on bad input: one corrupted file fails its date with a line naming the file and the
problem, leaves that date's partition exactly as it was, and lets the other dates go on."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Callable

import pytest

from fullcourt.engine.runner import RunOptions, run_processor
from fullcourt.engine.warehouse import Warehouse
from fullcourt.nba.pipeline import registry
from handfixture import D1 as D1_TEXT, G1, G2, dump, write_hand_fixture

D1, D3 = date(2021, 11, 1), date(2021, 11, 3)
# the copy of 2021-11-01 on 2021-11-03 gets its own game ids
D3_IDS = {G1: "0022100111", G2: "0022100112"}
PLAYER_BOX = "NbacPlayerBoxscoreProcessor"
TEAM_BOX = "NbacTeamBoxscoreProcessor"


def copy_day(landing: Path, src: str, dst: str, ids: dict[str, str]) -> None:
    """Copy date folder `src` to `dst` (dates and game ids rewritten) and schedule it in the league file."""
    def rewrite(text: str) -> str:
        text = text.replace(src, dst)
        for old, new in ids.items():
            text = text.replace(old, new)
        return text

    for f in sorted((landing / src).iterdir()):
        target = landing / dst / rewrite(f.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rewrite(f.read_text(encoding="utf-8")), encoding="utf-8")
    league_file = landing / "schedule" / "2021-22.json"
    league = json.loads(league_file.read_text(encoding="utf-8"))
    day = next(g for g in league["leagueSchedule"]["gameDates"] if g["gameDate"] == src)
    league["leagueSchedule"]["gameDates"].append(json.loads(rewrite(json.dumps(day))))
    dump(league_file, league)


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    """The hand fixture plus 2021-11-03, a good copy of 2021-11-01."""
    path = tmp_path / "landing"
    write_hand_fixture(path)
    copy_day(path, D1_TEXT, "2021-11-03", D3_IDS)
    return path


def run(wh: Warehouse, landing: Path, name: str, dates=(D1, D3)):
    reg = registry()
    params = {"landing": landing}
    run_processor(wh, reg.get("NbacScheduleProcessor"), list(dates), RunOptions(), params)
    return run_processor(wh, reg.get(name), list(dates), RunOptions(), params)


def partition(wh: Warehouse, table: str, d: date) -> list[tuple]:
    """Every column (run metadata included) of the date's rows, ordered."""
    return wh.con.execute(f"SELECT * FROM {table} WHERE game_date = ? ORDER BY ALL", [d]).fetchall()


def edit_json(path: Path, change: Callable[[dict], None]) -> None:
    obj = json.loads(path.read_text(encoding="utf-8"))
    change(obj)
    dump(path, obj)


def check_bad_file(wh: Warehouse, landing: Path, name: str, file_name: str, corrupt: Callable[[Path], None],
                   problem: str | tuple[str, ...]) -> None:
    """Run clean, corrupt `file_name` of 2021-11-01, rerun: D1 fails naming file and problem
    (one of the wordings if a tuple), D1's partition is untouched, D3 is rewritten by the new run."""
    wordings = (problem,) if isinstance(problem, str) else problem
    table = registry().get(name).output_table
    first = run(wh, landing, name)
    assert [r.status for r in first.rows] == ["success", "success"]
    before = partition(wh, table, D1)
    assert before, "the clean run wrote nothing for 2021-11-01"
    path = landing / D1_TEXT / file_name
    corrupt(path)

    second = run(wh, landing, name)

    (row1,) = [r for r in second.rows if r.data_date == D1]
    assert (row1.status, row1.records_created) == ("failed", 0), row1.errors
    assert any(str(path) in line and any(w in line for w in wordings) for line in row1.errors), row1.errors
    assert partition(wh, table, D1) == before
    (row3,) = [r for r in second.rows if r.data_date == D3]
    assert (row3.status, row3.errors) == ("success", [])
    assert row3.records_created == len(before)
    d3_runs = wh.con.execute(f"SELECT DISTINCT run_id FROM {table} WHERE game_date = ?", [D3]).fetchall()
    assert d3_runs == [(second.run_id,)]


def home_player(obj: dict, i: int = 0) -> dict:
    return obj["game"]["homeTeam"]["players"][i]


def test_malformed_json(wh, landing):
    def corrupt(path: Path) -> None:
        path.write_text(path.read_text(encoding="utf-8")[:200], encoding="utf-8")

    check_bad_file(wh, landing, PLAYER_BOX, f"boxscore_{G1}.json", corrupt, "malformed JSON")


def test_empty_file(wh, landing):
    # a zero-byte file (killed writer) is a bad payload, not a missing game: the date must not
    # "succeed" with a partition that lost the game's stored rows
    def corrupt(path: Path) -> None:
        path.write_text("", encoding="utf-8")

    check_bad_file(wh, landing, PLAYER_BOX, f"boxscore_{G1}.json", corrupt, ("malformed JSON", "empty"))


def test_wrong_typed_statistic(wh, landing):
    # a statistic that is not a number is a bad payload: its date fails naming the file and the
    # field (it must neither be stored as NULL nor fail the other dates of the run)
    def corrupt(path: Path) -> None:
        edit_json(path, lambda o: home_player(o)["statistics"].update(points="abc"))

    check_bad_file(wh, landing, PLAYER_BOX, f"boxscore_{G1}.json", corrupt, "non-numeric statistics.points for personId 1")


def test_missing_person_id(wh, landing):
    def corrupt(path: Path) -> None:
        edit_json(path, lambda o: home_player(o).pop("personId"))

    check_bad_file(wh, landing, PLAYER_BOX, f"boxscore_{G1}.json", corrupt, "missing field players[].personId")


def test_missing_home_team(wh, landing):
    def corrupt(path: Path) -> None:
        edit_json(path, lambda o: o["game"].pop("homeTeam"))

    check_bad_file(wh, landing, TEAM_BOX, f"boxscore_{G1}.json", corrupt, "missing field homeTeam")


def test_unknown_team_tricode(wh, landing):
    def corrupt(path: Path) -> None:
        edit_json(path, lambda o: o["game"]["homeTeam"].update(teamTricode="XYZ"))

    check_bad_file(wh, landing, TEAM_BOX, f"boxscore_{G1}.json", corrupt, "unknown team XYZ")


def test_unknown_team_tricode_in_shot_log(wh, landing):
    def corrupt(path: Path) -> None:
        edit_json(path, lambda o: o["shotchart"]["shots"][0].update(teamTricode="XYZ"))

    check_bad_file(wh, landing, "NbacShotsProcessor", f"shots_{G1}.json", corrupt, "unknown team XYZ")


def test_negative_minutes(wh, landing):
    def corrupt(path: Path) -> None:
        edit_json(path, lambda o: home_player(o)["statistics"].update(minutes="PT-5M00.00S"))

    check_bad_file(wh, landing, PLAYER_BOX, f"boxscore_{G1}.json", corrupt,
                   "negative minutes PT-5M00.00S for personId 1")


def test_payload_date_is_not_the_folder_date(wh, landing):
    def corrupt(path: Path) -> None:
        edit_json(path, lambda o: o["game"].update(gameDate="2021-11-02"))

    check_bad_file(wh, landing, PLAYER_BOX, f"boxscore_{G1}.json", corrupt,
                   "payload date 2021-11-02 is not the folder's date 2021-11-01")


def test_player_listed_twice_in_one_game(wh, landing):
    def corrupt(path: Path) -> None:
        edit_json(path, lambda o: o["game"]["homeTeam"]["players"].append(dict(home_player(o))))

    check_bad_file(wh, landing, PLAYER_BOX, f"boxscore_{G1}.json", corrupt, f"player 1 listed 2 times in game {G1}")


def test_player_listed_twice_in_gamebook(wh, landing):
    def corrupt(path: Path) -> None:
        edit_json(path, lambda o: o["gamebook"]["inactivePlayers"].append(dict(o["gamebook"]["inactivePlayers"][0])))

    check_bad_file(wh, landing, "NbacGamebookProcessor", f"gamebook_{G1}.json", corrupt,
                   f"player 7 listed 2 times in game {G1}")


def test_partial_day_succeeds_with_a_warning_naming_the_game(wh, landing):
    (landing / D1_TEXT / f"boxscore_{G2}.json").unlink()

    result = run(wh, landing, PLAYER_BOX)

    (row1,) = [r for r in result.rows if r.data_date == D1]
    assert row1.status == "success"
    assert row1.records_created == 4  # BOS-NYK: Tatum, Horford, Barrett, Porziņģis
    (warning,) = row1.errors
    assert G2 in warning and "1 of 2 scheduled games" in warning
    assert wh.con.execute(
        "SELECT DISTINCT game_id FROM nba_raw.nbac_player_boxscore WHERE game_date = ?", [D1]
    ).fetchall() == [(G1,)]
    stored = wh.con.execute(
        "SELECT errors FROM nba_reference.processor_run_history WHERE run_id = ? AND data_date = ?",
        [result.run_id, D1],
    ).fetchone()
    assert json.loads(stored[0]) == [warning]
    (row3,) = [r for r in result.rows if r.data_date == D3]
    assert (row3.status, row3.records_created, row3.errors) == ("success", 6, [])
