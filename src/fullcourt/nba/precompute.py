"""Phase 4 precompute, part 1: TDZA and PSZA (set-based over run_dates, windows strictly before d).

Expected entities (docs/pipeline.md, "Expected entities"):
- TDZA: every team on the schedule of d's season;
- PSZA: every player with an appearance earlier in d's season.
Each expected entity ends as a record or as a tracked failure.
"""
from __future__ import annotations

from datetime import date

from fullcourt.engine.spec import Dependency, ProcessorSpec, last_n_games, split_compute
from fullcourt.nba.calendar import is_bootstrap
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
) -> ProcessorSpec:
    """A phase 4 processor: game dates only, bootstrap days skipped, records and tracked
    failures from one query (see split_compute)."""
    return ProcessorSpec(
        name=name, phase=4, output_table=output_table, date_column=date_column, entity_key=entity_key,
        min_games=min_games, dependencies=dependencies, compute=split_compute(sql, date_column),
        work_dates_sql=GAME_DATES_SQL, skip_reason=bootstrap_skip, aliases=aliases, description=description,
        label_column=label_column,
    )


def _pct(makes: str, attempts: str) -> str:
    return f"round(CASE WHEN ({attempts}) > 0 THEN ({makes})::DOUBLE / ({attempts}) END, 6)"


def _zone_pick(cols: dict[str, str], fn: str) -> str:
    """SQL: the zone name whose value is the min/max (`fn`) of `cols`; ties go to list order."""
    values = ", ".join(cols[z] for z in ZONES)
    names = ", ".join(f"'{z}'" for z in ZONES)
    return f"CASE WHEN {fn}({values}) IS NULL THEN NULL ELSE [{names}][list_position([{values}], {fn}({values}))] END"


TDZA_SQL = f"""
WITH {RUN_DATES_CTE},
{team_window_ctes('t', 'nba_analytics.team_defense_game_summary', 'defending_team_abbr', TDZA_N,
                  keep=', u.opp_paint_makes, u.opp_paint_attempts, u.opp_mid_range_makes, u.opp_mid_range_attempts, '
                       'u.opp_three_makes, u.opp_three_attempts, u.points_allowed, u.possessions, u.pace')},
agg AS (
    SELECT d, team_abbr, count(*) AS games,
           sum(opp_paint_makes) AS pm, sum(opp_paint_attempts) AS pa,
           sum(opp_mid_range_makes) AS mm, sum(opp_mid_range_attempts) AS ma,
           sum(opp_three_makes) AS tm, sum(opp_three_attempts) AS ta,
           sum(points_allowed) AS pts, sum(possessions::DECIMAL(18, 6)) AS poss,
           avg(pace::DECIMAL(18, 6)) AS pace
    FROM t_games WHERE rn <= {TDZA_N} GROUP BY d, team_abbr
),
league AS (
    SELECT d, sum(pm)::DOUBLE / nullif(sum(pa), 0) AS paint, sum(mm)::DOUBLE / nullif(sum(ma), 0) AS mid_range,
           sum(tm)::DOUBLE / nullif(sum(ta), 0) AS three
    FROM agg GROUP BY d
),
rows AS (
    SELECT m.d AS analysis_date, m.team_abbr, w.season, a.games AS games_in_sample,
           {_pct('a.pm', 'a.pa')} AS paint_pct_allowed,
           {_pct('a.mm', 'a.ma')} AS mid_range_pct_allowed,
           {_pct('a.tm', 'a.ta')} AS three_pct_allowed,
           round(a.pa::DOUBLE / a.games, 6) AS paint_attempts_allowed_per_game,
           round(a.ma::DOUBLE / a.games, 6) AS mid_range_attempts_allowed_per_game,
           round(a.ta::DOUBLE / a.games, 6) AS three_attempts_allowed_per_game,
           round(100 * ({_pct('a.pm', 'a.pa')} - l.paint), 6) AS paint_vs_league,
           round(100 * ({_pct('a.mm', 'a.ma')} - l.mid_range), 6) AS mid_range_vs_league,
           round(100 * ({_pct('a.tm', 'a.ta')} - l.three), 6) AS three_vs_league,
           round(CASE WHEN a.poss > 0 THEN 100.0 * a.pts / a.poss END, 6) AS defensive_rating_last_15,
           round(a.pace, 6) AS opponent_pace,
           {completeness_struct('m', TDZA_N, TDZA_N)} AS historical_completeness,
           m.games_found, len(m.missing_game_dates) AS n_missing, m.missing_game_dates
    FROM t_meta m JOIN t_win w ON w.d = m.d AND w.team_abbr = m.team_abbr
    LEFT JOIN agg a ON a.d = m.d AND a.team_abbr = m.team_abbr
    LEFT JOIN league l ON l.d = m.d
)
SELECT analysis_date, team_abbr, season, games_in_sample, paint_pct_allowed, mid_range_pct_allowed,
       three_pct_allowed, paint_attempts_allowed_per_game, mid_range_attempts_allowed_per_game,
       three_attempts_allowed_per_game, paint_vs_league, mid_range_vs_league, three_vs_league,
       defensive_rating_last_15, opponent_pace,
       {_zone_pick({'paint': 'paint_vs_league', 'mid_range': 'mid_range_vs_league', 'three': 'three_vs_league'}, 'least')}
           AS strongest_zone,
       {_zone_pick({'paint': 'paint_vs_league', 'mid_range': 'mid_range_vs_league', 'three': 'three_vs_league'}, 'greatest')}
           AS weakest_zone,
       historical_completeness,
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

PSZA_SQL = f"""
WITH {RUN_DATES_CTE},
{player_window_ctes('p', 'nba_analytics.player_game_summary', PSZA_N,
                    keep=', u.fga, u.paint_makes, u.paint_attempts, u.mid_range_makes, u.mid_range_attempts, '
                         'u.three_makes, u.three_attempts', depth=PSZA_TREND_N)},
agg AS (
    SELECT d, person_id,
           arg_min(player_lookup, rn) AS player_lookup, arg_min(player_name, rn) AS player_name,
           arg_min(team_abbr, rn) AS team_abbr, any_value(season) AS season,
           count(*) FILTER (WHERE rn <= {PSZA_TREND_N}) AS games_last_20,
           count(*) FILTER (WHERE rn <= {PSZA_N}) AS games,
           sum(fga) FILTER (WHERE rn <= {PSZA_N}) AS fga,
           sum(paint_makes) FILTER (WHERE rn <= {PSZA_N}) AS pm, sum(paint_attempts) FILTER (WHERE rn <= {PSZA_N}) AS pa,
           sum(mid_range_makes) FILTER (WHERE rn <= {PSZA_N}) AS mm,
           sum(mid_range_attempts) FILTER (WHERE rn <= {PSZA_N}) AS ma,
           sum(three_makes) FILTER (WHERE rn <= {PSZA_N}) AS tm, sum(three_attempts) FILTER (WHERE rn <= {PSZA_N}) AS ta,
           sum(paint_attempts) FILTER (WHERE rn <= {PSZA_TREND_N}) AS pa20,
           sum(mid_range_attempts) FILTER (WHERE rn <= {PSZA_TREND_N}) AS ma20,
           sum(three_attempts) FILTER (WHERE rn <= {PSZA_TREND_N}) AS ta20
    FROM p_app GROUP BY d, person_id
),
rows AS (
    SELECT m.d AS analysis_date, m.person_id, a.player_lookup, a.player_name, a.team_abbr, a.season,
           a.games AS games_in_sample, a.fga AS fga_last_10,
           {_pct('100 * a.pa', 'a.pa + a.ma + a.ta')} AS paint_rate_last_10,
           {_pct('100 * a.ma', 'a.pa + a.ma + a.ta')} AS mid_range_rate_last_10,
           {_pct('100 * a.ta', 'a.pa + a.ma + a.ta')} AS three_rate_last_10,
           {_pct('a.pm', 'a.pa')} AS paint_pct_last_10,
           {_pct('a.mm', 'a.ma')} AS mid_range_pct_last_10,
           {_pct('a.tm', 'a.ta')} AS three_pct_last_10,
           round(a.pa::DOUBLE / a.games, 6) AS paint_attempts_per_game,
           round(a.ma::DOUBLE / a.games, 6) AS mid_range_attempts_per_game,
           round(a.ta::DOUBLE / a.games, 6) AS three_attempts_per_game,
           round(a.fga::DOUBLE / a.games, 6) AS fga_per_game,
           CASE WHEN a.games_last_20 >= {PSZA_TREND_MIN} THEN {_pct('100 * a.pa20', 'a.pa20 + a.ma20 + a.ta20')} END
               AS paint_rate_last_20,
           CASE WHEN a.games_last_20 >= {PSZA_TREND_MIN} THEN {_pct('100 * a.ma20', 'a.pa20 + a.ma20 + a.ta20')} END
               AS mid_range_rate_last_20,
           CASE WHEN a.games_last_20 >= {PSZA_TREND_MIN} THEN {_pct('100 * a.ta20', 'a.pa20 + a.ma20 + a.ta20')} END
               AS three_rate_last_20,
           {completeness_struct('m', PSZA_N, PSZA_N)} AS historical_completeness,
           m.games_found, len(m.missing_game_dates) AS n_missing, m.missing_game_dates,
           {shortfall_category('m', PSZA_N)} AS shortfall
    FROM p_meta m JOIN agg a ON a.d = m.d AND a.person_id = m.person_id
)
SELECT analysis_date, person_id, player_lookup, player_name, team_abbr, season, games_in_sample, fga_last_10,
       paint_rate_last_10, mid_range_rate_last_10, three_rate_last_10, paint_pct_last_10, mid_range_pct_last_10,
       three_pct_last_10, paint_attempts_per_game, mid_range_attempts_per_game, three_attempts_per_game,
       fga_per_game, paint_rate_last_20, mid_range_rate_last_20, three_rate_last_20,
       {_zone_pick({'paint': 'paint_rate_last_10', 'mid_range': 'mid_range_rate_last_10', 'three': 'three_rate_last_10'}, 'greatest')}
           AS primary_scoring_zone,
       historical_completeness,
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


def specs() -> list[ProcessorSpec]:
    """TDZA and PSZA."""
    # The schedule is the calendar completeness is judged against (the catalog's expected keys),
    # not a data input: reloading a date's scoreboard does not change which games exist.
    return [
        phase4_spec(
            "TeamDefenseZoneAnalysisProcessor", "nba_precompute.team_defense_zone_analysis", "analysis_date",
            ("team_abbr",), TDZA_N,
            (Dependency("nba_analytics.team_defense_game_summary", last_n_games(TDZA_N), entity="team"),),
            TDZA_SQL, ("tdza", "team_defense_zone_analysis"), "team defense by shot zone, team's last 15 games",
            label_column="team_abbr",
        ),
        phase4_spec(
            "PlayerShotZoneAnalysisProcessor", "nba_precompute.player_shot_zone_analysis", "analysis_date",
            ("person_id",), PSZA_N,
            (Dependency("nba_analytics.player_game_summary", last_n_games(PSZA_TREND_N), entity="player"),),
            PSZA_SQL, ("psza", "player_shot_zone_analysis"),
            "player shot zones, player's last 10 games (20 for the trend)",
        ),
    ]
