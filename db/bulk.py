"""Bulk reads and writes shared by the repositories: chunked IN-lists, SQLite's fast paths for
many rows (the driver's executemany with dates as ISO text, per-import constants written into the
statement once), JSON-array look-ups. No table and no business rule of its own: the repositories
(:mod:`db.repositories`, :mod:`db.import_repo`, :mod:`db.journal` …) say what to store.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Sequence

from sqlalchemy import Connection, bindparam, insert, update

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


def _json_in(conn: Connection, sql: str, values: Sequence, size: int = 50_000):
    """Rows of ``sql`` (SQLite, one ``?`` bound to a JSON array of ``values``), in parts."""
    raw = conn.connection.driver_connection
    values = list(values)
    for k in range(0, len(values), size):
        yield from raw.execute(sql, (json.dumps(values[k:k + size]),))


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
