"""Long lists kept by SQLite while they are shown (issue 20): the outreach list as a temporary
table read a page at a time (keyset paging), and its first pages straight from the maintained
clock (db/clock_agg.py) before that table exists. No business rules: the bounds come from the
caller (desktop/services/lists.py), which inverts the rule table.

Two ways to make the list:

``clock_*``     from ``entitlement_clock``, whose index is in deadline order: the first page is a
                ``LIMIT`` walk of that index (milliseconds at a million entitlements) and the
                whole list one range of it. Exact whenever no passed certification is dated
                after the list's day (:func:`clock_usable`) — always, for a list made today.
``snapshot_outreach``  from the latest passed dates and a day-keyed map of deadlines: any day
                (a list for a past day, PostgreSQL-free fallback); visits every candidate.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from db import aggregates

SNAPSHOT_COLUMNS = ("pid", "name", "id_number", "phone", "address", "residence", "channel", "deadline", "suspend",
                    "cohorts", "n", "last_outcome", "last_marked_on")


def snapshot_outreach(conn: Connection, table: str, as_of: date, due_map: list[tuple], marks_since: date) -> int:
    """SQLite: the outreach list (desktop.services.outreach.OutreachService.due_within's rows) as
    the temporary table ``table``, one row per person, in the list's order through the index
    :func:`order_index` makes (the rows themselves in no particular order):
    SNAPSHOT_COLUMNS (``cohorts``: the person's listed entitlements as "deadline|suspend|cohort"
    items joined by ";"). ``due_map``: (cohort, eff_from, eff_to, deadline, suspend month) ISO —
    the effective ``last`` dates whose deadline puts an entitlement on the list (the caller
    inverts the rule table). Candidates come from the maintained latest passed dates
    (db/aggregates.py) in three disjoint parts: certified on or before ``as_of`` and not before
    the start (an index range over the dates), not certified since the start (the start is
    ``last``), and certified only after ``as_of`` (the exact subquery). Returns the row count."""
    lo = min((r[1] for r in due_map), default=None)
    hi = max((r[2] for r in due_map), default=None)
    raw = _new_snapshot(conn, table)
    cols = ", ".join(SNAPSHOT_COLUMNS)
    if lo is None:
        return 0
    last = ("CASE WHEN l.last_passed <= :asof THEN l.last_passed ELSE (SELECT max(c.cert_date) FROM certifications c "
            "WHERE c.person_id = e.person_id AND c.result = 'passed' AND c.cert_date <= :asof) END")
    # per cohort, its own range of dates over the index (the cohorts' ranges lie far apart: one
    # range over all of them would visit most of the roster)
    ranges: dict[str, list] = {}
    for cohort, a, b, _d, _s in due_map:
        r = ranges.setdefault(cohort, [a, b])
        r[0], r[1] = min(r[0], a), max(r[1], b)
    params: dict = {}
    by_cert = []
    for i, (cohort, (a, b)) in enumerate(sorted(ranges.items())):
        params.update({f"c{i}": cohort, f"lo{i}": a, f"hi{i}": b})
        by_cert.append(
            "SELECT e.person_id AS pid, e.cohort, l.last_passed AS eff FROM person_last_passed l "
            "CROSS JOIN entitlements e ON e.person_id = l.person_id "
            f"WHERE l.last_passed BETWEEN :lo{i} AND :hi{i} AND l.last_passed <= :asof AND e.cohort = :c{i} "
            "AND e.status = 'active' AND l.last_passed >= e.start_date")
    cand = (
        " UNION ALL ".join(by_cert) + " UNION ALL "
        "SELECT e.person_id, e.cohort, e.start_date FROM entitlements e "
        "LEFT JOIN person_last_passed l ON l.person_id = e.person_id "
        f"WHERE e.status = 'active' AND e.start_date BETWEEN :lo AND :hi AND coalesce({last}, '') < e.start_date "
        "UNION ALL "
        "SELECT pid, cohort, eff FROM (SELECT e.person_id AS pid, e.cohort, e.start_date AS start, "
        f"{last} AS eff FROM person_last_passed l CROSS JOIN entitlements e ON e.person_id = l.person_id "
        "WHERE l.last_passed > :asof AND e.status = 'active' LIMIT -1 OFFSET 0) WHERE eff >= start"
    )
    # the map a day per row, keyed: each candidate finds its deadline with one index seek
    raw.execute("CREATE TEMP TABLE IF NOT EXISTS outreach_days (cohort TEXT, day TEXT, deadline TEXT, "
                "suspend TEXT, PRIMARY KEY (cohort, day)) WITHOUT ROWID")
    raw.execute("DELETE FROM temp.outreach_days")
    raw.executemany("INSERT INTO temp.outreach_days VALUES (?, ?, ?, ?)", _days(due_map))
    sql = (
        f"INSERT INTO temp.{table} ({cols}) "
        "WITH q AS (SELECT x.pid, x.cohort, m.deadline, m.suspend FROM (" + cand + ") x "
        "           CROSS JOIN temp.outreach_days m ON m.cohort = x.cohort AND m.day = x.eff), "
        "     g AS (SELECT pid, min(deadline || '|' || suspend) AS ds, "
        "           group_concat(deadline || '|' || suspend || '|' || cohort, ';') AS cohorts, "
        "           count(*) AS n FROM q GROUP BY pid) "
        "SELECT g.pid, p.name, p.id_number, p.phone, p.address, coalesce(p.residence, 'local'), "
        "  CASE WHEN g.pid IN (SELECT person_id FROM outreach_flags WHERE housebound) "
        "         OR g.pid IN (SELECT person_id FROM home_visits WHERE status IN ('booked', 'scheduled')) "
        "       THEN 'home_visit' WHEN p.residence = 'remote' THEN 'remote' ELSE 'local' END, "
        "  substr(g.ds, 1, 10), substr(g.ds, 12), g.cohorts, g.n, "
        "  (SELECT k.outcome || '|' || k.marked_on FROM outreach_marks k WHERE k.person_id = g.pid "
        "   AND k.marked_on >= :since ORDER BY k.created_at DESC LIMIT 1), NULL "
        "FROM g CROSS JOIN persons p ON p.id = g.pid WHERE p.death_date IS NULL"
    )
    params.update({"asof": as_of.isoformat(), "lo": lo, "hi": hi, "since": marks_since.isoformat()})
    raw.execute(sql, params)
    n = _finish_snapshot(raw, table)
    order_index(conn, table, None)
    return n


def _new_snapshot(conn: Connection, table: str):
    _check(table)
    raw = conn.connection.driver_connection
    raw.execute(f"DROP TABLE IF EXISTS temp.{table}")
    raw.execute(f"CREATE TEMP TABLE {table} (rid INTEGER PRIMARY KEY, {', '.join(SNAPSHOT_COLUMNS)})")
    return raw


def _finish_snapshot(raw, table: str) -> int:
    """The latest mark ("outcome|day") split into its two columns; the row count."""
    raw.execute(f"UPDATE temp.{table} SET last_marked_on = substr(last_outcome, instr(last_outcome, '|') + 1), "
                "last_outcome = substr(last_outcome, 1, instr(last_outcome, '|') - 1) WHERE last_outcome IS NOT NULL")
    return raw.execute(f"SELECT count(*) FROM temp.{table}").fetchone()[0]


def _days(due_map):
    from datetime import timedelta

    for cohort, a, b, deadline, suspend in due_map:
        d, end = date.fromisoformat(a), date.fromisoformat(b)
        while d <= end:
            yield cohort, d.isoformat(), deadline, suspend
            d += timedelta(days=1)


# a snapshot table's own order, and the tie-break of every other: (deadline, name, person) is
# unique (a person once) and never NULL
ORDER = ("deadline", "name", "pid")
_COL = {c: i + 1 for i, c in enumerate(SNAPSHOT_COLUMNS)}  # position in a row (rid first)


def order_columns(key: str | None) -> list[str]:
    """The columns a page is ordered by: ``key`` (None: the list's own order), then the list's
    order for its ties."""
    return list(dict.fromkeys(([key] if key else []) + list(ORDER)))


def page_cursor(key: str | None, row: tuple) -> tuple:
    """The keyset of a row :func:`snapshot_page` returned (what the next page starts after)."""
    return tuple(row[_COL[c]] for c in order_columns(key))


def order_index(conn: Connection, table: str, key: str | None) -> None:
    """The index a page in the order of ``key`` walks (made once per column, on first use)."""
    _check(table, *([key] if key else []))
    cols = order_columns(key)
    conn.connection.driver_connection.execute(
        f"CREATE INDEX IF NOT EXISTS temp.ix_{table}_{key or 'order'} ON {table} ({', '.join(cols)})")


def snapshot_page(conn: Connection, table: str, key: str | None, descending: bool, after: tuple | None,
                  limit: int, where: str = "", params: dict | None = None) -> list[tuple]:
    """Rows of a snapshot table in the order of ``key`` (None: the list's own order, :data:`ORDER`),
    ties in the list's order — all reversed when ``descending`` — after the keyset ``after``
    (:func:`page_cursor` of the last row; None: from the start). An index on those columns
    (:func:`order_index`) makes each page one index walk — two when it crosses from the keys to the
    NULLs, which come first ascending and last descending, as SQLite sorts them. Returns (rid,
    *SNAPSHOT_COLUMNS)."""
    if key is not None and key not in SNAPSHOT_COLUMNS:
        raise ValueError(key)
    _check(table)
    order_index(conn, table, key)
    cols = order_columns(key)
    op, direction = ("<", "DESC") if descending else (">", "ASC")
    p = dict(params or {})
    names = [f"after_{i}" for i in range(len(cols))]
    p.update(zip(names, after or ()))

    def rest(c: list[str], n: list[str]) -> str:
        return f"({', '.join(c)}) {op} ({', '.join(':' + x for x in n)})"

    if after is None:
        parts = [""]
    elif key is not None and after[0] is None:  # among the NULL keys: the rest of them, then (ascending) every key
        parts = [f"{key} IS NULL AND " + rest(cols[1:], names[1:])] + ([] if descending else [f"{key} IS NOT NULL"])
    else:  # a row-value comparison leaves the NULL keys out: they follow descending
        parts = [rest(cols, names)] + ([f"{key} IS NULL"] if descending and key is not None else [])
    raw = conn.connection.driver_connection
    order = ", ".join(f"{c} {direction}" for c in cols)
    out: list[tuple] = []
    for part in parts:
        conds = [c for c in (where, part) if c]
        sql = (f"SELECT * FROM temp.{table}" + (" WHERE " + " AND ".join(f"({c})" for c in conds) if conds else "")
               + f" ORDER BY {order} LIMIT {int(limit) - len(out)}")
        out.extend(raw.execute(sql, p).fetchall())
        if len(out) >= limit:
            break
    return out


def snapshot_counts(conn: Connection, table: str, column: str) -> dict[str, int]:
    if not table.isidentifier() or not column.isidentifier():
        raise ValueError(table)
    return dict(conn.connection.driver_connection.execute(
        f"SELECT {column}, count(*) FROM temp.{table} GROUP BY {column}").fetchall())


def snapshot_count(conn: Connection, table: str, where: str = "", params: dict | None = None) -> int:
    if not table.isidentifier():
        raise ValueError(table)
    return conn.connection.driver_connection.execute(
        f"SELECT count(*) FROM temp.{table}" + (f" WHERE {where}" if where else ""), params or {}).fetchone()[0]


def snapshot_set(conn: Connection, table: str, key: str, value, values: dict) -> None:
    if not all(c.isidentifier() for c in (table, key, *values)):
        raise ValueError(table)
    raw = conn.connection.driver_connection
    raw.execute(f"UPDATE temp.{table} SET " + ", ".join(f"{c} = :{c}" for c in values) + f" WHERE {key} = :key_",
                {**values, "key_": value})
    raw.commit()


def drop_snapshot(conn: Connection, table: str) -> None:
    if not table.isidentifier():
        raise ValueError(table)
    raw = conn.connection.driver_connection
    raw.execute(f"DROP TABLE IF EXISTS temp.{table}")
    raw.commit()


# --- from the maintained clock ---------------------------------------------------------------------

_LISTED = "{a}.deadline BETWEEN :lo AND :hi AND {a}.suspend > :cur AND {a}.status = 'active'"
# a person's clock rows (as ``j``), found through the entitlements' (person_id, cohort) key
_SIBLINGS = "FROM entitlements s CROSS JOIN entitlement_clock j ON j.entitlement_id = s.id WHERE s.person_id = {pid}"
_MARK = ("(SELECT m.outcome || '|' || m.marked_on FROM outreach_marks m WHERE m.person_id = {pid} "
         "AND m.marked_on >= :since ORDER BY m.created_at DESC LIMIT 1)")
_HOME = ("({pid} IN (SELECT person_id FROM outreach_flags WHERE housebound) "
         "OR {pid} IN (SELECT person_id FROM home_visits WHERE status IN ('booked', 'scheduled')))")
_CHANNEL = "CASE WHEN " + _HOME + " THEN 'home_visit' WHEN p.residence = 'remote' THEN 'remote' ELSE 'local' END"


def _card(pid: str) -> str:
    """SNAPSHOT_COLUMNS name … channel for the person ``pid`` (joined as ``p``)."""
    return (f"{pid}, p.name, p.id_number, p.phone, p.address, coalesce(p.residence, 'local'), "
            + _CHANNEL.format(pid=pid))


def clock_usable(conn: Connection, as_of: date) -> bool:
    """The clock describes the list of ``as_of`` exactly: SQLite with the maintained aggregates and
    no passed certification dated after that day."""
    return aggregates.available(conn) and (aggregates.latest_passed_date(conn) or "") <= as_of.isoformat()


def clock_page(conn: Connection, bounds: dict, after: tuple | None, limit: int) -> list[tuple]:
    """The next ``limit`` people of the outreach list in its order (deadline, name, person) after
    the keyset ``after`` = (deadline, name, person id) (None: from the start), as SNAPSHOT_COLUMNS.
    ``bounds``: lo/hi (deadlines, ISO), cur (the month a listed suspension must be after),
    since (marks from). Each person once, at their earliest listed entitlement."""
    p = dict(bounds)
    keyset = ""
    if after is not None:
        p["ad"], p["an"], p["ap"] = after
        keyset = " AND k.deadline >= :ad AND (k.deadline > :ad OR (p.name, k.person_id) > (:an, :ap))"
    sql = (
        "WITH f AS (SELECT k.person_id AS pid, k.deadline, k.suspend, p.name FROM entitlement_clock k "
        "  CROSS JOIN persons p ON p.id = k.person_id "
        f"  WHERE {_LISTED.format(a='k')} AND p.death_date IS NULL{keyset} "
        f"  AND NOT EXISTS (SELECT 1 {_SIBLINGS.format(pid='k.person_id')} "
        f"       AND {_LISTED.format(a='j')} AND (j.deadline, j.suspend, j.cohort) < (k.deadline, k.suspend, k.cohort)) "
        f"  ORDER BY k.deadline, p.name, k.person_id LIMIT {int(limit)}) "
        f"SELECT {_card('f.pid')}, f.deadline, f.suspend, "
        "  (SELECT group_concat(j.deadline || '|' || j.suspend || '|' || j.cohort, ';') "
        f"   {_SIBLINGS.format(pid='f.pid')} AND {_LISTED.format(a='j')}), "
        f"  (SELECT count(*) {_SIBLINGS.format(pid='f.pid')} AND {_LISTED.format(a='j')}), "
        f"  {_MARK.format(pid='f.pid')} "
        "FROM f CROSS JOIN persons p ON p.id = f.pid ORDER BY f.deadline, f.name, f.pid"
    )
    out = []
    for r in conn.connection.driver_connection.execute(sql, p).fetchall():
        mark = r[11]
        out.append(r[:11] + ((mark.split("|", 1)[0], mark.split("|", 1)[1]) if mark else (None, None)))
    return out


def clock_snapshot(conn: Connection, table: str, bounds: dict) -> int:
    """The whole outreach list from the clock as the temporary table ``table`` (as
    :func:`snapshot_outreach` makes it, with the index of the list's order). One range of the
    clock's deadline index grouped per person (the cheapest aggregate: the earliest deadline and a
    count — a person with several listed entitlements has them read again, through the
    entitlements' person key), the persons read in id order; the contact marks and home-visit
    channels (a few people) looked up in a small keyed table made first, not per row. The
    ``cohorts`` of a person with one listed entitlement is the cohort alone. Returns the count."""
    raw = _new_snapshot(conn, table)
    cols = ", ".join(SNAPSHOT_COLUMNS)
    extras = _extras(raw, table, bounds["since"])
    listed = _LISTED.format(a="j")
    sib = _SIBLINGS.format(pid="g.pid")
    first = f"(SELECT min(j.deadline || '|' || j.suspend) {sib} AND {listed})"
    items = f"(SELECT group_concat(j.deadline || '|' || j.suspend || '|' || j.cohort, ';') {sib} AND {listed})"
    if extras:
        join, x = f" LEFT JOIN temp.{table}_x x ON x.pid = g.pid", "x.mark"
        channel = "WHEN x.home THEN 'home_visit' "
    else:
        join, x, channel = "", "NULL", ""
    sql = (
        f"INSERT INTO temp.{table} ({cols}) "
        "WITH g0 AS (SELECT k.person_id AS pid, min(k.deadline) AS d, k.suspend AS s, k.cohort AS c, count(*) AS n "
        f"           FROM entitlement_clock k WHERE {_LISTED.format(a='k')} GROUP BY k.person_id), "
        f"     g1 AS (SELECT g.*, CASE WHEN g.n > 1 THEN {first} END AS m FROM g0 g), "
        "     g AS (SELECT pid, CASE WHEN n = 1 THEN d ELSE substr(m, 1, 10) END AS d, "
        "           CASE WHEN n = 1 THEN s ELSE substr(m, 12) END AS s, "
        f"           CASE WHEN n = 1 THEN c ELSE {items.replace('g.pid', 'g1.pid')} END AS c, n FROM g1) "
        "SELECT g.pid, p.name, p.id_number, p.phone, p.address, coalesce(p.residence, 'local'), "
        f"  CASE {channel}WHEN p.residence = 'remote' THEN 'remote' ELSE 'local' END, g.d, g.s, g.c, g.n, "
        f"  substr({x}, 1, instr({x}, '|') - 1), substr({x}, instr({x}, '|') + 1) "
        f"FROM g CROSS JOIN persons p ON p.id = g.pid{join} WHERE p.death_date IS NULL"
    )
    n = raw.execute(sql, bounds).rowcount
    raw.execute(f"DROP TABLE IF EXISTS temp.{table}_x")
    # the rows are written in person order as the grouping leaves them; the list's order is an
    # index of its three narrow columns — sorting those costs less than sorting the wide rows
    order_index(conn, table, None)
    return n


def _extras(raw, table: str, since: str) -> bool:
    """The temporary table ``{table}_x`` (pid, home, mark): the people with a home visit booked,
    a house-bound flag or a contact mark since ``since`` — home 1 when the list shows them under
    home visits, mark "outcome|day" of their latest mark (as :data:`_CHANNEL`/:data:`_MARK` say).
    Whether it has any row."""
    raw.execute(f"DROP TABLE IF EXISTS temp.{table}_x")
    raw.execute(f"CREATE TEMP TABLE {table}_x (pid TEXT PRIMARY KEY, home INTEGER, mark TEXT) WITHOUT ROWID")
    raw.execute(
        f"INSERT INTO temp.{table}_x (pid, home, mark) SELECT i.pid, {_HOME.format(pid='i.pid')}, "
        f"{_MARK.format(pid='i.pid')} FROM (SELECT person_id AS pid FROM outreach_flags WHERE housebound "
        "UNION SELECT person_id FROM home_visits WHERE status IN ('booked', 'scheduled') "
        "UNION SELECT person_id FROM outreach_marks WHERE marked_on >= :since) i", {"since": since})
    return raw.execute(f"SELECT EXISTS (SELECT 1 FROM temp.{table}_x)").fetchone()[0] == 1


def _check(*names: str) -> None:
    if not all(n.isidentifier() for n in names):
        raise ValueError(names)
