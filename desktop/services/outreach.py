"""到期提醒: residents whose deadline falls within N days, grouped by how they can certify.

``local``       lives here → 现场认证 at the counter, or 手机认证 in the app
``remote``      lives elsewhere → an assist form (协助认证表) by post
``home_visit``  house-bound (a flag set here) or a home visit is already booked → 上门认证

One proof of life covers every entitlement of a person (domain.md §1), so the list is per person,
with the earliest deadline among their active entitlements. Suspended entitlements are not here:
they have lapsed already (the payroll month view lists them).

Written for a league (a million entitlements): the rule table is inverted per cohort into the
range of ``last`` dates that are due (``_last_after`` / ``_last_before``), so the database returns
only the entitlements that qualify (``db.outreach_repo.outreach_candidates``); Python computes one
deadline per distinct (cohort, last) pair. ``scan_deadlines`` is the plain clock over every
entitlement, the reference those ranges are tested against.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

from db import journal
from db import outreach_repo as orepo
from db import repositories as repo
from db.models import new_id, utcnow
from desktop.domain import idnumber
from desktop.errors import NotFound, UserFacingError
from desktop.domain.months import Month
from desktop.domain.rules import COHORTS, RuleTable, deadline_for
from desktop.services.database import Database
from desktop.services.settings import SettingsService
from desktop.platform.workstation import Actor
from desktop.formats.xlsx import Cancelled

CHANNELS = ("local", "remote", "home_visit")
CHANNEL_ZH = {"local": "本地（到窗口或手机认证）", "remote": "异地（寄协助认证表）", "home_visit": "行动不便（上门认证）"}
CHANNEL_SHORT_ZH = {"local": "本地", "remote": "异地", "home_visit": "上门"}
OUTCOMES = ("called", "no_answer", "will_come", "form_sent", "letter_sent")
OUTCOME_ZH = {"called": "已通话", "no_answer": "未接通", "will_come": "答应前来", "form_sent": "已寄表",
              "letter_sent": "已寄告知书"}

Progress = Callable[[int, str], None]


def check_cancel(cancel) -> None:
    if cancel is not None and (cancel() if callable(cancel) else cancel.is_set()):
        raise Cancelled()


@dataclass(frozen=True, slots=True)
class OutreachRow:
    person_id: str
    name: str
    id_number: str
    phone: str | None
    address: str | None
    residence: str
    channel: str
    deadline: date  # the earliest deadline among the person's active entitlements
    suspend_from: str  # YYYY-MM payment stops if nothing is done
    cohorts_zh: str
    entitlements: int
    last_outcome: str | None = None
    last_marked_on: str | None = None

    @property
    def masked_id(self) -> str:
        return idnumber.mask(self.id_number)

    @property
    def channel_zh(self) -> str:
        return CHANNEL_SHORT_ZH[self.channel]

    @property
    def last_outcome_zh(self) -> str:
        return OUTCOME_ZH.get(self.last_outcome or "", "")

    def days_left(self, as_of: date) -> int:
        return (self.deadline - as_of).days


def scan_deadlines(conn, rules: RuleTable, as_of: date, cancel=None, progress: Progress | None = None):
    """Yields (entitlement_id, person_id, cohort, stored status, last ISO, deadline ISO, suspend month)
    for every living, non-terminated entitlement, counting certifications up to ``as_of``.

    The plain clock, one entitlement at a time: the reference the SQL of the outreach list and
    the dashboard's coverage are checked against (tests/outreach/test_list_sql.py)."""
    last_of = orepo.last_passed_iso(conn, as_of)
    rule_of = {r.cohort: r for r in rules.rules()}
    cache: dict[tuple[str, str], tuple[str, str]] = {}
    n = 0
    for eid, pid, cohort, start, status in orepo.living_entitlements(conn):
        n += 1
        if n % 100_000 == 0:
            check_cancel(cancel)
            if progress:
                progress(min(80, 10 + n // 20_000), f"已计算 {n:,} 项待遇")
        last = last_of.get(pid)
        if last is None or last < start:
            last = start
        key = (cohort, last)
        hit = cache.get(key)
        if hit is None:
            rule = rule_of[cohort]
            dl = deadline_for(rule, date.fromisoformat(last))
            hit = cache[key] = (dl.isoformat(), str(Month.of(dl) + rule.suspend_offset_months))
        yield eid, pid, cohort, status, last, hit[0], hit[1]


def _last_before(rule, deadline: date) -> date:
    """The latest ``last`` whose deadline is on or before ``deadline`` (deadlines never decrease
    as ``last`` grows, so a bisection inverts every rule kind)."""
    lo, hi = deadline - timedelta(days=366 * 20), deadline
    if deadline_for(rule, lo) > deadline:
        return lo - timedelta(days=1)
    while (hi - lo).days > 0:
        mid = lo + timedelta(days=((hi - lo).days + 1) // 2)
        if deadline_for(rule, mid) <= deadline:
            lo = mid
        else:
            hi = mid - timedelta(days=1)
    return lo


def _last_after(rule, deadline: date) -> date:
    """The earliest ``last`` whose deadline is on or after ``deadline``."""
    return _last_before(rule, deadline - timedelta(days=1)) + timedelta(days=1)


class OutreachService:
    def __init__(self, db: Database, settings: SettingsService):
        self.db = db
        self.settings = settings  # the bureau's name and address on the reminder letters

    # --- the list ------------------------------------------------------------------------------

    def due_within(self, days: int = 30, as_of: date | None = None, *, include_overdue: bool = True,
                   channel: str | None = None, progress: Progress | None = None, cancel=None) -> list[OutreachRow]:
        """Residents with an active entitlement whose deadline is within ``days`` of ``as_of``
        (and, with ``include_overdue``, those past it whose payment has not stopped yet)."""
        as_of = as_of or date.today()
        if days < 0:
            raise UserFacingError("天数不能为负")
        hi = as_of + timedelta(days=days)
        current = Month.of(as_of)
        say = progress or (lambda pct, text: None)
        say(5, "按认证规则筛选")
        rules = self.db.rule_table()
        bounds = {}
        for rule in rules.rules():
            # payment must not have stopped yet: suspend month > current month
            lo_deadline = (current + 1 - rule.suspend_offset_months).first_day()
            if not include_overdue:
                lo_deadline = max(lo_deadline, as_of)
            bounds[rule.cohort] = (_last_after(rule, lo_deadline), _last_before(rule, hi))
        check_cancel(cancel)
        # pid → [card, [(deadline, suspend month, cohort), …]]; most persons have one entitlement
        per_person: dict[str, list] = {}
        with self.db.engine.connect() as conn:
            found = orepo.outreach_candidates(conn, as_of, bounds)
            check_cancel(cancel)
            say(70, f"计算 {len(found):,} 项待遇的截止日期")
            rule_of = {r.cohort: r for r in rules.rules()}
            # (cohort, last) → (deadline, suspend month text) or None when outside the list
            cache: dict[tuple[str, str], tuple[date, str] | None] = {}
            for eid, pid, cohort, last, name, number, phone, address, residence in found:
                key = (cohort, last)
                try:
                    hit = cache[key]
                except KeyError:
                    rule = rule_of[cohort]
                    dl = deadline_for(rule, date.fromisoformat(last))
                    suspend = Month.of(dl) + rule.suspend_offset_months
                    inside = dl <= hi and suspend > current and (include_overdue or dl >= as_of)
                    hit = cache[key] = (dl, str(suspend)) if inside else None
                if hit is None:
                    continue
                entry = per_person.get(pid)
                if entry is None:
                    per_person[pid] = [(name, number, phone, address, residence), [(hit[0], hit[1], cohort)]]
                else:
                    entry[1].append((hit[0], hit[1], cohort))
            del found
            say(85, f"读取 {len(per_person):,} 人的联系记录")
            housebound = orepo.housebound_ids(conn)
            visits = orepo.open_visit_ids(conn)
            marks = orepo.latest_marks(conn, since=as_of - timedelta(days=max(days, 30) + 31))
        check_cancel(cancel)
        home = housebound | visits
        zh = {c: k.name_zh for c, k in COHORTS.items()}
        rows = []
        append = rows.append
        for pid, (card, items) in per_person.items():
            name, number, phone, address, residence = card
            ch = "home_visit" if pid in home else ("remote" if residence == "remote" else "local")
            if channel and ch != channel:
                continue
            if len(items) == 1:
                first, cohorts_zh = items[0], zh[items[0][2]]
            else:
                items.sort()
                first, cohorts_zh = items[0], "、".join(dict.fromkeys(zh[c] for _, _, c in items))
            mark = marks.get(pid)
            append(OutreachRow(
                pid, name, number, phone, address, residence or "local", ch, first[0], first[1], cohorts_zh,
                len(items), mark[0] if mark else None, mark[1] if mark else None,
            ))
        rows.sort(key=lambda r: (r.deadline, r.name, r.person_id))
        say(100, f"共 {len(rows):,} 人")
        return rows

    @staticmethod
    def grouped(rows: list[OutreachRow]) -> dict[str, list[OutreachRow]]:
        out: dict[str, list[OutreachRow]] = {c: [] for c in CHANNELS}
        for r in rows:
            out[r.channel].append(r)
        return out

    # --- marking --------------------------------------------------------------------------------

    def mark(self, person_id: str, outcome: str, actor: Actor, *, as_of: date | None = None,
             deadline: date | None = None, channel: str | None = None, note: str | None = None) -> str:
        if outcome not in OUTCOMES:
            raise UserFacingError(f"未知的联系结果：{outcome}")
        now = utcnow()
        row = {"id": new_id(), "person_id": person_id, "outcome": outcome, "channel": channel,
               "deadline": deadline, "marked_on": as_of or date.today(), "note": (note or None) and note[:200],
               "operator": actor.operator, "workstation": actor.workstation, "created_at": now}
        with self.db.engine.begin() as conn:
            if repo.person_by_id(conn, person_id) is None:
                raise NotFound("没有找到该人员")
            orepo.insert_mark(conn, row)
            journal.audit(conn, actor.operator, actor.workstation, "outreach.mark", "person", person_id,
                          {"outcome": outcome, "deadline": deadline.isoformat() if deadline else None})
            journal.enqueue(conn, [("outreach_mark", row["id"], journal.row_payload(row))])
        return row["id"]

    def mark_many(self, rows: list[OutreachRow], outcome: str, actor: Actor, *, as_of: date | None = None) -> int:
        """One mark per row in one transaction (e.g. "告知书已寄出" after a batch print)."""
        if outcome not in OUTCOMES:
            raise UserFacingError(f"未知的联系结果：{outcome}")
        now, day = utcnow(), as_of or date.today()
        new = [{"id": new_id(), "person_id": r.person_id, "outcome": outcome, "channel": r.channel,
                "deadline": r.deadline, "marked_on": day, "note": None, "operator": actor.operator,
                "workstation": actor.workstation, "created_at": now} for r in rows]
        if not new:
            return 0
        from db.bulk import bulk_insert

        with self.db.engine.begin() as conn:
            bulk_insert(conn, orepo.marks, new)
            journal.audit_many(conn, actor.operator, actor.workstation,
                               [("outreach.mark", "person", r["person_id"], {"outcome": outcome}) for r in new])
            journal.enqueue(conn, [("outreach_mark", r["id"], journal.row_payload(r)) for r in new])
        return len(new)

    def history(self, person_id: str) -> list[dict]:
        with self.db.engine.connect() as conn:
            return [{**m, "outcome_zh": OUTCOME_ZH.get(m["outcome"], m["outcome"])} for m in orepo.marks_of(conn, person_id)]

    def set_housebound(self, person_id: str, housebound: bool, actor: Actor, note: str | None = None) -> None:
        with self.db.engine.begin() as conn:
            if repo.person_by_id(conn, person_id) is None:
                raise NotFound("没有找到该人员")
            orepo.set_flag(conn, person_id, housebound, note, actor.operator, utcnow())
            journal.audit(conn, actor.operator, actor.workstation, "outreach.housebound", "person", person_id,
                          {"housebound": housebound})
            journal.enqueue(conn, [("outreach_flag", person_id, {"person_id": person_id, "housebound": housebound,
                                                                 "note": note})])

    # --- outputs --------------------------------------------------------------------------------

    def export_xlsx(self, rows: list[OutreachRow], path: Path, as_of: date, *, progress: Progress | None = None,
                    cancel=None) -> Path:
        """The list as a spreadsheet for the phone team: masked ID numbers, one sheet per channel."""
        groups = self.grouped(rows)
        return _write_list(path, as_of, {c: (groups[c], len(groups[c])) for c in CHANNELS}, progress, cancel)

    def export_view(self, view, path: Path, as_of: date, *, progress: Progress | None = None, cancel=None) -> Path:
        """:meth:`export_xlsx` of a paged list (desktop.services.paged_lists) as its filters show
        it, streamed from the database a page at a time: no list of every row is ever held."""
        view.complete()
        return _write_list(path, as_of, {c: (view.rows(channel=c), view.matching(c)) for c in CHANNELS},
                           progress, cancel)

    def reminder_letters(self, rows: list[OutreachRow], out, as_of: date, *, progress: Progress | None = None,
                         cancel=None) -> int:
        """告知书 for every row, one A4 page each, in one PDF. Returns the page count."""
        from desktop.printing.reminder import Letter, render_letters

        s = self.settings
        bureau = {"name": s.get("bureau_name"), "phone": s.get("bureau_phone"), "address": s.get("bureau_address"),
                  "postcode": s.get("bureau_postcode")}
        letters = [Letter(r.name, r.masked_id, r.address or "", r.cohorts_zh, r.deadline, r.suspend_from, r.channel)
                   for r in rows]
        pct = (lambda done, total: progress(int(100 * done / max(total, 1)), f"已生成 {done}/{total} 份")) if progress else None
        pages = render_letters(letters, out, bureau, as_of, progress=pct, cancel=cancel)
        if pages is None:
            raise Cancelled()
        return pages


EXPORT_HEADER = ["姓名", "身份证号码", "联系电话", "居住地址", "认证对象", "认证截止日期", "剩余天数", "暂停月份",
                 "最近联系结果", "联系日期"]


def _write_list(path: Path, as_of: date, groups: dict, progress, cancel) -> Path:
    """groups: channel → (rows, count); one sheet per channel, masked ID numbers."""
    from desktop.formats.xlsx import write_sheets

    def body(items):
        for r in items:
            yield [r.name, r.masked_id, r.phone or "", r.address or "", r.cohorts_zh, r.deadline.isoformat(),
                   r.days_left(as_of), r.suspend_from, r.last_outcome_zh, r.last_marked_on or ""]

    sheets = [(CHANNEL_SHORT_ZH[c] + "人员", f"认证到期提醒名单（{CHANNEL_ZH[c]}） 制表日 {as_of.isoformat()}",
               EXPORT_HEADER, body(groups[c][0]), groups[c][1]) for c in CHANNELS]
    return write_sheets(path, sheets, progress=progress, cancel=cancel)
