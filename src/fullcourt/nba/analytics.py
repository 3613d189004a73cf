"""Phase 3 analytics: set-based SQL over a set of dates (temp table run_dates).

Formulas (docs/pipeline.md):
- possessions = FGA + 0.44·FTA + TOV − OREB (of the team with the ball)
- offensive_rating = 100 · points / own possessions; defensive_rating = 100 · points allowed /
  opponent possessions; pace = 48 · mean(own, opponent possessions) / (team minutes / 5)
- usage_rate = 100 · (FGA + 0.44·FTA + TOV) · (team minutes / 5) / (minutes · (team FGA + 0.44·team FTA + team TOV))
- ts_pct = points / (2 · (FGA + 0.44·FTA))
Derived doubles are rounded to 6 decimals so that a rebuild compares equal.
"""
from __future__ import annotations

from fullcourt.engine.spec import Dependency, ProcessorSpec, lookback_days, same_date
from fullcourt.nba.raw import GAME_DATES_SQL

RUN = "(SELECT d FROM run_dates)"

ZONES_CTE = f"""
shots AS (
    SELECT game_id, person_id, team_abbr,
           count(*) FILTER (WHERE zone = 'paint' AND made) AS paint_makes,
           count(*) FILTER (WHERE zone = 'paint') AS paint_attempts,
           count(*) FILTER (WHERE zone = 'mid_range' AND made) AS mid_range_makes,
           count(*) FILTER (WHERE zone = 'mid_range') AS mid_range_attempts,
           count(*) FILTER (WHERE zone = 'three' AND made) AS three_makes,
           count(*) FILTER (WHERE zone = 'three') AS three_attempts
    FROM nba_raw.nbac_shots WHERE game_date IN {RUN} AND shot_detail = 'shots'
    GROUP BY ALL
),
games_with_shots AS (SELECT DISTINCT game_id FROM nba_raw.nbac_shots WHERE game_date IN {RUN} AND shot_detail = 'shots')
"""

PLAYER_GAME_SUMMARY_SQL = f"""
WITH {ZONES_CTE},
sched AS (SELECT game_id, season, home_team_abbr, away_team_abbr FROM nba_raw.nbac_schedule WHERE game_date IN {RUN}),
team AS (SELECT game_id, team_abbr, minutes AS tm_min, fga AS tm_fga, fta AS tm_fta, tov AS tm_tov
         FROM nba_raw.nbac_team_boxscore WHERE game_date IN {RUN})
SELECT b.game_date, b.game_id, s.season, b.person_id, b.player_lookup, b.player_name, b.team_abbr,
       CASE WHEN b.is_home THEN s.away_team_abbr ELSE s.home_team_abbr END AS opponent_team_abbr, b.is_home,
       b.minutes, b.points, b.fgm, b.fga, b.fg3m, b.fg3a, b.ftm, b.fta, b.oreb, b.dreb, b.reb, b.ast, b.stl,
       b.blk, b.tov, b.pf, b.plus_minus,
       CASE WHEN g.game_id IS NOT NULL THEN coalesce(z.paint_makes, 0) END AS paint_makes,
       CASE WHEN g.game_id IS NOT NULL THEN coalesce(z.paint_attempts, 0) END AS paint_attempts,
       CASE WHEN g.game_id IS NOT NULL THEN coalesce(z.mid_range_makes, 0) END AS mid_range_makes,
       CASE WHEN g.game_id IS NOT NULL THEN coalesce(z.mid_range_attempts, 0) END AS mid_range_attempts,
       CASE WHEN g.game_id IS NOT NULL THEN coalesce(z.three_makes, 0) END AS three_makes,
       CASE WHEN g.game_id IS NOT NULL THEN coalesce(z.three_attempts, 0) END AS three_attempts,
       round(CASE WHEN b.minutes > 0 AND (t.tm_fga + 0.44 * t.tm_fta + t.tm_tov) > 0
             THEN 100.0 * (b.fga + 0.44 * b.fta + b.tov) * (t.tm_min / 5.0)
                  / (b.minutes * (t.tm_fga + 0.44 * t.tm_fta + t.tm_tov)) END, 6) AS usage_rate,
       round(CASE WHEN b.fga + 0.44 * b.fta > 0 THEN b.points / (2.0 * (b.fga + 0.44 * b.fta)) END, 6) AS ts_pct
FROM nba_raw.nbac_player_boxscore b
JOIN sched s ON s.game_id = b.game_id
LEFT JOIN games_with_shots g ON g.game_id = b.game_id
LEFT JOIN shots z ON z.game_id = b.game_id AND z.person_id = b.person_id
LEFT JOIN team t ON t.game_id = b.game_id AND t.team_abbr = b.team_abbr
WHERE b.game_date IN {RUN} AND b.minutes > 0
"""

TEAM_PAIRS_CTE = f"""
tb AS (SELECT * FROM nba_raw.nbac_team_boxscore WHERE game_date IN {RUN}),
sched AS (SELECT game_id, season FROM nba_raw.nbac_schedule WHERE game_date IN {RUN}),
pair AS (
    SELECT d.game_date, d.game_id, s.season, d.team_abbr, o.team_abbr AS opponent_team_abbr, d.is_home,
           d.points, d.fgm, d.fga, d.fg3m, d.fg3a, d.ftm, d.fta, d.oreb, d.tov, d.minutes,
           o.points AS o_points, o.fgm AS o_fgm, o.fga AS o_fga, o.fg3m AS o_fg3m, o.fg3a AS o_fg3a,
           o.ftm AS o_ftm, o.fta AS o_fta,
           d.fga + 0.44 * d.fta + d.tov - d.oreb AS own_poss,
           o.fga + 0.44 * o.fta + o.tov - o.oreb AS opp_poss
    FROM tb d JOIN tb o ON o.game_id = d.game_id AND o.team_abbr <> d.team_abbr
    JOIN sched s ON s.game_id = d.game_id
)
"""

TEAM_DEFENSE_SQL = f"""
WITH {ZONES_CTE}, {TEAM_PAIRS_CTE},
team_zones AS (
    SELECT game_id, team_abbr, sum(paint_makes) AS pm, sum(paint_attempts) AS pa, sum(mid_range_makes) AS mm,
           sum(mid_range_attempts) AS ma, sum(three_makes) AS tm, sum(three_attempts) AS ta
    FROM shots GROUP BY ALL
)
SELECT p.game_date, p.game_id, p.season, p.team_abbr AS defending_team_abbr, p.opponent_team_abbr, p.is_home,
       p.o_points AS points_allowed, p.o_fgm AS opp_fgm, p.o_fga AS opp_fga, p.o_fg3m AS opp_fg3m,
       p.o_fg3a AS opp_fg3a, p.o_ftm AS opp_ftm, p.o_fta AS opp_fta,
       CASE WHEN g.game_id IS NOT NULL THEN coalesce(z.pm, 0) END AS opp_paint_makes,
       CASE WHEN g.game_id IS NOT NULL THEN coalesce(z.pa, 0) END AS opp_paint_attempts,
       CASE WHEN g.game_id IS NOT NULL THEN coalesce(z.mm, 0) END AS opp_mid_range_makes,
       CASE WHEN g.game_id IS NOT NULL THEN coalesce(z.ma, 0) END AS opp_mid_range_attempts,
       CASE WHEN g.game_id IS NOT NULL THEN coalesce(z.tm, 0) END AS opp_three_makes,
       CASE WHEN g.game_id IS NOT NULL THEN coalesce(z.ta, 0) END AS opp_three_attempts,
       round(p.opp_poss, 6) AS possessions,
       round(CASE WHEN p.opp_poss > 0 THEN 100.0 * p.o_points / p.opp_poss END, 6) AS defensive_rating,
       round(CASE WHEN p.minutes > 0 THEN 48.0 * (p.own_poss + p.opp_poss) / 2.0 / (p.minutes / 5.0) END, 6) AS pace
FROM pair p
LEFT JOIN games_with_shots g ON g.game_id = p.game_id
LEFT JOIN team_zones z ON z.game_id = p.game_id AND z.team_abbr = p.opponent_team_abbr
"""

TEAM_OFFENSE_SQL = f"""
WITH {TEAM_PAIRS_CTE}
SELECT game_date, game_id, season, team_abbr, opponent_team_abbr, is_home, points, fgm, fga, fg3m, fg3a, ftm,
       fta, oreb, tov, minutes, round(own_poss, 6) AS possessions,
       round(CASE WHEN own_poss > 0 THEN 100.0 * points / own_poss END, 6) AS offensive_rating,
       round(CASE WHEN minutes > 0 THEN 48.0 * (own_poss + opp_poss) / 2.0 / (minutes / 5.0) END, 6) AS pace,
       points > o_points AS win
FROM pair
"""

UPCOMING_CONTEXT_SQL = f"""
WITH sched AS (SELECT * FROM nba_raw.nbac_schedule WHERE game_date IN {RUN}),
team_games AS (
    SELECT game_date, game_id, season, home_team_abbr AS team_abbr, away_team_abbr AS opponent_team_abbr,
           true AS is_home FROM sched
    UNION ALL
    SELECT game_date, game_id, season, away_team_abbr, home_team_abbr, false FROM sched
),
recent AS (
    SELECT r.d, p.person_id, p.player_lookup, p.player_name, p.team_abbr, p.game_date, p.minutes
    FROM run_dates r
    JOIN nba_analytics.player_game_summary p ON p.game_date BETWEEN r.d - 15 AND r.d - 1
),
latest AS (
    SELECT d, person_id,
           arg_max(team_abbr, game_date) AS team_abbr,
           arg_max(player_lookup, game_date) AS player_lookup,
           arg_max(player_name, game_date) AS player_name,
           max(game_date) AS last_game_date,
           count(*) FILTER (WHERE game_date >= d - 7) AS games_in_last_7_days,
           coalesce(sum(minutes) FILTER (WHERE game_date >= d - 7), 0) AS minutes_in_last_7_days
    FROM recent GROUP BY d, person_id
)
SELECT t.game_date, t.game_id, t.season, l.person_id, l.player_lookup, l.player_name, t.team_abbr,
       t.opponent_team_abbr, t.is_home, l.last_game_date,
       (t.game_date - l.last_game_date) - 1 AS days_rest,
       l.last_game_date = t.game_date - 1 AS back_to_back,
       l.games_in_last_7_days::INTEGER AS games_in_last_7_days,
       round(l.minutes_in_last_7_days, 4) AS minutes_in_last_7_days
FROM team_games t JOIN latest l ON l.d = t.game_date AND l.team_abbr = t.team_abbr
"""


def _dep(table: str) -> Dependency:
    return Dependency(table, same_date())


def specs() -> list[ProcessorSpec]:
    """The phase 3 processors."""
    raw_same_date = tuple(
        _dep(t)
        for t in (
            "nba_raw.nbac_schedule",
            "nba_raw.nbac_player_boxscore",
            "nba_raw.nbac_team_boxscore",
            "nba_raw.nbac_shots",
        )
    )
    return [
        ProcessorSpec(
            name="PlayerGameSummaryProcessor", phase=3, label_column="player_lookup", complete_on="game_id", output_table="nba_analytics.player_game_summary",
            date_column="game_date", entity_key=("game_id", "person_id"), dependencies=raw_same_date,
            sql=PLAYER_GAME_SUMMARY_SQL, work_dates_sql=GAME_DATES_SQL, aliases=("pgs", "player_game_summary"),
            entities_from="nba_raw.nbac_player_boxscore",
            description="player × game played",
        ),
        ProcessorSpec(
            name="TeamDefenseGameSummaryProcessor", phase=3, label_column="defending_team_abbr", complete_on="game_id", output_table="nba_analytics.team_defense_game_summary",
            date_column="game_date", entity_key=("game_id", "defending_team_abbr"), dependencies=raw_same_date,
            sql=TEAM_DEFENSE_SQL, work_dates_sql=GAME_DATES_SQL, aliases=("tdgs", "team_defense_game_summary"),
            entities_from="nba_raw.nbac_team_boxscore",
            description="defending team × game",
        ),
        ProcessorSpec(
            name="TeamOffenseGameSummaryProcessor", phase=3, label_column="team_abbr", complete_on="game_id", output_table="nba_analytics.team_offense_game_summary",
            date_column="game_date", entity_key=("game_id", "team_abbr"), dependencies=raw_same_date,
            sql=TEAM_OFFENSE_SQL, work_dates_sql=GAME_DATES_SQL, aliases=("togs", "team_offense_game_summary"),
            entities_from="nba_raw.nbac_team_boxscore",
            description="team × game",
        ),
        ProcessorSpec(
            name="UpcomingPlayerGameContextProcessor", phase=3, label_column="player_lookup",
            output_table="nba_analytics.upcoming_player_game_context", date_column="game_date",
            entity_key=("game_id", "person_id"),
            dependencies=(
                _dep("nba_raw.nbac_schedule"),
                Dependency("nba_analytics.player_game_summary", lookback_days(15), entity="player"),
            ),
            sql=UPCOMING_CONTEXT_SQL, work_dates_sql=GAME_DATES_SQL, aliases=("upgc", "upcoming_player_game_context"),
            description="player × scheduled game, from the 15 days before",
        ),
    ]
