"""The roster import's set-wise writes (issue 20): the rows of the persons a file creates go
through TEMP staging tables, and their share of the maintained aggregates is added once, at the
end, by a few ``INSERT … SELECT`` statements.

* **Staging.** A chunk's new persons, their entitlements and certifications are appended to
  three TEMP tables (one ``executemany`` each: an append to a table without indexes), then moved
  into ``persons``, ``certifications`` and ``entitlements`` by one ``INSERT … SELECT`` each, the
  import's constant columns (timestamps, operator …) bound once per statement. One statement
  keeps its cursors on the tables and their indexes from row to row, where an ``executemany``
  seeks every b-tree from its root again for each row: about a third of the time.
* **Aggregates.** These rows are written with the triggers of :mod:`db.aggregates` quiet; at the
  end ``person_last_passed``, ``cert_month_counts``, ``coverage_buckets`` and the
  ``entitlement_clock`` (:mod:`db.clock_agg`) get the new persons' share, counted over the
  staging tables. That is exact because a person created by the import had no rows before it:
  their contribution to every aggregate is a count from scratch over their own rows, independent
  of everybody else's (buckets and monthly counts add up; the latest date and the clock are per
  person and per entitlement). The deadline is :data:`db.clock_agg.DEADLINE`, worked out once
  per distinct cohort and effective date (a roster has a few thousand), not once per row.

Rows of persons already in the database keep the ordinary path (:func:`db.bulk.insert_rows` and
the triggers), which moves what they change. SQLite with the aggregates only (:func:`available`).
"""

from __future__ import annotations

from typing import Sequence

from sqlalchemy import Connection

from db import aggregates, clock_agg

_STAGE = {"persons": "temp.roster_stage_p", "entitlements": "temp.roster_stage_e",
          "certifications": "temp.roster_stage_c"}

_LAST = (
    "INSERT INTO person_last_passed (person_id, last_passed) "
    "SELECT person_id, max(cert_date) FROM temp.roster_stage_c WHERE :result = 'passed' GROUP BY person_id "
    "ON CONFLICT (person_id) DO UPDATE SET last_passed = max(last_passed, excluded.last_passed)")

_MONTHS = (
    "INSERT INTO cert_month_counts (month, method, result, n) "
    "SELECT substr(cert_date, 1, 7), :method, :result, count(*) FROM temp.roster_stage_c WHERE 1 GROUP BY 1 "
    "ON CONFLICT (month, method, result) DO UPDATE SET n = n + excluded.n")

# after _LAST: the effective last date (the later of the start and the latest passed certification)
_EFF = "max(e.start_date, coalesce(l.last_passed, e.start_date))"
_BUCKETS = (
    "INSERT INTO coverage_buckets (cohort, status, alive, eff, n) "
    f"SELECT e.cohort, :status, :alive, {_EFF}, count(*) FROM temp.roster_stage_e e "
    "LEFT JOIN person_last_passed l ON l.person_id = e.person_id WHERE 1 GROUP BY 1, 4 "
    "ON CONFLICT (cohort, status, alive, eff) DO UPDATE SET n = n + excluded.n")

_CLOCK = (
    "WITH ne AS MATERIALIZED ("
    f"  SELECT e.id, e.person_id, e.cohort, substr({_EFF}, 1, 10) AS eff FROM temp.roster_stage_e e "
    "  LEFT JOIN person_last_passed l ON l.person_id = e.person_id), "
    "k AS MATERIALIZED ("
    f"  SELECT y.cohort, y.eff, y.dl, {clock_agg.SUSPEND} AS suspend FROM ("
    f"    SELECT x.cohort, x.eff, x.off, {clock_agg.DEADLINE} AS dl FROM ("
    "      SELECT d.cohort, d.eff, r.kind, r.period, r.suspend_offset_months AS off "
    "      FROM (SELECT DISTINCT cohort, eff FROM ne) d LEFT JOIN cycle_rules r ON r.cohort = d.cohort) x) y) "
    "INSERT INTO entitlement_clock (entitlement_id, person_id, cohort, status, deadline, suspend) "
    "SELECT ne.id, ne.person_id, ne.cohort, :status, k.dl, k.suspend FROM ne JOIN k ON k.cohort = ne.cohort AND k.eff = ne.eff "
    "WHERE 1 ON CONFLICT (entitlement_id) DO UPDATE SET person_id = excluded.person_id, "
    "cohort = excluded.cohort, status = excluded.status, deadline = excluded.deadline, suspend = excluded.suspend")


def available(conn: Connection) -> bool:
    """Whether the import takes this path (SQLite with the maintained aggregates)."""
    return aggregates.available(conn)


class NewPersons:
    """The persons one import creates, staged and written a chunk at a time.

    ``tables``: {table: (columns of the staged tuples, constant columns {name: value})} for
    ``persons``, ``entitlements`` and ``certifications``; the tuples have the same shape as
    :func:`db.bulk.insert_rows` takes (dates as ISO text). The persons are created alive (no
    death date), the entitlements with the constant ``status``, the certifications with the
    constant ``method`` and ``result``."""

    def __init__(self, conn: Connection, tables: dict[str, tuple[Sequence[str], dict]]):
        self.raw = conn.connection.driver_connection
        self.consts = {t: c for t, (_, c) in tables.items()}
        if self.consts["persons"].get("death_date") is not None:
            raise ValueError("new persons are created alive")
        self.stage_sql: dict[str, str] = {}
        self.move_sql: dict[str, str] = {}
        self.marks = dict.fromkeys(_STAGE, 0)  # the staged rows already moved (rowid)
        for table, (names, consts) in tables.items():
            stage = _STAGE[table]
            self.raw.execute(f"DROP TABLE IF EXISTS {stage}")
            self.raw.execute(f"CREATE TABLE {stage} ({', '.join(names)})")
            self.stage_sql[table] = f"INSERT INTO {stage} VALUES ({', '.join('?' * len(names))})"
            const_cols = list(consts)
            self.move_sql[table] = (
                f"INSERT INTO {table} ({', '.join([*names, *const_cols])}) "
                f"SELECT {', '.join([*names, *(':' + c for c in const_cols)])} FROM {stage} WHERE rowid > :_mark "
                "ORDER BY rowid")

    def write(self, persons: list[tuple], certs: list[tuple], ents: list[tuple]) -> None:
        """Stage and write one chunk's rows (persons first: the others refer to them), with the
        aggregates' triggers quiet."""

        def work() -> None:
            for table, rows in (("persons", persons), ("certifications", certs), ("entitlements", ents)):
                if not rows:
                    continue
                self.raw.executemany(self.stage_sql[table], rows)
                self.raw.execute(self.move_sql[table], {**self.consts[table], "_mark": self.marks[table]})
                self.marks[table] += len(rows)  # the staging tables' rowids count the rows

        aggregates._quietly(self.raw, work)

    def finish(self) -> None:
        """Add the staged rows' share to the maintained aggregates (the triggers quiet: a new
        ``person_last_passed`` row would otherwise move buckets and clocks never counted) and
        drop the staging tables."""
        cert, ent = self.consts["certifications"], self.consts["entitlements"]
        params = {"result": cert["result"], "method": cert["method"], "status": ent["status"], "alive": 1}
        aggregates._quietly(self.raw, lambda: None, *((sql, params) for sql in (_LAST, _MONTHS, _BUCKETS, _CLOCK)))
        for stage in _STAGE.values():
            self.raw.execute(f"DROP TABLE IF EXISTS {stage}")
