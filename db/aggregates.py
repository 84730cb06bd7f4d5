"""Maintained aggregates (issue 20, revision 0011): small tables that SQLite triggers keep equal
to counts over the big ones, so a payroll run, the dashboard and the lists read a few rows
instead of scanning a million.

``person_last_passed``  person → latest passed certification date (any date; readers that need
                        "latest passed on or before D" use it where it is ≤ D and fall back to
                        the certifications otherwise)
``coverage_buckets``    (cohort, stored status, person living?, effective last) → entitlements,
                        where effective last = the later of the start date and the person's
                        latest passed certification
``cert_month_counts``   (YYYY-MM, method, result) → certifications

The triggers (migration 0011) fire on every write to ``certifications``, ``entitlements`` and
``persons.death_date`` — counter, results import, forms, visits, sync pull, roster import and
payroll status updates alike — so no write path needs a hook. They exist on SQLite only: on
PostgreSQL (the central server) the tables stay empty and nothing reads them
(:func:`available` says so). :func:`rebuild` recomputes them from scratch; :func:`from_scratch`
is the reference the property tests compare with.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, Date, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models import UUID, Base


class PersonLastPassed(Base):
    __tablename__ = "person_last_passed"
    __table_args__ = {"sqlite_with_rowid": False}

    person_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    last_passed: Mapped[date] = mapped_column(Date, index=True)


class CoverageBucket(Base):
    __tablename__ = "coverage_buckets"
    __table_args__ = {"sqlite_with_rowid": False}

    cohort: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    alive: Mapped[int] = mapped_column(Integer, primary_key=True)
    eff: Mapped[date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class CertMonthCount(Base):
    __tablename__ = "cert_month_counts"
    __table_args__ = {"sqlite_with_rowid": False}

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    method: Mapped[str] = mapped_column(String(24), primary_key=True)
    result: Mapped[str] = mapped_column(String(8), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


# --- from scratch (the reference, and the migration's backfill) ------------------------------------

SCRATCH_LAST_PASSED = ("SELECT person_id, max(cert_date) FROM certifications WHERE result = 'passed' "
                       "GROUP BY person_id")
SCRATCH_MONTHS = ("SELECT substr(cert_date, 1, 7), method, result, count(*) FROM certifications "
                  "GROUP BY 1, 2, 3")
SCRATCH_BUCKETS = (
    "SELECT e.cohort, e.status, coalesce(p.death_date IS NULL, 1), "
    "max(e.start_date, coalesce(l.last_passed, e.start_date)), count(*) "
    "FROM entitlements e LEFT JOIN persons p ON p.id = e.person_id "
    "LEFT JOIN (" + SCRATCH_LAST_PASSED.replace("person_id, max(cert_date)", "person_id, max(cert_date) AS last_passed")
    + ") l ON l.person_id = e.person_id GROUP BY 1, 2, 3, 4")

TABLES = ("person_last_passed", "coverage_buckets", "cert_month_counts")


def available(conn: Connection) -> bool:
    """The aggregates are maintained here (SQLite with migration 0011's triggers)."""
    if conn.dialect.name != "sqlite":
        return False
    row = conn.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'agg_cert_insert'").scalar()
    return bool(row)


def from_scratch(conn: Connection) -> dict[str, set[tuple]]:
    """The three aggregates counted again from the base tables (zero counts left out)."""
    return {
        "person_last_passed": {tuple(r) for r in conn.exec_driver_sql(SCRATCH_LAST_PASSED)},
        "coverage_buckets": {tuple(r) for r in conn.exec_driver_sql(SCRATCH_BUCKETS)},
        "cert_month_counts": {tuple(r) for r in conn.exec_driver_sql(SCRATCH_MONTHS)},
    }


def maintained(conn: Connection) -> dict[str, set[tuple]]:
    """The three aggregates as stored (zero counts left out)."""
    return {
        "person_last_passed": {tuple(r) for r in conn.exec_driver_sql(
            "SELECT person_id, last_passed FROM person_last_passed")},
        "coverage_buckets": {tuple(r) for r in conn.exec_driver_sql(
            "SELECT cohort, status, alive, eff, n FROM coverage_buckets WHERE n <> 0")},
        "cert_month_counts": {tuple(r) for r in conn.exec_driver_sql(
            "SELECT month, method, result, n FROM cert_month_counts WHERE n <> 0")},
    }


def rebuild(conn: Connection) -> None:
    """Recompute every aggregate from the base tables (the migration's backfill; a repair)."""
    for t in TABLES:
        conn.exec_driver_sql(f"DELETE FROM {t}")
    conn.exec_driver_sql(f"INSERT INTO person_last_passed (person_id, last_passed) {SCRATCH_LAST_PASSED}")
    conn.exec_driver_sql(f"INSERT INTO cert_month_counts (month, method, result, n) {SCRATCH_MONTHS}")
    conn.exec_driver_sql(f"INSERT INTO coverage_buckets (cohort, status, alive, eff, n) {SCRATCH_BUCKETS}")


# --- readers ---------------------------------------------------------------------------------------


def latest_passed_date(conn: Connection) -> str | None:
    """The latest passed certification date of anyone (ISO): the aggregates describe "on or
    before D" exactly when this is ≤ D."""
    return conn.exec_driver_sql("SELECT max(last_passed) FROM person_last_passed").scalar()


def coverage_buckets(conn: Connection) -> list[tuple[str, str, int, str, int]]:
    """(cohort, stored status, alive 0/1, effective last ISO, entitlements), non-zero only."""
    return [tuple(r) for r in conn.exec_driver_sql(
        "SELECT cohort, status, alive, eff, n FROM coverage_buckets WHERE n <> 0")]


def cert_month_counts(conn: Connection, since_month: str) -> list[tuple[str, str, str, int]]:
    """(YYYY-MM, method, result, n) for the months from ``since_month`` on, non-zero only."""
    return [tuple(r) for r in conn.execute(text(
        "SELECT month, method, result, n FROM cert_month_counts WHERE month >= :m AND n <> 0"), {"m": since_month})]
