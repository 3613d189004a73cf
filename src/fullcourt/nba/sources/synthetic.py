"""Phase 1 source: a synthetic NBA league written as NBA.com-shaped landing payloads.

`scrape_synthetic(landing, start, end)` writes, for the inclusive range [start, end], the files
described in docs/landing.md. The season model (teams, players, schedule, injuries, trades)
comes from `synthetic_league.build_season`; each game's outcome comes from a
`random.Random` seeded by `"{seed}:{gameId}"`, so a date's files are byte-identical whatever
range is scraped. No timestamps are written.

How points arise (so that a model can learn them): minutes split 240 in proportion to the
players' usual minutes (so they rise when teammates are out; starters play 7% less on the
second night of a back-to-back). The side's field-goal attempts, about the sum of (attempts per minute
x minutes x game pace), are shared among its players in proportion to those terms; each
attempt falls in paint / mid-range / three by the shooter's zone mix and is made with his zone
accuracy x the opponent's defense in that zone x home (1.01) or away (0.99) x rest (0.965 on
the second night of a back-to-back, 1.01 after two or more days off) x a per-game form factor.
Free throws: Poisson(FT rate x expected attempts, 3% more at home) at his FT%. There is no
overtime: a tie after regulation is broken by one extra made free throw (FTA and FTM + 1) for
a player of the side drawn to win.
"""
from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from fullcourt.errors import UsageError
from fullcourt.nba.calendar import seasons_overlapping
from fullcourt.nba.sources.synthetic_league import (
    LeagueConfig, Player, ScheduledGame, SyntheticSeason, Team, build_season, poisson,
)

__all__ = [
    "LeagueConfig", "ScrapeResult", "scrape_synthetic", "build_season", "simulate_game",
    "canonical_json", "SyntheticSeason",
]

REGULATION_SECONDS = 5 * 48 * 60
"""Player seconds per side in a regulation game (five players x 48 minutes)."""
GAME_SECONDS = 48 * 60
HOME_EDGE = (1.01, 0.99)


@dataclass
class ScrapeResult:
    """What a scrape wrote. `dates_failed`: game dates skipped by fail_dates; `games_dropped`:
    gameIds whose three game files were left out by fail_games (on dates that were written)."""

    dates_written: list[date] = field(default_factory=list)
    dates_failed: list[date] = field(default_factory=list)
    games_written: int = 0
    games_dropped: list[str] = field(default_factory=list)
    files_written: int = 0


@dataclass(slots=True)
class PlayerLine:
    """One player's game. `att` / `made`: field goals per zone (paint, mid-range, three)."""

    player: Player
    seconds: int
    starter: bool
    att: list[int]
    made: list[int]
    fta: int = 0
    ftm: int = 0
    oreb: int = 0
    dreb: int = 0
    ast: int = 0
    stl: int = 0
    blk: int = 0
    tov: int = 0
    pf: int = 0
    plus_minus: int = 0

    @property
    def points(self) -> int:
        return 2 * (self.made[0] + self.made[1]) + 3 * self.made[2] + self.ftm


@dataclass(frozen=True)
class Absence:
    """A rostered player who did not play: status DNP/NWT and NBA.com's reason text."""

    player: Player
    team: str
    status: str
    reason: str


@dataclass(frozen=True)
class GameResult:
    """A simulated game: the players who played per side (starters first) and the absences.

    Results are cached per season model: treat them (and their PlayerLines) as read-only.
    """

    game: ScheduledGame
    home: tuple[PlayerLine, ...]
    away: tuple[PlayerLine, ...]
    absences: tuple[Absence, ...]

    @property
    def home_score(self) -> int:
        return sum(line.points for line in self.home)

    @property
    def away_score(self) -> int:
        return sum(line.points for line in self.away)


# --- simulation ------------------------------------------------------------------------------

def _binomial(rng: random.Random, n: int, p: float) -> int:
    r = rng.random
    return sum(1 for _ in range(n) if r() < p)


def _split(rng: random.Random, total: int, weights: list[float]) -> list[int]:
    """`total` units shared at random in proportion to `weights`."""
    out = [0] * len(weights)
    if total > 0:
        for i in rng.choices(range(len(weights)), weights=weights, k=total):
            out[i] += 1
    return out


def _allocate_seconds(weights: list[float], total: int) -> list[int]:
    """Integer seconds summing exactly to `total`, proportional to `weights`, none above 44
    minutes unless the players are too few (then up to 48), largest remainders rounded up."""
    n = len(weights)
    cap = 44 * 60 if n * 44 * 60 >= total else 48 * 60
    alloc = [0.0] * n
    free = set(range(n))
    remaining = float(total)
    while free:
        s = sum(weights[i] for i in free)
        over = [i for i in free if weights[i] / s * remaining > cap]
        if not over:
            for i in free:
                alloc[i] = weights[i] / s * remaining
            break
        for i in over:
            alloc[i] = cap
            remaining -= cap
            free.discard(i)
    secs = [int(a) for a in alloc]
    by_fraction = sorted(range(n), key=lambda i: (secs[i] - alloc[i], i))
    for i in by_fraction[: total - sum(secs)]:
        secs[i] += 1
    return secs


def _lineup(model: SyntheticSeason, team: str, d: date,
            rng: random.Random) -> tuple[list[Player], list[Absence]]:
    """Who plays (ordered by usual minutes) and who does not, with the reason."""
    available: list[Player] = []
    injured: list[tuple[Player, str]] = []
    absences: list[Absence] = []
    for p in model.roster(team, d):
        inj = model.injury_on(p.person_id, d)
        if inj is not None:
            injured.append((p, inj.reason))
        elif rng.random() < 0.004:
            absences.append(Absence(p, team, "NWT", "NWT - Personal Reasons"))
        else:
            available.append(p)
    while len(available) < 5 and injured:  # too few healthy players: the injured play through
        available.append(injured.pop()[0])
    absences.extend(Absence(p, team, "DNP", reason) for p, reason in injured)
    available.sort(key=lambda p: (-p.minutes, p.person_id))
    playing = []
    for i, p in enumerate(available):
        # the top 8 always play, the next two usually, the end of the bench mostly in garbage time
        if i < 8 or rng.random() < (min(0.85, p.minutes / 10.0) if i < 10 else 0.25):
            playing.append(p)
        else:
            absences.append(Absence(p, team, "DNP", "DNP - Coach's Decision"))
    return playing, absences


def _shoot(rng: random.Random, players: list[Player], rest: int | None, is_home: bool,
           opponent: Team, pace: float) -> list[PlayerLine]:
    """Minutes, shots by zone, free throws, turnovers and fouls of one side."""
    tired = rest == 1
    weights = [max(1.0, p.minutes * math.exp(rng.gauss(0.0, 0.12)) * (0.93 if tired and i < 5 else 1.0))
               for i, p in enumerate(players)]
    seconds = _allocate_seconds(weights, REGULATION_SECONDS)
    edge = HOME_EDGE[0 if is_home else 1] * (0.965 if tired else 1.01 if rest is not None and rest >= 3 else 1.0)
    r = rng.random
    expected = [p.fga_per_min * secs / 60.0 * pace for p, secs in zip(players, seconds)]
    total = sum(expected)
    attempts = _split(rng, max(1, round(rng.gauss(total, 0.55 * math.sqrt(total)))), expected)
    lines = []
    for i, (p, secs) in enumerate(zip(players, seconds)):
        minutes = secs / 60.0
        form = rng.gauss(1.0, 0.06) * edge
        p0, p1 = p.zone_mix[0], p.zone_mix[0] + p.zone_mix[1]
        acc = [min(0.9, a * d * form) for a, d in zip(p.accuracy, opponent.defense)]
        att, made = [0, 0, 0], [0, 0, 0]
        for _ in range(attempts[i]):
            u = r()
            z = 0 if u < p0 else 1 if u < p1 else 2
            att[z] += 1
            if r() < acc[z]:
                made[z] += 1
        line = PlayerLine(p, secs, i < 5, att, made)
        line.fta = poisson(rng, p.fta_per_fga * expected[i] * (1.03 if is_home else 0.97))
        line.ftm = _binomial(rng, line.fta, p.ft_pct)
        line.tov = poisson(rng, p.tov * minutes)
        line.pf = min(6, poisson(rng, p.pf * minutes))
        lines.append(line)
    return lines


def _rebound_totals(rng: random.Random, home: list[PlayerLine],
                    away: list[PlayerLine]) -> tuple[tuple[int, int], tuple[int, int]]:
    """(OREB, DREB) per side: a side's defensive rebounds come from the other's misses, its
    offensive rebounds from its own misses the other side did not rebound."""
    misses = [sum(sum(x.att) - sum(x.made) for x in side) for side in (home, away)]
    dreb = [_binomial(rng, misses[1], 0.76), _binomial(rng, misses[0], 0.76)]
    oreb = [_binomial(rng, misses[0] - dreb[1], 0.9), _binomial(rng, misses[1] - dreb[0], 0.9)]
    return (oreb[0], dreb[0]), (oreb[1], dreb[1])


def _share_team_stats(rng: random.Random, side: list[PlayerLine], opp: list[PlayerLine],
                      oreb: int, dreb: int) -> None:
    """Rebounds, assists, steals and blocks: team totals drawn from the game, shared by weight.

    Assists <= field goals made by teammates; steals <= the opponent's turnovers; blocks <=
    the opponent's missed two-point attempts.
    """
    opp_two_misses = sum(x.att[0] + x.att[1] - x.made[0] - x.made[1] for x in opp)
    minutes = [x.seconds / 60.0 for x in side]
    reb_w = [x.player.reb * m for x, m in zip(side, minutes)]
    fgm = sum(sum(x.made) for x in side)
    for x, d, o, a, s, b in zip(
        side, _split(rng, dreb, reb_w), _split(rng, oreb, reb_w),
        _split(rng, _binomial(rng, fgm, 0.62), [x.player.ast * m for x, m in zip(side, minutes)]),
        _split(rng, _binomial(rng, sum(y.tov for y in opp), 0.55), [x.player.stl * m for x, m in zip(side, minutes)]),
        _split(rng, _binomial(rng, opp_two_misses, 0.18), [x.player.blk * m for x, m in zip(side, minutes)]),
    ):
        x.dreb, x.oreb, x.ast, x.stl, x.blk = d, o, min(a, fgm - sum(x.made)), s, b


def _plus_minus(rng: random.Random, side: list[PlayerLine], margin: int) -> None:
    """Plus-minus per player summing to 5 x margin (five players on the floor at all times)."""
    for x in side:
        share = x.seconds / 2880.0
        x.plus_minus = round(margin * share + rng.gauss(0.0, 5.0) * math.sqrt(share))
    top = max(side, key=lambda x: (x.seconds, -x.player.person_id))
    top.plus_minus += 5 * margin - sum(x.plus_minus for x in side)


def simulate_game(model: SyntheticSeason, game: ScheduledGame) -> GameResult:
    """The outcome of `game` (drawn from an RNG seeded by (seed, gameId) only). The whole
    season is simulated once per model and cached: props need every earlier game anyway."""
    return _season_results(model)[game.game_id]


def _simulate(model: SyntheticSeason, game: ScheduledGame) -> GameResult:
    rng = random.Random(f"{model.config.seed}:{game.game_id}")
    home_t, away_t = model.team(game.home), model.team(game.away)
    home_p, home_abs = _lineup(model, game.home, game.game_date, rng)
    away_p, away_abs = _lineup(model, game.away, game.game_date, rng)
    pace = (home_t.pace + away_t.pace) / 2.0 * rng.gauss(1.0, 0.04)
    home = _shoot(rng, home_p, game.home_rest, True, away_t, pace)
    away = _shoot(rng, away_p, game.away_rest, False, home_t, pace)
    (home_oreb, home_dreb), (away_oreb, away_dreb) = _rebound_totals(rng, home, away)
    _share_team_stats(rng, home, away, home_oreb, home_dreb)
    _share_team_stats(rng, away, home, away_oreb, away_dreb)
    margin = sum(x.points for x in home) - sum(x.points for x in away)
    if margin == 0:
        side = home if rng.random() < 0.55 else away
        x = rng.choices(side, weights=[y.seconds for y in side])[0]
        x.fta += 1
        x.ftm += 1
        margin = 1 if side is home else -1
    _plus_minus(rng, home, margin)
    _plus_minus(rng, away, -margin)
    return GameResult(game, tuple(home), tuple(away), tuple(home_abs + away_abs))


@lru_cache(maxsize=4)
def _season_results(model: SyntheticSeason) -> dict[str, GameResult]:
    """Every game of the season, simulated once per model (each game from its own RNG)."""
    return {g.game_id: _simulate(model, g) for g in model.games}


# --- shots -----------------------------------------------------------------------------------

def _shot_geometry(r: Any, zone: int, made: bool) -> tuple[str, float, float, float]:
    """(basicZone, shotDistance, x, y) in feet from the hoop (x > 0 toward the left corner),
    drawn with `r` (a random.random), each rounded to 0.1 ft. Paint: < 8 ft (Restricted Area
    < 4 ft); mid-range: 8.0-22.9 ft inside the arc; threes: corners at |x| 22-22.5 ft
    (22.0-24.1 ft away), above the break 23.8-30 ft."""
    floor = math.floor
    if zone == 0:
        if r() < (0.7 if made else 0.45):
            basic, dist = "Restricted Area", floor(39.0 * r() ** 1.6 + 0.5) / 10
        else:
            basic, dist = "In The Paint (Non-RA)", floor(40.5 + 39.0 * r()) / 10
        theta = 2.9 * r() - 1.45
    elif zone == 1:
        basic, dist = "Mid-Range", floor(80.5 + 149.0 * r()) / 10
        bound = min(1.4, math.asin(min(1.0, 21.5 / dist)))
        theta = bound * (2.0 * r() - 1.0)
    else:
        v = r()
        if v < 0.25:
            side = 1.0 if v < 0.125 else -1.0
            x, y = floor(220.5 + 5.0 * r()) / 10, floor(115.0 * r() - 29.5) / 10
            dist = max(22.0, floor(math.hypot(x, y) * 10.0 + 0.5) / 10)
            return ("Left Corner 3" if side > 0 else "Right Corner 3"), dist, side * x, y
        basic, dist = "Above the Break 3", floor(238.5 + 37.0 * r() if r() < 0.9 else 275.5 + 25.0 * r()) / 10
        theta = math.acos(8.8 / dist) * (2.0 * r() - 1.0)
    return basic, dist, floor(dist * math.sin(theta) * 10.0 + 0.5) / 10, floor(dist * math.cos(theta) * 10.0 + 0.5) / 10


_PERIOD_CLOCK = tuple(f"PT{(720 - t) // 60:02d}M{(720 - t) % 60:02d}.00S" for t in range(720))
"""Game clock (time left in the period) after t seconds of play in it."""

SHOT_FIELDS = ("actionNumber", "basicZone", "clock", "period", "personId", "shotDistance",
               "shotResult", "shotType", "teamTricode", "x", "y")
"""The keys of a shot, sorted: the order of the tuples `shot_log` returns."""


def shot_log(model: SyntheticSeason, result: GameResult) -> list[tuple[Any, ...]]:
    """Every field-goal attempt of the game in time order, as tuples in SHOT_FIELDS order.

    Per player the attempts, makes and 3PT attempts/makes equal his box score. Drawn from an
    RNG seeded by (seed, gameId, 'shots'); regulation only (periods 1-4).
    """
    rng = random.Random(f"{model.config.seed}:{result.game.game_id}:shots")
    r = rng.random
    raw = []
    for team, side in ((result.game.home, result.home), (result.game.away, result.away)):
        for line in side:
            pid = line.player.person_id
            for z in range(3):
                for k in range(line.att[z]):
                    raw.append((1 + int(r() * (GAME_SECONDS - 1)), pid, team, z, k < line.made[z]))
    raw.sort()
    shots = []
    action = 2
    for t, pid, team, z, made in raw:
        action += 1 + int(r() * 6)
        basic, dist, x, y = _shot_geometry(r, z, made)
        shots.append((action, basic, _PERIOD_CLOCK[t % 720], t // 720 + 1, pid, dist,
                      "Made" if made else "Missed", "3PT" if z == 2 else "2PT", team, x, y))
    return shots


_SHOT_TEXT = "   {\n" + ",\n".join(
    f'    "{k}": ' + ("%d" if k in ("actionNumber", "period", "personId") else "%r" if k in ("shotDistance", "x", "y")
                     else "%s") for k in SHOT_FIELDS) + "\n   }"


def shots_json(model: SyntheticSeason, result: GameResult) -> str:
    """The text of shots_{gameId}.json: exactly canonical_json(shots_payload(model, result)),
    rendered with one string template per shot because shot logs are most of the bytes."""
    g = result.game
    enc = encode_basestring
    rows = [_SHOT_TEXT % (a, enc(b), enc(c), per, pid, dist, enc(res), enc(st), enc(team), x, y)
            for a, b, c, per, pid, dist, res, st, team, x, y in shot_log(model, result)]
    shots = "[\n" + ",\n".join(rows) + "\n  ]" if rows else "[]"
    return (f'{{\n "shotchart": {{\n  "gameDate": {enc(g.game_date.isoformat())},\n  "gameId": {enc(g.game_id)},'
            f'\n  "shots": {shots}\n }}\n}}')


# --- props -----------------------------------------------------------------------------------

PRICES = ((-110, -110), (-115, -105), (-105, -115), (-120, 100))


@lru_cache(maxsize=4)
def _props_by_date(model: SyntheticSeason) -> dict[date, list[dict[str, Any]]]:
    """Points lines per game date for rotation players who play that day.

    The line is the market's noisy view of the player's recent scoring: an exponentially
    weighted mean (weight 0.25 on the newest game) of his points this season, started from his
    tendency-based expectation, + Gaussian noise (sd 1.3), floored to x.5. Only information
    from before the date is used. Rotation = his recent minutes average >= 12.
    """
    results = _season_results(model)
    form: dict[int, list[float]] = {}
    out: dict[date, list[dict[str, Any]]] = {}
    for d in model.game_dates():
        rng = random.Random(f"{model.config.seed}:{d.isoformat()}:props")
        lines: list[dict[str, Any]] = []
        played: list[PlayerLine] = []
        for g in model.games_on(d):
            res = results[g.game_id]
            for team, side in ((g.home, res.home), (g.away, res.away)):
                for x in side:
                    p = x.player
                    points, minutes = form.get(p.person_id, (p.expected_points, p.minutes))
                    played.append(x)
                    if minutes < 12.0:
                        continue
                    over, under = PRICES[0] if rng.random() < 0.7 else rng.choice(PRICES[1:])
                    lines.append({
                        "gameId": g.game_id, "personId": p.person_id, "name": p.name, "teamTricode": team,
                        "line": math.floor(max(0.0, points + rng.gauss(0.0, 1.3))) + 0.5,
                        "overPrice": over, "underPrice": under,
                    })
        for x in played:
            p = x.player
            points, minutes = form.get(p.person_id, (p.expected_points, p.minutes))
            form[p.person_id] = [points + 0.25 * (x.points - points), minutes + 0.25 * (x.seconds / 60.0 - minutes)]
        out[d] = lines
    return out


# --- payloads --------------------------------------------------------------------------------

def _clock(seconds: int) -> str:
    return f"PT{seconds // 60:02d}M{seconds % 60:02d}.00S"


def _team_ref(team: Team) -> dict[str, Any]:
    return {"teamId": team.team_id, "teamTricode": team.tricode, "teamCity": team.city, "teamName": team.name}


def league_schedule_payload(model: SyntheticSeason) -> dict[str, Any]:
    """schedule/{label}.json: every game of the season, status 1 Scheduled."""
    return {"leagueSchedule": {"seasonYear": model.season.label, "leagueId": "00", "gameDates": [
        {"gameDate": d.isoformat(), "games": [
            {"gameId": g.game_id, "gameStatus": 1, "gameStatusText": "Scheduled",
             "homeTeam": _team_ref(model.team(g.home)), "awayTeam": _team_ref(model.team(g.away))}
            for g in model.games_on(d)]}
        for d in model.game_dates()]}}


def scoreboard_payload(model: SyntheticSeason, d: date) -> dict[str, Any]:
    """{date}/schedule.json: all games of date `d`, final scores."""
    games = []
    for g in model.games_on(d):
        res = simulate_game(model, g)
        games.append({
            "gameId": g.game_id, "gameStatus": 3, "gameStatusText": "Final",
            "homeTeam": {"teamId": model.team(g.home).team_id, "teamTricode": g.home, "score": res.home_score},
            "awayTeam": {"teamId": model.team(g.away).team_id, "teamTricode": g.away, "score": res.away_score},
        })
    return {"scoreboard": {"gameDate": d.isoformat(), "leagueId": "00", "games": games}}


_SUMMED = (
    "points", "fieldGoalsMade", "fieldGoalsAttempted", "threePointersMade", "threePointersAttempted",
    "freeThrowsMade", "freeThrowsAttempted", "reboundsOffensive", "reboundsDefensive", "reboundsTotal",
    "assists", "steals", "blocks", "turnovers", "foulsPersonal",
)


def _player_stats(x: PlayerLine) -> dict[str, Any]:
    a, m = x.att, x.made
    return {
        "minutes": _clock(x.seconds), "points": x.points,
        "fieldGoalsMade": m[0] + m[1] + m[2], "fieldGoalsAttempted": a[0] + a[1] + a[2],
        "threePointersMade": m[2], "threePointersAttempted": a[2],
        "freeThrowsMade": x.ftm, "freeThrowsAttempted": x.fta,
        "reboundsOffensive": x.oreb, "reboundsDefensive": x.dreb, "reboundsTotal": x.oreb + x.dreb,
        "assists": x.ast, "steals": x.stl, "blocks": x.blk, "turnovers": x.tov, "foulsPersonal": x.pf,
        "plusMinusPoints": float(x.plus_minus),
    }


def _box_team(team: Team, lines: tuple[PlayerLine, ...]) -> dict[str, Any]:
    """A box-score side; its statistics are the field-wise sums of its players' (no plus-minus)."""
    players = []
    for x in lines:
        p = x.player
        players.append({
            "personId": p.person_id, "name": p.name, "firstName": p.first_name, "familyName": p.family_name,
            "position": p.position if x.starter else "", "starter": "1" if x.starter else "0",
            "statistics": _player_stats(x),
        })
    stats: dict[str, Any] = {"minutes": _clock(sum(x.seconds for x in lines))}
    for key in _SUMMED:
        stats[key] = sum(pl["statistics"][key] for pl in players)
    return {"teamId": team.team_id, "teamTricode": team.tricode, "score": stats["points"],
            "statistics": stats, "players": players}


def boxscore_payload(model: SyntheticSeason, result: GameResult) -> dict[str, Any]:
    """{date}/boxscore_{gameId}.json: players who played (minutes > 0) and team totals (their sums)."""
    g = result.game
    return {"game": {"gameId": g.game_id, "gameDate": g.game_date.isoformat(), "gameStatus": 3,
                     "homeTeam": _box_team(model.team(g.home), result.home),
                     "awayTeam": _box_team(model.team(g.away), result.away)}}


def gamebook_payload(result: GameResult) -> dict[str, Any]:
    """{date}/gamebook_{gameId}.json: rostered players who did not play, with the reason."""
    g = result.game
    return {"gamebook": {"gameId": g.game_id, "gameDate": g.game_date.isoformat(), "inactivePlayers": [
        {"personId": a.player.person_id, "name": a.player.name, "teamTricode": a.team,
         "status": a.status, "reason": a.reason} for a in result.absences]}}


def shots_payload(model: SyntheticSeason, result: GameResult) -> dict[str, Any]:
    """{date}/shots_{gameId}.json: the shot log."""
    g = result.game
    return {"shotchart": {"gameId": g.game_id, "gameDate": g.game_date.isoformat(),
                          "shots": [dict(zip(SHOT_FIELDS, row)) for row in shot_log(model, result)]}}


def props_payload(model: SyntheticSeason, d: date) -> dict[str, Any]:
    """{date}/props.json: points lines of date `d`."""
    return {"props": {"gameDate": d.isoformat(), "market": "player_points",
                      "lines": _props_by_date(model).get(d, [])}}


# --- writing ---------------------------------------------------------------------------------

_SCALARS = {str: encode_basestring, int: int.__repr__,
            float: lambda v: float.__repr__(v) if math.isfinite(v) else json.dumps(v),
            bool: lambda v: "true" if v else "false", type(None): lambda v: "null"}
_SCALAR_OF = _SCALARS.get
_IS_CONTAINER = frozenset({dict, list, tuple}).__contains__
_LEAF_ENCODERS: dict[int, Any] = {}


def _leaf_encoder(level: int) -> Any:
    enc = _LEAF_ENCODERS.get(level)
    if enc is None:
        enc = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
            None, _no_default, encode_basestring, None, ": ", ",\n" + " " * level, True, False, True)
        _LEAF_ENCODERS[level] = enc
    return enc


def _no_default(o: Any) -> Any:
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def _is_leaf(o: Any) -> bool:
    """A non-empty dict whose values are all scalars."""
    return type(o) is dict and bool(o) and not any(map(_IS_CONTAINER, map(type, o.values())))


def _encode(o: Any, level: int) -> str:
    t = type(o)
    inner = level + 1
    pad = "\n" + " " * inner
    if t is dict:
        if not o:
            return "{}"
        if _is_leaf(o):
            flat = "".join(_leaf_encoder(inner)(o, 0))
            return "{" + pad + flat[1:-1] + "\n" + " " * level + "}"
        body = ("," + pad).join([
            encode_basestring(k) + ": " + (conv(v) if (conv := _SCALAR_OF(type(v))) else _encode(v, inner))
            for k, v in sorted(o.items())])
        return "{" + pad + body + "\n" + " " * level + "}"
    if t is list or t is tuple:
        if not o:
            return "[]"
        if all(map(_is_leaf, o)):
            # One C call for the whole list: real newlines only come from separators (strings
            # escape theirs), so "},<newline><pad>{" only occurs between two items.
            deep = pad + " "
            flat = "".join(_leaf_encoder(inner + 1)(o, 0))[2:-2]
            body = flat.replace("},\n" + deep[1:] + "{", "\n" + " " * inner + "}," + pad + "{" + deep)
            return "[" + pad + "{" + deep + body + pad + "}\n" + " " * level + "]"
        return "[" + pad + ("," + pad).join([_encode(v, inner) for v in o]) + "\n" + " " * level + "]"
    return _SCALARS[t](o)


def canonical_json(obj: Any) -> str:
    """Exactly `json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=1)` for dicts with
    str keys, lists, str, int, float, bool and None; about twice as fast, because dicts of
    scalars, and lists of them, go through the C encoder with the indented item separator."""
    if getattr(json.encoder, "c_make_encoder", None) is None:
        return json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=1)
    return _encode(obj, 0)


def _write(path: Path, payload: dict[str, Any]) -> None:
    path.write_bytes(canonical_json(payload).encode("utf-8"))


def _scrape_season(landing: Path, model: SyntheticSeason, start: date, end: date,
                   fail_dates: frozenset[date], fail_games: frozenset[str], result: ScrapeResult) -> None:
    (landing / "schedule").mkdir(parents=True, exist_ok=True)
    _write(landing / "schedule" / f"{model.season.label}.json", league_schedule_payload(model))
    result.files_written += 1
    for d in model.game_dates():
        if not start <= d <= end:
            continue
        if d in fail_dates:
            result.dates_failed.append(d)
            continue
        folder = landing / d.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        _write(folder / "schedule.json", scoreboard_payload(model, d))
        for g in model.games_on(d):
            if g.game_id in fail_games:
                result.games_dropped.append(g.game_id)
                continue
            res = simulate_game(model, g)
            _write(folder / f"boxscore_{g.game_id}.json", boxscore_payload(model, res))
            _write(folder / f"gamebook_{g.game_id}.json", gamebook_payload(res))
            (folder / f"shots_{g.game_id}.json").write_bytes(shots_json(model, res).encode("utf-8"))
            result.games_written += 1
            result.files_written += 3
        _write(folder / "props.json", props_payload(model, d))
        result.files_written += 2
        result.dates_written.append(d)


def scrape_synthetic(landing: Path, start: date, end: date, config: LeagueConfig = LeagueConfig(),
                     fail_dates: frozenset[date] = frozenset(),
                     fail_games: frozenset[str] = frozenset()) -> ScrapeResult:
    """Write the synthetic league's landing payloads for the inclusive range [start, end].

    For every season overlapping the range: `schedule/{label}.json` (always, whole season).
    For every game date d in the range and not in `fail_dates`: `{d}/schedule.json` (all of
    the day's games, final scores), `{d}/props.json`, and per game not in `fail_games` its
    `boxscore_`, `gamebook_` and `shots_{gameId}.json`. Dates outside every season, and dates
    without games, write nothing. Existing files are overwritten; files of failed dates or
    games left by an earlier scrape are not deleted (an outage does not erase a bucket).
    A date's bytes do not depend on the range asked for.

    Args:
        landing: the landing folder (created if missing).
        start, end: inclusive date range; end < start writes nothing.
        config: league size and seed.
        fail_dates: game dates to skip entirely (simulated scraper outage).
        fail_games: gameIds whose three game files to leave out (partial day).
    Returns:
        ScrapeResult listing what was written, failed and dropped, in date order.
    """
    models = [build_season(season, config) for season in seasons_overlapping(start, end)]
    known = {g.game_id for m in models for g in m.games if start <= g.game_date <= end}
    unknown = sorted(set(fail_games) - known)
    if unknown:  # checked before any file is written
        raise UsageError(f"--fail-games {', '.join(unknown)}: no such game in {start}..{end}",
                         remedy="give gameIds of games in the range (the gameId fields of <date>/schedule.json)")
    result = ScrapeResult()
    for model in models:
        _scrape_season(Path(landing), model, start, end, frozenset(fail_dates), frozenset(fail_games), result)
    return result


def correct_box_score(landing: Path, day: date) -> Path:
    """A late stat correction in `landing`: the first home player of `day`'s first box score
    gets two more free throws made and attempted (two more points), in his line and in his
    team's totals and score. Returns the file rewritten. Tests and benches use it to model a
    corrected day that loaded well before."""
    path = sorted((landing / day.isoformat()).glob("boxscore_*.json"))[0]
    box = json.loads(path.read_text(encoding="utf-8"))
    team = box["game"]["homeTeam"]
    for stats in (team["players"][0]["statistics"], team["statistics"]):
        stats["freeThrowsMade"] += 2
        stats["freeThrowsAttempted"] += 2
        stats["points"] += 2
    team["score"] += 2
    path.write_text(json.dumps(box, ensure_ascii=False, sort_keys=True, indent=1), encoding="utf-8")
    return path
