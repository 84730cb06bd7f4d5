"""The window fits every counter screen (issue 19 §1): 1024×768, 1366×768 and 1920×1080 at 150 %
(1280×720 logical). Each screen is emulated by Qt's offscreen platform in a subprocess
(:mod:`tests.ui.fit_probe`: a QApplication cannot change its screens), which starts the window as
``certdesk`` does, visits every page and dialog it can open, runs residents through the counter,
and reports every window, dialog or button that is not on the screen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
SCREENS = [("1024x768", 1.0), ("1366x768", 1.0), ("1280x720", 1.5)]
TWO_MONITORS = ("1366x768", 1.0, 2)  # the clerk's monitor and the resident's


@pytest.fixture(scope="module")
def probes(tmp_path_factory):
    """All three screens at once (each subprocess mostly waits for its own widgets)."""
    procs = {}
    for size, dpr, screens in [(s, d, 1) for s, d in SCREENS] + [TWO_MONITORS]:
        home = tmp_path_factory.mktemp(f"fit-{size}-{screens}")
        env = dict(os.environ, CERTDESK_HOME=str(home), PYTHONPATH=str(ROOT))
        env.pop("QT_QPA_PLATFORM", None)
        key = (size, dpr) if screens == 1 else TWO_MONITORS
        procs[key] = subprocess.Popen(
            [sys.executable, "-m", "tests.ui.fit_probe", size, "--dpr", str(dpr), "--screens", str(screens)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = {}
    for key, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"{key}: the probe failed\n{stderr[-3000:]}"
        out[key] = json.loads(stdout[stdout.index("{"):])
    return out


@pytest.mark.parametrize("size,dpr", SCREENS, ids=[f"{s}@{d}" for s, d in SCREENS])
def test_every_page_and_dialog_fits_the_screen(probes, size, dpr):
    report = probes[(size, dpr)]
    assert report["problems"] == [], "\n".join(report["problems"])
    # it really went everywhere: every page, the counter's steps and dialogs, settings, lock, previews
    steps = report["steps"]
    for step in ("login", "counter idle", "page search", "page due", "page outreach", "page payroll_month",
                 "page operators", "page person", "counter person", "counter helper dialog", "counter face failed",
                 "counter attestation dialog", "counter receipt preview", "counter printed",
                 "counter manual entry dialog", "counter second card", "lock screen", "forms print preview"):
        assert step in steps, f"the probe never reached {step!r}: {steps}"
    assert sum(s.startswith("settings tab") for s in steps) >= 5


@pytest.mark.parametrize("size,dpr", SCREENS, ids=[f"{s}@{d}" for s, d in SCREENS])
def test_one_monitor_docks_the_resident_screen_in_the_counter(probes, size, dpr):
    """Issue 19 §2: no window covering the counter; the clerk sees the preview and its state."""
    r = probes[(size, dpr)]["resident"]
    assert r["placement"] == "docked" and r["docked_in_counter"], r
    assert r["indicator"] == "单屏：右侧预览"
    assert r["active_is_main"] and r["focus_in_main"], r


def test_two_monitors_put_the_resident_screen_full_screen_on_the_second_without_focus(probes):
    report = probes[TWO_MONITORS]
    assert report["problems"] == [], "\n".join(report["problems"])
    r = report["resident"]
    assert r["placement"] == "second_screen" and r["full_screen"] and r["geometry_is_screen"], r
    assert r["window_on_screen"] == 0 and r["on_screen"] == 1, r
    assert r["indicator"] == "第二屏幕显示中"
    # the clerk keeps the keyboard: after sign-in and after every page, dialog and resident
    assert r["active_is_main"] and r["focus_in_main"], r
    assert r["active_after_flow"] in ("main", None), r  # offscreen has no window manager to hand it back


def test_minimum_size_is_below_every_counter_screen(probes):
    for report in probes.values():
        w, h = report["min_size"]
        assert w <= 1000 and h <= 700, report["min_size"]
        hw, hh = report["min_hint"]
        assert hw <= 1000 and hh <= 700, report["min_hint"]


def test_flow_row_wraps_instead_of_widening(qtbot):
    from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

    from ui.widgets.flow import FlowRow

    host = QWidget()
    qtbot.addWidget(host)
    row = FlowRow(host, spacing=8)
    buttons = [QPushButton(f"按钮 {i} 比较长的文字", host) for i in range(6)]
    row.add(*buttons)
    QVBoxLayout(host).addWidget(row)
    one_line = row.flow.sizeHint().width()
    host.resize(one_line // 3, 400)
    host.show()
    qtbot.waitExposed(host)
    assert host.minimumSizeHint().width() < one_line // 2  # the widest button, not the whole row
    tops = {b.geometry().top() for b in buttons}
    assert len(tops) >= 3, "the buttons did not wrap"
    for b in buttons:
        assert b.geometry().right() <= row.width(), "a button lies beyond the row"
    assert row.height() >= row.flow.heightForWidth(row.width()) - 1


def test_a_dialog_larger_than_the_screen_is_fitted_and_placed_on_it(qtbot, styled_qapp):
    from PySide6.QtWidgets import QDialog, QPushButton, QVBoxLayout

    dlg = QDialog()
    qtbot.addWidget(dlg)
    QVBoxLayout(dlg).addWidget(QPushButton("打印", dlg))
    area = dlg.screen().availableGeometry()
    dlg.resize(area.width() + 400, area.height() + 300)
    dlg.move(area.right() - 50, area.bottom() - 50)  # drifted to the edge
    dlg.show()
    qtbot.waitExposed(dlg)
    assert area.contains(dlg.frameGeometry()), (dlg.frameGeometry(), area)


def test_previews_fit_the_screen_and_print_is_the_default(qtbot, styled_qapp, tmp_path):
    from reportlab.pdfgen.canvas import Canvas

    from ui.dialogs.forms_preview import FormsPreviewDialog
    from ui.dialogs.receipt_preview import ReceiptPreviewDialog

    pdf = tmp_path / "a.pdf"
    c = Canvas(str(pdf))
    c.drawString(72, 700, "x")
    c.save()
    for dlg in (FormsPreviewDialog(pdf), ReceiptPreviewDialog(pdf, None)):
        qtbot.addWidget(dlg)
        area = dlg.screen().availableGeometry()
        dlg.show()
        qtbot.waitExposed(dlg)
        assert area.contains(dlg.frameGeometry())
        assert dlg.print_button.isDefault()
        qtbot.waitUntil(lambda d=dlg: getattr(d, "total", 1) and (not hasattr(d, "image") or d.image is not None),
                        timeout=10_000)
        dlg.close()
