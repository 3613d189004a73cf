"""Phase 4 precompute, part 1: TDZA and PSZA (set-based over run_dates, windows strictly before d).

Expected entities (docs/pipeline.md, "Expected entities"):
- TDZA: every team on the schedule of d's season;
- PSZA: every player with an appearance earlier in d's season.
Each expected entity ends as a record or as a tracked failure.
"""
from __future__ import annotations

from datetime import date

from fullcourt.engine.spec import Dependency, ProcessorSpec, last_n_games, split_compute
from fullcourt.nba.calendar import is_bootstrap, season_label_sql
from fullcourt.nba.raw import GAME_DATES_SQL
from fullcourt.nba.windows import (
    RUN_DATES_CTE,
    completeness_struct,
    player_window_ctes,
    shortfall_category,
    team_window_ctes,
)

TDZA_N = 15
PSZA_N = 10
PSZA_TREND_N = 20
PSZA_TREND_MIN = 15
ZONES = ("paint", "mid_range", "three")


TEAMS_OF_SEASON_SQL = f"""
SELECT DISTINCT r.d, t.team AS entity_id
FROM run_dates r
JOIN (SELECT season, unnest([home_team_abbr, away_team_abbr]) AS team FROM nba_raw.nbac_schedule) t
  ON t.season = {season_label_sql('r.d')}"""
"""TDZA's expected entities: every team on the schedule of d's season."""
PLAYERS_BEFORE_SQL = f"""
SELECT r.d, arg_max(p.player_lookup, p.game_date) AS entity_id
FROM run_dates r
JOIN nba_analytics.player_game_summary p ON p.season = {season_label_sql('r.d')} AND p.game_date < r.d
GROUP BY r.d, p.person_id"""
"""PSZA's expected entities: every player with an appearance earlier in d's season (named by
his latest player_lookup)."""
CONTEXT_PLAYERS_SQL = """
SELECT game_date AS d, player_lookup AS entity_id FROM nba_analytics.upcoming_player_game_context
WHERE game_date IN (SELECT d FROM run_dates)"""
"""PCF, PDC and MLFS's expected entities: the players of d's upcoming-game context."""


def bootstrap_skip(d: date) -> str | None:
    """Phase 4 skips season days 0-13 (reason `bootstrap`)."""
    return "bootstrap" if is_bootstrap(d) else None


def phase4_spec(
    name: str,
    output_table: str,
    date_column: str,
    entity_key: tuple[str, ...],
    min_games: int,
    dependencies: tuple[Dependency, ...],
    sql: str,
    aliases: tuple[str, ...],
    description: str,
    label_column: str = "player_lookup",
    expected_sql: str | None = None,
    whole_sql: str | None = None,
) -> ProcessorSpec:
    """A phase 4 processor: game dates only, bootstrap days skipped, records and tracked
    failures from one query (see split_compute)."""
    return ProcessorSpec(
        name=name, phase=4, output_table=output_table, date_column=date_column, entity_key=entity_key,
        min_games=min_games, dependencies=dependencies, compute=split_compute(sql, date_column, whole_sql),
        work_dates_sql=GAME_DATES_SQL, skip_reason=bootstrap_skip, aliases=aliases, description=description,
        label_column=label_column, expected_sql=expected_sql or CONTEXT_PLAYERS_SQL,
    )


def _pct(makes: str, attempts: str) -> str:
    return f"round(CASE WHEN ({attempts}) > 0 THEN ({makes})::DOUBLE / ({attempts}) END, 6)"


def _zone_pct_and_attempts(pct: str, attempts: str) -> str:
    """The per-zone make percentages (`<zone>_pct{pct}`) and attempts per game
    (`<zone>_attempts{attempts}`) of an aggregate row `a` (pm/pa, mm/ma, tm/ta, bm/ba, games,
    two). A two-zone window has no paint or mid-range split: those are NULL, and three comes
    from the box score's 3PM/3PA."""
    return f"""CASE WHEN NOT a.two THEN {_pct('a.pm', 'a.pa')} END AS paint_pct{pct},
           CASE WHEN NOT a.two THEN {_pct('a.mm', 'a.ma')} END AS mid_range_pct{pct},
           CASE WHEN a.two THEN {_pct('a.bm', 'a.ba')} ELSE {_pct('a.tm', 'a.ta')} END AS three_pct{pct},
           CASE WHEN NOT a.two THEN round(a.pa::DOUBLE / a.games, 6) END AS paint_attempts{attempts},
           CASE WHEN NOT a.two THEN round(a.ma::DOUBLE / a.games, 6) END AS mid_range_attempts{attempts},
           round((CASE WHEN a.two THEN a.ba ELSE a.ta END)::DOUBLE / a.games, 6) AS three_attempts{attempts}"""


def _zone_pick(cols: dict[str, str], fn: str) -> str:
    """SQL: the zone name whose value is the min/max (`fn`) of `cols` (zone → SQL, in order);
    ties go to the first."""
    values = ", ".join(cols.values())
    names = ", ".join(f"'{z}'" for z in cols)
    return f"CASE WHEN {fn}({values}) IS NULL THEN NULL ELSE [{names}][list_position([{values}], {fn}({values}))] END"


def _two_zone_pick(two: str, three_zone: dict[str, str], two_zone: dict[str, str], fn: str) -> str:
    """SQL: `_zone_pick` over the two-zone columns when `two` holds, else over the three zones."""
    return f"CASE WHEN {two} THEN {_zone_pick(two_zone, fn)} ELSE {_zone_pick(three_zone, fn)} END"


TDZA_ZONES = {"paint": "paint_vs_league", "mid_range": "mid_range_vs_league", "three": "three_vs_league"}
TDZA_TWO_ZONES = {"inside": "inside_vs_league", "three": "three_vs_league"}
PSZA_ZONES = {"paint": "paint_rate_last_10", "mid_range": "mid_range_rate_last_10", "three": "three_rate_last_10"}
PSZA_TWO_ZONES = {"inside": "inside_rate_last_10", "three": "three_rate_last_10"}

TDZA_SQL = f"""
WITH {RUN_DATES_CTE},
{team_window_ctes('t', 'nba_analytics.team_defense_game_summary', 'defending_team_abbr', TDZA_N,
                  keep=', u.opp_paint_makes, u.opp_paint_attempts, u.opp_mid_range_makes, u.opp_mid_range_attempts, '
                       'u.opp_three_makes, u.opp_three_attempts, u.opp_fgm, u.opp_fga, u.opp_fg3m, u.opp_fg3a, '
                       'u.points_allowed, u.possessions, u.pace')},
agg AS (
    SELECT d, team_abbr, count(*) AS games,
           count(*) FILTER (WHERE opp_paint_attempts IS NULL) > 0 AS two,
           sum(opp_paint_makes) AS pm, sum(opp_paint_attempts) AS pa,
           sum(opp_mid_range_makes) AS mm, sum(opp_mid_range_attempts) AS ma,
           sum(opp_three_makes) AS tm, sum(opp_three_attempts) AS ta,
           sum(opp_fgm - opp_fg3m) AS im, sum(opp_fga - opp_fg3a) AS ia,
           sum(opp_fg3m) AS bm, sum(opp_fg3a) AS ba,
           sum(points_allowed) AS pts, sum(possessions::DECIMAL(18, 6)) AS poss,
           avg(pace::DECIMAL(18, 6)) AS pace
    FROM t_games WHERE rn <= {TDZA_N} GROUP BY d, team_abbr
),
league AS (
    SELECT d, sum(pm)::DOUBLE / nullif(sum(pa), 0) AS paint, sum(mm)::DOUBLE / nullif(sum(ma), 0) AS mid_range,
           sum(tm)::DOUBLE / nullif(sum(ta), 0) AS three, sum(im)::DOUBLE / nullif(sum(ia), 0) AS inside,
           sum(bm)::DOUBLE / nullif(sum(ba), 0) AS three_box
    FROM agg GROUP BY d
),
rows AS (
    SELECT m.d AS analysis_date, m.team_abbr, w.season, a.games AS games_in_sample,
           {_zone_pct_and_attempts('_allowed', '_allowed_per_game')},
           CASE WHEN NOT a.two THEN round(100 * ({_pct('a.pm', 'a.pa')} - l.paint), 6) END AS paint_vs_league,
           CASE WHEN NOT a.two THEN round(100 * ({_pct('a.mm', 'a.ma')} - l.mid_range), 6) END AS mid_range_vs_league,
           CASE WHEN a.two THEN round(100 * ({_pct('a.bm', 'a.ba')} - l.three_box), 6)
                ELSE round(100 * ({_pct('a.tm', 'a.ta')} - l.three), 6) END AS three_vs_league,
           {_pct('a.im', 'a.ia')} AS inside_pct_allowed,
           round(100 * ({_pct('a.im', 'a.ia')} - l.inside), 6) AS inside_vs_league,
           CASE WHEN a.two THEN 'two_zone' WHEN a.two IS NOT NULL THEN 'three_zone' END AS zone_detail,
           round(CASE WHEN a.poss > 0 THEN 100.0 * a.pts / a.poss END, 6) AS defensive_rating_last_15,
           round(a.pace, 6) AS opponent_pace,
           {completeness_struct('m', TDZA_N, TDZA_N)} AS completeness,
           m.games_found, len(m.missing_game_dates) AS n_missing, m.missing_game_dates
    FROM t_meta m JOIN t_win w ON w.d = m.d AND w.team_abbr = m.team_abbr
    LEFT JOIN agg a ON a.d = m.d AND a.team_abbr = m.team_abbr
    LEFT JOIN league l ON l.d = m.d
)
SELECT analysis_date, team_abbr, season, games_in_sample, paint_pct_allowed, mid_range_pct_allowed,
       three_pct_allowed, paint_attempts_allowed_per_game, mid_range_attempts_allowed_per_game,
       three_attempts_allowed_per_game, paint_vs_league, mid_range_vs_league, three_vs_league,
       defensive_rating_last_15, opponent_pace,
       {_two_zone_pick("zone_detail = 'two_zone'", TDZA_ZONES, TDZA_TWO_ZONES, 'least')} AS strongest_zone,
       {_two_zone_pick("zone_detail = 'two_zone'", TDZA_ZONES, TDZA_TWO_ZONES, 'greatest')} AS weakest_zone,
       inside_pct_allowed, inside_vs_league, zone_detail,
       completeness,
       team_abbr AS entity_id,
       CASE WHEN games_found < {TDZA_N} THEN
            CASE WHEN games_found + n_missing >= {TDZA_N} THEN 'INCOMPLETE_UPSTREAM' ELSE 'INSUFFICIENT_DATA' END
       END AS failure_category,
       CASE WHEN games_found < {TDZA_N} THEN
            games_found || ' of ' || {TDZA_N} || ' games before ' || analysis_date
            || CASE WHEN n_missing > 0 THEN '; missing upstream: ' || array_to_string(missing_game_dates, ', ') ELSE '' END
       END AS failure_reason,
       n_missing > 0 AS can_retry
FROM rows
"""

PSZA_SUMS = ("fga", "fgm", "fg3a", "fg3m", "paint_makes", "paint_attempts", "mid_range_makes", "mid_range_attempts",
             "three_makes", "three_attempts")
PSZA_TREND_SUMS = ("paint_attempts", "mid_range_attempts", "three_attempts", "fga", "fg3a")
PSZA_AGGS = (
    tuple((f"sum_{c}", "sum", c, PSZA_N) for c in PSZA_SUMS)
    + tuple((f"tsum_{c}", "sum", c, PSZA_TREND_N) for c in PSZA_TREND_SUMS)
    # a game without shot detail has NULL zone columns: fewer paint counts than games means two zones
    + (("cnt_paint_attempts", "count", "paint_attempts", PSZA_N),
       ("tcnt_paint_attempts", "count", "paint_attempts", PSZA_TREND_N))
)
"""PSZA's window aggregates: sums over the last 10 appearances (sum_), the last 20 (tsum_)."""


def _psza_sql(restricted: bool) -> str:
    return f"""
WITH {RUN_DATES_CTE},
{player_window_ctes('p', 'nba_analytics.player_game_summary', PSZA_N, depth=1, restricted=restricted,
                    aggs=PSZA_AGGS)},
agg AS (  -- sums over the last 10 (sum_) and last 20 (tsum_) appearances
    SELECT w.d, w.person_id, a.player_lookup, a.player_name, a.team_abbr, w.season,
           least(w.appearances, {PSZA_TREND_N}) AS games_last_20, w.games_found AS games,
           w.sum_fga AS fga, w.sum_paint_makes AS pm, w.sum_paint_attempts AS pa,
           w.sum_mid_range_makes AS mm, w.sum_mid_range_attempts AS ma,
           w.sum_three_makes AS tm, w.sum_three_attempts AS ta,
           w.tsum_paint_attempts AS pa20, w.tsum_mid_range_attempts AS ma20, w.tsum_three_attempts AS ta20,
           w.cnt_paint_attempts < w.games_found AS two,  -- a game without shot detail in the window
           w.tcnt_paint_attempts < least(w.appearances, {PSZA_TREND_N}) AS two20,
           w.sum_fgm - w.sum_fg3m AS im, w.sum_fga - w.sum_fg3a AS ia,
           w.sum_fg3m AS bm, w.sum_fg3a AS ba, w.tsum_fga AS fga20, w.tsum_fg3a AS ba20
    FROM p_win w JOIN p_app a ON a.d = w.d AND a.person_id = w.person_id  -- p_app: the latest appearance
),
rows AS (
    SELECT m.d AS analysis_date, m.person_id, a.player_lookup, a.player_name, a.team_abbr, a.season,
           a.games AS games_in_sample, a.fga AS fga_last_10,
           CASE WHEN NOT a.two THEN {_pct('100 * a.pa', 'a.pa + a.ma + a.ta')} END AS paint_rate_last_10,
           CASE WHEN NOT a.two THEN {_pct('100 * a.ma', 'a.pa + a.ma + a.ta')} END AS mid_range_rate_last_10,
           CASE WHEN a.two THEN {_pct('100 * a.ba', 'a.fga')} ELSE {_pct('100 * a.ta', 'a.pa + a.ma + a.ta')} END
               AS three_rate_last_10,
           {_zone_pct_and_attempts('_last_10', '_per_game')},
           round(a.fga::DOUBLE / a.games, 6) AS fga_per_game,
           CASE WHEN a.games_last_20 >= {PSZA_TREND_MIN} AND NOT a.two20 THEN
                {_pct('100 * a.pa20', 'a.pa20 + a.ma20 + a.ta20')} END AS paint_rate_last_20,
           CASE WHEN a.games_last_20 >= {PSZA_TREND_MIN} AND NOT a.two20 THEN
                {_pct('100 * a.ma20', 'a.pa20 + a.ma20 + a.ta20')} END AS mid_range_rate_last_20,
           CASE WHEN a.games_last_20 >= {PSZA_TREND_MIN} THEN
                CASE WHEN a.two20 THEN {_pct('100 * a.ba20', 'a.fga20')}
                     ELSE {_pct('100 * a.ta20', 'a.pa20 + a.ma20 + a.ta20')} END END AS three_rate_last_20,
           {_pct('100 * a.ia', 'a.fga')} AS inside_rate_last_10,
           {_pct('a.im', 'a.ia')} AS inside_pct_last_10,
           CASE WHEN a.two THEN 'two_zone' ELSE 'three_zone' END AS zone_detail,
           {completeness_struct('m', PSZA_N, PSZA_N)} AS completeness,
           m.games_found, len(m.missing_game_dates) AS n_missing, m.missing_game_dates,
           {shortfall_category('m', PSZA_N)} AS shortfall
    FROM p_meta m JOIN agg a ON a.d = m.d AND a.person_id = m.person_id
)
SELECT analysis_date, person_id, player_lookup, player_name, team_abbr, season, games_in_sample, fga_last_10,
       paint_rate_last_10, mid_range_rate_last_10, three_rate_last_10, paint_pct_last_10, mid_range_pct_last_10,
       three_pct_last_10, paint_attempts_per_game, mid_range_attempts_per_game, three_attempts_per_game,
       fga_per_game, paint_rate_last_20, mid_range_rate_last_20, three_rate_last_20,
       {_two_zone_pick("zone_detail = 'two_zone'", PSZA_ZONES, PSZA_TWO_ZONES, 'greatest')} AS primary_scoring_zone,
       inside_rate_last_10, inside_pct_last_10, zone_detail,
       completeness,
       player_lookup AS entity_id,
       CASE WHEN games_found < {PSZA_N} THEN shortfall
            WHEN coalesce(fga_last_10, 0) = 0 THEN 'NO_SHOT_ZONE' END AS failure_category,
       CASE WHEN games_found < {PSZA_N} THEN
                games_found || ' of ' || {PSZA_N} || ' games before ' || analysis_date
                || CASE WHEN n_missing > 0 THEN '; missing upstream: ' || array_to_string(missing_game_dates, ', ')
                        ELSE '' END
            WHEN coalesce(fga_last_10, 0) = 0 THEN 'no field-goal attempts in the last ' || {PSZA_N} || ' games'
       END AS failure_reason,
       games_found < {PSZA_N} AND shortfall = 'INCOMPLETE_UPSTREAM' AS can_retry
FROM rows
"""


PSZA_SQL = _psza_sql(restricted=True)
PSZA_WHOLE_SQL = _psza_sql(restricted=False)
"""PSZA for a run that restricts no date to some players (see split_compute)."""


def specs() -> list[ProcessorSpec]:
    """TDZA and PSZA."""
    # The schedule is the calendar completeness is judged against (the catalog's expected keys),
    # not a data input: reloading a date's scoreboard does not change which games exist.
    return [
        phase4_spec(
            "TeamDefenseZoneAnalysisProcessor", "nba_precompute.team_defense_zone_analysis", "analysis_date",
            ("team_abbr",), TDZA_N,
            # not entity-local on purpose (defending_team_abbr is not its label column): the
            # *_vs_league columns compare each team with the league's windows of the date, so a
            # change to one team's games changes every team's record of the dates its window reaches
            (Dependency("nba_analytics.team_defense_game_summary", last_n_games(TDZA_N), entity="team"),),
            TDZA_SQL, ("tdza", "team_defense_zone_analysis"), "team defense by shot zone, team's last 15 games",
            label_column="team_abbr", expected_sql=TEAMS_OF_SEASON_SQL,
        ),
        phase4_spec(
            "PlayerShotZoneAnalysisProcessor", "nba_precompute.player_shot_zone_analysis", "analysis_date",
            ("person_id",), PSZA_N,
            (Dependency("nba_analytics.player_game_summary", last_n_games(PSZA_TREND_N), entity="player"),),
            PSZA_SQL, ("psza", "player_shot_zone_analysis"),
            "player shot zones, player's last 10 games (20 for the trend)", expected_sql=PLAYERS_BEFORE_SQL,
            whole_sql=PSZA_WHOLE_SQL,
        ),
    ]
