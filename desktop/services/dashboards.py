"""统计看板: how the bureau is doing, as plain numbers the UI draws (charts) and exports (XLSX).

Counter evidence keys read (written by the counter workflow; all optional, a record without them
simply does not count towards that figure):

``service_seconds`` (or ``duration_s``, or ``started_at``/``finished_at`` ISO times)
                    clerk time for the resident, card on the reader to decision
``face_attempts``   number of face checks run for this certification (1 = first attempt)
``face_passed``     the final face check passed (bool); ``face.passed``/``face.attempts`` nested
                    forms are accepted too
``failure_reason``  (or ``face_failures``: a list of reason codes of failed attempts) — codes of
                    :class:`desktop.face.triage.Reason`, or free text
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from db import aggregates
from db import outreach_repo as orepo
from desktop.domain.labels import CERT_METHOD_ZH, FAILURE_REASON_ZH
from desktop.domain.months import Month
from desktop.domain.rules import COHORTS, STATUS_ZH, STATUSES
from desktop.services.database import Database
from desktop.domain.rules import RuleTable
from desktop.services.outreach import _last_before, check_cancel

METHODS_ZH = CERT_METHOD_ZH  # one table per concept (desktop.domain.labels)
METHOD_ORDER = ["counter", "mobile_app", "remote_assist", "home_visit", "data_match", "staff_attestation", "legacy"]
AGE_BANDS = [(0, 60, "60岁以下"), (60, 70, "60–69岁"), (70, 80, "70–79岁"), (80, 90, "80–89岁"), (90, 200, "90岁及以上")]
REASON_ZH = FAILURE_REASON_ZH


@dataclass(frozen=True)
class Dashboard:
    as_of: date
    months: tuple[str, ...]  # the last 12 months, oldest first
    coverage: dict[str, dict[str, int]]  # cohort → status → entitlements
    by_method: dict[str, dict[str, int]]  # month → method → passed certifications
    service_time: dict[str, dict[str, float]]  # month → {"n", "median", "p90"} seconds
    face_by_age: dict[str, dict[str, float]]  # band → {"n", "first_pass", "rate"}
    failures: list[tuple[str, int]]  # (reason zh, count), most frequent first
    outreach: dict[str, int] = field(default_factory=dict)  # contacted, certified_in_time, prevented...

    def coverage_totals(self) -> dict[str, int]:
        out = Counter()
        for per in self.coverage.values():
            out.update(per)
        return {s: out.get(s, 0) for s in STATUSES}

    def tables(self) -> list[tuple[str, list[str], list[list]]]:
        """Every figure as a table: (title, header, rows) — what the XLSX export writes."""
        cov = [[COHORTS[c].name_zh] + [self.coverage[c].get(s, 0) for s in STATUSES] + [sum(self.coverage[c].values())]
               for c in COHORTS]
        tot = self.coverage_totals()
        cov.append(["合计"] + [tot[s] for s in STATUSES] + [sum(tot.values())])
        methods = [m for m in METHOD_ORDER if any(self.by_method[mo].get(m) for mo in self.months)]
        bym = [[mo] + [self.by_method[mo].get(m, 0) for m in methods] + [sum(self.by_method[mo].values())] for mo in self.months]
        st = [[mo, int(v["n"]), v["median"], v["p90"]] for mo, v in self.service_time.items()]
        face = [[b, int(v["n"]), int(v["first_pass"]), v["rate"]] for b, v in self.face_by_age.items()]
        o = self.outreach
        return [
            ("覆盖情况", ["认证对象"] + [STATUS_ZH[s] for s in STATUSES] + ["合计"], cov),
            ("每月认证量", ["月份"] + [METHODS_ZH[m] for m in methods] + ["合计"], bym),
            ("窗口办理时长", ["月份", "办理人次", "中位数（秒）", "90%不超过（秒）"], st),
            ("首次刷脸通过率", ["年龄段", "刷脸人次", "首次通过", "首次通过率（%）"], face),
            ("未通过原因", ["原因", "次数"], [list(x) for x in self.failures]),
            ("电话提醒成效", ["指标", "人数"], [["已联系", o.get("contacted", 0)],
                                           ["联系后按期认证（避免暂停）", o.get("prevented", 0)],
                                           ["联系后仍逾期", o.get("lapsed", 0)],
                                           ["尚未到期", o.get("pending", 0)]]),
        ]


def _seconds(ev: dict) -> float | None:
    for key in ("service_seconds", "duration_s", "seconds"):
        v = ev.get(key)
        if isinstance(v, (int, float)) and v > 0:
            return float(v)
    a, b = ev.get("started_at"), ev.get("finished_at")
    if a and b:
        try:
            s = (datetime.fromisoformat(str(b)) - datetime.fromisoformat(str(a))).total_seconds()
            return s if s > 0 else None
        except ValueError:
            return None
    return None


def _face(ev: dict) -> tuple[int | None, bool | None, list[str]]:
    face = ev.get("face") if isinstance(ev.get("face"), dict) else {}
    attempts = ev.get("face_attempts", face.get("attempts"))
    passed = ev.get("face_passed", face.get("passed"))
    reasons = ev.get("face_failures", face.get("failures")) or []
    if ev.get("failure_reason"):
        reasons = list(reasons) + [ev["failure_reason"]]
    return (int(attempts) if isinstance(attempts, (int, float)) else None,
            bool(passed) if passed is not None else None, [str(r) for r in reasons])


def coverage_thresholds(rules: RuleTable, as_of: date) -> dict[str, tuple[date, date, date]]:
    """Per cohort, the latest effective ``last`` that is still (suspended, overdue, due_soon) on
    ``as_of`` — the clock of :func:`desktop.domain.rules.clock` inverted (deadlines never decrease as
    ``last`` grows), so the database classifies a million entitlements by comparing dates:

    suspended  the suspension month has come: month(deadline) + offset ≤ this month
    overdue    deadline < as_of
    due_soon   deadline ≤ as_of + warn_days
    """
    current = Month.of(as_of)
    out = {}
    for rule in rules.rules():
        first_paid = (current - rule.suspend_offset_months + 1).first_day()  # deadlines from here still pay
        out[rule.cohort] = (_last_before(rule, first_paid - timedelta(days=1)),
                            _last_before(rule, as_of - timedelta(days=1)),
                            _last_before(rule, as_of + timedelta(days=rule.warn_days)))
    return out


def _coverage_from_buckets(buckets, thresholds: dict[str, tuple[date, date, date]]):
    """The answer of :func:`db.outreach_repo.coverage_counts` and ``status_counts`` from the
    maintained coverage buckets (valid when no passed certification is dated after ``as_of``):
    the same classification, per bucket instead of per entitlement."""
    iso = {c: tuple(t.isoformat() for t in ts) for c, ts in thresholds.items()}
    counts: Counter = Counter()
    stored: Counter = Counter()
    for cohort, status, alive, eff, n in buckets:
        stored[(cohort, status)] += n
        if not alive or status == "terminated":
            continue
        t = iso.get(cohort)
        if status == "suspended" or (t is not None and eff <= t[0]):
            st = "suspended"
        elif t is not None and eff <= t[1]:
            st = "overdue"
        elif t is not None and eff <= t[2]:
            st = "due_soon"
        else:
            st = "valid"
        counts[(cohort, st)] += n
    return ([(c, st, n) for (c, st), n in counts.items() if n],
            [(c, st, n) for (c, st), n in stored.items() if n])


def _band(birth: str | None, on: str) -> str | None:
    if not birth:
        return None
    b, d = date.fromisoformat(birth), date.fromisoformat(on)
    age = d.year - b.year - ((d.month, d.day) < (b.month, b.day))
    for lo, hi, name in AGE_BANDS:
        if lo <= age < hi:
            return name
    return None


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(q * (len(s) - 1))))
    return round(s[k], 1)


class DashboardService:
    def __init__(self, db: Database):
        self.db = db

    def coverage(self, as_of: date | None = None, *, cancel=None) -> dict[str, dict[str, int]]:
        """cohort → status → entitlements on ``as_of`` (the first chart: from the maintained
        coverage buckets, a few thousand rows, whenever no passed certification is dated after
        ``as_of``; otherwise counted over every entitlement)."""
        as_of = as_of or date.today()
        thresholds = coverage_thresholds(self.db.rule_table(), as_of)
        coverage: dict[str, Counter] = {c: Counter() for c in COHORTS}
        with self.db.engine.connect() as conn:
            counts, stored = (_coverage_from_buckets(aggregates.coverage_buckets(conn), thresholds)
                              if aggregates.available(conn)
                              and (aggregates.latest_passed_date(conn) or "") <= as_of.isoformat()
                              else (orepo.coverage_counts(conn, as_of, thresholds), orepo.status_counts(conn)))
            for cohort, status, n in counts:
                if cohort in coverage:
                    coverage[cohort][status] += n
            check_cancel(cancel)
            for cohort, status, n in stored:
                if status == "terminated" and cohort in coverage:
                    coverage[cohort]["terminated"] += n
        return {c: dict(v) for c, v in coverage.items()}

    def build(self, as_of: date | None = None, *, progress=None, cancel=None,
              coverage: dict[str, dict[str, int]] | None = None) -> Dashboard:
        """Every figure; ``coverage``: the answer of :meth:`coverage` already shown (the page
        draws that chart first)."""
        as_of = as_of or date.today()
        say = progress or (lambda pct, text: None)
        here = Month.of(as_of)
        months = tuple(str(here - k) for k in range(11, -1, -1))
        since = Month.parse(months[0]).first_day()
        say(5, "统计覆盖情况")
        if coverage is None:
            coverage = self.coverage(as_of, cancel=cancel)
        with self.db.engine.connect() as conn:
            maintained = aggregates.available(conn)
            say(82, "统计认证量")
            by_method: dict[str, Counter] = {m: Counter() for m in months}
            per_month = (aggregates.cert_month_counts(conn, months[0]) if maintained
                         else orepo.certifications_by_month(conn, since))
            attended_months = set()
            for m, method, result, n in per_month:
                if result == "passed" and m in by_method:
                    by_method[m][method] += n
                if method in orepo.ATTENDED:
                    attended_months.add(m)
            say(88, "统计窗口办理情况")
            # attended checks are read only when the monthly counts say there are any
            attended = orepo.attended_certifications(conn, since) if attended_months or not maintained else []
            marks = orepo.all_marks(conn)
            certs = orepo.passed_dates_iso(conn, sorted({m[0] for m in marks}))
        times: dict[str, list[float]] = defaultdict(list)
        face_n: Counter = Counter()
        face_ok: Counter = Counter()
        reasons: Counter = Counter()
        for cert_date, method, result, evidence, birth, _pid in attended:
            try:
                ev = json.loads(evidence) if evidence else {}
            except ValueError:
                ev = {}
            if not isinstance(ev, dict):
                continue
            if method == "counter":
                s = _seconds(ev)
                if s is not None:
                    times[cert_date[:7]].append(s)
            attempts, passed, failed = _face(ev)
            if attempts is not None or passed is not None:
                band = _band(birth, cert_date)
                if band:
                    face_n[band] += 1
                    if passed and (attempts or 1) == 1:
                        face_ok[band] += 1
            for r in failed:
                reasons[REASON_ZH.get(r, r)] += 1
            if result == "failed" and not failed:
                reasons["未记录原因"] += 1
        service_time = {m: {"n": len(times[m]), "median": round(statistics.median(times[m]), 1),
                            "p90": _pct(times[m], 0.9)} for m in months if times.get(m)}
        face_by_age = {name: {"n": face_n[name], "first_pass": face_ok[name],
                              "rate": round(100 * face_ok[name] / face_n[name], 1) if face_n[name] else 0.0}
                       for _, _, name in AGE_BANDS if face_n[name]}
        say(95, "统计电话提醒成效")
        outreach = self._outreach(marks, certs, as_of)
        say(100, "完成")
        return Dashboard(as_of, months, {c: dict(v) for c, v in coverage.items()},
                         {m: dict(v) for m, v in by_method.items()}, service_time, face_by_age,
                         sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:12], outreach)

    @staticmethod
    def _outreach(marks, certs, as_of: date) -> dict[str, int]:
        """Per person and deadline reached by a successful contact (anything but "no answer"):
        ``prevented`` = certified between the first contact and the deadline; ``lapsed`` = the
        deadline passed without one; ``pending`` = not yet due and not yet certified."""
        first: dict[tuple[str, str], str] = {}
        for pid, outcome, marked_on, deadline in marks:
            if outcome == "no_answer" or not deadline:
                continue
            key = (pid, deadline)
            if key not in first or marked_on < first[key]:
                first[key] = marked_on
        today = as_of.isoformat()
        out = Counter()
        for (pid, deadline), marked_on in first.items():
            out["contacted"] += 1
            if any(marked_on <= d <= deadline for d in certs.get(pid, ())):
                out["prevented"] += 1
            elif deadline < today:
                out["lapsed"] += 1
            else:
                out["pending"] += 1
        return {k: out.get(k, 0) for k in ("contacted", "prevented", "lapsed", "pending")}

    @staticmethod
    def export_xlsx(dash: Dashboard, path: Path) -> Path:
        from desktop.formats.xlsx import write_sheets

        sheets = [(title, f"{title}（统计日 {dash.as_of.isoformat()}）", header, iter(rows), len(rows))
                  for title, header, rows in dash.tables()]
        return write_sheets(path, sheets)
