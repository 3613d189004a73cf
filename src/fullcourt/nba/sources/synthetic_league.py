"""The synthetic NBA league's season model: teams, players, schedule, injuries, trades, rookies.

`build_season(season, config)` is pure and cached: it depends only on its arguments. Every
random draw comes from a `random.Random` seeded with a string such as `"7:2021-22:schedule"`
(string seeds are hashed with SHA-512, so the model is the same in every process; Python's
`hash()` is never used). Dates are `datetime.date`; every range is inclusive `[start, end]`.

The model:
- Teams: the first `config.teams` tricodes of `fullcourt.nba.teams.TRICODES` (alphabetical).
  Each team has a lasting defensive strength per shot zone (a multiplier on the opponent's
  make probability, < 1 = good defense) and a pace (a multiplier on shot attempts).
- Players: a league pool of 30 teams x 20 roster slots drawn from the seed alone, so a
  player's personId and name are the same in every season and every league size; a team
  uses its first `players_per_team` slots. Slot 0 is the star, 1-4 starters, 5-8 rotation,
  9+ bench. Tendencies (minutes, shot attempts per minute, zone mix paint/mid/three,
  accuracy per zone, free-throw rate and percentage, rebound/assist/steal/block weights)
  drift slightly from season to season.
- Rookies: about one per six teams, each joins his team on a mid-season date.
- Injuries: date stretches (inclusive) a player misses with an injury reason.
- Trades: 1-for-1 swaps between two teams; 3-5 for 30 teams, at least 1 for 2+ teams.
- Schedule: 82 games per team (41 home, 41 away) for every league size 2..30, on the season's
  dates from calendar.py, none during the All-Star break, on Thanksgiving, on Dec 24, or on
  a US general Election Day; each team plays at most once a date.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from fullcourt.errors import UsageError
from fullcourt.dates import date_range as days
from fullcourt.nba.calendar import Season
from fullcourt.nba.teams import TEAMS, TRICODES

GAMES_PER_TEAM = 82
POOL_SLOTS = 20
ZONES = ("paint", "mid_range", "three")
POSITIONS = ("G", "F", "C")
WEEKDAY_WEIGHT = (1.0, 0.9, 1.3, 0.6, 1.25, 1.05, 0.9)
"""Relative number of games on Monday..Sunday."""


@dataclass(frozen=True)
class LeagueConfig:
    """A synthetic league: `seed` for every random draw, `teams` in 2..30 (the first N
    tricodes of `teams.TRICODES`), `players_per_team` in 5..20 (before rookies join).

    Raises UsageError when a bound is violated.
    """

    seed: int = 7
    teams: int = 30
    players_per_team: int = 15

    def __post_init__(self) -> None:
        if not 2 <= self.teams <= 30:
            raise UsageError(f"teams must be in 2..30, got {self.teams}", remedy="use --teams 30")
        if not 5 <= self.players_per_team <= 20:
            raise UsageError(
                f"players_per_team must be in 5..20, got {self.players_per_team}", remedy="use 15"
            )


@dataclass(frozen=True)
class Team:
    """A team for one season. `defense[z]` multiplies the opponent's make probability in zone
    ZONES[z] (0.92..1.08, lower is better defense); `pace` multiplies shot attempts."""

    tricode: str
    team_id: int
    city: str
    name: str
    defense: tuple[float, float, float]
    pace: float


@dataclass(frozen=True)
class Player:
    """A player's lasting tendencies for one season.

    `team`: tricode he starts the season with (rookies: the team he joins). `slot`: role
    order in that team (0 star, 1-4 starters, 5-8 rotation, 9+ bench). `minutes`: minutes
    per game when the whole roster is healthy. `fga_per_min`: field-goal attempts per minute.
    `zone_mix`: share of attempts in paint / mid-range / three (sums to 1). `accuracy`: make
    probability per zone against an average defense. `fta_per_fga`, `ft_pct`: free throws.
    `reb`, `ast`, `stl`, `blk`: relative weights for sharing team totals. `tov`, `pf`: per
    minute rates. `joins`: first date on the roster (rookies), else None.
    """

    person_id: int
    first_name: str
    family_name: str
    position: str
    team: str
    slot: int
    minutes: float
    fga_per_min: float
    zone_mix: tuple[float, float, float]
    accuracy: tuple[float, float, float]
    fta_per_fga: float
    ft_pct: float
    reb: float
    ast: float
    stl: float
    blk: float
    tov: float
    pf: float
    joins: date | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.family_name}"

    @property
    def expected_points(self) -> float:
        """Points per game against an average defense with his usual minutes."""
        fga = self.fga_per_min * self.minutes
        per_shot = sum(m * a * (3 if z == 2 else 2) for z, (m, a) in enumerate(zip(self.zone_mix, self.accuracy)))
        return fga * per_shot + fga * self.fta_per_fga * self.ft_pct


@dataclass(frozen=True)
class Injury:
    """`person_id` misses every game in [start, end] (inclusive) with `reason`."""

    person_id: int
    start: date
    end: date
    reason: str


@dataclass(frozen=True)
class Trade:
    """On date `on` (he plays for the new team from that date on), `person_a` moves from
    `team_a` to `team_b` and `person_b` from `team_b` to `team_a`."""

    on: date
    team_a: str
    team_b: str
    person_a: int
    person_b: int


@dataclass(frozen=True)
class ScheduledGame:
    """One game. `home_rest` / `away_rest`: days since the team's previous game (1 = second
    night of a back-to-back), None for its first game of the season."""

    game_id: str
    game_date: date
    home: str
    away: str
    home_rest: int | None
    away_rest: int | None


@dataclass(frozen=True, eq=False)
class SyntheticSeason:
    """The pure model of one season (compared and hashed by identity; build with build_season)."""

    season: Season
    config: LeagueConfig
    teams: tuple[Team, ...]
    players: tuple[Player, ...]
    games: tuple[ScheduledGame, ...]
    injuries: tuple[Injury, ...]
    trades: tuple[Trade, ...]
    _by_date: dict[date, tuple[ScheduledGame, ...]] = field(init=False, repr=False)
    _moves: dict[int, tuple[tuple[date, str], ...]] = field(init=False, repr=False)
    _injured: dict[int, tuple[Injury, ...]] = field(init=False, repr=False)
    _members: dict[str, tuple[Player, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_date: dict[date, list[ScheduledGame]] = {}
        for g in self.games:
            by_date.setdefault(g.game_date, []).append(g)
        moves: dict[int, list[tuple[date, str]]] = {p.person_id: [(date.min, p.team)] for p in self.players}
        for t in sorted(self.trades, key=lambda t: t.on):
            moves[t.person_a].append((t.on, t.team_b))
            moves[t.person_b].append((t.on, t.team_a))
        injured: dict[int, list[Injury]] = {}
        for inj in self.injuries:
            injured.setdefault(inj.person_id, []).append(inj)
        members: dict[str, list[Player]] = {t.tricode: [] for t in self.teams}
        for p in self.players:
            for code in dict.fromkeys(team for _, team in moves[p.person_id]):
                members[code].append(p)
        object.__setattr__(self, "_by_date", {d: tuple(g) for d, g in by_date.items()})
        object.__setattr__(self, "_moves", {k: tuple(v) for k, v in moves.items()})
        object.__setattr__(self, "_injured", {k: tuple(v) for k, v in injured.items()})
        object.__setattr__(self, "_members", {k: tuple(v) for k, v in members.items()})

    def team(self, tricode: str) -> Team:
        """The team with this tricode (KeyError if not in the league)."""
        return next(t for t in self.teams if t.tricode == tricode)

    def game_dates(self) -> list[date]:
        """Dates with at least one game, ascending."""
        return sorted(self._by_date)

    def games_on(self, d: date) -> tuple[ScheduledGame, ...]:
        """The games of date `d` in gameId order (empty off the schedule)."""
        return self._by_date.get(d, ())

    def team_of(self, person_id: int, d: date) -> str | None:
        """The player's team on date `d`; None before a rookie joins."""
        player = self.player(person_id)
        if player.joins is not None and d < player.joins:
            return None
        team = None
        for since, code in self._moves[person_id]:
            if since <= d:
                team = code
        return team

    def player(self, person_id: int) -> Player:
        return _player_index(self)[person_id]

    def roster(self, tricode: str, d: date) -> list[Player]:
        """Players on the team on date `d` (injured included), ordered by minutes, descending."""
        out = [p for p in self._members[tricode] if self.team_of(p.person_id, d) == tricode]
        return sorted(out, key=lambda p: (-p.minutes, p.person_id))

    def injury_on(self, person_id: int, d: date) -> Injury | None:
        """The injury keeping the player out on date `d`, or None."""
        for inj in self._injured.get(person_id, ()):
            if inj.start <= d <= inj.end:
                return inj
        return None


@lru_cache(maxsize=16)
def _player_index(model: SyntheticSeason) -> dict[int, Player]:
    return {p.person_id: p for p in model.players}


# --- names ----------------------------------------------------------------------------------

FIRST_PLAIN = (
    "James", "Marcus", "Tyler", "Jalen", "Josh", "Kevin", "Anthony", "Chris", "Brandon", "Jordan",
    "Devin", "Trey", "Cam", "Malik", "Isaiah", "Derrick", "Jaylen", "Darius", "Zach", "Luke",
    "Shai", "Andre", "Terrence", "Kyle", "Aaron", "Mikal", "Jarrett", "Keon", "Xavier", "Dwight",
    "Miles", "Tobias", "Collin", "Desmond", "Caleb", "Quentin", "Reggie", "Patrick", "Evan", "Grant",
)
FIRST_APOSTROPHE = ("D'Angelo", "De'Aaron", "De'Andre", "Day'Ron", "De'Anthony", "Ja'Vonte", "Jae'Sean")
FIRST_EUROPEAN = (
    "Nikola", "Luka", "Jonas", "Bojan", "Dario", "Jusuf", "Kristaps", "Dennis", "Bogdan", "Alperen",
    "Domantas", "Vasilije", "Théo", "Goran", "Davis",
)
FAMILY_PLAIN = (
    "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Harris", "Thompson", "Walker",
    "Robinson", "Green", "Mitchell", "Porter", "Bridges", "Allen", "Holiday", "Murray", "Randle",
    "Young", "Barnes", "Hunter", "Turner", "Gordon", "Simmons", "Ball", "Lowry", "Morris", "Warren",
    "Russell", "Fox", "Booker", "Payton", "Okafor", "Adebayo", "Middleton", "Claxton", "Hayes",
)
FAMILY_DIACRITIC = (
    "Jokić", "Dončić", "Valančiūnas", "Bogdanović", "Šarić", "Nurkić", "Vučević", "Porziņģis",
    "Schröder", "Şengün", "Hernangómez", "Jović", "Bertāns", "Micić",
)
FAMILY_HYPHEN = (
    "Gilgeous-Alexander", "Caldwell-Pope", "Horton-Tucker", "Alexander-Walker", "Robinson-Earl",
    "Toscano-Anderson", "Jackson-Davis", "Okoro-Smith",
)
FAMILY_APOSTROPHE = ("O'Neale", "O'Brien", "O'Neal", "D'Amico")
SUFFIXES = ("Jr.", "III", "II", "Sr.")
FORCED_NAME_KINDS = {(0, 1): "diacritic", (1, 2): "apostrophe", (0, 3): "suffix", (1, 4): "hyphen"}
"""(team index, slot) -> name kind, so every league (2+ teams, 5+ players) has each kind."""


def _name(rng: random.Random, kind: str | None) -> tuple[str, str]:
    """(firstName, familyName) of the given kind, or of a random kind when None."""
    if kind is None:
        u = rng.random()
        kind = (
            "diacritic" if u < 0.08 else "apostrophe" if u < 0.13 else "family_apostrophe" if u < 0.16
            else "hyphen" if u < 0.21 else "suffix" if u < 0.29 else "plain"
        )
    if kind == "diacritic":
        return rng.choice(FIRST_EUROPEAN), rng.choice(FAMILY_DIACRITIC)
    if kind == "apostrophe":
        return rng.choice(FIRST_APOSTROPHE), rng.choice(FAMILY_PLAIN)
    if kind == "family_apostrophe":
        return rng.choice(FIRST_PLAIN), rng.choice(FAMILY_APOSTROPHE)
    if kind == "hyphen":
        return rng.choice(FIRST_PLAIN), rng.choice(FAMILY_HYPHEN)
    if kind == "suffix":
        return rng.choice(FIRST_PLAIN), f"{rng.choice(FAMILY_PLAIN)} {rng.choice(SUFFIXES)}"
    return rng.choice(FIRST_PLAIN), rng.choice(FAMILY_PLAIN)


def _unique_name(rng: random.Random, kind: str | None, taken: set[str]) -> tuple[str, str]:
    while True:
        first, family = _name(rng, kind)
        if f"{first} {family}" not in taken:
            taken.add(f"{first} {family}")
            return first, family


# --- players ---------------------------------------------------------------------------------

def _role(slot: int) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    """(minutes, fga_per_min, fta_per_fga) uniform bounds for a roster slot."""
    if slot == 0:
        return (33.0, 36.5), (0.50, 0.60), (0.28, 0.42)
    if slot <= 4:
        return (26.0, 33.0), (0.30, 0.42), (0.15, 0.30)
    if slot <= 8:
        return (14.0, 23.0), (0.26, 0.38), (0.12, 0.28)
    if slot <= 11:
        return (6.0, 12.0), (0.26, 0.38), (0.10, 0.25)
    return (2.0, 7.0), (0.24, 0.36), (0.10, 0.25)


def _tendencies(rng: random.Random, slot: int, position: str) -> dict:
    """Base tendencies of a player in `slot` playing `position`."""
    (m0, m1), (f0, f1), (t0, t1) = _role(slot)
    u = rng.uniform
    if position == "G":
        mix = (u(0.28, 0.40), u(0.12, 0.22))
        acc = (u(0.52, 0.60), u(0.38, 0.47), u(0.33, 0.40))
        ft, reb, ast, stl, blk = u(0.78, 0.92), u(0.6, 1.0), u(2.0, 3.5), u(1.1, 1.5), u(0.2, 0.5)
    elif position == "F":
        mix = (u(0.36, 0.48), u(0.12, 0.20))
        acc = (u(0.55, 0.63), u(0.37, 0.46), u(0.32, 0.39))
        ft, reb, ast, stl, blk = u(0.72, 0.88), u(1.3, 2.0), u(1.0, 2.0), u(0.9, 1.2), u(0.8, 1.4)
    else:
        mix = (u(0.60, 0.78), u(0.05, 0.14))
        acc = (u(0.60, 0.69), u(0.34, 0.44), u(0.28, 0.36))
        ft, reb, ast, stl, blk = u(0.58, 0.80), u(2.4, 3.4), u(0.6, 1.4), u(0.6, 0.9), u(2.0, 3.5)
    fga = u(f0, f1)
    return {
        "minutes": u(m0, m1), "fga_per_min": fga, "zone_mix": (mix[0], mix[1], 1.0 - mix[0] - mix[1]),
        "accuracy": acc, "fta_per_fga": u(t0, t1) + (0.08 if position == "C" else 0.0), "ft_pct": ft,
        "reb": reb, "ast": ast, "stl": stl, "blk": blk, "tov": 0.02 + 0.09 * fga * u(0.8, 1.2),
        "pf": u(0.065, 0.095) + (0.015 if position == "C" else 0.0),
    }


def _positions(rng: random.Random) -> list[str]:
    """Positions of the 20 slots: starters (slots 0-4) are two guards, two forwards, a center."""
    starters = ["G", "G", "F", "F", "C"]
    rng.shuffle(starters)
    bench = [rng.choice("GGFFC") for _ in range(POOL_SLOTS - 5)]
    return starters + bench


@lru_cache(maxsize=8)
def _league_pool(seed: int) -> tuple[tuple[tuple[int, str, str, str, dict], ...], ...]:
    """For each of the 30 tricodes, 20 slots of (personId, first, family, position, tendencies).

    Drawn from the seed only, so identities do not depend on the season or league size.
    """
    rng = random.Random(f"{seed}:league:pool")
    ids = rng.sample(range(201100, 204100), 180) + rng.sample(range(1626100, 1630600), 420)
    rng.shuffle(ids)
    taken: set[str] = set()
    pool = []
    for t, _code in enumerate(TRICODES):
        positions = _positions(rng)
        star = rng.uniform(0.9, 1.08)
        slots = []
        for s in range(POOL_SLOTS):
            first, family = _unique_name(rng, FORCED_NAME_KINDS.get((t, s)), taken)
            tend = _tendencies(rng, s, positions[s])
            if s == 0:
                tend["fga_per_min"] *= star
            slots.append((ids[t * POOL_SLOTS + s], first, family, positions[s], tend))
        pool.append(tuple(slots))
    return tuple(pool)


def _season_player(rng: random.Random, pid: int, first: str, family: str, position: str,
                   team: str, slot: int, tend: dict, joins: date | None = None) -> Player:
    """A player with his base tendencies drifted for one season."""
    g = rng.gauss
    acc = tuple(min(0.75, a * g(1.0, 0.02)) for a in tend["accuracy"])
    return Player(
        person_id=pid, first_name=first, family_name=family, position=position, team=team, slot=slot,
        minutes=tend["minutes"] * g(1.0, 0.04), fga_per_min=tend["fga_per_min"] * g(1.0, 0.04),
        zone_mix=tend["zone_mix"], accuracy=acc,  # type: ignore[arg-type]
        fta_per_fga=tend["fta_per_fga"], ft_pct=min(0.95, tend["ft_pct"] * g(1.0, 0.02)),
        reb=tend["reb"], ast=tend["ast"], stl=tend["stl"], blk=tend["blk"], tov=tend["tov"],
        pf=tend["pf"], joins=joins,
    )


def _players(season: Season, config: LeagueConfig, codes: list[str]) -> list[Player]:
    """The season's players: the first `players_per_team` pool slots of each team, plus rookies."""
    pool = _league_pool(config.seed)
    out: list[Player] = []
    taken = {f"{s[1]} {s[2]}" for team in pool for s in team}
    for t, code in enumerate(codes):
        for slot in range(config.players_per_team):
            pid, first, family, position, tend = pool[t][slot]
            rng = random.Random(f"{config.seed}:{season.label}:player:{pid}")
            out.append(_season_player(rng, pid, first, family, position, code, slot, tend))
    rng = random.Random(f"{config.seed}:{season.label}:rookies")
    n_rookies = max(1, round(len(codes) / 6))
    span = (season.all_star_break[0] - season.start).days
    for k, code in enumerate(sorted(rng.sample(codes, n_rookies))):
        position = rng.choice("GFC")
        slot = config.players_per_team
        tend = _tendencies(rng, rng.choice((6, 7, 8, 10)), position)
        first, family = _unique_name(rng, None, taken)
        joins = season.start + timedelta(days=rng.randint(span // 3, span - 7))
        pid = 1641000 + (season.start_year % 100) * 100 + k
        out.append(_season_player(rng, pid, first, family, position, code, slot, tend, joins))
    return out


# --- injuries and trades ---------------------------------------------------------------------

INJURY_REASONS = (
    "Left Ankle; Sprain", "Right Ankle; Sprain", "Left Knee; Soreness", "Right Knee; Soreness",
    "Left Hamstring; Strain", "Right Hamstring; Strain", "Lower Back; Spasms", "Right Foot; Soreness",
    "Left Calf; Strain", "Right Wrist; Sprain", "Illness", "Concussion Protocol",
)


def _injuries(season: Season, config: LeagueConfig, players: list[Player]) -> list[Injury]:
    """Non-overlapping injury stretches per player (about one per player and season)."""
    out: list[Injury] = []
    n_days = (season.end - season.start).days
    for p in players:
        rng = random.Random(f"{config.seed}:{season.label}:injuries:{p.person_id}")
        first = p.joins or season.start
        busy_until = first - timedelta(days=1)
        starts = sorted(rng.randint(0, n_days) for _ in range(poisson(rng, 0.9)))
        for offset in starts:
            start = season.start + timedelta(days=offset)
            if start <= busy_until:
                continue
            u = rng.random()
            length = rng.randint(4, 10) if u < 0.6 else rng.randint(11, 30) if u < 0.9 else rng.randint(31, 75)
            end = min(season.end, start + timedelta(days=length - 1))
            out.append(Injury(p.person_id, start, end, f"DNP - Injury/Illness - {rng.choice(INJURY_REASONS)}"))
            busy_until = end + timedelta(days=3)
    return out


def _trades(season: Season, config: LeagueConfig, players: list[Player], codes: list[str]) -> list[Trade]:
    """1-for-1 swaps of non-star veterans before the trade deadline (a week before the break)."""
    rng = random.Random(f"{config.seed}:{season.label}:trades")
    n = max(1, round(len(codes) * rng.uniform(3.0, 5.49) / 30))
    deadline = (season.all_star_break[0] - season.start).days - 7
    tradable = {c: [p for p in players if p.team == c and 1 <= p.slot <= 8 and p.joins is None] for c in codes}
    out: list[Trade] = []
    for _ in range(n):
        a, b = rng.sample(codes, 2)
        if not tradable[a] or not tradable[b]:
            continue
        pa = tradable[a].pop(rng.randrange(len(tradable[a])))
        pb = tradable[b].pop(rng.randrange(len(tradable[b])))
        on = season.start + timedelta(days=rng.randint(25, deadline))
        out.append(Trade(on, a, b, pa.person_id, pb.person_id))
    return sorted(out, key=lambda t: (t.on, t.team_a))


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson(lam) draw (Knuth; fine for lam up to ~40)."""
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


# --- schedule --------------------------------------------------------------------------------

def blocked_dates(season: Season) -> set[date]:
    """Dates of `season` without games: the All-Star break (inclusive), Thanksgiving, Dec 24,
    and the US general Election Day in even years."""
    y = season.start_year
    nov1 = date(y, 11, 1)
    thanksgiving = nov1 + timedelta(days=(3 - nov1.weekday()) % 7 + 21)
    out = set(days(*season.all_star_break)) | {thanksgiving, date(y, 12, 24)}
    if y % 2 == 0:
        out.add(nov1 + timedelta(days=(0 - nov1.weekday()) % 7 + 1))
    return out - {season.start, season.end}


def _matchups(n: int, rng: random.Random) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """For each pair i < j, its games as (home, away): every team 82 games, 41 at home.

    Each pair meets q = 82 // (n-1) times, plus once more along a circulant graph of degree
    82 % (n-1); the odd games are oriented along closed trails (every degree is even), so
    home and away balance exactly.
    """
    q, rem = divmod(GAMES_PER_TEAM, n - 1)
    order = list(range(n))
    rng.shuffle(order)
    count = {(i, j): q for i in range(n) for j in range(i + 1, n)}
    offsets = list(range(1, rem // 2 + 1)) + ([n // 2] if rem % 2 else [])
    for k in offsets:
        for pos in range(n if 2 * k != n else n // 2):
            a, b = order[pos], order[(pos + k) % n]
            count[(min(a, b), max(a, b))] += 1
    games: dict[tuple[int, int], list[tuple[int, int]]] = {}
    odd: dict[int, list[int]] = {i: [] for i in range(n)}
    for (i, j), c in count.items():
        games[(i, j)] = [(i, j), (j, i)] * (c // 2)
        if c % 2:
            odd[i].append(j)
            odd[j].append(i)
    for start in range(n):
        while odd[start]:
            here = start
            while odd[here]:
                nxt = odd[here].pop()
                odd[nxt].remove(here)
                games[(min(here, nxt), max(here, nxt))].append((here, nxt))
                here = nxt
    for g in games.values():
        rng.shuffle(g)
    return games


def _assign_dates(dates: list[date], n: int, pairs: dict[tuple[int, int], list[tuple[int, int]]],
                  rng: random.Random) -> list[tuple[date, int, int]]:
    """Spread the games over `dates`: each team at most once a date, at its pace, avoiding
    back-to-backs when it can and three games in three nights unless it must."""
    left = {p: len(g) for p, g in pairs.items()}
    rem = [0] * n
    for (i, j), c in left.items():
        rem[i] += c
        rem[j] += c
    played: list[list[date]] = [[] for _ in range(n)]
    out: list[tuple[date, int, int]] = []
    for idx, d in enumerate(dates):
        r = len(dates) - idx
        target = sum(rem) / 2 / r * WEEKDAY_WEIGHT[d.weekday()] * rng.uniform(0.6, 1.4)
        target = max(1, round(n / 15)) if idx == 0 else min(n // 2, int(target + rng.random()))
        score: dict[int, float] = {}
        for t in range(n):
            if rem[t] == 0:
                continue
            s = rem[t] / r + 0.3 * rng.random()
            last = played[t][-2:]
            if last and (d - last[-1]).days == 1:
                s -= 0.3
                if len(last) == 2 and (d - last[0]).days == 2:
                    s -= 2.0
            score[t] = s + (10.0 if rem[t] >= r else 0.0)
        order = sorted(score, key=lambda t: (-score[t], t))
        used: set[int] = set()
        today = 0
        for a in order:
            if a in used:
                continue
            if today >= target and score[a] < 10.0:
                break
            best, best_s = None, -1e9
            for b in order:
                if b == a or b in used:
                    continue
                c = left[(min(a, b), max(a, b))]
                if c and score[b] + 0.1 * c > best_s:
                    best, best_s = b, score[b] + 0.1 * c
            if best is None:
                continue
            key = (min(a, best), max(a, best))
            home, away = pairs[key][left[key] - 1]
            left[key] -= 1
            rem[a] -= 1
            rem[best] -= 1
            used |= {a, best}
            played[a].append(d)
            played[best].append(d)
            out.append((d, home, away))
            today += 1
    leftovers = [pairs[k][i] for k, c in left.items() for i in range(c)]
    return _place_leftovers(out, leftovers, dates)


def _place_leftovers(out: list[tuple[date, int, int]], leftovers: list[tuple[int, int]],
                     dates: list[date]) -> list[tuple[date, int, int]]:
    """Put games the greedy pass could not place on a date where both teams are free (latest
    such date), moving one blocking game elsewhere if needed; make sure the last date has a game.

    Raises RuntimeError naming the game if no placement exists (never seen for 2..30 teams).
    """
    busy: dict[date, set[int]] = {d: set() for d in dates}
    for d, h, a in out:
        busy[d] |= {h, a}

    def free(d: date, *teams: int) -> bool:
        return not busy[d].intersection(teams)

    for home, away in leftovers:
        spot = next((d for d in reversed(dates) if free(d, home, away)), None)
        if spot is None:
            for d in reversed(dates):
                if not free(d, home) and not free(d, away):
                    continue
                blocker = next(g for g in out if g[0] == d and {g[1], g[2]} & {home, away})
                new = next((e for e in reversed(dates) if e != d and free(e, blocker[1], blocker[2])), None)
                if new is not None:
                    out.remove(blocker)
                    busy[d] -= {blocker[1], blocker[2]}
                    out.append((new, blocker[1], blocker[2]))
                    busy[new] |= {blocker[1], blocker[2]}
                    spot = d
                    break
        if spot is None:
            raise RuntimeError(f"synthetic schedule: no date for game {home} vs {away}")
        out.append((spot, home, away))
        busy[spot] |= {home, away}
    if not busy[dates[-1]]:
        latest = max(out)
        out.remove(latest)
        out.append((dates[-1], latest[1], latest[2]))
    return out


def _schedule(season: Season, config: LeagueConfig, codes: list[str]) -> list[ScheduledGame]:
    """The season's games in gameId order (date, then home tricode), with rest days."""
    rng = random.Random(f"{config.seed}:{season.label}:schedule")
    blocked = blocked_dates(season)
    dates = [d for d in days(season.start, season.end) if d not in blocked]
    placed = _assign_dates(dates, len(codes), _matchups(len(codes), rng), rng)
    rows = sorted((d, codes[h], codes[a]) for d, h, a in placed)
    last: dict[str, date] = {}
    games = []
    yy = season.start_year % 100
    for seq, (d, home, away) in enumerate(rows, start=1):
        rest = [(d - last[c]).days if c in last else None for c in (home, away)]
        last[home] = last[away] = d
        games.append(ScheduledGame(f"002{yy:02d}{seq:05d}", d, home, away, rest[0], rest[1]))
    return games


# --- the season ------------------------------------------------------------------------------

def _teams(season: Season, config: LeagueConfig, codes: list[str]) -> list[Team]:
    out = []
    for code in codes:
        rng = random.Random(f"{config.seed}:{season.label}:team:{code}")
        overall = rng.gauss(1.0, 0.025)
        defense = tuple(min(1.08, max(0.92, overall * rng.gauss(1.0, 0.03))) for _ in ZONES)
        team_id, city, name = TEAMS[code]
        out.append(Team(code, team_id, city, name, defense, rng.uniform(0.95, 1.05)))  # type: ignore[arg-type]
    return out


@lru_cache(maxsize=16)
def build_season(season: Season, config: LeagueConfig = LeagueConfig()) -> SyntheticSeason:
    """The pure, cached model of `season` for `config`: teams, players, games, injuries, trades.

    Same arguments give an equal model in any process. Fast (a 30-team season in ~0.1 s).
    """
    codes = list(TRICODES[: config.teams])
    players = _players(season, config, codes)
    return SyntheticSeason(
        season=season, config=config, teams=tuple(_teams(season, config, codes)),
        players=tuple(players), games=tuple(_schedule(season, config, codes)),
        injuries=tuple(_injuries(season, config, players)),
        trades=tuple(_trades(season, config, players, codes)),
    )
