"""Phase 4 precompute, part 2: PCF, PDC and MLFS (set-based over run_dates, windows strictly before d).

Every processor's expected entities for a date d are the players in
nba_analytics.upcoming_player_game_context on d; each ends as a record or as a tracked failure.
Windows read only games strictly before d in d's season; same-date reads of phase 4 tables
(PSZA, TDZA, PCF, PDC dated d) are themselves computed from games before d. Derived doubles
are rounded to 6 decimals so that a rebuild compares equal. Season days 0-13 are skipped
(`bootstrap`); work dates are game dates. A scoped run (engine/scope.py: a cascade recomputing
some players) limits the context to the listed players; windows are computed for context
players only.

PCF — nba_precompute.player_composite_factors (player × game_date). Needs the player's PSZA row
and the opponent's TDZA row for d, else MISSING_DEPENDENCY (can_retry, the reason names which).
clamp(x, lo, hi) keeps NULL as NULL.

- fatigue_score = clamp(100 − 15·back_to_back − 5·max(0, games_in_last_7_days − 2)
                         − 0.2·max(0, minutes_in_last_7_days − 100), 0, 100)   (from the context row)
- shot_zone_mismatch_score = clamp(2 · opponent_zone_vs_league · zone_reliance, −10, 10), where the
  zone is PSZA.primary_scoring_zone, opponent_zone_vs_league = the opponent's TDZA.<zone>_vs_league
  (percentage points) and zone_reliance = PSZA.<zone>_rate_last_10 / 100
- pace_score = clamp(0.3 · (opponent_pace_last_15 − team_pace_last_10), −3, 3); opponent_pace_last_15
  = the opponent's TDZA.opponent_pace, team_pace_last_10 = mean pace of the player's team's last
  10 games in team_offense_game_summary
- usage_spike_score = clamp(0.3 · (usage_avg_last_3 − usage_avg_last_10), −3, 3), means of
  player_game_summary.usage_rate over the player's last 3 and last 10 appearances
- total_composite_adjustment = shot_zone_mismatch_score + pace_score + usage_spike_score
  + 0.05 · (fatigue_score − 100)   (a NULL score contributes 0)
- historical_completeness: the player's last-10 window over player_game_summary.

PDC — nba_precompute.player_daily_cache (player × cache_date). Season-to-date rolling stats of
the player (last 5, last 10, season; points_std_last_10 is the sample standard deviation, from exact integer sums, NULL under 2 games;
ft_points_share_last_10 = Σ ftm / Σ points over the last 10), of his team (last 10 games'
pace and offensive rating, season win share before d), and composite_adjustment =
PCF.total_composite_adjustment for (player, d), NULL without a PCF row.
Failures: fewer than 5 games in the season → EXPECTED_INCOMPLETE, or INCOMPLETE_UPSTREAM when the
missing games could have made 5 (can_retry then); no PSZA row for (player, d) → MISSING_DEPENDENCY.
historical_completeness spans the whole season before d (window of 100 games, min 5).

MLFS — nba_predictions.ml_feature_store_v2 (player × game_date), feature_version 'v2_1.0'. Needs the
player's PDC row for d, else MISSING_DEPENDENCY. Features (DOUBLE), in FEATURE_NAMES order:
points_avg_last_5/10/season, points_std_last_10 (PDC); games_in_last_7_days (context);
fatigue_score, shot_zone_mismatch_score, pace_score, usage_spike_score (PCF);
rest_advantage = clamp(days_rest − opponent_rest, −3, 3), opponent_rest = days between the
opponent's latest game in team_offense_game_summary within the 15 days before d and d, minus 1
(either rest NULL → 3); recent_trend = points L5 − L10; minutes_change = minutes L5 − L10;
opponent_def_rating, opponent_pace (opponent's TDZA defensive_rating_last_15, opponent_pace);
home_away (1 home, 0 away); back_to_back (1/0); pct_paint, pct_mid_range, pct_three (PSZA
<zone>_rate_last_10 / 100); pct_free_throw (PDC ft_points_share_last_10); team_pace,
team_off_rating, team_win_pct (PDC).
A feature whose source value is missing (no PCF/TDZA/PSZA row, or a NULL in it) takes a default
and is named in default_features: fatigue 100; PCF scores 0; opponent ratings = the mean of
that day's TDZA rows; pct_* = the mean of that day's PSZA rows; pct_free_throw 0.15. When the
day has no TDZA / PSZA rows at all (early season), rounded 2021-22 NBA league averages are the
last resort (LAST_RESORT). actual_points is deliberately not stored (it would be the future).
historical_completeness: PDC's window, missing_game_dates = PDC's ∪ PCF's.
is_production_ready = complete AND games_played_season ≥ 5 AND no default features.
"""
from __future__ import annotations

from fullcourt.engine.spec import (
    Dependency,
    ProcessorSpec,
    last_n_games,
    lookback_days,
    same_date,
    season_to_date,
)
from fullcourt.engine.scope import in_scope_sql
from fullcourt.engine.warehouse import Migration
from fullcourt.nba.precompute import PSZA_N, ZONES, phase4_spec
from fullcourt.nba.schema import COMPLETENESS_V1, M009_ADDED, RUN_META, flag_column_migration
from fullcourt.nba.windows import RUN_DATES_CTE, completeness_struct, player_window_ctes, shortfall_category

PGS = "nba_analytics.player_game_summary"
TOGS = "nba_analytics.team_offense_game_summary"
UPGC = "nba_analytics.upcoming_player_game_context"
PSZA = "nba_precompute.player_shot_zone_analysis"
TDZA = "nba_precompute.team_defense_zone_analysis"
PCF = "nba_precompute.player_composite_factors"
PDC = "nba_precompute.player_daily_cache"
MLFS = "nba_predictions.ml_feature_store_v2"
SCHEDULE = "nba_raw.nbac_schedule"

PCF_N = 10
USAGE_SHORT_N = 3
TEAM_N = 10
PDC_SEASON_N = 100
PDC_RECENT_N = 10
"""PDC's longest window besides the season's (last 10): the appearances it aggregates row by row."""
PDC_MIN = 5
REST_LOOKBACK_DAYS = 15
FEATURE_VERSION = "v2_1.0"
LAST_RESORT = {
    "opponent_def_rating": 112.0,
    "opponent_pace": 98.0,
    "pct_paint": 0.45,
    "pct_mid_range": 0.16,
    "pct_three": 0.39,
}


def _clamp(expr: str, lo: float, hi: float) -> str:
    """SQL: `expr` clamped to [lo, hi], rounded to 6 decimals; NULL stays NULL."""
    return f"round(CASE WHEN ({expr}) IS NULL THEN NULL ELSE greatest({lo}, least({hi}, ({expr}))) END, 6)::DOUBLE"


def _r6(expr: str) -> str:
    return f"round({expr}, 6)::DOUBLE"


def _by_zone(zone: str, template: str) -> str:
    """SQL CASE over `zone` picking `template.format(z)` for each shot zone (the three zones, and
    `inside` of two-zone records)."""
    whens = " ".join(f"WHEN '{z}' THEN {template.format(z)}" for z in ZONES + ("inside",))
    return f"CASE {zone} {whens} END"


CONTEXT_CTE = f"""
ctx AS (
    SELECT u.game_date AS d, u.game_id, u.season, u.person_id, u.player_lookup, u.player_name, u.team_abbr,
           u.opponent_team_abbr, u.is_home, u.days_rest, u.back_to_back, u.games_in_last_7_days,
           u.minutes_in_last_7_days
    FROM {UPGC} u WHERE u.game_date IN (SELECT d FROM run_dates) AND {in_scope_sql('u.game_date', 'u.player_lookup')}
)"""
CONTEXT_PERSONS = "SELECT d, person_id FROM ctx"


def _team_games_cte(name: str) -> str:
    """`name`: each context team's last TEAM_N games before d in d's season (rn = 1 latest),
    with `games` (all its games before d in the season) and `wins` (of those).

    Like the player windows: the team's games are numbered once per season with a running win
    count, an ASOF join gives each (d, team) the number k of its games before d, and only
    games k-TEAM_N+1 .. k are joined (not every earlier game of the season for every date)."""
    return f"""
{name}_seq AS MATERIALIZED (
    SELECT o.season, o.team_abbr, o.game_date, o.game_id, o.pace, o.offensive_rating,
           row_number() OVER w AS seq, sum(CASE WHEN o.win THEN 1 ELSE 0 END) OVER w AS wins
    FROM {TOGS} o
    WHERE o.season IN (SELECT DISTINCT season FROM rd) AND o.game_date < (SELECT max(d) FROM rd)
      AND o.team_abbr IN (SELECT team_abbr FROM ctx)
    WINDOW w AS (PARTITION BY o.season, o.team_abbr ORDER BY o.game_date, o.game_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
{name}_k AS (
    SELECT t.d, t.season, t.team_abbr, s.seq AS k, s.wins
    FROM (SELECT DISTINCT rd.d, rd.season, c.team_abbr FROM rd JOIN ctx c ON c.d = rd.d) t
    ASOF JOIN {name}_seq s ON s.season = t.season AND s.team_abbr = t.team_abbr AND t.d > s.game_date
),
{name} AS (
    SELECT k.d, k.team_abbr, s.game_date, s.pace, s.offensive_rating, k.k - s.seq + 1 AS rn,
           k.k AS games, k.wins
    FROM {name}_k k JOIN {name}_seq s
      ON s.season = k.season AND s.team_abbr = k.team_abbr AND s.seq BETWEEN k.k - {TEAM_N} + 1 AND k.k
)"""


def _window_meta(meta: str) -> str:
    """Completeness columns of a LEFT JOINed `{meta}` row, zero-filled when the player has none."""
    return (
        f"coalesce({meta}.games_found, 0) AS games_found, "
        f"coalesce({meta}.contributing_game_dates, []::DATE[]) AS contributing_game_dates, "
        f"coalesce({meta}.missing_game_dates, []::DATE[]) AS missing_game_dates"
    )


# ---------------------------------------------------------------- PCF

PCF_SQL = f"""
WITH {RUN_DATES_CTE},
{CONTEXT_CTE},
{player_window_ctes('p', PGS, PCF_N, keep=', u.usage_rate', persons=CONTEXT_PERSONS)},
usage AS (
    SELECT d, person_id,
           avg(usage_rate::DECIMAL(18, 6)) FILTER (WHERE rn <= {USAGE_SHORT_N}) AS usage_avg_last_3,
           avg(usage_rate::DECIMAL(18, 6)) AS usage_avg_last_10
    FROM p_app WHERE rn <= {PCF_N} GROUP BY d, person_id
),
{_team_games_cte('tg')},
team_pace AS (SELECT d, team_abbr, avg(pace::DECIMAL(18, 6)) AS pace FROM tg WHERE rn <= {TEAM_N} GROUP BY d, team_abbr),
inputs AS (
    SELECT c.d AS game_date, c.person_id, c.player_lookup, c.player_name, c.team_abbr, c.opponent_team_abbr,
           c.season, c.days_rest, c.back_to_back, c.games_in_last_7_days, c.minutes_in_last_7_days,
           s.primary_scoring_zone,
           {_by_zone('s.primary_scoring_zone', 't.{}_vs_league')} AS opponent_zone_vs_league,
           {_r6(_by_zone('s.primary_scoring_zone', 's.{}_rate_last_10') + ' / 100.0')} AS zone_reliance,
           {_r6('tp.pace')} AS team_pace_last_10,
           t.opponent_pace AS opponent_pace_last_15,
           {_r6('u.usage_avg_last_3')} AS usage_avg_last_3,
           {_r6('u.usage_avg_last_10')} AS usage_avg_last_10,
           s.person_id IS NOT NULL AS has_psza, t.team_abbr IS NOT NULL AS has_tdza,
           {_window_meta('m')}
    FROM ctx c
    LEFT JOIN {PSZA} s ON s.analysis_date = c.d AND s.person_id = c.person_id
    LEFT JOIN {TDZA} t ON t.analysis_date = c.d AND t.team_abbr = c.opponent_team_abbr
    LEFT JOIN usage u ON u.d = c.d AND u.person_id = c.person_id
    LEFT JOIN team_pace tp ON tp.d = c.d AND tp.team_abbr = c.team_abbr
    LEFT JOIN p_meta m ON m.d = c.d AND m.person_id = c.person_id
),
scored AS (
    SELECT *,
           {_clamp('100 - 15 * back_to_back::INTEGER - 5 * greatest(0, games_in_last_7_days - 2) '
                   '- 0.2 * greatest(0, minutes_in_last_7_days - 100)', 0, 100)} AS fatigue_score,
           {_clamp('2 * opponent_zone_vs_league * zone_reliance', -10, 10)} AS shot_zone_mismatch_score,
           {_clamp('0.3 * (opponent_pace_last_15 - team_pace_last_10)', -3, 3)} AS pace_score,
           {_clamp('0.3 * (usage_avg_last_3 - usage_avg_last_10)', -3, 3)} AS usage_spike_score
    FROM inputs
)
SELECT game_date, person_id, player_lookup, player_name, team_abbr, opponent_team_abbr, season,
       fatigue_score, shot_zone_mismatch_score, pace_score, usage_spike_score,
       {_r6('coalesce(shot_zone_mismatch_score, 0) + coalesce(pace_score, 0) + coalesce(usage_spike_score, 0) '
            '+ 0.05 * (fatigue_score - 100)')} AS total_composite_adjustment,
       days_rest, back_to_back, games_in_last_7_days, minutes_in_last_7_days, primary_scoring_zone,
       opponent_zone_vs_league, zone_reliance, team_pace_last_10, opponent_pace_last_15,
       usage_avg_last_3, usage_avg_last_10,
       {completeness_struct('scored', PCF_N, PSZA_N)} AS completeness,
       player_lookup AS entity_id,
       CASE WHEN NOT has_psza OR NOT has_tdza THEN 'MISSING_DEPENDENCY' END AS failure_category,
       CASE WHEN NOT has_psza AND NOT has_tdza
                THEN 'no PSZA row for ' || player_lookup || ' and no TDZA row for opponent ' || opponent_team_abbr
                     || ' on ' || game_date
            WHEN NOT has_psza THEN 'no PSZA row for ' || player_lookup || ' on ' || game_date
            WHEN NOT has_tdza THEN 'no TDZA row for opponent ' || opponent_team_abbr || ' on ' || game_date
       END AS failure_reason,
       NOT has_psza OR NOT has_tdza AS can_retry
FROM scored
"""

# ---------------------------------------------------------------- PDC

PDC_SQL = f"""
WITH {RUN_DATES_CTE},
{CONTEXT_CTE},
{player_window_ctes('p', PGS, PDC_SEASON_N, keep=', u.points, u.minutes, u.usage_rate, u.ts_pct, u.ftm',
                    depth=PDC_RECENT_N, persons=CONTEXT_PERSONS,
                    aggs=(('sum_points', 'sum', 'points', PDC_SEASON_N), ('cnt_points', 'count', 'points', PDC_SEASON_N)))},
agg AS (
    SELECT d, person_id,
           avg(points) FILTER (WHERE rn <= 5) AS points_l5,
           avg(points) FILTER (WHERE rn <= 10) AS points_l10,
           CASE WHEN count(points) FILTER (WHERE rn <= 10) >= 2 THEN sqrt(greatest(0.0, (sum(points * points) FILTER (WHERE rn <= 10) - sum(points) FILTER (WHERE rn <= 10)::DOUBLE * sum(points) FILTER (WHERE rn <= 10) / count(points) FILTER (WHERE rn <= 10)) / (count(points) FILTER (WHERE rn <= 10) - 1))) END AS points_sd_l10,
           avg(minutes::DECIMAL(18, 6)) FILTER (WHERE rn <= 5) AS minutes_l5,
           avg(minutes::DECIMAL(18, 6)) FILTER (WHERE rn <= 10) AS minutes_l10,
           avg(usage_rate::DECIMAL(18, 6)) FILTER (WHERE rn <= 10) AS usage_l10,
           avg(ts_pct::DECIMAL(18, 6)) FILTER (WHERE rn <= 10) AS ts_l10,
           sum(ftm) FILTER (WHERE rn <= 10)::DOUBLE / nullif(sum(points) FILTER (WHERE rn <= 10), 0) AS ft_share_l10
    FROM p_app GROUP BY d, person_id
),
{_team_games_cte('tg')},
team AS (
    SELECT d, team_abbr,
           avg(pace::DECIMAL(18, 6)) AS pace_l10,
           avg(offensive_rating::DECIMAL(18, 6)) AS off_rating_l10,
           any_value(wins)::DOUBLE / any_value(games) AS win_pct  -- the season to date
    FROM tg GROUP BY d, team_abbr
),
rows AS (
    SELECT c.d AS cache_date, c.person_id, c.player_lookup, c.player_name, c.team_abbr, c.season,
           {_r6('a.points_l5')} AS points_avg_last_5,
           {_r6('a.points_l10')} AS points_avg_last_10,
           {_r6('w.sum_points::DOUBLE / nullif(w.cnt_points, 0)')} AS points_avg_season,
           {_r6('a.points_sd_l10')} AS points_std_last_10,
           {_r6('a.minutes_l5')} AS minutes_avg_last_5,
           {_r6('a.minutes_l10')} AS minutes_avg_last_10,
           {_r6('a.usage_l10')} AS usage_avg_last_10,
           {_r6('a.ts_l10')} AS ts_pct_avg_last_10,
           {_r6('a.ft_share_l10')} AS ft_points_share_last_10,
           coalesce(w.games_found, 0)::INTEGER AS games_played_season,
           {_r6('t.pace_l10')} AS team_pace_last_10,
           {_r6('t.off_rating_l10')} AS team_off_rating_last_10,
           {_r6('t.win_pct')} AS team_win_pct_season,
           f.total_composite_adjustment AS composite_adjustment,
           s.person_id IS NOT NULL AS has_psza,
           {_window_meta('m')}
    FROM ctx c
    LEFT JOIN agg a ON a.d = c.d AND a.person_id = c.person_id
    LEFT JOIN p_win w ON w.d = c.d AND w.person_id = c.person_id
    LEFT JOIN team t ON t.d = c.d AND t.team_abbr = c.team_abbr
    LEFT JOIN {PSZA} s ON s.analysis_date = c.d AND s.person_id = c.person_id
    LEFT JOIN {PCF} f ON f.game_date = c.d AND f.person_id = c.person_id
    LEFT JOIN p_meta m ON m.d = c.d AND m.person_id = c.person_id
)
SELECT cache_date, person_id, player_lookup, player_name, team_abbr, season, points_avg_last_5,
       points_avg_last_10, points_avg_season, points_std_last_10, minutes_avg_last_5, minutes_avg_last_10,
       usage_avg_last_10, ts_pct_avg_last_10, ft_points_share_last_10, games_played_season, team_pace_last_10,
       team_off_rating_last_10, team_win_pct_season, composite_adjustment,
       {completeness_struct('r', PDC_SEASON_N, PDC_MIN)} AS completeness,
       player_lookup AS entity_id,
       CASE WHEN games_found < {PDC_MIN} THEN {shortfall_category('r', PDC_MIN)}
            WHEN NOT has_psza THEN 'MISSING_DEPENDENCY' END AS failure_category,
       CASE WHEN games_found < {PDC_MIN} THEN
                games_found || ' of ' || {PDC_MIN} || ' games in the season before ' || cache_date
                || CASE WHEN len(missing_game_dates) > 0
                        THEN '; missing upstream: ' || array_to_string(missing_game_dates, ', ') ELSE '' END
            WHEN NOT has_psza THEN 'no PSZA row for ' || player_lookup || ' on ' || cache_date
       END AS failure_reason,
       CASE WHEN games_found < {PDC_MIN} THEN {shortfall_category('r', PDC_MIN)} = 'INCOMPLETE_UPSTREAM'
            ELSE NOT has_psza END AS can_retry
FROM rows r
"""

# ---------------------------------------------------------------- MLFS

# (feature name, SQL of its source value, SQL of its default or None when it has none)
FEATURES: tuple[tuple[str, str, str | None], ...] = (
    ("points_avg_last_5", "pdc.points_avg_last_5", None),
    ("points_avg_last_10", "pdc.points_avg_last_10", None),
    ("points_avg_season", "pdc.points_avg_season", None),
    ("points_std_last_10", "pdc.points_std_last_10", None),
    ("games_in_last_7_days", "c.games_in_last_7_days", None),
    ("fatigue_score", "pcf.fatigue_score", "100.0"),
    ("shot_zone_mismatch_score", "pcf.shot_zone_mismatch_score", "0.0"),
    ("pace_score", "pcf.pace_score", "0.0"),
    ("usage_spike_score", "pcf.usage_spike_score", "0.0"),
    ("rest_advantage", _clamp("coalesce(c.days_rest, 3) - coalesce(orest.rest, 3)", -3, 3), None),
    ("recent_trend", "pdc.points_avg_last_5 - pdc.points_avg_last_10", None),
    ("minutes_change", "pdc.minutes_avg_last_5 - pdc.minutes_avg_last_10", None),
    ("opponent_def_rating", "t.defensive_rating_last_15",
     f"coalesce(lt.def_rating, {LAST_RESORT['opponent_def_rating']})"),
    ("opponent_pace", "t.opponent_pace", f"coalesce(lt.pace, {LAST_RESORT['opponent_pace']})"),
    ("home_away", "CASE WHEN c.is_home THEN 1.0 ELSE 0.0 END", None),
    ("back_to_back", "CASE WHEN c.back_to_back THEN 1.0 ELSE 0.0 END", None),
    ("pct_paint", "s.paint_rate_last_10 / 100.0", f"coalesce(ls.paint, {LAST_RESORT['pct_paint']})"),
    ("pct_mid_range", "s.mid_range_rate_last_10 / 100.0", f"coalesce(ls.mid_range, {LAST_RESORT['pct_mid_range']})"),
    ("pct_three", "s.three_rate_last_10 / 100.0", f"coalesce(ls.three, {LAST_RESORT['pct_three']})"),
    ("pct_free_throw", "pdc.ft_points_share_last_10", "0.15"),
    ("team_pace", "pdc.team_pace_last_10", None),
    ("team_off_rating", "pdc.team_off_rating_last_10", None),
    ("team_win_pct", "pdc.team_win_pct_season", None),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f[0] for f in FEATURES)
NOT_IN_TWO_ZONES = ("pct_paint", "pct_mid_range")
"""Features a two-zone PSZA record (no shot-level data) cannot give: NULL, never a default."""
TWO_ZONE = "s.zone_detail = 'two_zone'"


def _feature_columns() -> str:
    out = []
    for name, source, default in FEATURES:
        value = source if default is None else f"coalesce({source}, {default})"
        if name in NOT_IN_TWO_ZONES:
            value = f"CASE WHEN {TWO_ZONE} THEN NULL ELSE {value} END"
        out.append(f"{_r6(value)} AS {name}")
    return ",\n           ".join(out)


def _default_features() -> str:
    """SQL: the names of the features that took their default, in FEATURE_NAMES order."""
    parts = [f"CASE WHEN ({source}) IS NULL{' AND NOT coalesce(' + TWO_ZONE + ', false)' if name in NOT_IN_TWO_ZONES else ''}"
             f" THEN ['{name}'] ELSE []::VARCHAR[] END"
             for name, source, default in FEATURES if default is not None]
    return "list_concat(" + ", ".join(parts) + ")"


MLFS_SQL = f"""
WITH {CONTEXT_CTE},
league_t AS (
    SELECT analysis_date AS d, avg(defensive_rating_last_15::DECIMAL(18, 6)) AS def_rating, avg(opponent_pace::DECIMAL(18, 6)) AS pace
    FROM {TDZA} WHERE analysis_date IN (SELECT d FROM run_dates) GROUP BY analysis_date
),
league_s AS (
    SELECT analysis_date AS d, avg(paint_rate_last_10::DECIMAL(18, 6)) / 100.0 AS paint,
           avg(mid_range_rate_last_10::DECIMAL(18, 6)) / 100.0 AS mid_range, avg(three_rate_last_10::DECIMAL(18, 6)) / 100.0 AS three
    FROM {PSZA} WHERE analysis_date IN (SELECT d FROM run_dates) GROUP BY analysis_date
),
orest AS (
    SELECT r.d, o.team_abbr, (r.d - max(o.game_date)) - 1 AS rest
    FROM run_dates r JOIN {TOGS} o ON o.game_date BETWEEN r.d - {REST_LOOKBACK_DAYS} AND r.d - 1
    WHERE o.team_abbr IN (SELECT opponent_team_abbr FROM ctx)
    GROUP BY r.d, o.team_abbr
),
rows AS (
    SELECT c.d AS game_date, c.game_id, c.person_id, c.player_lookup, c.player_name, c.team_abbr,
           c.opponent_team_abbr, c.season,
           {_feature_columns()},
           '{FEATURE_VERSION}' AS feature_version,
           {_default_features()} AS default_features,
           s.zone_detail,
           pdc.games_played_season,
           pdc.person_id IS NOT NULL AS has_pdc,
           pdc.completeness.games_found AS games_found,
           pdc.completeness.contributing_game_dates AS contributing_game_dates,
           list_sort(list_distinct(list_concat(
               coalesce(pdc.completeness.missing_game_dates, []::DATE[]),
               coalesce(pcf.completeness.missing_game_dates, []::DATE[])))) AS missing_game_dates
    FROM ctx c
    LEFT JOIN {PDC} pdc ON pdc.cache_date = c.d AND pdc.person_id = c.person_id
    LEFT JOIN {PCF} pcf ON pcf.game_date = c.d AND pcf.person_id = c.person_id
    LEFT JOIN {PSZA} s ON s.analysis_date = c.d AND s.person_id = c.person_id
    LEFT JOIN {TDZA} t ON t.analysis_date = c.d AND t.team_abbr = c.opponent_team_abbr
    LEFT JOIN league_t lt ON lt.d = c.d
    LEFT JOIN league_s ls ON ls.d = c.d
    LEFT JOIN orest ON orest.d = c.d AND orest.team_abbr = c.opponent_team_abbr
)
SELECT game_date, game_id, person_id, player_lookup, player_name, team_abbr, opponent_team_abbr, season,
       {', '.join(FEATURE_NAMES)},
       feature_version, default_features, zone_detail, games_played_season,
       len(missing_game_dates) = 0 AND games_played_season >= {PDC_MIN} AND len(default_features) = 0
           AS is_production_ready,
       {completeness_struct('r', PDC_SEASON_N, PDC_MIN)} AS completeness,
       player_lookup AS entity_id,
       CASE WHEN NOT has_pdc THEN 'MISSING_DEPENDENCY' END AS failure_category,
       CASE WHEN NOT has_pdc THEN 'no PDC row for ' || player_lookup || ' on ' || game_date END AS failure_reason,
       NOT has_pdc AS can_retry
FROM rows r
"""

# ---------------------------------------------------------------- storage

_FEATURE_DDL = ", ".join(f"{name} DOUBLE" for name in FEATURE_NAMES)

PCF_COLUMNS = """
    game_date DATE NOT NULL, person_id BIGINT NOT NULL, player_lookup VARCHAR NOT NULL, player_name VARCHAR,
    team_abbr VARCHAR, opponent_team_abbr VARCHAR, season VARCHAR,
    fatigue_score DOUBLE, shot_zone_mismatch_score DOUBLE, pace_score DOUBLE, usage_spike_score DOUBLE,
    total_composite_adjustment DOUBLE,
    days_rest INTEGER, back_to_back BOOLEAN, games_in_last_7_days INTEGER, minutes_in_last_7_days DOUBLE,
    primary_scoring_zone VARCHAR, opponent_zone_vs_league DOUBLE, zone_reliance DOUBLE,
    team_pace_last_10 DOUBLE, opponent_pace_last_15 DOUBLE, usage_avg_last_3 DOUBLE, usage_avg_last_10 DOUBLE"""
PDC_COLUMNS = """
    cache_date DATE NOT NULL, person_id BIGINT NOT NULL, player_lookup VARCHAR NOT NULL, player_name VARCHAR,
    team_abbr VARCHAR, season VARCHAR,
    points_avg_last_5 DOUBLE, points_avg_last_10 DOUBLE, points_avg_season DOUBLE, points_std_last_10 DOUBLE,
    minutes_avg_last_5 DOUBLE, minutes_avg_last_10 DOUBLE, usage_avg_last_10 DOUBLE, ts_pct_avg_last_10 DOUBLE,
    ft_points_share_last_10 DOUBLE, games_played_season INTEGER, team_pace_last_10 DOUBLE,
    team_off_rating_last_10 DOUBLE, team_win_pct_season DOUBLE, composite_adjustment DOUBLE"""
MLFS_COLUMNS_V5 = f"""
    game_date DATE NOT NULL, game_id VARCHAR, person_id BIGINT NOT NULL, player_lookup VARCHAR NOT NULL,
    player_name VARCHAR, team_abbr VARCHAR, opponent_team_abbr VARCHAR, season VARCHAR,
    {_FEATURE_DDL},
    feature_version VARCHAR, default_features VARCHAR[], games_played_season INTEGER,
    is_production_ready BOOLEAN"""
MLFS_COLUMNS = ", ".join((MLFS_COLUMNS_V5, *M009_ADDED[MLFS]))
"""The data columns of PCF, PDC and MLFS (the completeness and run-metadata ones aside)."""

DDL = f"""
CREATE TABLE {PCF} ({PCF_COLUMNS}, historical_completeness {COMPLETENESS_V1}, {RUN_META});
CREATE TABLE {PDC} ({PDC_COLUMNS}, historical_completeness {COMPLETENESS_V1}, {RUN_META});
CREATE TABLE {MLFS} ({MLFS_COLUMNS_V5}, historical_completeness {COMPLETENESS_V1}, {RUN_META});
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(5, "precompute: PCF, PDC, MLFS", DDL),
    flag_column_migration(11, "PCF, PDC, MLFS: needs_reprocessing as its own column",
                          {PCF: PCF_COLUMNS, PDC: PDC_COLUMNS, MLFS: MLFS_COLUMNS}),
)


def specs() -> list[ProcessorSpec]:
    """PCF, PDC and MLFS."""
    context = Dependency(UPGC, same_date(), entity="player")
    return [
        phase4_spec(
            "PlayerCompositeFactorsProcessor", PCF, "game_date", ("person_id",), PSZA_N,
            (
                context,
                Dependency(PSZA, same_date(), entity="player"),
                Dependency(TDZA, same_date(), entity="team", via=(UPGC, "opponent_team_abbr")),
                Dependency(PGS, last_n_games(PCF_N), entity="player"),
                Dependency(TOGS, last_n_games(TEAM_N), entity="team", via=(UPGC, "team_abbr")),
            ),
            PCF_SQL, ("pcf", "player_composite_factors"),
            "per player and game: fatigue, shot-zone mismatch, pace, usage spike",
        ),
        phase4_spec(
            "PlayerDailyCacheProcessor", PDC, "cache_date", ("person_id",), PDC_MIN,
            (
                context,
                Dependency(PSZA, same_date(), entity="player"),
                Dependency(PCF, same_date(), entity="player"),
                Dependency(PGS, season_to_date(), entity="player"),
                Dependency(TOGS, season_to_date(), entity="team", via=(UPGC, "team_abbr")),
            ),
            PDC_SQL, ("pdc", "player_daily_cache"),
            "player daily cache: rolling points/minutes/usage (last 5, 10, season), team form",
        ),
        phase4_spec(
            "MLFeatureStoreProcessor", MLFS, "game_date", ("person_id",), PDC_MIN,
            (
                context,
                Dependency(PDC, same_date(), entity="player"),
                Dependency(PCF, same_date(), entity="player"),
                Dependency(PSZA, same_date()),
                Dependency(TDZA, same_date()),
                Dependency(TOGS, lookback_days(REST_LOOKBACK_DAYS), entity="team", via=(UPGC, "opponent_team_abbr")),
            ),
            MLFS_SQL, ("mlfs", "ml_feature_store"), "ml_feature_store_v2: one feature vector per player and game",
        ),
    ]
