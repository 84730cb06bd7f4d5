"""Long lists as views, not copies (issue 20): the source protocol of
``ui.models.paged.PagedTableModel`` — ``page(after, limit)``, ``sort(key, descending)``,
``filter(text)`` — over SQLite (the outreach list) or over a list already computed (the due
list and the payroll month's tables, which the payroll computes whole).

The outreach list's first screen does not wait for the whole list: it is read straight from
the maintained clock (db/clock_agg.py), whose index is in deadline order — a ``LIMIT 200`` walk,
milliseconds at a million entitlements. The whole list (needed for another order, a filter, the
counts, an export) is made into a temporary table by :meth:`OutreachList.complete`, which the
page runs in the background after the first screen; pages already shown continue in it where
they left off. A list for a day before the latest passed certification cannot use the clock
and is made whole at once (db/list_views.snapshot_outreach).
"""

from __future__ import annotations

import itertools
import threading
from datetime import date, timedelta
from typing import Callable, Iterator, Sequence

from db import list_views as lv
from desktop.domain.months import Month
from desktop.domain.rules import COHORTS

_SEQ = itertools.count(1)


class PagedList:
    """A long list kept by SQLite while it is shown — a temporary table on a connection of its
    own — and read a page at a time in the order asked for (keyset paging: each page is one walk
    of an index on the sort column, then the list's own order); filters are SQL too. Only the
    rows on screen become Python objects. ``close()`` drops the table and gives the connection back. Thread-safe: the
    page may read while a worker streams an export."""

    SORTS: dict[str, str] = {}

    def __init__(self, conn, table: str, count: int | None):
        self._conn, self.table, self._count = conn, table, count
        self._lock = threading.RLock()
        self._sort: str | None = None
        self._desc = False
        self._where, self._params = "", {}
        self._cursor: tuple | None = None
        self._closed = False

    @property
    def count(self) -> int:
        """Rows in the whole list (made whole first when it is not yet)."""
        self.complete()
        return self._count or 0

    @property
    def ready(self) -> bool:
        """The whole list is made: counts, other orders and filters answer at once."""
        return self._count is not None

    def complete(self) -> None:
        """Make the whole list (nothing to do here: it was made whole)."""

    # the source protocol of ui.models.paged.PagedTableModel
    def sort(self, key: str | None, descending: bool = False) -> None:
        if key is not None and key not in self.SORTS:
            raise ValueError(key)
        self._sort, self._desc = (self.SORTS[key] if key else None), descending

    def filter(self, text: str) -> None:
        self._where, self._params = self._filter_sql(text.strip())

    def page(self, after, limit: int) -> list:
        self.complete()
        with self._lock:
            if self._conn is None:
                return []
            raw = lv.snapshot_page(self._conn, self.table, self._sort, self._desc,
                                   self._cursor if after is not None else None, limit, self._where, self._params)
        if raw:
            self._cursor = lv.page_cursor(self._sort, raw[-1])
        return [self._row(r[1:]) for r in raw]

    def rows(self, page: int = 5_000, channel: str | None = None) -> Iterator:
        """Every row in the current order and filter (and only ``channel``'s, when given),
        streamed a page at a time (exports)."""
        self.complete()
        where, params = self._where, dict(self._params)
        if channel is not None:
            where = " AND ".join(c for c in (where and f"({where})", "channel = :only_ch") if c)
            params["only_ch"] = channel
        cursor = None
        while True:
            with self._lock:
                if self._conn is None:
                    return
                raw = lv.snapshot_page(self._conn, self.table, self._sort, self._desc, cursor, page, where, params)
            yield from (self._row(r[1:]) for r in raw)
            if len(raw) < page:
                return
            cursor = lv.page_cursor(self._sort, raw[-1])

    def matching(self, channel: str | None = None) -> int:
        """Rows that pass the filter (and are ``channel``'s, when given)."""
        self.complete()
        where, params = self._where, dict(self._params)
        if channel is not None:
            where = " AND ".join(c for c in (where and f"({where})", "channel = :only_ch") if c)
            params["only_ch"] = channel
        with self._lock:
            return lv.snapshot_count(self._conn, self.table, where, params) if self._conn is not None else 0

    def counts(self, column: str) -> dict[str, int]:
        self.complete()
        with self._lock:
            return lv.snapshot_counts(self._conn, self.table, column) if self._conn is not None else {}

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    lv.drop_snapshot(self._conn, self.table)
                finally:
                    self._conn.close()
                    self._conn = None
            self._closed = True

    def _filter_sql(self, text: str) -> tuple[str, dict]:
        return "", {}

    def _row(self, values: tuple):
        raise NotImplementedError


class OutreachList(PagedList):
    """:meth:`desktop.services.outreach.OutreachService.due_within` as a paged view: the same
    rows (OutreachRow) in the same order, kept in SQLite."""

    SORTS = {"deadline": "deadline", "name": "name", "phone": "phone", "suspend": "suspend",
             "channel": "channel", "last_outcome": "last_outcome", "id_number": "id_number"}

    def __init__(self, conn, table: str, count: int | None, channel: str | None = None):
        super().__init__(conn, table, count)
        self.channel: str | None = channel
        self._text = ""
        self.filter("")

    def set_channel(self, channel: str | None) -> None:
        self.channel = channel
        self.filter(self._text)

    def filter(self, text: str) -> None:
        self._text = text
        super().filter(text)

    def _filter_sql(self, text: str) -> tuple[str, dict]:
        conds, params = [], {}
        if self.channel:
            conds.append("channel = :ch")
            params["ch"] = self.channel
        if text:
            conds.append("instr(name, :t) > 0 OR instr(coalesce(phone, ''), :t) > 0 "
                         "OR substr(id_number, -length(:t)) = :t")
            params["t"] = text
        return " AND ".join(f"({c})" for c in conds), params

    def set_mark(self, person_id: str, outcome: str, marked_on: str) -> None:
        """A mark just recorded, shown in the list without making it again."""
        with self._lock:
            if self._conn is not None:
                lv.snapshot_set(self._conn, self.table, "pid", person_id,
                                {"last_outcome": outcome, "last_marked_on": marked_on})

    def _row(self, v: tuple):
        from desktop.services.outreach import OutreachRow

        pid, name, number, phone, address, residence, channel, deadline, suspend, items, n, outcome, marked = v
        if ";" in items:
            entries = sorted(tuple(i.split("|")) for i in items.split(";"))
            zh = "、".join(dict.fromkeys(COHORTS[c].name_zh for _, _, c in entries))
        else:  # one listed entitlement (most people): "deadline|suspend|cohort", or the cohort alone
            zh = COHORTS[items[19:] if "|" in items else items].name_zh
        return OutreachRow(pid, name, number, phone, address, residence or "local", channel,
                           date.fromisoformat(deadline), suspend, zh, n, outcome, marked)


class ClockOutreachList(OutreachList):
    """The outreach list from the maintained clock: pages in the list's own order, unfiltered,
    come straight from the clock's deadline index until the whole list is made
    (:meth:`complete`, in the background); everything else reads the whole list."""

    def __init__(self, engine, table: str, bounds: dict, channel: str | None = None):
        self._engine, self._bounds = engine, bounds
        self._fast: tuple | None = None  # (deadline, name, person) of the last row read from the clock
        self._marks: list[tuple] = []
        super().__init__(None, table, None, channel)

    def complete(self) -> None:
        with self._lock:
            if self._count is not None or self._closed:
                return
            conn = self._engine.connect()
            try:
                n = lv.clock_snapshot(conn, self.table, self._bounds)
                conn.connection.driver_connection.commit()  # no open transaction (WAL snapshot) while shown
            except BaseException:
                conn.close()
                raise
            self._conn, self._count = conn, n
            if self._closed:  # closed while it was being made (close did not wait): give it back now
                super().close()
                return
            for mark in self._marks:
                super().set_mark(*mark)

    def close(self) -> None:
        """Gives the list back; while :meth:`complete` is making it (a worker), without waiting:
        the worker gives it back when it is done."""
        self._closed = True
        if self._lock.acquire(blocking=False):
            try:
                super().close()
            finally:
                self._lock.release()

    def page(self, after, limit: int) -> list:
        with self._lock:
            fast = self._count is None and self._sort is None and not self._where and not self._closed
        if fast:
            with self._engine.connect() as conn:
                raw = lv.clock_page(conn, self._bounds, self._fast if after is not None else None, limit)
            if raw:
                self._fast = (raw[-1][7], raw[-1][1], raw[-1][0])
            return [self._row(r) for r in raw]
        if after is not None and self._cursor is None and self._sort is None and self._fast is not None:
            self.complete()  # the pages shown so far came from the clock: continue after the same
            self._cursor = self._fast  # person — (deadline, name, person) is the list's keyset
        return super().page(after, limit)

    def set_mark(self, person_id: str, outcome: str, marked_on: str) -> None:
        with self._lock:
            if self._count is None:
                self._marks.append((person_id, outcome, marked_on))
            else:
                super().set_mark(person_id, outcome, marked_on)


def open_outreach(db, days: int, as_of: date, include_overdue: bool, channel: str | None, cancel=None) -> OutreachList:
    """The outreach list of ``days`` on ``as_of`` as a paged view; the caller closes it."""
    from desktop.services.outreach import check_cancel

    rules = db.rule_table()
    table = f"outreach_view_{next(_SEQ)}"
    since = as_of - timedelta(days=max(days, 30) + 31)
    with db.engine.connect() as conn:
        usable = lv.clock_usable(conn, as_of)
    if usable:
        current = Month.of(as_of)
        lo = min((current + 1 - r.suspend_offset_months).first_day() for r in rules.rules())
        if not include_overdue:
            lo = max(lo, as_of)
        bounds = {"lo": lo.isoformat(), "hi": (as_of + timedelta(days=days)).isoformat(), "cur": str(current),
                  "since": since.isoformat()}
        return ClockOutreachList(db.engine, table, bounds, channel)
    dmap = due_map(rules, days, as_of, include_overdue)
    check_cancel(cancel)
    conn = db.engine.connect()
    try:
        n = lv.snapshot_outreach(conn, table, as_of, dmap, since)
        conn.connection.driver_connection.commit()  # no open transaction (and WAL snapshot) while shown
    except BaseException:
        conn.close()
        raise
    return OutreachList(conn, table, n, channel)


def due_map(rules, days: int, as_of: date, include_overdue: bool = True) -> list[tuple[str, str, str, str, str]]:
    """(cohort, last_from, last_to, deadline, suspend month): the effective ``last`` dates whose
    deadline puts an entitlement on the outreach list of ``days`` (the rule table inverted as
    :meth:`OutreachService.due_within` does, then each day's deadline, in runs of equal ones)."""
    from desktop.domain.rules import deadline_for
    from desktop.services.outreach import _last_after, _last_before

    hi = as_of + timedelta(days=days)
    current = Month.of(as_of)
    out = []
    for rule in rules.rules():
        lo_deadline = (current + 1 - rule.suspend_offset_months).first_day()
        if not include_overdue:
            lo_deadline = max(lo_deadline, as_of)
        first, last = _last_after(rule, lo_deadline), _last_before(rule, hi)
        run = None
        d = first
        while d <= last:
            dl = deadline_for(rule, d)
            suspend = Month.of(dl) + rule.suspend_offset_months
            inside = dl <= hi and suspend > current and (include_overdue or dl >= as_of)
            key = (dl.isoformat(), str(suspend)) if inside else None
            if run is not None and run[1] == key:
                run[0][1] = d
            else:
                if run is not None and run[1] is not None:
                    out.append((rule.cohort, run[0][0].isoformat(), run[0][1].isoformat(), *run[1]))
                run = ([d, d], key)
            d += timedelta(days=1)
        if run is not None and run[1] is not None:
            out.append((rule.cohort, run[0][0].isoformat(), run[0][1].isoformat(), *run[1]))
    return out


class RowsList:
    """A list already computed (the due list, a payroll month's instructions) as the same paged
    source: sorted by key functions and filtered by a predicate in Python — once per change, not
    per cell as a sorting proxy model would — and handed out a page at a time, so the view only
    makes the rows on screen. ``after`` is the last row of the previous page."""

    def __init__(self, rows: Sequence, sorts: dict[str, Callable], match: Callable[[object, str], bool] | None = None):
        self._all = list(rows)
        self._sorts, self._match = sorts, match
        self._shown = self._all
        self._key: str | None = None
        self._desc = False
        self._text = ""
        self._pos: dict[int, int] = {}

    @property
    def count(self) -> int:
        return len(self._all)

    ready = True

    def complete(self) -> None:
        pass

    def matching(self) -> int:
        return len(self._shown)

    def all_rows(self) -> list:
        return list(self._all)

    def sort(self, key: str | None, descending: bool = False) -> None:
        if key is not None and key not in self._sorts:
            raise ValueError(key)
        self._key, self._desc = key, descending
        self._refresh()

    def filter(self, text: str) -> None:
        self._text = text.strip()
        self._refresh()

    def _refresh(self) -> None:
        rows = self._all
        if self._text and self._match is not None:
            rows = [r for r in rows if self._match(r, self._text)]
        if self._key is not None:
            rows = sorted(rows, key=self._sorts[self._key], reverse=self._desc)
        self._shown = rows
        self._pos = {}

    def page(self, after, limit: int) -> list:
        start = 0
        if after is not None:
            start = self._pos.get(id(after))
            if start is None:  # not a row handed out by this order: find it
                start = next((i + 1 for i, r in enumerate(self._shown) if r is after), len(self._shown))
        out = self._shown[start:start + limit]
        if out:
            self._pos[id(out[-1])] = start + len(out)
        return out

    def rows(self, page: int = 5_000) -> Iterator:
        yield from self._shown

    def close(self) -> None:
        pass
