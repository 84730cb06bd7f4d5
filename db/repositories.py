"""Queries and bulk writes per aggregate. No business rules here: callers decide, this stores.

Functions take a SQLAlchemy ``Connection`` (the caller owns the transaction) and return plain
rows/mappings. Bulk functions chunk their IN-lists to stay under SQLite's parameter limit.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Iterable, Sequence

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from db.models import (
    AssistForm,
    Certification,
    Entitlement,
    EntitlementEvent,
    ImportBatch,
    Person,
    RecoveryCase,
)

persons = Person.__table__
entitlements = Entitlement.__table__
certifications = Certification.__table__
events = EntitlementEvent.__table__
recoveries = RecoveryCase.__table__
batches = ImportBatch.__table__
forms = AssistForm.__table__

CHUNK = 800


def _chunks(items: Sequence, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i : i + size]


_DT_TEXT: dict = {}


def _iso_datetime(v):
    # rows of one import share one timestamp: format it once
    if v is None:
        return None
    text = _DT_TEXT.get(v)
    if text is None:
        if len(_DT_TEXT) > 1024:
            _DT_TEXT.clear()
        text = _DT_TEXT[v] = v.strftime("%Y-%m-%d %H:%M:%S.%f")
    return text


_D_TEXT: dict = {}


def _iso_date(v):
    if v is None:
        return None
    text = _D_TEXT.get(v)
    if text is None:
        if len(_D_TEXT) > 100_000:
            _D_TEXT.clear()
        text = _D_TEXT[v] = v.isoformat()
    return text


def bulk_insert(conn: Connection, table, rows: list[dict]) -> None:
    """Insert many rows. On SQLite this goes straight to the driver's executemany, converting
    dates the way SQLAlchemy stores them (bulk imports spend most of their time in per-row
    parameter processing otherwise); elsewhere it is a plain SQLAlchemy executemany. Every row
    must carry the same keys."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), rows)
        return
    from operator import itemgetter

    from sqlalchemy import Date, DateTime

    cols = [c for c in table.columns if c.name in rows[0]]
    names = [c.name for c in cols]
    conv = [
        (i, _iso_datetime if isinstance(c.type, DateTime) else _iso_date)
        for i, c in enumerate(cols)
        if isinstance(c.type, (Date, DateTime))
    ]
    get = itemgetter(*names)

    def data():
        for r in rows:
            values = list(get(r))
            for i, f in conv:
                values[i] = f(values[i])
            yield values

    sql = f'INSERT INTO {table.name} ({", ".join(names)}) VALUES ({", ".join("?" * len(names))})'
    from db import aggregates  # issue 20: big batches keep the maintained aggregates set-wise

    keys = ([(r.get("id"), r.get("person_id"), _iso_date(r.get("cert_date")), r.get("result")) for r in rows]
            if table.name in aggregates.BULK_TABLES else rows)
    aggregates.bulk_insert(conn, table.name, ("id", "person_id", "cert_date", "result"), keys, {},
                           lambda: conn.connection.driver_connection.executemany(sql, data()))


def _sql_literal(value) -> str | None:
    """``value`` as an SQLite literal, or None when it has none (NUL characters, other types)."""
    if value is None:
        return "NULL"
    if type(value) is int:
        return str(value)
    if type(value) is str and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


def insert_rows(conn: Connection, table, names: Sequence[str], rows: list[tuple],
                constants: dict | None = None) -> None:
    """Insert tuples in the column order ``names``, dates already as ISO text and datetimes as
    SQLAlchemy's SQLite text (``_iso_datetime``); the fast path of bulk imports. ``constants``:
    columns with the same value in every row (text, int or None); on SQLite they are written into
    the statement once instead of being bound for every row (binding copies each value, the
    largest per-row cost of executemany). Other dialects get the values converted back and a plain
    SQLAlchemy executemany."""
    if not rows:
        return
    constants = dict(constants or {})
    if conn.dialect.name == "sqlite":
        literals = {k: _sql_literal(v) for k, v in constants.items()}
        if any(v is None for v in literals.values()):  # not expressible: bind them after all
            names, rows = [*names, *constants], [(*r, *constants.values()) for r in rows]
            literals = {}
        cols = [*names, *literals]
        values = ["?"] * len(names) + list(literals.values())
        sql = f'INSERT INTO {table.name} ({", ".join(cols)}) VALUES ({", ".join(values)})'
        from db import aggregates  # issue 20: big batches keep the maintained aggregates set-wise

        aggregates.bulk_insert(conn, table.name, names, rows, constants,
                               lambda: conn.connection.driver_connection.executemany(sql, rows))
        return
    from sqlalchemy import Date, DateTime

    conv = {}
    for c in table.columns:
        if c.name in names and isinstance(c.type, DateTime):
            conv[c.name] = datetime.fromisoformat
        elif c.name in names and isinstance(c.type, Date):
            conv[c.name] = date.fromisoformat
    dicts = []
    for r in rows:
        d = dict(zip(names, r))
        d.update(constants)
        for k, f in conv.items():
            if isinstance(d.get(k), str):
                d[k] = f(d[k])
        dicts.append(d)
    conn.execute(insert(table), dicts)


def rule_rows(conn: Connection) -> list[dict]:
    """The clock's rule table (cycle_rules)."""
    from db.models import CycleRule

    return [dict(r) for r in conn.execute(select(CycleRule.__table__)).mappings()]


# --- persons -------------------------------------------------------------------------------


def persons_by_numbers(conn: Connection, numbers: Sequence[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for part in _chunks(list(numbers)):
        for row in conn.execute(select(persons).where(persons.c.id_number.in_(part))).mappings():
            out[row["id_number"]] = dict(row)
    return out


_BRIEF = ("id", "id_number", "name", "phone", "address", "residence")


def person_briefs_by_numbers(conn: Connection, numbers: Sequence[str]) -> dict[str, dict]:
    """{ID number: {id, id_number, name, phone, address, residence}} of the persons among
    ``numbers`` (the roster import's look-up). On SQLite the numbers go in as one JSON array
    per query, so a large import costs one index probe per number and no statement compiling."""
    if conn.dialect.name != "sqlite":
        cols = [persons.c[k] for k in _BRIEF]
        return {r["id_number"]: dict(r) for part in _chunks(list(numbers))
                for r in conn.execute(select(*cols).where(persons.c.id_number.in_(part))).mappings()}
    raw = conn.connection.driver_connection
    if raw.execute("SELECT 1 FROM persons LIMIT 1").fetchone() is None:
        return {}
    sql = (f"SELECT {', '.join(_BRIEF)} FROM persons "
           "WHERE id_number IN (SELECT value FROM json_each(?))")
    out: dict[str, dict] = {}
    numbers = list(numbers)
    for k in range(0, len(numbers), 50_000):
        for row in raw.execute(sql, (json.dumps(numbers[k:k + 50_000]),)):
            out[row[1]] = dict(zip(_BRIEF, row))
    return out


def person_by_number(conn: Connection, number: str) -> dict | None:
    row = conn.execute(select(persons).where(persons.c.id_number == number)).mappings().first()
    return dict(row) if row else None


def person_by_id(conn: Connection, person_id: str) -> dict | None:
    row = conn.execute(select(persons).where(persons.c.id == person_id)).mappings().first()
    return dict(row) if row else None


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_persons(conn: Connection, text: str, limit: int = 200) -> list[dict]:
    """By ID number (prefix or last digits) or name (prefix or substring). Bound parameters
    only; LIKE wildcards typed by the user are escaped."""
    text = text.strip()[:64]
    if not text:
        return []
    pattern = escape_like(text)
    if text[:1].isdigit():
        cond = or_(
            persons.c.id_number.like(pattern + "%", escape="\\"),
            persons.c.id_number.like("%" + pattern, escape="\\"),
        )
    else:
        cond = persons.c.name.like("%" + pattern + "%", escape="\\")
    stmt = select(persons).where(cond).order_by(persons.c.name, persons.c.id_number).limit(limit)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def insert_persons(conn: Connection, rows: list[dict]) -> None:
    bulk_insert(conn, persons, rows)


def update_persons(conn: Connection, rows: list[dict]) -> None:
    """rows: {"pid": id, "phone", "address", "residence", "updated_at", "updated_by", "workstation"}."""
    if rows:
        stmt = (
            update(persons)
            .where(persons.c.id == bindparam("pid"))
            .values(
                phone=bindparam("phone"),
                address=bindparam("address"),
                residence=bindparam("residence"),
                updated_at=bindparam("updated_at"),
                updated_by=bindparam("updated_by"),
                workstation=bindparam("workstation"),
            )
        )
        conn.execute(stmt, rows)


def set_death(conn: Connection, person_id: str, death_date: date | None, source: str | None, when, by) -> None:
    conn.execute(
        update(persons)
        .where(persons.c.id == person_id)
        .values(death_date=death_date, death_source=source, updated_at=when, updated_by=by)
    )


# --- entitlements ----------------------------------------------------------------------------


def entitlements_for_persons(conn: Connection, person_ids: Sequence[str]) -> dict[tuple[str, str], dict]:
    out: dict[tuple[str, str], dict] = {}
    for part in _chunks(list(person_ids)):
        for row in conn.execute(select(entitlements).where(entitlements.c.person_id.in_(part))).mappings():
            out[(row["person_id"], row["cohort"])] = dict(row)
    return out


def entitlements_of(conn: Connection, person_id: str) -> list[dict]:
    stmt = select(entitlements).where(entitlements.c.person_id == person_id).order_by(entitlements.c.start_date)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def insert_entitlements(conn: Connection, rows: list[dict]) -> None:
    bulk_insert(conn, entitlements, rows)


def update_entitlements(conn: Connection, rows: list[dict]) -> None:
    """rows: {"eid", "start_date", "monthly_amount_fen", "updated_at"}."""
    if rows:
        stmt = (
            update(entitlements)
            .where(entitlements.c.id == bindparam("eid"))
            .values(
                start_date=bindparam("start_date"),
                monthly_amount_fen=bindparam("monthly_amount_fen"),
                updated_at=bindparam("updated_at"),
            )
        )
        conn.execute(stmt, rows)


def set_entitlement_status(conn: Connection, rows: list[dict]) -> None:
    """rows: {"eid", "status", "status_since", "updated_at"}."""
    if rows:
        stmt = (
            update(entitlements)
            .where(entitlements.c.id == bindparam("eid"))
            .values(status=bindparam("status"), status_since=bindparam("status_since"), updated_at=bindparam("updated_at"))
        )
        conn.execute(stmt, rows)


def stream_payroll_rows(conn: Connection, last_cert_on_or_before: date):
    """Streams one tuple per entitlement: (entitlement_id, person_id, id_number, name, cohort,
    start_date, monthly_fen, death_date, last_passed_certification ≤ the given day).

    The last certification is a correlated subquery answered from the (person_id, cert_date)
    index, so a million entitlements stream in constant memory (no per-person dictionary)."""
    c = certifications.c
    last = (
        select(func.max(c.cert_date))
        .where(and_(c.person_id == entitlements.c.person_id, c.result == "passed", c.cert_date <= last_cert_on_or_before))
        .scalar_subquery()
    )
    stmt = select(
        entitlements.c.id,
        entitlements.c.person_id,
        persons.c.id_number,
        persons.c.name,
        entitlements.c.cohort,
        entitlements.c.start_date,
        entitlements.c.monthly_amount_fen,
        persons.c.death_date,
        last,
    ).join(persons, persons.c.id == entitlements.c.person_id)
    return conn.execution_options(yield_per=20_000).execute(stmt)


def person_ids_of_entitlements(conn: Connection, entitlement_ids: Sequence[str]) -> set[str]:
    out: set[str] = set()
    for part in _chunks(list(entitlement_ids)):
        out.update(r[0] for r in conn.execute(select(entitlements.c.person_id).where(entitlements.c.id.in_(part))))
    return out


def dead_person_ids(conn: Connection) -> set[str]:
    return {r[0] for r in conn.execute(select(persons.c.id).where(persons.c.death_date.is_not(None)))}


# --- certifications --------------------------------------------------------------------------


def certification_dates_for_persons(conn: Connection, person_ids: Sequence[str]) -> set[tuple[str, date]]:
    out: set[tuple[str, date]] = set()
    for part in _chunks(list(person_ids)):
        stmt = select(certifications.c.person_id, certifications.c.cert_date).where(certifications.c.person_id.in_(part))
        out.update((r[0], r[1]) for r in conn.execute(stmt))
    return out


def certification_keys_for_persons(conn: Connection, person_ids: Sequence[str]) -> set[tuple]:
    """{(person_id, cert_date, method, result)} — to recognise a result already imported."""
    out: set[tuple] = set()
    c = certifications.c
    for part in _chunks(list(person_ids)):
        stmt = select(c.person_id, c.cert_date, c.method, c.result).where(c.person_id.in_(part))
        out.update(tuple(r) for r in conn.execute(stmt))
    return out


def insert_certifications(conn: Connection, rows: list[dict]) -> None:
    bulk_insert(conn, certifications, rows)


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


# --- events ------------------------------------------------------------------------------


def live_events_before(conn: Connection, month: str):
    """Non-voided events of payroll months before ``month``, in order."""
    stmt = (
        select(events)
        .where(and_(events.c.payroll_month < month, events.c.voided_at.is_(None)))
        .order_by(events.c.payroll_month, events.c.created_at)
    )
    return conn.execute(stmt).mappings()


def live_events_of_month(conn: Connection, month: str) -> list[dict]:
    stmt = select(events).where(and_(events.c.payroll_month == month, events.c.voided_at.is_(None)))
    return [dict(r) for r in conn.execute(stmt).mappings()]


def events_of_entitlements(conn: Connection, entitlement_ids: Iterable[str]) -> list[dict]:
    ids = list(entitlement_ids)
    out: list[dict] = []
    for part in _chunks(ids):
        stmt = select(events).where(events.c.entitlement_id.in_(part)).order_by(events.c.payroll_month, events.c.created_at)
        out.extend(dict(r) for r in conn.execute(stmt).mappings())
    return out


def insert_events(conn: Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(insert(events), rows)


def void_events(conn: Connection, ids: list[str], when, reason: str) -> None:
    if ids:
        conn.execute(
            update(events).where(events.c.id.in_(ids)).values(voided_at=when, void_reason=reason)
        )


def approve_event(conn: Connection, event_id: str, approver: str, when) -> int:
    return conn.execute(
        update(events)
        .where(and_(events.c.id == event_id, events.c.approved_by.is_(None)))
        .values(approved_by=approver, approved_at=when)
    ).rowcount


# --- recoveries, batches, forms ----------------------------------------------------------


def recoveries_of_month(conn: Connection, month: str) -> dict[str, dict]:
    stmt = select(recoveries).where(recoveries.c.opened_month == month)
    return {r["entitlement_id"]: dict(r) for r in conn.execute(stmt).mappings()}


def insert_recoveries(conn: Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(insert(recoveries), rows)


def recoveries_of_person(conn: Connection, person_id: str) -> list[dict]:
    stmt = select(recoveries).where(recoveries.c.person_id == person_id)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def insert_batch(conn: Connection, row: dict) -> None:
    conn.execute(insert(batches), [row])


def outstanding_forms_of(conn: Connection, person_id: str) -> list[dict]:
    stmt = select(forms).where(and_(forms.c.person_id == person_id, forms.c.status == "outstanding"))
    return [dict(r) for r in conn.execute(stmt).mappings()]


def person_ids_with_status(conn: Connection, status: str) -> list[str]:
    stmt = select(entitlements.c.person_id).where(entitlements.c.status == status).distinct().order_by(entitlements.c.person_id)
    return [r[0] for r in conn.execute(stmt)]


def sample_persons(conn: Connection, n: int) -> list[tuple[str, str]]:
    """(id_number, name) of living persons, in a stable order."""
    stmt = select(persons.c.id_number, persons.c.name).where(persons.c.death_date.is_(None)).order_by(persons.c.id).limit(n)
    return [tuple(r) for r in conn.execute(stmt)]


# --- import fidelity and red flags (issue 14) ---------------------------------------------------

from db.models import EntitlementAmount, SyncConflict  # noqa: E402

amounts = EntitlementAmount.__table__
conflicts = SyncConflict.__table__

AMOUNT_COLS = ("id", "entitlement_id", "from_month", "amount_fen", "previous_fen")


def _json_in(conn: Connection, sql: str, values: Sequence, size: int = 50_000):
    """Rows of ``sql`` (SQLite, one ``?`` bound to a JSON array of ``values``), in parts."""
    raw = conn.connection.driver_connection
    values = list(values)
    for k in range(0, len(values), size):
        yield from raw.execute(sql, (json.dumps(values[k:k + size]),))


def person_import_briefs(conn: Connection, numbers: Sequence[str]) -> dict[str, dict]:
    """Like :func:`person_briefs_by_numbers`, with ``death_date`` (ISO text or None): the roster
    import's look-up, one index probe per number on SQLite."""
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


def update_rows(conn: Connection, table, key: str, names: Sequence[str], rows: list[tuple],
                constants: dict | None = None) -> None:
    """``UPDATE table SET names… WHERE key = ?`` for each tuple ``(*values of names, key)``, dates
    as ISO text; ``constants`` (text, int or None) are the same for every row (see
    :func:`insert_rows`: on SQLite they are written into the statement once and the driver's
    executemany runs the rest — the fast path of a bulk re-import)."""
    if not rows:
        return
    constants = dict(constants or {})
    if conn.dialect.name == "sqlite":
        literals = {k: _sql_literal(v) for k, v in constants.items()}
        if any(v is None for v in literals.values()):
            names, rows = [*names, *constants], [(*r[:-1], *constants.values(), r[-1]) for r in rows]
            literals = {}
        sets = [f"{n} = ?" for n in names] + [f"{n} = {v}" for n, v in literals.items()]
        sql = f"UPDATE {table.name} SET {', '.join(sets)} WHERE {key} = ?"
        conn.connection.driver_connection.executemany(sql, rows)
        return
    from sqlalchemy import Date, DateTime

    conv = {}
    for c in table.columns:
        if c.name in names or c.name in constants:
            if isinstance(c.type, DateTime):
                conv[c.name] = datetime.fromisoformat
            elif isinstance(c.type, Date):
                conv[c.name] = date.fromisoformat
    dicts = []
    for r in rows:
        d = {**dict(zip(names, r)), **constants, "_key": r[-1]}
        for k, f in conv.items():
            if isinstance(d.get(k), str):
                d[k] = f(d[k])
        dicts.append(d)
    stmt = update(table).where(table.c[key] == bindparam("_key")).values(
        {n: bindparam(n) for n in [*names, *constants]})
    conn.execute(stmt, dicts)
