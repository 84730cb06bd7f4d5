"""What the imports read and write besides persons, entitlements and certifications (issue 14):
the batch record of a file, the roster import's person look-up, the amount history
(``entitlement_amounts``) and the red-flag cases a file opens for a supervisor
(``sync_conflicts``). Like :mod:`db.repositories`: the caller owns the transaction, plain rows out.
"""

from __future__ import annotations

from typing import Sequence

from sqlalchemy import Connection, func, insert, select

from db.bulk import _chunks, _iso_date, _json_in, insert_rows
from db.models import EntitlementAmount, ImportBatch, Person, SyncConflict

persons = Person.__table__
batches = ImportBatch.__table__
amounts = EntitlementAmount.__table__
conflicts = SyncConflict.__table__

AMOUNT_COLS = ("id", "entitlement_id", "from_month", "amount_fen", "previous_fen")
_BRIEF = ("id", "id_number", "name", "phone", "address", "residence")


def insert_batch(conn: Connection, row: dict) -> None:
    conn.execute(insert(batches), [row])


def person_import_briefs(conn: Connection, numbers: Sequence[str]) -> dict[str, dict]:
    """{ID number: {id, id_number, name, phone, address, residence, death_date}} of the persons
    among ``numbers``, ``death_date`` as ISO text or None: the roster import's look-up. On SQLite
    the numbers go in as one JSON array per query, so a large import costs one index probe per
    number and no statement compiling."""
    cols = (*_BRIEF, "death_date")
    if conn.dialect.name != "sqlite":
        sel = [persons.c[k] for k in cols]
        out = {}
        for part in _chunks(list(numbers)):
            for r in conn.execute(select(*sel).where(persons.c.id_number.in_(part))).mappings():
                d = dict(r)
                d["death_date"] = _iso_date(d["death_date"])
                out[d["id_number"]] = d
        return out
    raw = conn.connection.driver_connection
    if not numbers or raw.execute("SELECT 1 FROM persons LIMIT 1").fetchone() is None:
        return {}
    sql = f"SELECT {', '.join(cols)} FROM persons WHERE id_number IN (SELECT value FROM json_each(?))"
    return {row[1]: dict(zip(cols, row)) for row in _json_in(conn, sql, numbers)}


def has_persons(conn: Connection) -> bool:
    return conn.execute(select(persons.c.id).limit(1)).first() is not None


def has_amount_history(conn: Connection) -> bool:
    return conn.execute(select(amounts.c.id).limit(1)).first() is not None


def latest_amount_months(conn: Connection, entitlement_ids: Sequence[str]) -> dict[str, str]:
    """{entitlement id: the latest ``from_month`` of its amount history} (those with one)."""
    if not entitlement_ids:
        return {}
    if conn.dialect.name != "sqlite":
        a = amounts.c
        out: dict[str, str] = {}
        for part in _chunks(list(entitlement_ids)):
            stmt = select(a.entitlement_id, func.max(a.from_month)).where(a.entitlement_id.in_(part)).group_by(a.entitlement_id)
            out.update((r[0], r[1]) for r in conn.execute(stmt))
        return out
    sql = ("SELECT entitlement_id, max(from_month) FROM entitlement_amounts "
           "WHERE entitlement_id IN (SELECT value FROM json_each(?)) GROUP BY entitlement_id")
    return dict(_json_in(conn, sql, entitlement_ids))


def amounts_of(conn: Connection, entitlement_ids: Sequence[str]) -> list[dict]:
    """The amount history of ``entitlement_ids``, by entitlement, month and creation."""
    a = amounts.c
    out: list[dict] = []
    for part in _chunks(list(entitlement_ids)):
        stmt = select(amounts).where(a.entitlement_id.in_(part)).order_by(a.entitlement_id, a.from_month, a.created_at, a.id)
        out.extend(dict(r) for r in conn.execute(stmt).mappings())
    return out


def insert_amounts(conn: Connection, rows: list[tuple], constants: dict) -> None:
    """``entitlement_amounts`` rows as tuples in :data:`AMOUNT_COLS`; ``constants``: batch_id,
    operator, created_at (see :func:`insert_rows`)."""
    insert_rows(conn, amounts, AMOUNT_COLS, rows, constants)


def open_cases_once(conn: Connection, rows: list[dict]) -> list[str]:
    """Insert the ``sync_conflicts`` cases whose id is not there yet (ids are derived from what
    the case is about, so the same fact never opens a second case); returns the inserted ids."""
    if not rows:
        return []
    rows = list({r["id"]: r for r in rows}.values())
    have: set[str] = set()
    for part in _chunks([r["id"] for r in rows]):
        have.update(x for x in conn.execute(select(conflicts.c.id).where(conflicts.c.id.in_(part))).scalars())
    fresh = [r for r in rows if r["id"] not in have]
    if fresh:
        conn.execute(insert(conflicts), fresh)
    return [r["id"] for r in fresh]
