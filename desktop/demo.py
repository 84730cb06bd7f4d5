"""A demo database: a few thousand synthetic residents of Hinggan League (兴安盟).

Valid ID numbers from the league's region codes, every cohort, every status: payroll runs for
the past months leave suspensions, later counter visits leave resumptions, a death report
leaves terminations and overpayments. Everything goes through the real services (import,
payroll, certification), so the demo exercises the same code as production.
"""

from __future__ import annotations

import csv
import random
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

from desktop.domain.idnumber import make_number
from desktop.domain.months import Month, add_months
from desktop.domain.rules import COHORTS
from desktop.services.database import Database
from desktop.services.imports import ROSTER_COLUMNS, ImportService
from desktop.services.payroll import PayrollService
from desktop.services.settings import SettingsService
from desktop.services.persons import PersonService
from desktop.platform.workstation import Actor

LEAGUE_REGIONS = ["152202"] * 6 + ["152201", "152221", "152222", "152223", "152224", "152200"]
REMOTE_PLACES = [
    ("110105", "北京市朝阳区望京街道"), ("120103", "天津市河西区友谊路街道"), ("210102", "辽宁省沈阳市和平区"),
    ("220104", "吉林省长春市朝阳区"), ("150102", "呼和浩特市新城区"), ("230103", "黑龙江省哈尔滨市南岗区"),
    ("370202", "山东省青岛市市南区"), ("440304", "广东省深圳市福田区"),
]
LOCAL_STREETS = ["阿尔山市林海街道", "阿尔山市新城街道", "阿尔山市温泉街道", "阿尔山市白狼镇", "阿尔山市五岔沟镇",
                 "阿尔山市明水河镇", "阿尔山市天池镇", "阿尔山市伊尔施镇"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤包乌"
GIVEN = "桂兰淑珍秀英玉凤金花建国志强文华国庆海军丽娟红梅德胜宝山巴特尔其木格乌云斯琴额尔敦那仁图雅明月春生福海长林秀云丽华振华桂芝玉珍凤兰树林"
COHORT_WEIGHTS = [
    ("enterprise_retiree", 40), ("institution_retiree", 12), ("resident_pension", 30),
    ("enterprise_survivor", 7), ("injury_recipient", 6), ("injury_dependant", 5),
]
AMOUNTS = {"enterprise_retiree": (2400, 4800), "institution_retiree": (4200, 7800), "resident_pension": (180, 420),
           "enterprise_survivor": (900, 1600), "injury_recipient": (1800, 3600), "injury_dependant": (800, 1500)}

DEMO_ACTOR = Actor("演示数据", "demo-ws", "admin")


def _name(rng: random.Random) -> str:
    n = rng.choice((1, 2, 2))
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(n))


def _rows(rng: random.Random, persons: int, today: date, history: list):
    cohorts = [c for c, w in COHORT_WEIGHTS for _ in range(w)]
    used: set[str] = set()
    for i in range(persons):
        remote = rng.random() < 0.18
        region = rng.choice(LEAGUE_REGIONS)
        birth = date(rng.randint(1928, 1966), rng.randint(1, 12), rng.randint(1, 28))
        while True:
            number = make_number(region, birth, rng.randint(1, 999))
            if number not in used:
                used.add(number)
                break
        name = _name(rng)
        address = rng.choice(REMOTE_PLACES)[1] if remote else rng.choice(LOCAL_STREETS) + f"{rng.randint(1, 60)}号"
        phone = f"1{rng.choice('35789')}{rng.randint(0, 999999999):09d}"
        held = [rng.choice(cohorts)]
        if rng.random() < 0.08:  # a second entitlement, e.g. pension + survivor benefit
            other = rng.choice([c for c in COHORTS if c not in held])
            held.append(other)
        for cohort in held:
            start = max(date(birth.year + 55, birth.month, 1), date(2000, 1, 1))
            start = min(start, today - timedelta(days=400))
            lo, hi = AMOUNTS[cohort]
            # last certification: mostly recent, a tail of people who have not come for a long time
            r = rng.random()
            if cohort == "enterprise_survivor":
                days_ago = rng.randint(0, 75) if r < 0.85 else rng.randint(76, 500)
            elif r < 0.70:
                days_ago = rng.randint(0, 300)
            elif r < 0.90:
                days_ago = rng.randint(300, 420)
            else:
                days_ago = rng.randint(420, 900)
            last = max(today - timedelta(days=days_ago), start)
            # earlier proofs of life, so past payroll runs see a realistic history
            step = 30 if cohort == "enterprise_survivor" else (360 if "retiree" in cohort else 175)
            earlier = last
            for _ in range(14 if step == 30 else 2):
                earlier = earlier - timedelta(days=step - rng.randint(0, 12))
                if earlier <= start:
                    break
                history.append([number, name, earlier.isoformat(), rng.choice(("手机认证", "手机认证", "信息比对")), "通过"])
            yield [name, number, COHORTS[cohort].name_zh, start.isoformat(), last.isoformat(), phone, address,
                   "异地" if remote else "本地", f"{rng.randint(lo, hi)}"]


def build_demo_database(db: Database, persons: int = 3000, today: date | None = None, seed: int = 2026,
                        progress: Callable[[int, str], None] | None = None) -> dict:
    """Fill ``db`` with demo data as of ``today``. Returns counts."""
    today = today or date.today()
    rng = random.Random(seed)
    say = progress or (lambda pct, text: None)
    say(5, "生成名册")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo-roster.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(ROSTER_COLUMNS)
            history: list = []
            w.writerows(_rows(rng, persons, today, history))
        say(10, "导入名册")
        report = ImportService(db).import_roster(path, DEMO_ACTOR, today=today)
        hist = Path(tmp) / "demo-history.csv"
        with hist.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["公民身份号码", "姓名", "认证日期", "认证方式", "认证结果"])
            w.writerows(history)
        say(18, "导入历史认证记录")
        ImportService(db).import_results(hist, DEMO_ACTOR, today=today)

    payroll = PayrollService(db, SettingsService(db))
    current = Month.of(today)
    months = [current - k for k in range(6, 0, -1)]
    for i, m in enumerate(months):
        say(25 + 8 * i, f"制作 {m} 发放名单")
        payroll.run(m, DEMO_ACTOR)

    # some suspended residents came back to the counter this month → resumptions with back pay
    say(80, "记录现场认证")
    people = PersonService(db)
    suspended = [r for r in _suspended_people(db)]
    rng.shuffle(suspended)
    counter = Actor("张敏", "demo-ws", "clerk")
    for pid in suspended[: max(1, len(suspended) // 3)]:
        day = today - timedelta(days=rng.randint(0, min(20, today.day - 1 if today.day > 1 else 0)))
        people.record_certification(pid, day, "counter", counter, evidence={"demo": True}, today=today)

    # a death report from the civil-affairs data exchange
    say(88, "导入死亡信息")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deaths.csv"
        victims = _some_people(db, rng, max(3, persons // 150))
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["公民身份号码", "姓名", "死亡日期", "来源"])
            for number, name in victims:
                w.writerow([number, name, (add_months(today, -rng.randint(1, 5)) - timedelta(days=rng.randint(0, 25))).isoformat(), "民政殡葬信息"])
        ImportService(db).import_results(path, DEMO_ACTOR, today=today)
    say(95, f"制作 {current} 发放名单")
    payroll.run(current, DEMO_ACTOR)
    say(100, "完成")
    return {"imported": report.imported, "rejected": len(report.rejected)}


def _suspended_people(db: Database) -> list[str]:
    from db import repositories as repo

    with db.engine.connect() as conn:
        return repo.person_ids_with_status(conn, "suspended")


def _some_people(db: Database, rng: random.Random, n: int) -> list[tuple[str, str]]:
    from db import repositories as repo

    with db.engine.connect() as conn:
        people = repo.sample_persons(conn, n * 5)
    rng.shuffle(people)
    return people[:n]
