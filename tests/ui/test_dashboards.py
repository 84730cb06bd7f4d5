"""DashboardsPage (pytest-qt, offscreen): the charts show the service's figures for a hand-built
case; PNG and XLSX exports."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from desktop.domain.idnumber import make_number
from desktop.services.database import Database
from desktop.services.hub import Services
from desktop.services.imports import ROSTER_COLUMNS, ImportService
from desktop.platform.workstation import Actor

AS_OF = date(2026, 11, 29)
ADMIN = Actor("管理员", "ws-test", "admin")
CLERK = Actor("张敏", "ws-test", "clerk")


@pytest.fixture
def backend(tmp_path):
    from ui.models.backend import Backend

    rows = [
        ["甲", make_number("152202", date(1950, 3, 1), 1), "企业离退休人员", "2010-01-01", "2026-06-10", "1", "a", "本地", "3000"],
        ["乙", make_number("152202", date(1938, 3, 1), 2), "企业离退休人员", "2010-01-01", "2025-12-10", "2", "b", "本地", "3000"],
        ["丙", make_number("152202", date(1962, 3, 1), 3), "城乡居民养老保险待遇领取人员", "2022-01-01", "2026-02-01", "3", "c", "异地", "300"],
    ]
    path = tmp_path / "roster.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ROSTER_COLUMNS)
        w.writerows(rows)
    db = Database.open(str(tmp_path / "db.sqlite"))
    assert not ImportService(db).import_roster(path, ADMIN, today=AS_OF).rejected
    s = Services(db)
    ids = {r.name: r.id for r in s.persons.search("甲") + s.persons.search("乙") + s.persons.search("丙")}
    # 甲 (76): first-attempt pass, 40 s; 乙 (88): two attempts, 90 s; 丙 (64): failed then attestation
    s.persons.record_certification(ids["甲"], date(2026, 11, 2), "counter", CLERK, today=AS_OF,
                                   evidence={"service_seconds": 40, "face_attempts": 1, "face_passed": True})
    s.outreach.mark(ids["乙"], "will_come", CLERK, as_of=date(2026, 11, 20), deadline=date(2026, 12, 10))
    s.persons.record_certification(ids["乙"], date(2026, 11, 24), "counter", CLERK, today=AS_OF,
                                   evidence={"service_seconds": 90, "face_attempts": 2, "face_passed": True,
                                             "face_failures": ["too_dark"]})
    s.persons.record_certification(ids["丙"], date(2026, 10, 15), "staff_attestation", CLERK, today=AS_OF,
                                   approver="李主管", evidence={"service_seconds": 120, "face_attempts": 3,
                                                              "face_passed": False,
                                                              "face_failures": ["not_matching", "not_matching", "blurry"]})
    yield Backend(s.persons, s.lists, AS_OF, False, "test", s)
    db.dispose()


def test_service_figures_for_the_hand_built_case(backend):
    d = backend.services.dashboards.build(AS_OF)
    assert d.coverage["enterprise_retiree"] == {"valid": 2}
    assert d.coverage["resident_pension"] == {"valid": 1}
    assert d.by_method["2026-11"] == {"counter": 2} and d.by_method["2026-10"] == {"staff_attestation": 1}
    assert d.service_time["2026-11"] == {"n": 2, "median": 65.0, "p90": 90.0}
    assert d.face_by_age == {"60–69岁": {"n": 1, "first_pass": 0, "rate": 0.0},
                             "70–79岁": {"n": 1, "first_pass": 1, "rate": 100.0},
                             "80–89岁": {"n": 1, "first_pass": 0, "rate": 0.0}}
    assert d.failures == [("与参考照片不一致", 2), ("光线太暗", 1), ("画面模糊", 1)]
    assert d.outreach == {"contacted": 1, "prevented": 1, "lapsed": 0, "pending": 0}


def test_page_draws_charts_and_exports(qtbot, backend, styled_qapp, tmp_path):
    from openpyxl import load_workbook

    from ui import long_task
    from ui.pages.dashboards import DashboardsPage

    page = DashboardsPage()
    qtbot.addWidget(page)
    page.set_backend(backend)
    page.resize(1400, 1000)
    page.show()
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.activated()
    cov = page.views["coverage"].chart().series()[0]
    sets = {s.label(): [s.at(i) for i in range(s.count())] for s in cov.barSets()}
    assert sets["正常"] == [2.0, 1.0] and sets["已暂停"] == [0.0, 0.0]
    face = page.views["face"].chart().series()[0].barSets()[0]
    assert [face.at(i) for i in range(face.count())] == [0.0, 100.0, 0.0]
    fail = page.views["failures"].chart().series()[0].barSets()[0]
    assert [fail.at(i) for i in range(fail.count())] == [1.0, 1.0, 2.0]  # most frequent drawn on top
    pie = page.views["outreach"].chart().series()[0]
    assert pie.count() == 1 and pie.slices()[0].value() == 1
    assert page.cards["prevented"].value.text() == "1"

    for key, view in page.views.items():  # issue 19 §4: readable labels, not "…"
        chart = view.chart()
        assert chart.legend().font().pointSize() <= 10, key
        for axis in chart.axes():
            assert not axis.truncateLabels() and axis.labelsFont().pointSize() <= 10, key
    pngs = page.export_pngs(tmp_path / "png")
    assert len(pngs) == 7 and all(p.stat().st_size > 5000 for p in pngs)
    out = tmp_path / "看板.xlsx"
    with qtbot.waitSignal(page.taskbar.progress.valueChanged, timeout=100, raising=False):
        page.export_xlsx(out)
    assert long_task.wait_for_long_tasks(10_000)
    qtbot.waitUntil(lambda: out.exists(), timeout=5000)
    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames == ["覆盖情况", "每月认证量", "窗口办理时长", "首次刷脸通过率", "未通过原因", "电话提醒成效"]
    cov_rows = list(wb["覆盖情况"].iter_rows(values_only=True))
    assert cov_rows[1][:3] == ("认证对象", "正常", "即将到期") and cov_rows[-1][0] == "合计" and cov_rows[-1][1] == 3
    prevented = list(wb["电话提醒成效"].iter_rows(values_only=True))
    assert prevented[3] == ("联系后按期认证（避免暂停）", 1)
