"""Importing the real NBA.com bundles (data/real): every expected value is computed here from
the bundle's CSV files with csv / gzip / zipfile, never taken from the importer.

Bundles: nba-stats-boxscores (2021-22 box scores with DNP rows) and nba-shotchart (2022-23
shots + game logs). The shot-chart import reads the whole 217k-shot zip each time, so one
module fixture imports two small ranges into one landing folder and the tests share it.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import re
import shutil
import zipfile
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Sequence

import pytest
from typer.testing import CliRunner

from fullcourt import api
from fullcourt.nba.sources import nba_shotchart
from fullcourt.cli import app
from fullcourt.errors import InputError
from fullcourt.nba.sources import nbacom

from realdata import BOXSCORES, SHOTCHART, require  # noqa: E402
from remedies import no_traceback  # noqa: E402

require(BOXSCORES, SHOTCHART)
BOX, SHOT = BOXSCORES, SHOTCHART
BOX_FMT, SHOT_FMT = "nba-stats-boxscores", "nba-shotchart"

GAMES_FILE = next(BOX.glob("games_2*.csv.gz"))
DETAILS_FILE = next(BOX.glob("games_details*.csv.gz"))
SHOTS_ZIP = next(SHOT.glob("*Shots*.csv.zip"))
PLAYER_LOGS = next(SHOT.glob("player_game_logs*.csv.gz"))
TEAM_LOGS = next(SHOT.glob("team_game_logs*.csv.gz"))

# box-score bundle: one import over these dates (both of Kanter's names, an underscore DNP code)
BOX_START, BOX_END = date(2021, 11, 11), date(2021, 11, 20)
# shot-chart bundle: Durant plays for BKN on 2023-01-08 and for PHX on 2023-03-01
SHOT_RANGES = ((date(2023, 1, 6), date(2023, 1, 8)), (date(2023, 3, 1), date(2023, 3, 1)))
KANTER, DURANT = "202683", "201142"

BASIC_ZONE_TO_ZONE = {
    "Restricted Area": "paint", "In The Paint (Non-RA)": "paint", "Mid-Range": "mid_range",
    "Left Corner 3": "three", "Right Corner 3": "three", "Above the Break 3": "three", "Backcourt": "three",
}
STAT_ORDER = ("points", "fgm", "fga", "fg3m", "fg3a", "reb", "ast")
CSV_STAT = {"points": "PTS", "fgm": "FGM", "fga": "FGA", "fg3m": "FG3M", "fg3a": "FG3A", "reb": "REB", "ast": "AST"}

runner = CliRunner()


# --- reading the real files independently -------------------------------------------------------------


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """(header, rows) of a plain or gzip CSV."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def write_csv_gz(path: Path, header: Sequence[str], rows: Iterable[dict[str, str]]) -> None:
    with gzip.open(path, "wt", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(header))
        w.writeheader()
        w.writerows(rows)


def gid10(text: str) -> str:
    return text.strip().zfill(10)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(i) for i in range((end - start).days + 1)]


def dnp_code(comment: str) -> str:
    """The status a DNP comment stands for: its leading DNP / DND / NWT, any case or separator."""
    m = re.match(r"\s*(DNP|DND|NWT)", comment, re.IGNORECASE)
    assert m, f"not a DNP comment: {comment!r}"
    return m.group(1).upper()


class BoxCsv:
    """The box-score bundle's games and games_details rows, read with csv/gzip."""

    def __init__(self) -> None:
        self.games_header, self.games = read_csv(GAMES_FILE)
        self.header, self.details = read_csv(DETAILS_FILE)
        self.date_of = {g["GAME_ID"]: date.fromisoformat(g["GAME_DATE_EST"]) for g in self.games}

    def regular(self, start: date, end: date) -> list[dict[str, str]]:
        """games_details rows of regular-season games (GAME_ID 2…) dated in [start, end]."""
        return [r for r in self.details
                if r["GAME_ID"].startswith("2") and start <= self.date_of[r["GAME_ID"]] <= end]

    def regular_games(self, start: date, end: date) -> dict[str, date]:
        return {gid10(g["GAME_ID"]): self.date_of[g["GAME_ID"]] for g in self.games
                if g["GAME_ID"].startswith("2") and start <= self.date_of[g["GAME_ID"]] <= end}


def is_dnp(row: dict[str, str]) -> bool:
    return bool(row["COMMENT"].strip())


@pytest.fixture(scope="module")
def box_csv() -> BoxCsv:
    return BoxCsv()


class ShotCsv:
    """The shot-chart bundle's shots (exact duplicates counted, then dropped) and player logs for
    the dates of SHOT_RANGES, read with zipfile/csv/gzip."""

    def __init__(self, dates: set[date]) -> None:
        with zipfile.ZipFile(SHOTS_ZIP) as z:
            member = [m for m in z.namelist() if m.endswith(".csv") and not m.startswith("__MACOSX/")]
            assert len(member) == 1, member
            with z.open(member[0]) as raw:
                reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
                header = next(reader)
                seen: Counter[tuple[str, ...]] = Counter()
                kept: list[tuple[str, ...]] = []
                col = {c: i for i, c in enumerate(header)}
                per_game: dict[tuple[str, str], list[int]] = {}  # fga, fgm, fga once, fgm once, repeats
                team_games: dict[tuple[str, str], list[int]] = {}  # team FGA with and without repeats
                self.team_of: dict[tuple[str, str], str] = {}
                for row in reader:
                    t = tuple(row)
                    seen[t] += 1
                    made = t[col["SHOT_MADE"]].upper() == "TRUE"
                    team = team_games.setdefault((t[col["TEAM_ID"]], t[col["GAME_DATE"]]), [0, 0])
                    team[0] += 1
                    team[1] += seen[t] == 1
                    self.team_of[(t[col["PLAYER_ID"]], t[col["GAME_DATE"]])] = t[col["TEAM_ID"]]
                    c = per_game.setdefault((t[col["PLAYER_ID"]], t[col["GAME_DATE"]]), [0, 0, 0, 0, 0])
                    c[0] += 1
                    c[1] += made
                    if seen[t] == 1:
                        c[2] += 1
                        c[3] += made
                    else:
                        c[4] += 1
                    if seen[t] == 1 and datetime.strptime(t[col["GAME_DATE"]], "%m-%d-%Y").date() in dates:
                        kept.append(t)
        self.exact_duplicates = sum(n - 1 for n in seen.values())
        self.repeated = {k: v for k, v in per_game.items() if v[4]}
        self.team_shots = team_games
        self.shots = [dict(zip(header, t)) for t in kept]
        for s in self.shots:
            s["date"] = datetime.strptime(s["GAME_DATE"], "%m-%d-%Y").date()
        _, logs = read_csv(PLAYER_LOGS)
        self.logs = [r for r in logs if r["SEASON_TYPE"] == "Regular Season"
                     and date.fromisoformat(r["GAME_DATE"]) in dates]


@pytest.fixture(scope="module")
def shot_csv() -> ShotCsv:
    return ShotCsv({d for s, e in SHOT_RANGES for d in days(s, e)})


# --- running the pipeline -----------------------------------------------------------------------------


def query(db: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    with api.open_warehouse(db) as wh:
        return wh.con.execute(sql, list(params)).fetchall()


def run_phase(db: Path, landing: Path, dates: Sequence[date], phase: int) -> None:
    report = api.backfill(db, landing, list(dates), phase=phase, skip_preflight=True)
    assert report.ok, json.dumps(report.to_dict(), default=str)[:3000]


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def box_bundle(folder: Path, header: Sequence[str], details: Iterable[dict[str, str]]) -> Path:
    """A box-score bundle in `folder`: the real games file and teams.csv, and `details` as games_details."""
    folder.mkdir(parents=True)
    shutil.copy(GAMES_FILE, folder / GAMES_FILE.name)
    shutil.copy(BOX / "teams.csv", folder / "teams.csv")
    write_csv_gz(folder / DETAILS_FILE.name, header, details)
    return folder


@pytest.fixture(scope="module")
def box_store(tmp_path_factory) -> dict[str, Any]:
    """The real box-score bundle imported for BOX_START..BOX_END, phase 2 run over those dates."""
    root = tmp_path_factory.mktemp("box")
    db, landing = root / "f.duckdb", root / "landing"
    report = api.import_bundle(db, landing, BOX_FMT, BOX, BOX_START, BOX_END)
    run_phase(db, landing, days(BOX_START, BOX_END), 2)
    return {"db": db, "landing": landing, "report": report}


@pytest.fixture(scope="module")
def shot_store(tmp_path_factory) -> dict[str, Any]:
    """The real shot-chart bundle imported for the two SHOT_RANGES into one landing folder,
    phases 2 and 3 run over their dates."""
    root = tmp_path_factory.mktemp("shots")
    db, landing = root / "f.duckdb", root / "landing"
    reports = [api.import_bundle(db, landing, SHOT_FMT, SHOT, s, e) for s, e in SHOT_RANGES]
    dates = [d for s, e in SHOT_RANGES for d in days(s, e)]
    run_phase(db, landing, dates, 2)
    run_phase(db, landing, dates, 3)
    return {"db": db, "landing": landing, "reports": reports, "dates": dates}


# --- 1. renamed player --------------------------------------------------------------------------------


def test_renamed_player_has_one_player_lookup(box_csv, box_store):
    his = [r for r in box_csv.details if r["PLAYER_ID"] == KANTER]
    in_range = [r for r in box_csv.regular(BOX_START, BOX_END) if r["PLAYER_ID"] == KANTER]
    played_names = {r["PLAYER_NAME"] for r in in_range if not is_dnp(r)}
    assert played_names == {"Enes Kanter", "Enes Freedom"}, "the range must hold played games under both names"
    latest = max(his, key=lambda r: box_csv.date_of[r["GAME_ID"]])["PLAYER_NAME"]
    expected_lookup = re.sub(r"[^a-z0-9]", "", latest.lower())
    assert expected_lookup == "enesfreedom"

    db = box_store["db"]
    box = query(db, "SELECT DISTINCT player_lookup, player_name FROM nba_raw.nbac_player_boxscore WHERE person_id = ?",
                [int(KANTER)])
    assert box == [(expected_lookup, latest)]
    n_box = query(db, "SELECT count(*) FROM nba_raw.nbac_player_boxscore WHERE person_id = ?", [int(KANTER)])[0][0]
    assert n_box == sum(1 for r in in_range if not is_dnp(r))
    book = query(db, "SELECT DISTINCT player_lookup FROM nba_raw.nbac_gamebook WHERE person_id = ?", [int(KANTER)])
    assert any(is_dnp(r) for r in in_range) and book == [(expected_lookup,)]
    old = query(db, "SELECT count(*) FROM nba_raw.nbac_player_boxscore WHERE player_lookup = 'eneskanter' "
                    "UNION ALL SELECT count(*) FROM nba_raw.nbac_gamebook WHERE player_lookup = 'eneskanter'")
    assert old == [(0,), (0,)]

    renamed = [r for r in box_store["report"].renamed if str(r["person_id"]) == KANTER]
    assert len(renamed) == 1, box_store["report"].renamed
    assert set(renamed[0]["names"]) == {r["PLAYER_NAME"] for r in his} and renamed[0]["used"] == latest


# --- 2. DNP rows --------------------------------------------------------------------------------------


def test_dnp_rows_go_to_the_gamebook_and_played_rows_to_the_box_score(box_csv, box_store):
    rows = box_csv.regular(BOX_START, BOX_END)
    dnp = [r for r in rows if is_dnp(r)]
    played = [r for r in rows if not is_dnp(r)]
    assert len(dnp) > 100 and {dnp_code(r["COMMENT"]) for r in dnp} == {"DNP", "DND", "NWT"}
    assert any("_" in r["COMMENT"] for r in dnp), "the range should hold an underscore-spelled comment"
    db = box_store["db"]
    lo, hi = BOX_START, BOX_END

    book = {(g, p): (s, reason) for g, p, s, reason in query(
        db, "SELECT game_id, person_id, status, reason FROM nba_raw.nbac_gamebook WHERE game_date BETWEEN ? AND ?",
        [lo, hi])}
    assert len(book) == len(dnp)
    for r in dnp:
        key = (gid10(r["GAME_ID"]), int(r["PLAYER_ID"]))
        assert key in book, f"DNP row missing from the gamebook: {r['PLAYER_NAME']} {r['GAME_ID']} {r['COMMENT']!r}"
        status, reason = book[key]
        assert status == dnp_code(r["COMMENT"]), (r["COMMENT"], status)
        assert reason.startswith(f"{status} - ")
        if re.fullmatch(r"(DNP|DND|NWT) - .+", r["COMMENT"].strip()):
            assert reason == r["COMMENT"].strip()

    box = {(g, p): vals for g, p, *vals in query(
        db, f"SELECT game_id, person_id, {', '.join(STAT_ORDER)} FROM nba_raw.nbac_player_boxscore "
            "WHERE game_date BETWEEN ? AND ?", [lo, hi])}
    assert len(box) == len(played)
    for r in dnp:
        assert (gid10(r["GAME_ID"]), int(r["PLAYER_ID"])) not in box, f"DNP row in the box score: {r}"
    for r in played:
        key = (gid10(r["GAME_ID"]), int(r["PLAYER_ID"]))
        assert box.get(key) == [int(float(r[CSV_STAT[c]])) for c in STAT_ORDER], r
    # blank DNP stats never became numbers: every stored line is a played CSV row's, none is NULL
    assert query(db, "SELECT count(*) FROM nba_raw.nbac_player_boxscore WHERE game_date BETWEEN ? AND ? AND "
                     "(points IS NULL OR fga IS NULL OR minutes IS NULL)", [lo, hi]) == [(0,)]


# --- 3. DNP spellings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("comment, expected", [
    ("DNP - Coach's Decision", ("DNP", "DNP - Coach's Decision")),
    ("DND - Injury/Illness", ("DND", "DND - Injury/Illness")),
    ("NWT - Not With Team", ("NWT", "NWT - Not With Team")),
    ("NWT_RETURN_TO_COMPETITION_RECONDITIONING", ("NWT", "NWT - Return to Competition Reconditioning")),
    ("DND_HEALTH_AND_SAFETY_PROTOCOLS", ("DND", "DND - Health and Safety Protocols")),
    ("DNP_LEAGUE_SUSPENSION", ("DNP", "DNP - League Suspension")),
    ("NWT_INELIGIBLE_TO_PLAY", ("NWT", "NWT - Ineligible to Play")),
    ("dnp - rest", ("DNP", "DNP - Rest")),
    ("dnd - injury/illness", ("DND", "DND - Injury/Illness")),
    ("  DNP - Personal  ", ("DNP", "DNP - Personal")),
    ("", None),
    ("   ", None),
    ("Coach's Decision", None),
    ("DNPX - Rest", None),
    ("Did not play", None),
    ("injured", None),
])
def test_normalise_dnp_spellings(comment, expected):
    assert nbacom.normalise_dnp(comment) == expected


# --- 4. duplicates ------------------------------------------------------------------------------------


def test_duplicate_player_rows_dropped_counted_first_kept(box_csv, tmp_path):
    day = date(2021, 11, 12)
    rows = list(box_csv.details)
    todays = [i for i, r in enumerate(rows) if r["GAME_ID"].startswith("2") and box_csv.date_of[r["GAME_ID"]] == day]
    played = [i for i in todays if not is_dnp(rows[i])]
    dnp = [i for i in todays if is_dnp(rows[i])]
    repeated = [played[0], played[5], dnp[0]]
    target = rows[played[9]]
    conflict = dict(target, PTS=str(int(float(target["PTS"])) + 10), FGM=str(int(float(target["FGM"])) + 5),
                    FGA=str(int(float(target["FGA"])) + 5), MIN="44:44")
    out = list(rows)
    for i in sorted(repeated, reverse=True):
        out.insert(i + 1, dict(rows[i]))
    out.append(conflict)
    folder = box_bundle(tmp_path / "bundle", box_csv.header, out)

    # expected counts, from the rows written
    keys = [tuple(r[c] for c in box_csv.header) for r in out]
    exact = sum(n - 1 for n in Counter(keys).values())
    distinct = list(dict.fromkeys(keys))
    col = {c: i for i, c in enumerate(box_csv.header)}
    pairs = Counter((k[col["GAME_ID"]], k[col["PLAYER_ID"]]) for k in distinct if k[col["GAME_ID"]].startswith("2"))
    second = sum(n - 1 for n in pairs.values())
    assert (exact, second) == (3, 1)

    db, landing = tmp_path / "f.duckdb", tmp_path / "landing"
    report = api.import_bundle(db, landing, BOX_FMT, folder, day, day)
    assert report.dropped.get("duplicate player rows (exact)") == exact, report.dropped
    assert report.dropped.get("second, different row for the same player and game") == second, report.dropped
    run_phase(db, landing, [day], 2)
    stored = query(db, "SELECT points, fgm, fga, minutes FROM nba_raw.nbac_player_boxscore "
                       "WHERE game_id = ? AND person_id = ?", [gid10(target["GAME_ID"]), int(target["PLAYER_ID"])])
    m, s = target["MIN"].split(":")
    assert stored == [(int(float(target["PTS"])), int(float(target["FGM"])), int(float(target["FGA"])),
                       round(int(m) + int(s) / 60, 4))]
    n_played = sum(1 for i in todays if not is_dnp(rows[i]))
    assert query(db, "SELECT count(*), count(DISTINCT (game_id, person_id)) FROM nba_raw.nbac_player_boxscore") == [
        (n_played, n_played)]
    assert query(db, "SELECT count(*) FROM nba_raw.nbac_gamebook") == [(len(dnp),)]


def test_shot_chart_exact_duplicates_kept_only_when_the_logs_count_them(shot_csv, shot_store):
    """A repeated shot row is kept when the player's log FG% matches his shots counted with the
    repeats and not without (two misses at the same second and spot); when FG% cannot tell,
    when the team log's FGA does; else it is dropped. Both are counted."""
    assert shot_csv.exact_duplicates > 0
    _, logs = read_csv(PLAYER_LOGS)
    fg_pct = {(r["PLAYER_ID"], datetime.strptime(r["GAME_DATE"], "%Y-%m-%d").strftime("%m-%d-%Y")): r["FG_PCT"]
              for r in logs}
    _, team_logs = read_csv(TEAM_LOGS)
    team_fga = {(r["Team_ID"], datetime.strptime(r["GAME_DATE"], "%b %d, %Y").strftime("%m-%d-%Y")): int(r["FGA"])
                for r in team_logs}
    keep = drop = by_team = 0
    for key, (fga, fgm, fga1, fgm1, repeats) in shot_csv.repeated.items():
        pct = float(fg_pct[key]) if fg_pct.get(key) else None
        with_all = pct is not None and abs(pct - fgm / fga) <= 0.0006
        with_one = pct is not None and abs(pct - fgm1 / fga1) <= 0.0006
        if with_all != with_one:
            counts = with_all
        else:
            team_key = (shot_csv.team_of[key], key[1])
            all_, one = shot_csv.team_shots[team_key]
            counts = team_fga.get(team_key) == all_ != one
            by_team += counts
        keep += repeats if counts else 0
        drop += 0 if counts else repeats
    assert by_team > 0  # the real bundle has a 0-for-3 player whose FG% cannot tell
    assert keep + drop == shot_csv.exact_duplicates and keep > 0
    for report in shot_store["reports"]:
        assert report.dropped.get(nba_shotchart.DUPLICATE_SHOTS, 0) == drop, report.dropped
        assert report.derived.get(nba_shotchart.REPEATED_SHOTS, 0) == keep, report.derived


# --- 5. traded player ---------------------------------------------------------------------------------


def test_traded_player_team_side_and_opponent_per_date(shot_csv, shot_store):
    logs = {date.fromisoformat(r["GAME_DATE"]): r for r in shot_csv.logs if r["PLAYER_ID"] == DURANT}
    checked = {date(2023, 1, 8), date(2023, 3, 1)}
    assert checked <= set(logs)
    assert {logs[d]["TEAM_ABBREVIATION"] for d in checked} == {"BKN", "PHX"}, "he changed teams between the dates"
    db = shot_store["db"]
    for d in sorted(logs):
        log = logs[d]
        m = re.fullmatch(r"(\w+) (vs\.|@) (\w+)", log["MATCHUP"])
        assert m and m.group(1) == log["TEAM_ABBREVIATION"], log["MATCHUP"]
        is_home, opponent = m.group(2) == "vs.", m.group(3)
        shots = {(s["HOME_TEAM"], s["AWAY_TEAM"]) for s in shot_csv.shots
                 if s["PLAYER_ID"] == DURANT and s["date"] == d}
        assert shots == {(log["TEAM_ABBREVIATION"], opponent) if is_home else (opponent, log["TEAM_ABBREVIATION"])}

        box = query(db, "SELECT b.team_abbr, b.is_home, s.home_team_abbr, s.away_team_abbr "
                        "FROM nba_raw.nbac_player_boxscore b JOIN nba_raw.nbac_schedule s USING (game_id) "
                        "WHERE b.person_id = ? AND b.game_date = ?",
                    [int(DURANT), d])
        assert len(box) == 1, (d, box)
        team, home, home_abbr, away_abbr = box[0]
        assert (team, home) == (log["TEAM_ABBREVIATION"], is_home), d
        assert (home_abbr, away_abbr) == ((team, opponent) if is_home else (opponent, team)), d
        pgs = query(db, "SELECT team_abbr, opponent_team_abbr, is_home, points FROM nba_analytics.player_game_summary "
                        "WHERE person_id = ? AND game_date = ?", [int(DURANT), d])
        assert pgs == [(log["TEAM_ABBREVIATION"], opponent, is_home, int(log["PTS"]))], d


# --- 6. team aliases ----------------------------------------------------------------------------------

HISTORICAL = {"BKN": "BRK", "CHA": "CHO", "PHX": "PHO", "NOP": "NOH"}


@pytest.mark.parametrize("keep_team_id", [True, False], ids=["id-and-old-code", "old-code-only"])
def test_historical_team_codes_import_as_current(box_csv, tmp_path, keep_team_id):
    start, end = date(2021, 11, 12), date(2021, 11, 14)
    in_range = box_csv.regular(start, end)
    assert set(HISTORICAL) <= {r["TEAM_ABBREVIATION"] for r in in_range}, "the range must hold all four teams"
    rewritten = []
    for r in box_csv.details:
        old = HISTORICAL.get(r["TEAM_ABBREVIATION"])
        if old:
            r = dict(r, TEAM_ABBREVIATION=old, TEAM_ID=r["TEAM_ID"] if keep_team_id else "")
        rewritten.append(r)
    folder = box_bundle(tmp_path / "bundle", box_csv.header, rewritten)
    db, landing = tmp_path / "f.duckdb", tmp_path / "landing"
    report = api.import_bundle(db, landing, BOX_FMT, folder, start, end)
    assert not any("team" in k for k in report.dropped), report.dropped
    assert not any("team id" in k for k in report.disagreements), report.disagreements
    run_phase(db, landing, days(start, end), 2)

    expected = {(gid10(r["GAME_ID"]), int(r["PLAYER_ID"])): r["TEAM_ABBREVIATION"] for r in in_range}
    stored = query(db, "SELECT game_id, person_id, team_abbr FROM nba_raw.nbac_player_boxscore "
                       "UNION ALL SELECT game_id, person_id, team_abbr FROM nba_raw.nbac_gamebook ORDER BY ALL")
    assert stored == sorted((g, p, t) for (g, p), t in expected.items())
    teams = {t for (t,) in query(db, "SELECT team_abbr FROM nba_raw.nbac_team_boxscore")}
    assert set(HISTORICAL) <= teams and not teams & set(HISTORICAL.values())


# --- 7. shot-chart derived values ---------------------------------------------------------------------


def test_shot_chart_counts_points_and_free_throws(shot_csv, shot_store):
    counts: dict[tuple[date, int], Counter] = defaultdict(Counter)
    for s in shot_csv.shots:
        c = counts[(s["date"], int(s["PLAYER_ID"]))]
        made = s["SHOT_MADE"].strip().upper() == "TRUE"
        three = s["SHOT_TYPE"].startswith("3PT")
        c["fga"] += 1
        c["fgm"] += made
        c["fg3a"] += three
        c["fg3m"] += made and three
    expected = {}
    for r in shot_csv.logs:
        key = (date.fromisoformat(r["GAME_DATE"]), int(r["PLAYER_ID"]))
        c = counts[key]
        pts = int(r["PTS"])
        expected[key] = (r["TEAM_ABBREVIATION"], pts, c["fgm"], c["fga"], c["fg3m"], c["fg3a"],
                         pts - 2 * c["fgm"] - c["fg3m"], None, None, None)
    assert len(expected) == len(shot_csv.logs) > 500
    assert set(counts) <= set(expected), "every shooter of these dates has a player-log row"
    stored = {(d, p): tuple(v) for d, p, *v in query(
        shot_store["db"], "SELECT game_date, person_id, team_abbr, points, fgm, fga, fg3m, fg3a, ftm, oreb, dreb, pf "
                          "FROM nba_raw.nbac_player_boxscore")}
    assert set(stored) == set(expected)
    wrong = {k: (stored[k], v) for k, v in expected.items() if stored[k] != v}
    assert not wrong, list(wrong.items())[:5]


def test_shot_zones_follow_basic_zone(shot_csv, shot_store):
    expected: Counter = Counter()
    for s in shot_csv.shots:
        assert s["BASIC_ZONE"] in BASIC_ZONE_TO_ZONE, s["BASIC_ZONE"]
        expected[(gid10(s["GAME_ID"]), int(s["PLAYER_ID"]), BASIC_ZONE_TO_ZONE[s["BASIC_ZONE"]],
                  s["SHOT_MADE"].strip().upper() == "TRUE")] += 1
    assert {k[2] for k in expected} == {"paint", "mid_range", "three"}
    db = shot_store["db"]
    stored = Counter({(g, p, z, m): n for g, p, z, m, n in query(
        db, "SELECT game_id, person_id, zone, made, count(*) FROM nba_raw.nbac_shots GROUP BY ALL")})
    assert stored == expected
    pairs = query(db, "SELECT DISTINCT basic_zone, zone FROM nba_raw.nbac_shots ORDER BY 1")
    assert sorted(pairs) == sorted(BASIC_ZONE_TO_ZONE.items())
    assert query(db, "SELECT count(*) FROM nba_raw.nbac_shots WHERE shot_detail IS DISTINCT FROM 'shots'") == [(0,)]


# --- 8. box scores without shots ----------------------------------------------------------------------


def test_box_score_bundle_stores_one_none_shot_row_per_game(box_csv, box_store):
    games = box_csv.regular_games(BOX_START, BOX_END)
    db = box_store["db"]
    rows = query(db, "SELECT game_id, game_date, shot_detail, person_id, zone FROM nba_raw.nbac_shots")
    assert sorted((g, d) for g, d, *_ in rows) == sorted(games.items())
    assert {tuple(r[2:]) for r in rows} == {("none", None, None)}

    result = api.gaps(db, BOX_START, BOX_END, table="nba_raw.nbac_shots")
    assert result.scheduled_games == len(games)
    assert [(t.table, t.expected, t.missing) for t in result.tables] == [("nba_raw.nbac_shots", len(games), {})]
    assert result.ok


def test_preseason_games_are_excluded(box_csv, box_store):
    preseason = {gid10(g["GAME_ID"]) for g in box_csv.games if g["GAME_ID"].startswith("1")}
    regular = {gid10(g["GAME_ID"]) for g in box_csv.games if g["GAME_ID"].startswith("2")}
    assert len(preseason) == 66 and preseason and regular
    excluded = {k: v for k, v in box_store["report"].excluded.items() if k.startswith("preseason games")}
    assert list(excluded.values()) == [len(preseason)], box_store["report"].excluded
    scheduled = {g for (g,) in query(box_store["db"], "SELECT game_id FROM nba_raw.nbac_schedule")}
    assert not scheduled & preseason
    assert set(box_csv.regular_games(BOX_START, BOX_END)) <= scheduled
    league = json.loads((box_store["landing"] / "schedule" / "2021-22.json").read_text(encoding="utf-8"))
    listed = {g["gameId"] for day in league["leagueSchedule"]["gameDates"] for g in day["games"]}
    assert listed == regular


# --- 9. bad input writes nothing ----------------------------------------------------------------------


def assert_nothing_written(db: Path, landing: Path) -> None:
    assert not landing.exists() or not any(landing.iterdir()), sorted(landing.rglob("*"))[:5]
    if db.exists():
        assert query(db, "SELECT count(*) FROM nba_processing.import_runs") == [(0,)]


def test_bundle_without_games_details_is_input_error(tmp_path):
    folder = tmp_path / "bundle"
    folder.mkdir()
    shutil.copy(GAMES_FILE, folder / GAMES_FILE.name)
    db, landing = tmp_path / "f.duckdb", tmp_path / "landing"
    with pytest.raises(InputError) as err:
        api.import_bundle(db, landing, BOX_FMT, folder, BOX_START, BOX_END)
    assert "games_details" in err.value.message and err.value.remedy
    assert_nothing_written(db, landing)


def test_shot_chart_bundle_without_player_logs_is_input_error(tmp_path):
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / SHOTS_ZIP.name).symlink_to(SHOTS_ZIP)
    db, landing = tmp_path / "f.duckdb", tmp_path / "landing"
    with pytest.raises(InputError, match="player game logs"):
        api.import_bundle(db, landing, SHOT_FMT, folder)
    assert_nothing_written(db, landing)


@pytest.mark.parametrize("column", ["COMMENT", "PLAYER_ID"])
def test_games_details_missing_a_column_is_input_error(box_csv, tmp_path, column):
    header = [c for c in box_csv.header if c != column]
    folder = box_bundle(tmp_path / "bundle", header, ({c: r[c] for c in header} for r in box_csv.details))
    db, landing = tmp_path / "f.duckdb", tmp_path / "landing"
    with pytest.raises(InputError) as err:
        api.import_bundle(db, landing, BOX_FMT, folder, BOX_START, BOX_END)
    assert column in err.value.message and DETAILS_FILE.name in err.value.message
    assert_nothing_written(db, landing)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Error:")]


def test_cli_import_missing_path_is_usage_error(tmp_path):
    missing = tmp_path / "no-such-bundle"
    landing, db = tmp_path / "landing", tmp_path / "f.duckdb"
    r = runner.invoke(app, ["import", "--format", BOX_FMT, "--path", str(missing), "--landing", str(landing),
                            "--db", str(db)])
    assert r.exit_code == 2, r.output
    lines = error_lines(r.stderr)
    assert len(lines) == 1 and str(missing) in lines[0], r.stderr
    assert no_traceback(r)
    assert_nothing_written(db, landing)


def test_cli_import_bundle_without_games_details_fails_cleanly(tmp_path):
    folder = tmp_path / "bundle"
    folder.mkdir()
    shutil.copy(GAMES_FILE, folder / GAMES_FILE.name)
    landing, db = tmp_path / "landing", tmp_path / "f.duckdb"
    r = runner.invoke(app, ["import", "--format", BOX_FMT, "--path", str(folder), "--landing", str(landing),
                            "--db", str(db)])
    assert r.exit_code == InputError.exit_code == 1, r.output
    lines = error_lines(r.stderr)
    assert len(lines) == 1 and "games_details" in lines[0], r.stderr
    assert no_traceback(r)
    assert_nothing_written(db, landing)


def test_cli_import_refuses_a_file_where_a_date_folder_goes_before_writing(tmp_path):
    landing, db = tmp_path / "landing", tmp_path / "f.duckdb"
    landing.mkdir()
    squatter = landing / BOX_START.isoformat()
    squatter.write_text("not a folder", encoding="utf-8")
    r = runner.invoke(app, ["import", "--format", BOX_FMT, "--path", str(BOX), "--landing", str(landing),
                            "--db", str(db), "--start-date", BOX_START.isoformat(), "--end-date", BOX_END.isoformat()])
    assert r.exit_code == 1, r.output
    lines = error_lines(r.stderr)
    assert len(lines) == 1 and f"{squatter} is a file where the import writes a folder" in lines[0], r.stderr
    assert no_traceback(r)
    assert sorted(p.name for p in landing.iterdir()) == [squatter.name]  # nothing else written
    assert not db.exists()


def test_cli_import_unknown_format_is_usage_error(tmp_path):
    landing, db = tmp_path / "landing", tmp_path / "f.duckdb"
    r = runner.invoke(app, ["import", "--format", "nba-nonsense", "--path", str(BOX), "--landing", str(landing),
                            "--db", str(db)])
    assert r.exit_code == 2, r.output
    lines = error_lines(r.stderr)
    assert len(lines) == 1 and "nba-nonsense" in lines[0], r.stderr
    assert no_traceback(r)
    assert_nothing_written(db, landing)


# --- 10. determinism ----------------------------------------------------------------------------------


def test_box_score_import_is_byte_identical(box_store, tmp_path):
    landing = tmp_path / "landing"
    api.import_bundle(tmp_path / "f.duckdb", landing, BOX_FMT, BOX, BOX_START, BOX_END)
    first, second = tree(box_store["landing"]), tree(landing)
    assert len(first) > 200
    assert sorted(first) == sorted(second)
    assert [k for k in first if first[k] != second[k]] == []


def test_shot_chart_import_is_byte_identical(shot_store, tmp_path):
    start, end = SHOT_RANGES[1]
    landing = tmp_path / "landing"
    api.import_bundle(tmp_path / "f.duckdb", landing, SHOT_FMT, SHOT, start, end)
    again = tree(landing)
    assert json.loads(again.pop(api.LEAGUE_FILE)) == {"source": "real"}  # the folder's league, not a payload
    before = {k: v for k, v in tree(shot_store["landing"]).items()
              if k.startswith(("schedule", *(d.isoformat() for d in days(start, end))))}
    assert len(before) > 10 and sorted(again) == sorted(before)
    assert [k for k in before if before[k] != again[k]] == []


# --- 11. the import_runs row --------------------------------------------------------------------------


@pytest.mark.parametrize("store", ["box_store", "shot_store"])
def test_import_runs_row_matches_report(request, store):
    s = request.getfixturevalue(store)
    reports = s.get("reports") or [s["report"]]
    asked = SHOT_RANGES if store == "shot_store" else [(BOX_START, BOX_END)]
    assert [(rep.start, rep.end) for rep in reports] == list(asked)  # the range asked for, both ends
    assert all(rep.db == str(s["db"]) for rep in reports)
    rows = query(s["db"], "SELECT import_id, format, start_date, end_date, dates, games, player_games, rows_read, "
                          "dropped, derived, disagreements, per_date, summary, started_at <= finished_at "
                          "FROM nba_processing.import_runs ORDER BY started_at")
    assert [r[0] for r in rows] == [rep.import_id for rep in reports]
    for row, rep in zip(rows, reports):
        _, fmt, start, end, n_dates, games, player_games, *js, ordered = row
        assert (fmt, start, end) == (rep.format, rep.start, rep.end) and ordered
        assert (n_dates, games, player_games) == (len(rep.per_date), rep.games, rep.player_games)
        assert games > 0 and player_games > 0
        rows_read, dropped, derived, disagreements, per_date, summary = (json.loads(j) for j in js)
        assert rows_read == rep.rows_read and dropped == rep.dropped and derived == rep.derived
        assert disagreements == rep.disagreements
        assert per_date == {d.isoformat(): v for d, v in rep.per_date.items()}
        assert summary == json.loads(json.dumps(rep.to_dict(), default=str))


# --- a bundle under its upstream file names -----------------------------------------------------------


def test_bundle_under_upstream_file_names(box_csv, tmp_path):
    """The source repository names its files games.csv and games_details_2021.csv (README)."""
    folder = tmp_path / "bundle"
    folder.mkdir()
    with gzip.open(GAMES_FILE, "rb") as f:
        (folder / "games.csv").write_bytes(f.read())
    with gzip.open(DETAILS_FILE, "rb") as f:
        (folder / "games_details_2021.csv").write_bytes(f.read())
    day = date(2021, 11, 12)
    report = api.import_bundle(tmp_path / "f.duckdb", tmp_path / "landing", BOX_FMT, folder, day, day)
    assert report.games == len(box_csv.regular_games(day, day))


def test_shot_log_text_is_the_canonical_json_of_its_payload():
    """The templated shot log equals canonical_json of the same payload, with NULLs, unicode
    and shotDetail none included."""
    from fullcourt.nba.sources.nbacom import shot_payload, shots_text
    from fullcourt.nba.sources.synthetic import canonical_json

    rows = [("0022200001", 1, 203999, "DEN", 1, "PT11M40.00S", "2PT", 2.5, -0.3, 2.4, True, "Restricted Area"),
            ("0022200001", 2, 1629029, "DAL", 5, "PT00M01.00S", "3PT", None, None, 31.0, False, None),
            ("0022200001", 3, 1, "DAL", 2, "PT05M00.00S", "3PT", 24.0, 23.5, -1.25, False, "Zoné \"x\"")]
    d = date(2022, 10, 18)
    for detail in (True, False):
        for subset in (rows, []):
            assert shots_text("0022200001", d, subset, detail) == canonical_json(
                shot_payload("0022200001", d, subset, detail))


def test_a_range_outside_the_bundle_is_an_error_and_writes_nothing(tmp_path):
    landing = tmp_path / "landing"
    with pytest.raises(InputError, match=r"no regular-season game .* falls in 2022-01-10 \.\. 2022-01-20; "
                                         r"the bundle's games run 2021-10-19 \.\. 2021-11-30"):
        api.import_bundle(tmp_path / "f.duckdb", landing, BOX_FMT, BOX, date(2022, 1, 10), date(2022, 1, 20))
    assert not landing.exists() or not any(landing.iterdir())


def test_a_range_past_the_bundle_says_where_the_games_stop(box_csv, tmp_path):
    """A range running past the bundle's last game imports what there is and says so; a range
    inside the bundle has no such note."""
    last = max(g for g in (date(2021, 11, 30) - timedelta(days=i) for i in range(10)) if box_csv.regular_games(g, g))
    report = api.import_bundle(tmp_path / "f.duckdb", tmp_path / "landing", BOX_FMT, BOX, last, date(2022, 2, 1))
    assert report.dates == [last]
    assert f"the range asked ends 2022-02-01, after its last game on {last}: the bundle has no games there, " \
           f"so only {last} .. {last} was imported" in report.notes
    inside = api.import_bundle(tmp_path / "g.duckdb", tmp_path / "landing2", BOX_FMT, BOX, last, last)
    assert not [n for n in inside.notes if "range asked" in n]


def test_two_bundles_in_one_folder_is_an_error(tmp_path):
    folder = tmp_path / "bundle"
    folder.mkdir()
    for f in (GAMES_FILE, DETAILS_FILE):
        shutil.copy(f, folder / f.name)
    shutil.copy(DETAILS_FILE, folder / ("games_details_copy" + "".join(DETAILS_FILE.suffixes)))
    with pytest.raises(InputError, match="2 games_details files"):
        api.import_bundle(tmp_path / "f.duckdb", tmp_path / "landing", BOX_FMT, folder)


def test_source_text_is_not_console_markup(tmp_path):
    """A DNP comment with Rich markup characters prints as text (no MarkupError)."""
    folder = tmp_path / "bundle"
    folder.mkdir()
    shutil.copy(GAMES_FILE, folder / GAMES_FILE.name)
    with gzip.open(DETAILS_FILE, "rt", newline="") as f:
        text = f.read().replace("DNP - Coach's Decision", "DNP - Coach [/x] Decision", 1)
    with gzip.open(folder / DETAILS_FILE.name, "wt", newline="") as f:
        f.write(text)
    result = CliRunner().invoke(app, ["import", "--format", BOX_FMT, "--path", str(folder), "--db",
                                      str(tmp_path / "f.duckdb"), "--landing", str(tmp_path / "landing")])
    assert result.exit_code == 0, result.output
    assert "DNP - Coach [/x] Decision" in result.output
    # the next step names this store: copied as shown, it loads the import into it, not ./fullcourt.duckdb
    flat = " ".join(result.output.split())
    assert f"--landing {tmp_path / 'landing'} --db {tmp_path / 'f.duckdb'} (then phases 3 and 4" in flat


def test_a_player_log_that_ends_early_leaves_its_games_as_gaps(tmp_path):
    """Team totals without player lines would load as games nobody played in (0 player rows,
    126 points): those games are left out, so the schedule shows them missing."""
    cutoff = date(2023, 1, 7)
    folder = tmp_path / "bundle"
    folder.mkdir()
    shutil.copy(SHOTS_ZIP, folder / SHOTS_ZIP.name)
    shutil.copy(TEAM_LOGS, folder / TEAM_LOGS.name)
    header, logs = read_csv(PLAYER_LOGS)
    write_csv_gz(folder / PLAYER_LOGS.name, header, [r for r in logs if date.fromisoformat(r["GAME_DATE"][:10]) < cutoff])
    _, teams = read_csv(TEAM_LOGS)  # GAME_DATE like "JAN 07, 2023"; regular-season ids start 002
    late = {gid10(r["Game_ID"]) for r in teams if gid10(r["Game_ID"]).startswith("002")
            and cutoff <= datetime.strptime(r["GAME_DATE"], "%b %d, %Y").date() <= date(2023, 1, 8)}
    assert late
    landing = tmp_path / "landing"
    report = api.import_bundle(tmp_path / "f.duckdb", landing, SHOT_FMT, folder, date(2023, 1, 6), date(2023, 1, 8))
    assert report.dropped[nbacom.NO_PLAYER_LINES] == len(late)
    written = {p.name.split("_")[1].split(".")[0] for p in landing.rglob("boxscore_*.json")}
    assert written and not written & late
    # phase 2 fails the two days with no box score at all: the gap is loud, not a quiet zero
    loaded = api.backfill(tmp_path / "f.duckdb", landing, days(date(2023, 1, 6), date(2023, 1, 8)), phase=2,
                          skip_preflight=True)
    assert loaded.failed_dates == [date(2023, 1, 7), date(2023, 1, 8)]
    gaps = api.gaps(tmp_path / "f.duckdb", date(2023, 1, 6), date(2023, 1, 8), phase=2)
    box = next(t for t in gaps.tables if t.table == "nba_raw.nbac_player_boxscore")
    assert {g for keys in box.missing.values() for g in keys} == late


def test_a_shot_zip_missing_columns_is_named_by_its_own_path(tmp_path):
    """The CSV inside the zip is read from a temporary folder; the error names the zip."""
    folder = tmp_path / "bundle"
    folder.mkdir()
    shutil.copy(PLAYER_LOGS, folder / PLAYER_LOGS.name)
    shutil.copy(TEAM_LOGS, folder / TEAM_LOGS.name)
    shots = folder / SHOTS_ZIP.name
    with zipfile.ZipFile(shots, "w") as z:
        z.writestr("NBA_2023_Shots.csv", "SEASON_1,GAME_ID\n2023,22200001\n")
    with pytest.raises(InputError) as info:
        api.import_bundle(tmp_path / "f.duckdb", tmp_path / "landing", SHOT_FMT, folder)
    assert info.value.message.startswith(f"{shots}: missing column(s) ")
    assert_nothing_written(tmp_path / "f.duckdb", tmp_path / "landing")


@pytest.mark.parametrize("fmt, folder, other", [(SHOT_FMT, BOX, BOX_FMT), (BOX_FMT, SHOT, SHOT_FMT)])
def test_the_wrong_format_for_a_bundle_names_the_right_one(tmp_path, fmt, folder, other):
    landing, db = tmp_path / "landing", tmp_path / "f.duckdb"
    r = runner.invoke(app, ["import", "--format", fmt, "--path", str(folder), "--landing", str(landing),
                            "--db", str(db)])
    assert r.exit_code == 1, r.output
    assert f"this folder looks like an {other} bundle: use --format {other}" in " ".join(r.stderr.split())
    assert_nothing_written(db, landing)


def test_cli_import_that_cannot_write_is_a_one_line_error_leaving_whole_files(tmp_path, monkeypatch):
    """A write failing part-way (disk full): one error line naming the file, every payload on
    disk whole (no truncated JSON, no temporary file), the folder's league recorded, and no
    import recorded in a store it created."""
    landing, db = tmp_path / "landing", tmp_path / "f.duckdb"
    real, written = Path.write_bytes, []

    def disk_full(self, data):
        if len(written) == 5:
            raise OSError(28, "No space left on device")
        written.append(self)
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    r = runner.invoke(app, ["import", "--format", BOX_FMT, "--path", str(BOX), "--landing", str(landing),
                            "--db", str(db), "--start-date", BOX_START.isoformat(), "--end-date", BOX_END.isoformat()])
    monkeypatch.undo()
    assert r.exit_code == 1 and no_traceback(r), r.output
    lines = error_lines(r.stderr)
    assert len(lines) == 1 and "No space left on device" in lines[0] and "partly updated" in lines[0], r.stderr
    files = sorted(p for p in landing.rglob("*") if p.is_file())
    assert not [p for p in files if p.name.endswith(".tmp")]
    payloads = [p for p in files if p.suffix == ".json" and p.name != api.LEAGUE_FILE]
    assert len(payloads) == 5 and all(json.loads(p.read_text(encoding="utf-8")) for p in payloads)
    assert json.loads((landing / api.LEAGUE_FILE).read_text()) == {"source": "real"}
    assert not db.exists()
