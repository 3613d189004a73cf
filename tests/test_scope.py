"""Scoped runs: only the listed entities of a date are recomputed, only real changes are written."""
from __future__ import annotations

from datetime import date

import duckdb

from fullcourt.engine.scope import in_scope_sql, set_run_labels, write_changes
from fullcourt.engine.spec import ProcessorSpec

D1, D2 = date(2021, 11, 1), date(2021, 11, 2)
SPEC = ProcessorSpec(name="Toy", phase=4, output_table="main.toy", date_column="d", entity_key=("pid",),
                     label_column="who", sql="SELECT 1")


def toy() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    # the flag is its own column and historical_completeness a generated STRUCT, as in the NBA tables
    con.execute("""CREATE TABLE toy (d DATE, pid INTEGER, who VARCHAR, v DOUBLE,
                   completeness STRUCT(games_found INTEGER), needs_reprocessing BOOLEAN NOT NULL DEFAULT false,
                   historical_completeness AS (struct_pack(games_found := completeness['games_found'],
                                                           needs_reprocessing := needs_reprocessing)),
                   run_id VARCHAR, processed_at TIMESTAMP)""")
    con.execute("""INSERT INTO toy (d, pid, who, v, completeness, needs_reprocessing, run_id, processed_at) VALUES
        ('2021-11-01', 1, 'ann', 1.0, {'games_found': 1}, true, 'old', now()),
        ('2021-11-01', 2, 'bob', 2.0, {'games_found': 1}, false, 'old', now()),
        ('2021-11-02', 1, 'ann', 3.0, {'games_found': 2}, false, 'old', now()),
        ('2021-11-02', 2, 'bob', 4.0, {'games_found': 2}, false, 'old', now())""")
    con.execute("""CREATE TABLE failures (processor_name VARCHAR, analysis_date DATE, entity_id VARCHAR,
                   failure_category VARCHAR, failure_reason VARCHAR, can_retry BOOLEAN, run_id VARCHAR,
                   created_at TIMESTAMP)""")
    con.execute("INSERT INTO failures VALUES ('Toy', '2021-11-02', 'cy', 'INSUFFICIENT_DATA', 'few', false, 'old', now())")
    # the recomputation: ann unchanged on D1 (only the flag differs), bob changed on D1 and on D2,
    # cy's failure on D2 becomes a record
    con.execute("""CREATE TABLE stage AS SELECT * FROM (VALUES
        (DATE '2021-11-01', 1, 'ann', 1.0, {'games_found': 1}),
        (DATE '2021-11-01', 2, 'bob', 2.5, {'games_found': 1}),
        (DATE '2021-11-02', 1, 'ann', 3.0, {'games_found': 2}),
        (DATE '2021-11-02', 2, 'bob', 9.0, {'games_found': 2}),
        (DATE '2021-11-02', 3, 'cy', 5.0, {'games_found': 2})
        ) t(d, pid, who, v, completeness)""")
    con.execute("CREATE TABLE stage_f (analysis_date DATE, entity_id VARCHAR, failure_category VARCHAR, "
                "failure_reason VARCHAR, can_retry BOOLEAN)")
    con.execute("CREATE TEMP TABLE ok_dates AS SELECT unnest([DATE '2021-11-01', DATE '2021-11-02']) AS d")
    return con


def test_in_scope_sql_keeps_whole_dates_and_listed_labels():
    con = toy()
    set_run_labels(con, {D2: {"cy"}}, [D1, D2])
    rows = con.execute(f"SELECT d, who FROM stage WHERE {in_scope_sql('d', 'who')} ORDER BY 1, 2").fetchall()
    assert rows == [(D1, "ann"), (D1, "bob"), (D2, "cy")]


def test_write_changes_writes_only_real_changes_in_scope():
    con = toy()
    set_run_labels(con, {D2: {"cy"}}, [D1, D2])  # D1 whole, D2 only cy
    done = write_changes(con, SPEC, "stage", "stage_f", "failures", "new", [D1, D2])
    assert done.changed == {D1: {"bob"}, D2: {"cy"}}
    assert done.recomputed == 3  # ann and bob on D1, cy on D2
    rows = con.execute("SELECT d, who, v, run_id, historical_completeness.needs_reprocessing FROM toy "
                       "ORDER BY 1, 2").fetchall()
    assert rows == [(D1, "ann", 1.0, "old", True),  # unchanged: keeps its run and its flag
                    (D1, "bob", 2.5, "new", False), (D2, "ann", 3.0, "old", False),
                    (D2, "bob", 4.0, "old", False),  # out of scope: left as it was
                    (D2, "cy", 5.0, "new", False)]
    assert con.execute("SELECT count(*) FROM failures").fetchall()[0][0] == 0  # cy's failure replaced


def test_write_changes_with_nothing_changed_writes_nothing():
    con = toy()
    con.execute("DELETE FROM stage WHERE who <> 'ann'")
    set_run_labels(con, {D1: {"ann"}, D2: {"ann"}}, [D1, D2])
    done = write_changes(con, SPEC, "stage", "stage_f", "failures", "new", [D1, D2])
    assert done.changed == {} and done.recomputed == 2
    assert con.execute("SELECT count(*) FROM toy WHERE run_id = 'new'").fetchall()[0][0] == 0


def test_write_changes_without_a_failures_stage_drops_only_in_scope_failures():
    con = toy()
    con.execute("INSERT INTO failures VALUES ('Toy', '2021-11-02', 'dee', 'INSUFFICIENT_DATA', 'few', false, 'old', now())")
    set_run_labels(con, {D2: {"cy"}}, [D1, D2])  # dee on D2 is out of scope
    done = write_changes(con, SPEC, "stage", None, "failures", "new", [D1, D2])
    assert done.changed == {D1: {"bob"}, D2: {"cy"}}
    assert con.execute("SELECT entity_id FROM failures").fetchall() == [("dee",)]


def test_write_changes_keeps_every_in_scope_row_of_a_key_with_two_labels():
    # a key (d, pid) computed twice under two labels, one of them changed: the key's stored row
    # is replaced by both computed rows, not only by the one whose label changed
    con = toy()
    con.execute("INSERT INTO stage VALUES (DATE '2021-11-01', 1, 'ann2', 7.0, {'games_found': 1})")
    set_run_labels(con, {}, [D1, D2])  # every date whole
    write_changes(con, SPEC, "stage", "stage_f", "failures", "new", [D1, D2])
    assert con.execute("SELECT who, v FROM toy WHERE d = DATE '2021-11-01' AND pid = 1 ORDER BY 1").fetchall() == [
        ("ann", 1.0), ("ann2", 7.0)]


def test_write_changes_counts_a_record_stored_twice_once():
    con = toy()
    con.execute("INSERT INTO toy (d, pid, who, v, completeness, run_id) "
                "VALUES ('2021-11-01', 2, 'bob', 2.0, {'games_found': 1}, 'old')")  # bob's D1 record twice
    set_run_labels(con, {}, [D1, D2])
    done = write_changes(con, SPEC, "stage", "stage_f", "failures", "new", [D1, D2])
    assert done.recomputed == 5  # the five stage rows, whatever the store holds
    assert con.execute("SELECT v FROM toy WHERE d = DATE '2021-11-01' AND pid = 2").fetchall() == [(2.5,)]
