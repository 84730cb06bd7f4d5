"""The roster import's set-wise writes (issue 20): the rows of the persons a file creates go
through a TEMP staging table, and their share of the maintained aggregates is added once, at the
end, by a few ``INSERT … SELECT`` statements.

* **Staging.** A chunk's records (one per roster line: the person it creates, the entitlement,
  the certification — :data:`STAGE_COLS`) are appended to a TEMP table by one ``executemany``
  (an append to a table without indexes), then moved into ``persons``, ``certifications`` and
  ``entitlements`` by one ``INSERT … SELECT`` each, the import's constant columns (timestamps,
  operator …) bound once per statement. One statement keeps its cursors on the table and its
  indexes from row to row, where an ``executemany`` seeks every b-tree from its root again for
  each row: about a third of the time.
* **Aggregates.** These rows are written with the triggers of :mod:`db.aggregates` quiet; at the
  end ``person_last_passed``, ``cert_month_counts``, ``coverage_buckets`` and the
  ``entitlement_clock`` (:mod:`db.clock_agg`) get the new persons' share, counted over the
  staging table. That is exact because a person created by the import had no rows before it:
  their contribution to every aggregate is a count from scratch over their own rows, independent
  of everybody else's (buckets and monthly counts add up; the latest date and the clock are per
  person and per entitlement). The deadline is :data:`db.clock_agg.DEADLINE`, worked out once
  per distinct cohort and effective date (a roster has a few thousand), not once per row.

Rows of persons already in the database keep the ordinary path (:func:`db.bulk.insert_rows` and
the triggers), which moves what they change. SQLite with the aggregates only (:func:`available`);
``tests/desktop/test_import_staging.py`` proves the outcome equal to the ordinary path's.
"""

from __future__ import annotations

from typing import Sequence

from sqlalchemy import Connection

from db import aggregates, clock_agg

# one staged row per roster line: the person it creates, its entitlement, its certification — each
# part empty (id NULL) when the line does not add it; the person's id is in every row
STAGE_COLS = ("person_id", "id_number", "name", "sex", "birth_date", "phone", "address", "residence",
              "ent_id", "cohort", "start_date", "monthly_amount_fen", "cert_id", "cert_date", "evidence")
_STAGE = "temp.roster_stage"
# table -> (its columns, the staging columns they come from, the part's id column)
_PARTS = {
    "persons": (("id", "id_number", "name", "sex", "birth_date", "phone", "address", "residence"),
                ("person_id", "id_number", "name", "sex", "birth_date", "phone", "address", "residence"), "id_number"),
    "certifications": (("id", "person_id", "cert_date", "evidence"),
                       ("cert_id", "person_id", "cert_date", "evidence"), "cert_id"),
    "entitlements": (("id", "person_id", "cohort", "start_date", "monthly_amount_fen"),
                     ("ent_id", "person_id", "cohort", "start_date", "monthly_amount_fen"), "ent_id"),
}

# the statements of finish(), in order; :result, :method, :status, :alive are the import's constants
_FINISH = (
    # the latest passed certification of each new person (one per person but for a later line's
    # second date: an upsert in staging order, no sort)
    "INSERT INTO person_last_passed (person_id, last_passed) "
    "SELECT person_id, cert_date FROM temp.roster_stage WHERE cert_id IS NOT NULL AND :result = 'passed' "
    "ORDER BY rowid ON CONFLICT (person_id) DO UPDATE SET last_passed = max(last_passed, excluded.last_passed)",
    "INSERT INTO cert_month_counts (month, method, result, n) "
    "SELECT substr(cert_date, 1, 7), :method, :result, count(*) FROM temp.roster_stage WHERE cert_id IS NOT NULL "
    "GROUP BY 1 ON CONFLICT (month, method, result) DO UPDATE SET n = n + excluded.n",
    # each new entitlement's effective last date: the later of its start and the person's latest
    # passed certification (as person_last_passed holds it now)
    "DROP TABLE IF EXISTS temp.roster_eff",
    "CREATE TABLE temp.roster_eff AS SELECT e.ent_id, e.person_id, e.cohort, "
    "max(e.start_date, coalesce(l.last_passed, e.start_date)) AS eff FROM temp.roster_stage e "
    "LEFT JOIN person_last_passed l ON l.person_id = e.person_id WHERE e.ent_id IS NOT NULL ORDER BY e.rowid",
    "DROP TABLE IF EXISTS temp.roster_groups",
    "CREATE TABLE temp.roster_groups AS SELECT cohort, eff, count(*) AS n FROM temp.roster_eff GROUP BY 1, 2",
    "INSERT INTO coverage_buckets (cohort, status, alive, eff, n) SELECT cohort, :status, :alive, eff, n "
    "FROM temp.roster_groups WHERE 1 ON CONFLICT (cohort, status, alive, eff) DO UPDATE SET n = n + excluded.n",
    # the clock's deadline (clock_agg.SELECT) once per distinct cohort and effective date
    "DROP TABLE IF EXISTS temp.roster_deadlines",
    "CREATE TABLE temp.roster_deadlines (cohort, eff, dl, suspend, PRIMARY KEY (cohort, eff)) WITHOUT ROWID",
    f"INSERT INTO temp.roster_deadlines SELECT y.cohort, y.eff, y.dl, {clock_agg.SUSPEND} FROM ("
    f"  SELECT x.cohort, x.eff, x.off, {clock_agg.DEADLINE} AS dl FROM ("
    "    SELECT d.cohort, d.eff, r.kind, r.period, r.suspend_offset_months AS off "
    "    FROM (SELECT DISTINCT cohort, substr(eff, 1, 10) AS eff FROM temp.roster_groups) d "
    "    LEFT JOIN cycle_rules r ON r.cohort = d.cohort) x) y",
    "INSERT INTO entitlement_clock (entitlement_id, person_id, cohort, status, deadline, suspend) "
    "SELECT n.ent_id, n.person_id, n.cohort, :status, d.dl, d.suspend FROM temp.roster_eff n "
    "JOIN temp.roster_deadlines d ON d.cohort = n.cohort AND d.eff = substr(n.eff, 1, 10) ORDER BY n.rowid "
    "ON CONFLICT (entitlement_id) DO UPDATE SET person_id = excluded.person_id, cohort = excluded.cohort, "
    "status = excluded.status, deadline = excluded.deadline, suspend = excluded.suspend",
)
_TEMPS = ("temp.roster_stage", "temp.roster_eff", "temp.roster_groups", "temp.roster_deadlines")


def available(conn: Connection) -> bool:
    """Whether the import takes this path (SQLite with the maintained aggregates)."""
    return aggregates.available(conn)


class NewPersons:
    """The persons one import creates, staged and written a chunk at a time.

    ``constants``: {table: {column: value}} — the columns of ``persons``, ``entitlements`` and
    ``certifications`` that are the same for the whole import (timestamps, operator …; bound
    once per statement). The staged rows are tuples in :data:`STAGE_COLS` (dates as ISO text).
    The persons are created alive (no death date), the entitlements with the constant
    ``status``, the certifications with the constant ``method`` and ``result``."""

    def __init__(self, conn: Connection, constants: dict[str, dict]):
        self.raw = conn.connection.driver_connection
        self.consts = constants
        if constants["persons"].get("death_date") is not None:
            raise ValueError("new persons are created alive")
        self.staged = 0  # rows staged so far (= the largest rowid of the staging table)
        self.stage_sql = f"INSERT INTO {_STAGE} VALUES ({', '.join('?' * len(STAGE_COLS))})"
        self.move_sql = {}
        for table, (cols, source, key) in _PARTS.items():
            const_cols = list(constants[table])
            self.move_sql[table] = (
                f"INSERT INTO {table} ({', '.join([*cols, *const_cols])}) "
                f"SELECT {', '.join([*source, *(':' + c for c in const_cols)])} FROM {_STAGE} "
                f"WHERE rowid > :_mark AND {key} IS NOT NULL ORDER BY rowid")

    def write(self, rows: list[tuple]) -> None:
        """Stage and write one chunk's rows (persons first: the others refer to them;
        certifications before entitlements, as :mod:`db.aggregates` prefers), with the
        aggregates' triggers quiet."""
        if not rows:
            return

        def work() -> None:
            if not self.staged:
                # made inside the import's transaction (begun by the statement that quiets the
                # triggers), so a rollback — a dry run, an error — takes it away with the rows
                self.raw.execute(f"DROP TABLE IF EXISTS {_STAGE}")
                self.raw.execute(f"CREATE TABLE {_STAGE} ({', '.join(STAGE_COLS)})")
            self.raw.executemany(self.stage_sql, rows)
            for table, sql in self.move_sql.items():
                self.raw.execute(sql, {**self.consts[table], "_mark": self.staged})
            self.staged += len(rows)  # the staging table's rowids count its rows

        aggregates._quietly(self.raw, work)

    def finish(self) -> None:
        """Add the staged rows' share to the maintained aggregates (the triggers quiet: a new
        ``person_last_passed`` row would otherwise move buckets and clocks never counted) and
        drop the staging tables (in the transaction: gone whether it commits or not)."""
        if not self.staged:
            return
        cert, ent = self.consts["certifications"], self.consts["entitlements"]
        params = {"result": cert["result"], "method": cert["method"], "status": ent["status"], "alive": 1}
        aggregates._quietly(self.raw, lambda: None, *((sql, params) for sql in _FINISH))
        for t in _TEMPS:
            self.raw.execute(f"DROP TABLE IF EXISTS {t}")
