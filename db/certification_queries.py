"""What the payroll, the forms and the imports ask about certifications (and who has died).

These queries decide money: which certification counts as the last passed one on or before a day
(``last_passed_by_person``, ``passed_dates_for_persons``), which result a re-imported file already
brought (``certification_keys_for_persons``, ``certification_results_for_persons``), a person's
history (``certifications_of``) and the dead the payroll stops paying (``dead_person_ids``). They
are pinned by ``tests/desktop/test_money_queries.py`` and mutated whole by ``bench/mutation.py``;
nothing else belongs in this module. Like :mod:`db.repositories`: the caller owns the
transaction, plain rows out.
"""

from __future__ import annotations

from datetime import date
from typing import Sequence

from sqlalchemy import Connection, and_, func, select

from db.bulk import _chunks, _iso_date, _json_in
from db.models import Certification, Person

certifications = Certification.__table__
persons = Person.__table__


def certifications_of(conn: Connection, person_id: str) -> list[dict]:
    stmt = (
        select(certifications)
        .where(certifications.c.person_id == person_id)
        .order_by(certifications.c.cert_date.desc(), certifications.c.created_at.desc())
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]


def last_passed_by_person(conn: Connection, on_or_before: date) -> dict[str, date]:
    stmt = (
        select(certifications.c.person_id, func.max(certifications.c.cert_date))
        .where(and_(certifications.c.result == "passed", certifications.c.cert_date <= on_or_before))
        .group_by(certifications.c.person_id)
    )
    return {pid: d if isinstance(d, date) else date.fromisoformat(d) for pid, d in conn.execute(stmt)}


def passed_dates_for_persons(conn: Connection, person_ids: Sequence[str], on_or_before: date) -> dict[str, list[date]]:
    out: dict[str, list[date]] = {}
    for part in _chunks(list(person_ids)):
        stmt = (
            select(certifications.c.person_id, certifications.c.cert_date)
            .where(
                and_(
                    certifications.c.person_id.in_(part),
                    certifications.c.result == "passed",
                    certifications.c.cert_date <= on_or_before,
                )
            )
            .order_by(certifications.c.cert_date)
        )
        for pid, d in conn.execute(stmt):
            out.setdefault(pid, []).append(d)
    return out


def certification_keys_for_persons(conn: Connection, person_ids: Sequence[str]) -> set[tuple]:
    """{(person_id, cert_date, method, result)} — to recognise a result already imported."""
    out: set[tuple] = set()
    c = certifications.c
    for part in _chunks(list(person_ids)):
        stmt = select(c.person_id, c.cert_date, c.method, c.result).where(c.person_id.in_(part))
        out.update(tuple(r) for r in conn.execute(stmt))
    return out


def certification_results_for_persons(conn: Connection, person_ids: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(person_id, ISO cert_date, result)`` of every certification of ``person_ids``."""
    if not person_ids:
        return []
    if conn.dialect.name != "sqlite":
        c = certifications.c
        return [(r[0], _iso_date(r[1]), r[2]) for part in _chunks(list(person_ids))
                for r in conn.execute(select(c.person_id, c.cert_date, c.result).where(c.person_id.in_(part)))]
    sql = ("SELECT person_id, cert_date, result FROM certifications "
           "WHERE person_id IN (SELECT value FROM json_each(?))")
    return list(_json_in(conn, sql, person_ids))


def dead_person_ids(conn: Connection) -> set[str]:
    return {r[0] for r in conn.execute(select(persons.c.id).where(persons.c.death_date.is_not(None)))}
