"""Importer for the "NBA games data" box-score bundle scraped from stats.nba.com.

Files (plain or gzip): games*.csv (one row per game), games_details*.csv (one row per player
per game, DNP rows included); teams.csv is not needed (team ids are NBA.com's). The bundle has no
shot-level data: shot logs are written with `"shotDetail": "none"`, and zone features degrade
to two zones (inside / three) downstream, flagged as such.

Conversions, each counted in the report:
- GAME_ID without its leading zeros → the ten-character id; preseason (001…) and playoff /
  play-in (004…, 005…) games are kept out of the regular-season pipeline;
- team ids and abbreviations (current, historical or alternate) → the current tricode;
- one name per PLAYER_ID (his latest in the bundle);
- COMMENT → gamebook status and reason in one spelling; blank stats on DNP rows are not stats;
- exact duplicate rows dropped; a second, different row for the same player and game dropped;
- team totals = the sums of the team's player rows (the games file has only some of them),
  cross-checked against the games file's points.
"""
from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import duckdb

from fullcourt.nba.calendar import season_label_sql
from fullcourt.nba.sources import nbacom
from fullcourt.nba.sources.nbacom import ImportReport, game_id_sql, int_sql, seconds_sql

FORMAT = "nba-stats-boxscores"
GAMES_COLUMNS = ("GAME_DATE_EST", "GAME_ID", "HOME_TEAM_ID", "VISITOR_TEAM_ID", "PTS_home", "PTS_away")
DETAIL_COLUMNS = (
    "GAME_ID", "TEAM_ID", "TEAM_ABBREVIATION", "PLAYER_ID", "PLAYER_NAME", "START_POSITION", "COMMENT", "MIN",
    "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB", "AST", "STL", "BLK", "TO", "PF", "PTS",
    "PLUS_MINUS",
)
SOURCE_STATS = {"points": "PTS", "fgm": "FGM", "fga": "FGA", "fg3m": "FG3M", "fg3a": "FG3A", "ftm": "FTM",
                "fta": "FTA", "oreb": "OREB", "dreb": "DREB", "reb": "REB", "ast": "AST", "stl": "STL",
                "blk": "BLK", "tov": '"TO"', "pf": "PF"}


def import_bundle(con: duckdb.DuckDBPyConnection, folder: Path, landing: Path,
                  start: date | None, end: date | None) -> ImportReport:
    """Read the bundle in `folder`, write landing payloads for game dates in [start, end]
    (inclusive; None = the whole bundle). Raises InputError (writing nothing) on a missing file
    or column, or a season outside the calendar."""
    t0 = time.perf_counter()
    report = ImportReport(FORMAT, str(folder), str(landing), start, end, shot_detail=False)
    games_file = nbacom.find_file(folder, ["games_*.csv.gz", "games_*.csv", "games.csv.gz", "games.csv"], "games", FORMAT,
                                  exclude="games_details")
    details_file = nbacom.find_file(folder, ["games_details*.csv.gz", "games_details*.csv"], "games_details", FORMAT)
    report.rows_read[games_file.name] = nbacom.load_csv(con, games_file, "src_games", GAMES_COLUMNS)
    report.rows_read[details_file.name] = nbacom.load_csv(con, details_file, "src_details", DETAIL_COLUMNS)
    nbacom.team_codes_table(con)

    report.dropped["duplicate game rows (exact)"] = nbacom.count_exact_duplicates(con, "src_games")
    report.dropped["duplicate player rows (exact)"] = nbacom.count_exact_duplicates(con, "src_details")
    _games(con, report)
    nbacom.check_seasons(con, FORMAT)
    _details(con, report)
    nbacom.unify_names(con, "det", report)
    _players(con, report)
    _teams(con, report)
    report.notes.append("no shot-level data: shot logs say shotDetail none; zone features use two zones "
                        "(inside / three) from FGA and 3PA")
    nbacom.write_landing(con, landing, start, end, report)
    return nbacom.finish(report, t0)


def _games(con: duckdb.DuckDBPyConnection, report: ImportReport) -> None:
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE src_games2 AS
            SELECT g._row, g.PTS_home, g.PTS_away, {game_id_sql('g.GAME_ID')} AS game_id, TRY_CAST(g.GAME_DATE_EST AS DATE) AS game_date,
                   h.tricode AS home_abbr, h.team_id AS home_team_id, a.tricode AS away_abbr, a.team_id AS away_team_id
            FROM src_games g
            LEFT JOIN imp_team_codes h ON h.code = upper(trim(g.HOME_TEAM_ID))
            LEFT JOIN imp_team_codes a ON a.code = upper(trim(g.VISITOR_TEAM_ID))"""
    )
    kinds = dict(con.execute(
        "SELECT substr(game_id, 1, 3), count(*) FROM src_games2 GROUP BY 1").fetchall())
    report.excluded["preseason games (001…)"] = kinds.get("001", 0)
    report.excluded["playoff / play-in games (004…, 005…)"] = kinds.get("004", 0) + kinds.get("005", 0)
    report.excluded["all-star games (003…)"] = kinds.get("003", 0)
    report.excluded["games with other id prefixes"] = sum(
        v for k, v in kinds.items() if k not in ("001", "002", "003", "004", "005"))
    report.excluded = {k: v for k, v in report.excluded.items() if v}
    report.dropped["games with an unreadable date"] = con.execute(
        "SELECT count(*) FROM src_games2 WHERE game_date IS NULL AND game_id LIKE '002%'").fetchone()[0]
    report.dropped["games with an unknown team"] = con.execute(
        "SELECT count(*) FROM src_games2 WHERE game_id LIKE '002%' AND game_date IS NOT NULL "
        "AND (home_abbr IS NULL OR away_abbr IS NULL)").fetchone()[0]
    report.dropped["repeated game ids (kept the first row)"] = con.execute(
        "SELECT count(*) - count(DISTINCT game_id) FROM src_games2 WHERE game_id LIKE '002%'").fetchone()[0]
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE imp_games AS
            SELECT game_id, game_date, {season_label_sql('game_date')} AS season, home_team_id, home_abbr,
                   away_team_id, away_abbr, {int_sql('PTS_home')} AS home_score, {int_sql('PTS_away')} AS away_score
            FROM src_games2
            WHERE game_id LIKE '002%' AND game_date IS NOT NULL AND home_abbr IS NOT NULL AND away_abbr IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY game_id ORDER BY _row) = 1"""
    )


def _details(con: duckdb.DuckDBPyConnection, report: ImportReport) -> None:
    """det: player rows of imp_games with team, side and date resolved."""
    stats = ", ".join(f"{int_sql(f's.{src}')} AS {col}" for col, src in SOURCE_STATS.items())
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE det AS
            SELECT s._row, g.game_id, g.game_date AS d, TRY_CAST(s.PLAYER_ID AS BIGINT) AS person_id,
                   trim(s.PLAYER_NAME) AS name, nullif(trim(s.START_POSITION), '') AS position,
                   nullif(trim(s.COMMENT), '') AS comment, nullif(trim(s.MIN), '') AS min_text,
                   {seconds_sql('s.MIN')} AS seconds, {stats}, TRY_CAST(s.PLUS_MINUS AS DOUBLE) AS plus_minus,
                   coalesce(ti.tricode, ta.tricode) AS team_abbr, coalesce(ti.team_id, ta.team_id) AS team_id,
                   ti.tricode IS NOT NULL AND ta.tricode IS NOT NULL AND ti.tricode <> ta.tricode AS team_mismatch
            FROM src_details s
            JOIN imp_games g ON g.game_id = {game_id_sql('s.GAME_ID')}
            LEFT JOIN imp_team_codes ti ON ti.code = upper(trim(s.TEAM_ID))
            LEFT JOIN imp_team_codes ta ON ta.code = upper(trim(s.TEAM_ABBREVIATION))"""
    )
    report.excluded["player rows of excluded games"] = con.execute(
        f"SELECT count(*) FROM src_details WHERE {game_id_sql('GAME_ID')} NOT IN (SELECT game_id FROM imp_games)"
    ).fetchone()[0]
    report.excluded = {k: v for k, v in report.excluded.items() if v}
    nbacom.count_into(con, "(SELECT det.*, g.home_abbr, g.away_abbr FROM det JOIN imp_games g USING (game_id))", [
        (report.disagreements, "team id vs abbreviation (the id was used)", "team_mismatch"),
        (report.dropped, "player rows with an unknown team", "team_abbr IS NULL"),
        (report.dropped, "player rows without a player id", "person_id IS NULL"),
        (report.dropped, "player rows for a team not in the game", "team_abbr NOT IN (home_abbr, away_abbr)"),
    ])
    con.execute(
        """DELETE FROM det WHERE team_abbr IS NULL OR person_id IS NULL OR _row IN (
               SELECT det._row FROM det JOIN imp_games g USING (game_id) WHERE det.team_abbr NOT IN (g.home_abbr, g.away_abbr))"""
    )
    report.dropped["second, different row for the same player and game"] = con.execute(
        "SELECT count(*) - count(DISTINCT (game_id, person_id)) FROM det").fetchone()[0]
    con.execute("CREATE OR REPLACE TEMP TABLE det AS SELECT * FROM det "
                "QUALIFY row_number() OVER (PARTITION BY game_id, person_id ORDER BY _row) = 1")
    blank = " AND ".join(f"{c} IS NULL" for c in SOURCE_STATS)
    unreadable = " OR ".join(f"{c} IS NULL" for c in SOURCE_STATS)
    nbacom.count_into(con, "det", [
        (report.dropped, "rows with neither minutes nor a DNP comment", "comment IS NULL AND min_text IS NULL"),
        (report.dropped, "played rows with unreadable minutes or stats",
         f"comment IS NULL AND min_text IS NOT NULL AND (seconds IS NULL OR {unreadable})"),
        (report.derived, "DNP rows whose blank stats were read as 'did not play'", f"comment IS NOT NULL AND {blank}"),
        (report.disagreements, "rows with both a DNP comment and minutes (treated as played)",
         "comment IS NOT NULL AND seconds IS NOT NULL"),
        (report.derived, "played rows under one minute (kept; 0:00 rows are not appearances)",
         "comment IS NULL AND seconds < 60"),
    ])


def _players(con: duckdb.DuckDBPyConnection, report: ImportReport) -> None:
    played = "seconds IS NOT NULL AND " + " AND ".join(f"{c} IS NOT NULL" for c in SOURCE_STATS)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE imp_players AS
            SELECT d.game_id, d.team_abbr = g.home_abbr AS is_home, d.team_id, d.team_abbr, d.person_id, n.name,
                   d.position, d.position IS NOT NULL AS starter, d.seconds, {', '.join('d.' + c for c in SOURCE_STATS)},
                   d.plus_minus
            FROM det d JOIN imp_games g USING (game_id) JOIN imp_names n USING (person_id)
            WHERE {played}"""
    )
    comments = [r[0] for r in con.execute(
        f"SELECT DISTINCT comment FROM det WHERE comment IS NOT NULL AND NOT ({played})").fetchall()]
    unknown = nbacom.dnp_table(con, comments)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE imp_inactive AS
            SELECT d.game_id, d.person_id, n.name, d.team_abbr, x.status, x.reason
            FROM det d JOIN imp_names n USING (person_id) JOIN imp_dnp x ON x.comment = d.comment
            WHERE NOT ({played})"""
    )
    report.dnp_reasons = dict(con.execute(
        "SELECT reason, count(*) FROM imp_inactive GROUP BY 1 ORDER BY 2 DESC, 1").fetchall())
    report.derived["DNP comments respelled to the gamebook's spelling (rows)"] = con.execute(
        "SELECT count(*) FROM det d JOIN imp_dnp x ON x.comment = d.comment WHERE x.reason <> d.comment "
        f"AND NOT ({played})").fetchone()[0]
    if unknown:
        report.disagreements["unrecognised DNP comments (kept as DNP with the text as reason)"] = con.execute(
            "SELECT count(*) FROM det WHERE comment IN (SELECT unnest(?::VARCHAR[]))", [unknown]).fetchone()[0]
    report.derived["player names unified per PLAYER_ID (players)"] = len(report.renamed)


def _teams(con: duckdb.DuckDBPyConnection, report: ImportReport) -> None:
    sums = ", ".join(f"sum({c})::INTEGER AS {c}" for c in SOURCE_STATS)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE imp_teams AS
            SELECT game_id, is_home, any_value(team_id) AS team_id, team_abbr, sum(seconds)::INTEGER AS seconds, {sums}
            FROM imp_players GROUP BY game_id, is_home, team_abbr"""
    )
    report.derived["team totals summed from player rows (team-games)"] = con.execute(
        "SELECT count(*) FROM imp_teams").fetchone()[0]
    report.disagreements["team points summed from players vs the games file"] = con.execute(
        """SELECT count(*) FROM imp_teams t JOIN imp_games g USING (game_id)
           WHERE t.points IS DISTINCT FROM CASE WHEN t.is_home THEN g.home_score ELSE g.away_score END"""
    ).fetchone()[0]
    nbacom.no_shots(con)
