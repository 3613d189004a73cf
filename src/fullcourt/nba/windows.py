"""Rolling windows and schedule-based completeness, as SQL CTE builders.

A window "last N games before d" is the entity's N most recent games strictly before d in d's
season (a player's games are his appearances, minutes > 0). Completeness is judged against the
schedule, not against the rows the window found:

- contributing_game_dates: the dates of the games in the window (lineage);
- span: from the oldest contributing game to d-1; when fewer than N games were found, from
  the season's first game date to d-1;
- missing_game_dates: scheduled games of the entity's team inside the span that have no rows
  at all in the upstream table (a missing game, not a player's DNP). For a player, "his team"
  on a date is the team of his latest appearance on or before it, so a traded player is
  checked against the team he played for at the time, and a newcomer is not blamed for games
  before he joined;
- games_expected = least(N, games_found + number of missing games);
- is_complete = no missing games; incompleteness_reason = upstream_gap | insufficient_history | null.

Every builder returns SQL text to paste inside `WITH ...`; table and column names come from
code, never from user input.
"""
from __future__ import annotations

from fullcourt.engine.warehouse import check_identifier
from fullcourt.nba.calendar import season_label_sql

RUN_DATES_CTE = f"""
rd AS (
    SELECT r.d, {season_label_sql('r.d')} AS season,
           (SELECT min(s.game_date) FROM nba_raw.nbac_schedule s
             WHERE s.season = {season_label_sql('r.d')}) AS season_start
    FROM run_dates r
)"""


def absent_games_cte(name: str, upstream: str) -> str:
    """`name`: scheduled games of the run dates' seasons, before the last run date, with no rows
    in `upstream` (matched on game_id)."""
    return f"""
{name} AS MATERIALIZED (
    SELECT s.game_date, s.game_id, s.season, s.home_team_abbr, s.away_team_abbr
    FROM nba_raw.nbac_schedule s
    WHERE s.season IN (SELECT DISTINCT season FROM rd)
      AND s.game_date < (SELECT max(d) FROM rd)
      AND NOT EXISTS (SELECT 1 FROM {upstream} u WHERE u.game_id = s.game_id)
)"""


Agg = tuple[str, str, str, int]
"""A window aggregate of player_window_ctes: (output name, 'sum' | 'count', upstream column, the
number of latest appearances it spans)."""


def player_window_ctes(prefix: str, upstream: str, n: int, keep: str = "", depth: int | None = None,
                       persons: str | None = None, aggs: tuple[Agg, ...] = (), restricted: bool = True) -> str:
    """CTEs for a player's last-`n`-appearances window over `upstream` (player_game_summary).

    Produces `{prefix}_app` (his appearances before d in season, rn = 1 for the latest, the
    `depth` most recent ones; default `n`, may be less than `n`), `{prefix}_win` (one row per
    (d, person_id): games_found, contributing dates, span_start, `appearances` (his number of
    appearances before d in the season) and one column per aggregate of `aggs`: the sum or
    count of non-NULL values of a column over his latest appearances before d, as many as the
    aggregate says), `{prefix}_absent`, `{prefix}_missing` (d, person_id, missing_game_dates)
    and `{prefix}_meta` (d, person_id, completeness fields).
    `keep` adds columns of upstream to `{prefix}_app` (comma-led list, e.g. ", u.points").
    `persons`: a query of (d, person_id) pairs limiting the windows computed (e.g. the context
    players); default: every player of the season on an unrestricted run date, and on a date
    the run restricts (`run_labels`, engine/scope.py) the players who appeared under a listed
    player_lookup. `restricted=False` drops that filter, for a run with no restricted date: the
    OR it needs makes DuckDB test every (date, player) pair (PSZA on a real season: 2 s -> 10 s).

    The window is found without joining every date to every earlier appearance: appearances
    are numbered once per season (seq), each knows the date of his next one, and (d, player)
    joins the one appearance with game_date < d <= next date: number k, his latest before d.
    The window is seq in (k - n, k]; its dates are a slice of the season's list of his game
    dates, and each aggregate is a window function over that many rows ending at k, computed
    once per appearance, so a long window (PDC's season, n = 100) costs one row per (d, player).
    `{prefix}_app` holds the `depth` latest. His team at an absent game is the team of his
    latest appearance on or before it: the appearance whose [game_date, next date) holds the
    game, joined on the game's two teams (hash joins; the ASOF joins these replace took 0.1-0.3 s
    of a cascade's PSZA and PDC).
    """
    p = prefix
    depth = depth or n
    keep_s = keep.replace("u.", "s.")
    parts = []
    for name, kind, column, span in aggs:
        check_identifier(name)
        check_identifier(column)
        if kind not in ("sum", "count"):
            raise ValueError(f"aggregate {kind!r} is not sum or count")
        parts.append(f", {kind}(u.{column}) OVER (w ROWS BETWEEN {int(span) - 1} PRECEDING AND CURRENT ROW) AS {name}")
    window_aggs = "".join(parts)
    at_k = "".join(f", s.{name}" for name, _, _, _ in aggs)
    from_k = "".join(f", k.{name}" for name, _, _, _ in aggs)
    # the running numbers are computed only for the people whose windows are wanted: the given
    # persons, or on a run that restricts every date, the listed players (a cascade for one late
    # day needs a third of the league, not every player of the season)
    # (every player is wanted up to the last date the run does not restrict, only the listed ones
    # after it: a cascade's reloaded whole date needs the season before it for everyone, its
    # later dates a third of the league; a player's rows before a date number the same)
    wanted = (f"u.person_id IN (SELECT person_id FROM ({persons}))" if persons else
              "(u.game_date < (SELECT max(d) FROM rd WHERE rd.d NOT IN (SELECT d FROM run_labels)) OR u.person_id IN "
              f"(SELECT person_id FROM {upstream} WHERE player_lookup IN (SELECT label FROM run_labels)))"
              if restricted else "true")
    only = (f"(rd.d, pp.person_id) IN ({persons})" if persons else
            f"rd.d NOT IN (SELECT d FROM run_labels) OR (rd.d, pp.person_id) IN "
            f"(SELECT l.d, s.person_id FROM run_labels l "
            f"JOIN (SELECT DISTINCT person_id, player_lookup FROM {p}_seq) s ON s.player_lookup = l.label)"
            if restricted else "true")
    return f"""
{p}_seq AS MATERIALIZED (
    SELECT u.season, u.person_id, u.player_lookup, u.player_name, u.team_abbr, u.game_date, u.game_id {keep},
           row_number() OVER w AS seq, lead(u.game_date) OVER w AS next_date {window_aggs}
    FROM {upstream} u
    WHERE u.season IN (SELECT DISTINCT season FROM rd) AND u.game_date < (SELECT max(d) FROM rd) AND {wanted}
    WINDOW w AS (PARTITION BY u.season, u.person_id ORDER BY u.game_date, u.game_id)
),
{p}_pairs AS (
    SELECT rd.d, rd.season, rd.season_start, pp.person_id
    FROM rd JOIN (SELECT DISTINCT season, person_id FROM {p}_seq) pp ON pp.season = rd.season
    WHERE {only}
),
{p}_k AS MATERIALIZED (
    SELECT pr.d, pr.season, pr.season_start, pr.person_id, s.seq AS k {at_k}
    FROM {p}_pairs pr JOIN {p}_seq s
      ON s.season = pr.season AND s.person_id = pr.person_id
     AND s.game_date < pr.d AND (s.next_date IS NULL OR pr.d <= s.next_date)
),
{p}_app AS MATERIALIZED (
    SELECT k.d, k.season, k.season_start, s.person_id, s.player_lookup, s.player_name, s.team_abbr,
           s.game_date, s.game_id {keep_s}, k.k - s.seq + 1 AS rn
    FROM {p}_k k JOIN {p}_seq s
      ON s.season = k.season AND s.person_id = k.person_id AND s.seq BETWEEN k.k - {int(depth)} + 1 AND k.k
),
{p}_dates AS (
    SELECT season, person_id, list(game_date ORDER BY seq) AS dates FROM {p}_seq GROUP BY season, person_id
),
{p}_win AS (
    SELECT k.d, k.season, k.person_id, k.k AS appearances,
           least(k.k, {int(n)}) AS games_found,
           list_slice(g.dates, greatest(k.k - {int(n)} + 1, 1), k.k) AS contributing_game_dates,
           CASE WHEN k.k >= {int(n)} THEN g.dates[k.k - {int(n)} + 1] ELSE k.season_start END AS span_start
           {from_k}
    FROM {p}_k k JOIN {p}_dates g ON g.season = k.season AND g.person_id = k.person_id
),
{absent_games_cte(f'{p}_absent', upstream)},
{p}_team_at AS MATERIALIZED (
    SELECT s.season, s.person_id, a.game_date
    FROM {p}_seq s
    JOIN (SELECT season, game_date, home_team_abbr AS team FROM {p}_absent
          UNION ALL SELECT season, game_date, away_team_abbr FROM {p}_absent) a
      ON a.season = s.season AND a.team = s.team_abbr
     AND s.game_date <= a.game_date AND (s.next_date IS NULL OR a.game_date < s.next_date)
),
{p}_missing AS (
    SELECT w.d, w.person_id, list(DISTINCT t.game_date ORDER BY t.game_date) AS missing_game_dates
    FROM {p}_win w JOIN {p}_team_at t
      ON t.season = w.season AND t.person_id = w.person_id AND t.game_date >= w.span_start AND t.game_date < w.d
    GROUP BY w.d, w.person_id
),
{p}_meta AS (
    SELECT w.d, w.person_id, w.games_found, w.contributing_game_dates,
           coalesce(m.missing_game_dates, []::DATE[]) AS missing_game_dates
    FROM {p}_win w LEFT JOIN {p}_missing m ON m.d = w.d AND m.person_id = w.person_id
)"""


def team_window_ctes(prefix: str, upstream: str, team_column: str, n: int, keep: str = "") -> str:
    """CTEs for a team's last-`n`-games window over `upstream` (one row per team and game).

    Produces `{prefix}_games` (rn = 1 latest), `{prefix}_win`, `{prefix}_missing`, `{prefix}_meta`
    keyed by (d, team_abbr). Expected teams are every team on the season's schedule.
    """
    p = prefix
    return f"""
{p}_teams AS (
    SELECT DISTINCT rd.d, rd.season, rd.season_start, t.team_abbr
    FROM rd JOIN (
        SELECT season, home_team_abbr AS team_abbr FROM nba_raw.nbac_schedule
        UNION SELECT season, away_team_abbr FROM nba_raw.nbac_schedule
    ) t ON t.season = rd.season
),
{p}_games AS (
    SELECT t.d, t.team_abbr, u.game_date, u.game_id {keep},
           row_number() OVER (PARTITION BY t.d, t.team_abbr ORDER BY u.game_date DESC, u.game_id DESC) AS rn
    FROM {p}_teams t JOIN {upstream} u
      ON u.{team_column} = t.team_abbr AND u.season = t.season AND u.game_date < t.d
),
{p}_win AS (
    SELECT t.d, t.season, t.team_abbr,
           count(g.game_id) FILTER (WHERE g.rn <= {n}) AS games_found,
           coalesce(list(g.game_date ORDER BY g.game_date) FILTER (WHERE g.rn <= {n}), []::DATE[])
               AS contributing_game_dates,
           CASE WHEN count(g.game_id) FILTER (WHERE g.rn <= {n}) >= {n}
                THEN min(g.game_date) FILTER (WHERE g.rn <= {n}) ELSE any_value(t.season_start) END AS span_start
    FROM {p}_teams t LEFT JOIN {p}_games g ON g.d = t.d AND g.team_abbr = t.team_abbr
    GROUP BY t.d, t.season, t.team_abbr
),
{absent_games_cte(f'{p}_absent', upstream)},
{p}_missing AS (
    SELECT w.d, w.team_abbr, list(DISTINCT a.game_date ORDER BY a.game_date) AS missing_game_dates
    FROM {p}_win w JOIN {p}_absent a
      ON a.season = w.season AND a.game_date >= w.span_start AND a.game_date < w.d
     AND w.team_abbr IN (a.home_team_abbr, a.away_team_abbr)
    GROUP BY w.d, w.team_abbr
),
{p}_meta AS (
    SELECT w.d, w.team_abbr, w.games_found, w.contributing_game_dates,
           coalesce(m.missing_game_dates, []::DATE[]) AS missing_game_dates
    FROM {p}_win w LEFT JOIN {p}_missing m ON m.d = w.d AND m.team_abbr = w.team_abbr
)"""


def completeness_struct(meta: str, n: int, min_games: int) -> str:
    """SQL expression of the stored `completeness` STRUCT from a `{meta}` row alias: the fields of
    historical_completeness except needs_reprocessing, its own column (nba/schema.py)."""
    return f"""struct_pack(
        games_found := {meta}.games_found::INTEGER,
        games_expected := least({n}, {meta}.games_found + len({meta}.missing_game_dates))::INTEGER,
        contributing_game_dates := {meta}.contributing_game_dates,
        missing_game_dates := {meta}.missing_game_dates,
        is_complete := len({meta}.missing_game_dates) = 0,
        incompleteness_reason := CASE WHEN len({meta}.missing_game_dates) > 0 THEN 'upstream_gap'
                                      WHEN {meta}.games_found < {min_games} THEN 'insufficient_history' END)"""


def shortfall_category(meta: str, n: int) -> str:
    """Failure category for a window with fewer than `n` games: INCOMPLETE_UPSTREAM when the
    missing games could have filled it, else EXPECTED_INCOMPLETE."""
    return (
        f"CASE WHEN {meta}.games_found + len({meta}.missing_game_dates) >= {n} "
        f"THEN 'INCOMPLETE_UPSTREAM' ELSE 'EXPECTED_INCOMPLETE' END"
    )
