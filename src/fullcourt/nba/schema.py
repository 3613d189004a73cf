"""The pipeline's storage: schemas and ordered migrations (the seeds' BigQuery datasets).

Every output table ends with run_id and processed_at (run metadata, excluded when a store is
compared with a from-scratch rebuild).
"""
from __future__ import annotations

from datetime import date

from fullcourt.engine.ledger import ledger_ddl
from fullcourt.engine.warehouse import Catalog, Migration
from fullcourt.nba.calendar import season_of

SCHEMAS = (
    "nba_raw",
    "nba_analytics",
    "nba_precompute",
    "nba_predictions",
    "nba_processing",
    "nba_reference",
)
LEDGER = "nba_reference.processor_run_history"
OUTBOX = "nba_processing.pipeline_triggers"
CHECKPOINTS = "nba_processing.backfill_checkpoints"
ALERTS = "nba_processing.alerts"
FAILURES = "nba_processing.precompute_failures"
MIGRATIONS_TABLE = "nba_reference.schema_migrations"

RUN_META = "run_id VARCHAR, processed_at TIMESTAMP"

BOX_STATS = """
    minutes DOUBLE, points INTEGER, fgm INTEGER, fga INTEGER, fg3m INTEGER, fg3a INTEGER,
    ftm INTEGER, fta INTEGER, oreb INTEGER, dreb INTEGER, reb INTEGER, ast INTEGER, stl INTEGER,
    blk INTEGER, tov INTEGER, pf INTEGER"""

M001_RAW = f"""
CREATE TABLE nba_raw.nbac_schedule (
    game_date DATE NOT NULL, game_id VARCHAR NOT NULL, season VARCHAR NOT NULL,
    home_team_id BIGINT, home_team_abbr VARCHAR NOT NULL, away_team_id BIGINT, away_team_abbr VARCHAR NOT NULL,
    game_status INTEGER NOT NULL, home_score INTEGER, away_score INTEGER, source_file VARCHAR, {RUN_META});
CREATE TABLE nba_raw.nbac_player_boxscore (
    game_date DATE NOT NULL, game_id VARCHAR NOT NULL, team_id BIGINT, team_abbr VARCHAR NOT NULL,
    is_home BOOLEAN NOT NULL, person_id BIGINT NOT NULL, player_name VARCHAR NOT NULL,
    player_lookup VARCHAR NOT NULL, position VARCHAR, starter BOOLEAN, {BOX_STATS},
    plus_minus DOUBLE, source_file VARCHAR, {RUN_META});
CREATE TABLE nba_raw.nbac_team_boxscore (
    game_date DATE NOT NULL, game_id VARCHAR NOT NULL, team_id BIGINT, team_abbr VARCHAR NOT NULL,
    is_home BOOLEAN NOT NULL, {BOX_STATS}, source_file VARCHAR, {RUN_META});
CREATE TABLE nba_raw.nbac_gamebook (
    game_date DATE NOT NULL, game_id VARCHAR NOT NULL, person_id BIGINT NOT NULL, player_name VARCHAR NOT NULL,
    player_lookup VARCHAR NOT NULL, team_abbr VARCHAR NOT NULL, status VARCHAR NOT NULL, reason VARCHAR,
    source_file VARCHAR, {RUN_META});
CREATE TABLE nba_raw.nbac_shots (
    game_date DATE NOT NULL, game_id VARCHAR NOT NULL, action_number INTEGER, person_id BIGINT NOT NULL,
    team_abbr VARCHAR NOT NULL, period INTEGER, clock VARCHAR, shot_type VARCHAR NOT NULL,
    shot_distance DOUBLE, x DOUBLE, y DOUBLE, made BOOLEAN NOT NULL, basic_zone VARCHAR,
    zone VARCHAR NOT NULL, source_file VARCHAR, {RUN_META});
CREATE TABLE nba_raw.odds_player_props (
    game_date DATE NOT NULL, game_id VARCHAR, person_id BIGINT, player_lookup VARCHAR NOT NULL,
    player_name VARCHAR, team_abbr VARCHAR, market VARCHAR NOT NULL, line DOUBLE NOT NULL,
    over_price INTEGER, under_price INTEGER, source_file VARCHAR, {RUN_META});
"""

M002_LEDGER = f"""
{ledger_ddl(LEDGER)};
CREATE TABLE {FAILURES} (
    processor_name VARCHAR NOT NULL, analysis_date DATE NOT NULL, entity_id VARCHAR NOT NULL,
    failure_category VARCHAR NOT NULL, failure_reason VARCHAR, can_retry BOOLEAN NOT NULL,
    run_id VARCHAR, created_at TIMESTAMP);
"""

M003_ANALYTICS = f"""
CREATE TABLE nba_analytics.player_game_summary (
    game_date DATE NOT NULL, game_id VARCHAR NOT NULL, season VARCHAR NOT NULL, person_id BIGINT NOT NULL,
    player_lookup VARCHAR NOT NULL, player_name VARCHAR NOT NULL, team_abbr VARCHAR NOT NULL,
    opponent_team_abbr VARCHAR NOT NULL, is_home BOOLEAN NOT NULL, {BOX_STATS}, plus_minus DOUBLE,
    paint_makes INTEGER, paint_attempts INTEGER, mid_range_makes INTEGER, mid_range_attempts INTEGER,
    three_makes INTEGER, three_attempts INTEGER, usage_rate DOUBLE, ts_pct DOUBLE, {RUN_META});
CREATE TABLE nba_analytics.team_defense_game_summary (
    game_date DATE NOT NULL, game_id VARCHAR NOT NULL, season VARCHAR NOT NULL,
    defending_team_abbr VARCHAR NOT NULL, opponent_team_abbr VARCHAR NOT NULL, is_home BOOLEAN NOT NULL,
    points_allowed INTEGER, opp_fgm INTEGER, opp_fga INTEGER, opp_fg3m INTEGER, opp_fg3a INTEGER,
    opp_ftm INTEGER, opp_fta INTEGER, opp_paint_makes INTEGER, opp_paint_attempts INTEGER,
    opp_mid_range_makes INTEGER, opp_mid_range_attempts INTEGER, opp_three_makes INTEGER,
    opp_three_attempts INTEGER, possessions DOUBLE, defensive_rating DOUBLE, pace DOUBLE, {RUN_META});
CREATE TABLE nba_analytics.team_offense_game_summary (
    game_date DATE NOT NULL, game_id VARCHAR NOT NULL, season VARCHAR NOT NULL, team_abbr VARCHAR NOT NULL,
    opponent_team_abbr VARCHAR NOT NULL, is_home BOOLEAN NOT NULL, points INTEGER, fgm INTEGER, fga INTEGER,
    fg3m INTEGER, fg3a INTEGER, ftm INTEGER, fta INTEGER, oreb INTEGER, tov INTEGER, minutes DOUBLE,
    possessions DOUBLE, offensive_rating DOUBLE, pace DOUBLE, win BOOLEAN, {RUN_META});
CREATE TABLE nba_analytics.upcoming_player_game_context (
    game_date DATE NOT NULL, game_id VARCHAR NOT NULL, season VARCHAR NOT NULL, person_id BIGINT NOT NULL,
    player_lookup VARCHAR NOT NULL, player_name VARCHAR NOT NULL, team_abbr VARCHAR NOT NULL,
    opponent_team_abbr VARCHAR NOT NULL, is_home BOOLEAN NOT NULL, last_game_date DATE, days_rest INTEGER,
    back_to_back BOOLEAN NOT NULL, games_in_last_7_days INTEGER NOT NULL, minutes_in_last_7_days DOUBLE NOT NULL,
    {RUN_META});
"""

_COMPLETENESS_TYPES = (("games_found", "INTEGER"), ("games_expected", "INTEGER"),
                      ("contributing_game_dates", "DATE[]"), ("missing_game_dates", "DATE[]"),
                      ("is_complete", "BOOLEAN"), ("incompleteness_reason", "VARCHAR"))
COMPLETENESS_FIELDS = tuple(f for f, _ in _COMPLETENESS_TYPES)
COMPLETENESS_STRUCT = "STRUCT(" + ", ".join(f"{f} {t}" for f, t in _COMPLETENESS_TYPES) + ")"
"""The type of the stored `completeness` column: historical_completeness without the flag."""
COMPLETENESS_V1 = COMPLETENESS_STRUCT[:-1] + ", needs_reprocessing BOOLEAN)"
"""historical_completeness as migrations 4 and 5 stored it: one STRUCT, flag included (see
COMPLETENESS_COLUMNS for today's layout, from migrations 10 and 11)."""
COMPLETENESS_COLUMNS = (
    f"completeness {COMPLETENESS_STRUCT}, needs_reprocessing BOOLEAN NOT NULL DEFAULT false, "
    "historical_completeness AS (struct_pack("
    + ", ".join(f"{f} := completeness['{f}']" for f in COMPLETENESS_FIELDS)
    + ", needs_reprocessing := needs_reprocessing))"
)
"""The completeness columns of a precompute or feature table. `historical_completeness` is the
STRUCT of DESIGN.md (games_found … needs_reprocessing), a generated column read like any other.
It is assembled from what is stored: `completeness` (the window's fields, written with the
record) and the plain `needs_reprocessing` flag. Cascade detection and close-out flip that flag
alone: an UPDATE of a STRUCT holding lists rewrites the lists (marking 15,000 PDC records wrote
6.5 MB of WAL in 76 ms; the flag column, 0.14 MB in 4 ms)."""


def flag_column_migration(version: int, name: str, tables: dict[str, str]) -> Migration:
    """A migration moving each table's `historical_completeness` STRUCT (COMPLETENESS_V1) to
    COMPLETENESS_COLUMNS, keeping every record and flag. `tables`: table -> its data columns'
    DDL (every column but the completeness and run-metadata ones)."""
    parts = []
    for table, columns in tables.items():
        schema_name, short = table.split(".")
        old = f"{short}_before_v{version}"
        fields = ", ".join(f"{f} := historical_completeness.{f}" for f in COMPLETENESS_FIELDS)
        parts.append(f"""
ALTER TABLE {table} RENAME TO {old};
CREATE TABLE {table} ({columns}, {COMPLETENESS_COLUMNS}, {RUN_META});
INSERT INTO {table} BY NAME
    SELECT * EXCLUDE (historical_completeness), struct_pack({fields}) AS completeness,
           coalesce(historical_completeness.needs_reprocessing, false) AS needs_reprocessing
    FROM {schema_name}.{old};
DROP TABLE {schema_name}.{old};""")
    return Migration(version, name, "".join(parts))


TDZA_COLUMNS_V4 = """
    analysis_date DATE NOT NULL, team_abbr VARCHAR NOT NULL, season VARCHAR NOT NULL, games_in_sample INTEGER,
    paint_pct_allowed DOUBLE, mid_range_pct_allowed DOUBLE, three_pct_allowed DOUBLE,
    paint_attempts_allowed_per_game DOUBLE, mid_range_attempts_allowed_per_game DOUBLE,
    three_attempts_allowed_per_game DOUBLE, paint_vs_league DOUBLE, mid_range_vs_league DOUBLE,
    three_vs_league DOUBLE, defensive_rating_last_15 DOUBLE, opponent_pace DOUBLE, strongest_zone VARCHAR,
    weakest_zone VARCHAR"""
PSZA_COLUMNS_V4 = """
    analysis_date DATE NOT NULL, person_id BIGINT NOT NULL, player_lookup VARCHAR NOT NULL, player_name VARCHAR,
    team_abbr VARCHAR, season VARCHAR, games_in_sample INTEGER, fga_last_10 INTEGER,
    paint_rate_last_10 DOUBLE, mid_range_rate_last_10 DOUBLE, three_rate_last_10 DOUBLE,
    paint_pct_last_10 DOUBLE, mid_range_pct_last_10 DOUBLE, three_pct_last_10 DOUBLE,
    paint_attempts_per_game DOUBLE, mid_range_attempts_per_game DOUBLE, three_attempts_per_game DOUBLE,
    fga_per_game DOUBLE, paint_rate_last_20 DOUBLE, mid_range_rate_last_20 DOUBLE, three_rate_last_20 DOUBLE,
    primary_scoring_zone VARCHAR"""
M009_ADDED = {
    "nba_precompute.team_defense_zone_analysis": ("inside_pct_allowed DOUBLE", "inside_vs_league DOUBLE",
                                                   "zone_detail VARCHAR"),
    "nba_precompute.player_shot_zone_analysis": ("inside_rate_last_10 DOUBLE", "inside_pct_last_10 DOUBLE",
                                                  "zone_detail VARCHAR"),
    "nba_predictions.ml_feature_store_v2": ("zone_detail VARCHAR",),
}
"""The two-zone columns migration 9 added, per table (its ALTERs and today's layouts both read them)."""
TDZA_COLUMNS = ", ".join((TDZA_COLUMNS_V4, *M009_ADDED["nba_precompute.team_defense_zone_analysis"]))
PSZA_COLUMNS = ", ".join((PSZA_COLUMNS_V4, *M009_ADDED["nba_precompute.player_shot_zone_analysis"]))
"""The data columns of TDZA and PSZA (the completeness and run-metadata ones aside)."""

M004_PRECOMPUTE = f"""
CREATE TABLE nba_precompute.team_defense_zone_analysis (
    {TDZA_COLUMNS_V4}, historical_completeness {COMPLETENESS_V1}, {RUN_META});
CREATE TABLE nba_precompute.player_shot_zone_analysis (
    {PSZA_COLUMNS_V4}, historical_completeness {COMPLETENESS_V1}, {RUN_META});
"""

M007_OPERATIONS = f"""
CREATE TABLE {OUTBOX} (
    message_id VARCHAR NOT NULL, topic VARCHAR NOT NULL, processor VARCHAR NOT NULL, data_date DATE NOT NULL,
    run_id VARCHAR, published_at TIMESTAMP NOT NULL, consumed_at TIMESTAMP, consumed_by VARCHAR, attributes JSON);
CREATE TABLE {CHECKPOINTS} (
    checkpoint_id VARCHAR NOT NULL, command VARCHAR NOT NULL, processor VARCHAR NOT NULL,
    last_completed_date DATE, dates_done INTEGER NOT NULL, dates_total INTEGER NOT NULL,
    failed_dates DATE[], status VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL);
CREATE TABLE {ALERTS} (
    alert_id VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, severity VARCHAR NOT NULL, processor VARCHAR,
    data_date DATE, message VARCHAR NOT NULL, remedy VARCHAR, delivered BOOLEAN);
"""

CASCADE_RUNS = "nba_processing.cascade_runs"
M008_CASCADE = f"""
CREATE TABLE {CASCADE_RUNS} (
    cascade_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP,
    backfill_dates DATE[], cascade_start DATE, cascade_end DATE, records INTEGER, summary JSON);
"""

IMPORT_RUNS = "nba_processing.import_runs"
_M009_ADD_COLUMNS = "".join(f"ALTER TABLE {t} ADD COLUMN {c};\n" for t, cs in M009_ADDED.items() for c in cs)
M009_IMPORTS = f"""
ALTER TABLE nba_raw.nbac_shots ADD COLUMN shot_detail VARCHAR DEFAULT 'shots';
ALTER TABLE nba_raw.nbac_shots ALTER COLUMN person_id DROP NOT NULL;
ALTER TABLE nba_raw.nbac_shots ALTER COLUMN team_abbr DROP NOT NULL;
ALTER TABLE nba_raw.nbac_shots ALTER COLUMN shot_type DROP NOT NULL;
ALTER TABLE nba_raw.nbac_shots ALTER COLUMN made DROP NOT NULL;
ALTER TABLE nba_raw.nbac_shots ALTER COLUMN zone DROP NOT NULL;
{_M009_ADD_COLUMNS}CREATE TABLE {IMPORT_RUNS} (
    import_id VARCHAR NOT NULL, format VARCHAR NOT NULL, path VARCHAR NOT NULL, landing VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP NOT NULL, start_date DATE, end_date DATE,
    dates INTEGER NOT NULL, games INTEGER NOT NULL, player_games INTEGER NOT NULL, rows_read JSON,
    dropped JSON, derived JSON, disagreements JSON, per_date JSON, summary JSON);
"""
"""Real-data imports: a game without shot-level data is one nbac_shots row with shot_detail
'none' (its shot fields NULL); TDZA and PSZA say which zones they used (zone_detail
'three_zone' or 'two_zone': inside / three from FGA and 3PA, paint and mid-range NULL) and
always carry the inside (2PT) figures; nba_processing.import_runs keeps every import's report."""

REMOVED = "nba_processing.removed_records"
M012_REMOVED = f"""
CREATE TABLE {REMOVED} (
    processor_name VARCHAR NOT NULL, data_date DATE NOT NULL, entity_id VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL, removed_at TIMESTAMP NOT NULL);
"""
"""A record a run removed (its entity has no row on the date any more, e.g. a line credited in
error and corrected away): a later cascade propagates it like a changed record, since no
stored row is left to compare (engine.cascade.removed_records)."""

SCHEDULED_GAMES_SQL = (
    "SELECT game_date AS d, game_id AS key FROM nba_raw.nbac_schedule WHERE game_date BETWEEN $start AND $end"
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "raw tables", M001_RAW),
    Migration(2, "ledger and failures", M002_LEDGER),
    Migration(3, "analytics tables", M003_ANALYTICS),
    Migration(4, "precompute: TDZA, PSZA", M004_PRECOMPUTE),
)
OPERATIONS = Migration(7, "operations: triggers, checkpoints, alerts", M007_OPERATIONS)
CASCADE = Migration(8, "cascade runs", M008_CASCADE)
IMPORTS = Migration(9, "real-data imports: shot detail, two-zone features, import runs", M009_IMPORTS)
REMOVED_RECORDS = Migration(12, "removed records", M012_REMOVED)
PRECOMPUTE_FLAG = flag_column_migration(10, "TDZA, PSZA: needs_reprocessing as its own column", {
    "nba_precompute.team_defense_zone_analysis": TDZA_COLUMNS,
    "nba_precompute.player_shot_zone_analysis": PSZA_COLUMNS,
})


def catalog(extra_migrations: tuple[Migration, ...] = ()) -> Catalog:
    """The NBA pipeline's catalog for the engine."""
    return Catalog(
        schemas=SCHEMAS,
        migrations=MIGRATIONS + extra_migrations,
        migrations_table=MIGRATIONS_TABLE,
        ledger_table=LEDGER,
        failures_table=FAILURES,
        outbox_table=OUTBOX,
        checkpoints_table=CHECKPOINTS,
        alerts_table=ALERTS,
        removed_table=REMOVED,
        expected_keys_sql=SCHEDULED_GAMES_SQL,
        period_start=_season_start,
        period_end=_season_end,
    )


def _season_end(d: date) -> date:
    """Last day whose windows can read d: the season's last day (else d itself)."""
    season = season_of(d)
    return season.end if season else d


def _season_start(d: date) -> date:
    """First day a season-long window of d reads: the season's opening day (else d itself)."""
    season = season_of(d)
    return season.start if season else d
