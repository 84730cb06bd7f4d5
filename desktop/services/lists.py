"""Working lists for the bureau: who the next payroll run will suspend, and the long lists as
paged views kept by SQLite (issue 20: the outreach list, read a page at a time)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from db import outreach_repo as orepo
from db import repositories as repo
from desktop.domain import idnumber
from desktop.domain.months import Month
from desktop.domain.rules import COHORTS
from desktop.services.database import Database
from desktop.services.payroll import PayrollService


@dataclass(frozen=True, slots=True)
class DueRow:
    person_id: str
    name: str
    id_number: str
    cohort: str
    cohort_zh: str
    deadline: date
    suspend_from: str
    phone: str | None
    residence: str

    @property
    def masked_id(self) -> str:
        return idnumber.mask(self.id_number)


class ListService:
    def __init__(self, db: Database, payroll: PayrollService | None = None):
        self.db = db
        self.payroll = payroll or PayrollService(db)

    def due_next_month(self, as_of: date | None = None) -> list[DueRow]:
        """Everyone the next month's payroll run will suspend unless they certify first:
        the forecast of that run, counting certifications up to ``as_of``."""
        as_of = as_of or date.today()
        month = Month.of(as_of) + 1
        with self.db.engine.connect() as conn:
            result = self.payroll.compute(month, conn, run_day=as_of)
            people = repo.persons_by_numbers(conn, sorted({i["id_number"] for i in result.suspend}))
        rows = []
        for item in result.suspend:
            p = people.get(item["id_number"], {})
            rows.append(
                DueRow(
                    item["person_id"], item["name"], item["id_number"], item["cohort"],
                    COHORTS[item["cohort"]].name_zh, date.fromisoformat(item["missed_deadline"]),
                    item["suspend_from"], p.get("phone"), p.get("residence", "local"),
                )
            )
        rows.sort(key=lambda r: (r.deadline, r.name))
        return rows

    def outreach(self, days: int = 30, as_of: date | None = None, *, include_overdue: bool = True,
                 channel: str | None = None, cancel=None) -> "OutreachList":
        """The outreach list of ``days`` as a paged view (SQLite with the maintained aggregates);
        the caller closes it."""
        from desktop.errors import UserFacingError
        from desktop.services.outreach import check_cancel

        as_of = as_of or date.today()
        if days < 0:
            raise UserFacingError("天数不能为负")
        dmap = due_map(self.db.rule_table(), days, as_of, include_overdue)
        check_cancel(cancel)
        conn = self.db.engine.connect()
        table = f"outreach_view_{next(_SEQ)}"
        try:
            n = orepo.snapshot_outreach(conn, table, as_of, dmap, as_of - timedelta(days=max(days, 30) + 31))
            conn.connection.driver_connection.commit()  # no open transaction (and WAL snapshot) while shown
        except BaseException:
            conn.close()
            raise
        return OutreachList(conn, table, n, channel)


# --- long lists as views (issue 20) ----------------------------------------------------------------

_SEQ = itertools.count(1)


class PagedList:
    """A long list kept by SQLite while it is shown — a temporary table on a connection of its
    own — and read a page at a time in the order asked for (keyset paging: each page is one walk
    of an index on (sort column, position)); filters are SQL too. Only the rows on screen become
    Python objects. ``close()`` drops the table and gives the connection back."""

    SORTS: dict[str, str] = {}

    def __init__(self, conn, table: str, count: int):
        self._conn, self.table, self.count = conn, table, count
        self._sort: str | None = None
        self._desc = False
        self._where, self._params = "", {}
        self._cursor: tuple | None = None

    # the source protocol of ui.models.paged.PagedTableModel
    def sort(self, key: str | None, descending: bool = False) -> None:
        if key is not None and key not in self.SORTS:
            raise ValueError(key)
        self._sort, self._desc = (self.SORTS[key] if key else None), descending

    def filter(self, text: str) -> None:
        self._where, self._params = self._filter_sql(text.strip())

    def page(self, after, limit: int) -> list:
        if self._conn is None:
            return []
        raw = orepo.snapshot_page(self._conn, self.table, self._sort, self._desc,
                                  self._cursor if after is not None else None, limit, self._where, self._params)
        if raw:
            self._cursor = (raw[-1][-1], raw[-1][0])
        return [self._row(r[1:-1]) for r in raw]

    def rows(self, page: int = 5_000):
        """Every row in the current order, streamed a page at a time (exports)."""
        cursor = None
        while self._conn is not None:
            raw = orepo.snapshot_page(self._conn, self.table, self._sort, self._desc, cursor, page,
                                      self._where, self._params)
            yield from (self._row(r[1:-1]) for r in raw)
            if len(raw) < page:
                return
            cursor = (raw[-1][-1], raw[-1][0])

    def matching(self) -> int:
        """Rows that pass the filter."""
        return orepo.snapshot_count(self._conn, self.table, self._where, self._params) if self._conn is not None else 0

    def counts(self, column: str) -> dict[str, int]:
        return orepo.snapshot_counts(self._conn, self.table, column) if self._conn is not None else {}

    def close(self) -> None:
        if self._conn is not None:
            try:
                orepo.drop_snapshot(self._conn, self.table)
            finally:
                self._conn.close()
                self._conn = None

    def _filter_sql(self, text: str) -> tuple[str, dict]:
        return "", {}

    def _row(self, values: tuple):
        raise NotImplementedError


class OutreachList(PagedList):
    """:meth:`desktop.services.outreach.OutreachService.due_within` as a paged view: the same
    rows (OutreachRow) in the same order, kept in SQLite."""

    SORTS = {"deadline": "deadline", "name": "name", "phone": "phone", "suspend": "suspend",
             "channel": "channel", "last_outcome": "last_outcome", "id_number": "id_number"}

    def __init__(self, conn, table: str, count: int, channel: str | None = None):
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
        if self._conn is not None:
            orepo.snapshot_set(self._conn, self.table, "pid", person_id,
                               {"last_outcome": outcome, "last_marked_on": marked_on})

    def _row(self, v: tuple):
        from desktop.services.outreach import OutreachRow

        pid, name, number, phone, address, residence, channel, deadline, suspend, items, n, outcome, marked = v
        entries = sorted(tuple(i.split("|")) for i in items.split(";"))
        zh = "、".join(dict.fromkeys(COHORTS[c].name_zh for _, _, c in entries))
        return OutreachRow(pid, name, number, phone, address, residence or "local", channel,
                           date.fromisoformat(deadline), suspend, zh, n, outcome, marked)


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
