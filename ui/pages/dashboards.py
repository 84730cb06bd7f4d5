"""统计看板: coverage, certifications per month, counter time, face pass rate, failure reasons,
and what the phone reminders achieved — for the bureau's director. Charts export as PNG, the
figures behind them as XLSX."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCharts import (QBarCategoryAxis, QBarSeries, QBarSet, QChart, QChartView, QHorizontalBarSeries,
                              QHorizontalStackedBarSeries, QPieSeries, QStackedBarSeries, QValueAxis)
from PySide6.QtCore import QMargins, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import (QFileDialog, QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QVBoxLayout, QWidget)

from desktop.domain.rules import COHORTS, STATUS_ZH, STATUSES
from ui.long_task import TaskBar
from ui.pages.bureau_common import error_text
from ui.pages.common import heading, hint

STATUS_COLORS = {"valid": "#2e7d32", "due_soon": "#f9a825", "overdue": "#ef6c00", "suspended": "#c62828",
                 "terminated": "#9e9e9e"}
METHOD_COLORS = {"counter": "#1565c0", "mobile_app": "#26a69a", "remote_assist": "#7e57c2", "home_visit": "#ef6c00",
                 "data_match": "#8d6e63", "staff_attestation": "#ec407a", "legacy": "#bdbdbd"}
COHORT_SHORT = {"enterprise_retiree": "企业退休", "institution_retiree": "机关事业退休", "resident_pension": "城乡居民养老",
                "enterprise_survivor": "企业遗属", "injury_recipient": "工伤待遇", "injury_dependant": "工伤供养亲属"}
CHARTS = [("coverage", "待遇覆盖情况（按认证对象、状态）"), ("by_method", "近12个月认证量（按认证方式）"),
          ("service_time", "窗口办理时长（秒）"), ("face", "首次刷脸通过率（按年龄段）"),
          ("failures", "刷脸未通过原因"), ("outreach", "电话提醒成效")]


STALE_S = 300  # seconds before the shown figures are computed again
LABEL_PT = 10  # axis labels and legends: the window's 13 pt made Qt Charts cut every one to "…"


def _label_font(base: QFont) -> QFont:
    f = QFont(base)
    f.setPointSize(LABEL_PT)
    return f


def _chart(title: str) -> QChart:
    chart = QChart()
    chart.setTitle(title)
    f = QFont(chart.titleFont())
    f.setPointSize(12)
    f.setBold(True)
    chart.setTitleFont(f)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.setMargins(QMargins(6, 6, 6, 6))
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    chart.legend().setFont(_label_font(chart.legend().font()))
    chart.legend().setShowToolTips(True)  # the whole name, should a legend still be too narrow
    return chart


def _bar_set(name: str, values, color: str | None = None) -> QBarSet:
    s = QBarSet(name)
    s.append([float(v) for v in values])
    if color:
        s.setColor(QColor(color))
        s.setBorderColor(QColor(color))
    return s


def _axes(chart: QChart, series, categories, horizontal=False, max_value=None, fmt="%d") -> None:
    cat = QBarCategoryAxis()
    cat.append(list(categories))
    cat.setTruncateLabels(False)  # 企业退休, 11月: whole words, never "…"
    cat.setLabelsFont(_label_font(cat.labelsFont()))
    val = QValueAxis()
    val.setLabelFormat(fmt)
    val.setTruncateLabels(False)
    val.setLabelsFont(_label_font(val.labelsFont()))
    if max_value is not None:
        val.setRange(0, max_value)
    chart.addAxis(cat, Qt.AlignmentFlag.AlignLeft if horizontal else Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(val, Qt.AlignmentFlag.AlignBottom if horizontal else Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(cat)
    series.attachAxis(val)
    if max_value is None:
        val.applyNiceNumbers()


class KpiCard(QFrame):
    def __init__(self, title: str, parent=None, color: str = "#1f2937"):
        super().__init__(parent)
        self.setObjectName("kpiCard")
        self.setStyleSheet("#kpiCard{background:#ffffff;border:1px solid #d9dee7;border-radius:8px;}")
        self.value = QLabel("—", self)
        self.value.setStyleSheet(f"font-size:24px;font-weight:600;color:{color};")
        self.caption = QLabel(title, self)
        self.caption.setStyleSheet("color:#5b6472;")
        self.note = QLabel("", self)
        self.note.setStyleSheet("color:#8a93a3;font-size:11px;")
        box = QVBoxLayout(self)
        box.setContentsMargins(14, 10, 14, 10)
        box.setSpacing(2)
        box.addWidget(self.caption)
        box.addWidget(self.value)
        box.addWidget(self.note)

    def set(self, value: str, note: str = "") -> None:
        self.value.setText(value)
        self.note.setText(note)


class DashboardsPage(QWidget):
    loaded = Signal()
    coverage_loaded = Signal()  # the first chart is drawn (the rest follow)
    failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.backend = None
        self.dashboard = None
        self.title = heading("统计看板", self)
        self.summary = QLabel("", self)
        self.summary.setObjectName("summary")
        self.explain = hint("", self)
        self.refresh_button = QPushButton("刷新", self)
        self.refresh_button.clicked.connect(self.reload)
        self.png_button = QPushButton("导出图表（PNG）…", self)
        self.png_button.clicked.connect(self._export_png)
        self.xlsx_button = QPushButton("导出数据（XLSX）…", self)
        self.xlsx_button.setObjectName("primaryButton")
        self.xlsx_button.clicked.connect(self._export_xlsx)
        self.taskbar = TaskBar(self)

        self.cards = {
            "total": KpiCard("在册待遇（项）", self), "valid": KpiCard("认证有效", self, STATUS_COLORS["valid"]),
            "due": KpiCard("30天内到期 / 已逾期", self, STATUS_COLORS["overdue"]),
            "suspended": KpiCard("已暂停发放", self, STATUS_COLORS["suspended"]),
            "month": KpiCard("本月认证（人次）", self, "#1565c0"),
            "prevented": KpiCard("提醒后按期认证（避免暂停）", self, "#2e7d32"),
        }
        # the figures wrap onto a second line on a narrow screen (never a sideways scroll bar)
        from ui.widgets.flow import FlowRow

        cards = FlowRow(self, spacing=10)
        cards.add(*self.cards.values())

        self.views: dict[str, QChartView] = {}
        grid = QGridLayout()
        grid.setSpacing(10)
        for i, (key, title) in enumerate(CHARTS):
            view = QChartView(_chart(title), self)
            view.setRenderHint(QPainter.RenderHint.Antialiasing)
            view.setMinimumHeight(300)
            view.setMinimumWidth(260)
            view.setObjectName(f"chart_{key}")
            self.views[key] = view
            grid.addWidget(view, i // 2, i % 2)

        body = QWidget(self)
        inner = QVBoxLayout(body)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(cards)
        inner.addLayout(grid, 1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        self.body = body

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.summary)
        top.addWidget(self.refresh_button)
        top.addWidget(self.png_button)
        top.addWidget(self.xlsx_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.explain)
        layout.addWidget(self.taskbar)
        layout.addWidget(scroll, 1)
        self._enable(False)

    def _enable(self, on: bool) -> None:
        self.png_button.setEnabled(on)
        self.xlsx_button.setEnabled(on)

    def set_backend(self, backend) -> None:
        self.backend = backend
        self.explain.setText(f"统计日 {backend.as_of.isoformat()}。状态按认证时钟计算：截止日前30天内为“即将到期”，"
                             "过了截止日尚未停发为“已逾期”。窗口时长和刷脸通过率来自现场认证记录。")

    def activated(self) -> None:
        """Shown: figures older than a few minutes are computed again (the counters keep working)."""
        import time

        stale = time.monotonic() - getattr(self, "_loaded_at", float("-inf")) > STALE_S
        if (self.dashboard is None or stale) and not self.taskbar.busy:
            self._loaded_at = time.monotonic()
            self.reload()

    def reload(self) -> None:
        if self.backend is None or self.taskbar.busy:
            return
        svc, as_of = self.backend.services.dashboards, self.backend.as_of
        self.refresh_button.setEnabled(False)
        # progressively: the coverage (maintained counts, a few thousand rows) is drawn first,
        # then the figures read from the certifications themselves
        self.taskbar.start(lambda report, cancel: svc.coverage(as_of, cancel=cancel),
                           lambda cov: self._coverage_loaded(svc, as_of, cov), self._failed, "正在统计覆盖情况…")

    def _coverage_loaded(self, svc, as_of, coverage) -> None:
        from desktop.services.dashboards import Dashboard

        self._coverage(Dashboard(as_of, (), coverage, {}, {}, {}, []))
        self.coverage_loaded.emit()
        self.taskbar.start(lambda report, cancel: svc.build(as_of, progress=report, cancel=cancel, coverage=coverage),
                           self._loaded, self._failed, "正在统计…")

    def _failed(self, exc) -> None:
        self.refresh_button.setEnabled(True)
        self.summary.setText(f"统计未完成：{error_text(exc)}")
        self.failed.emit(error_text(exc))

    def _loaded(self, dash) -> None:
        self.refresh_button.setEnabled(True)
        self.dashboard = dash
        self._fill_cards(dash)
        self._coverage(dash)
        self._by_method(dash)
        self._service_time(dash)
        self._face(dash)
        self._failures(dash)
        self._outreach(dash)
        self.summary.setText(f"统计日 {dash.as_of.isoformat()}")
        self._enable(True)
        self.loaded.emit()

    # --- figures -------------------------------------------------------------------------------

    def _fill_cards(self, d) -> None:
        t = d.coverage_totals()
        live = sum(v for k, v in t.items() if k != "terminated")
        self.cards["total"].set(f"{live:,}", f"另有已终止 {t['terminated']:,} 项")
        self.cards["valid"].set(f"{t['valid'] / max(live, 1):.1%}", f"{t['valid']:,} 项")
        self.cards["due"].set(f"{t['due_soon']:,} / {t['overdue']:,}", "请电话提醒，避免暂停")
        self.cards["suspended"].set(f"{t['suspended']:,}", f"占在册 {t['suspended'] / max(live, 1):.1%}")
        this = d.months[-1]
        self.cards["month"].set(f"{sum(d.by_method[this].values()):,}", f"{this[:4]}年{int(this[5:])}月")
        o = d.outreach
        self.cards["prevented"].set(f"{o.get('prevented', 0):,}",
                                    f"已联系 {o.get('contacted', 0):,} 人，仍逾期 {o.get('lapsed', 0):,} 人")

    def _reset(self, key: str) -> QChart:
        chart = self.views[key].chart()
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        return chart

    def _coverage(self, d) -> None:
        chart = self._reset("coverage")
        series = QHorizontalStackedBarSeries()
        cohorts = [c for c in COHORTS if sum(d.coverage[c].values())]
        for s in STATUSES:
            series.append(_bar_set(STATUS_ZH[s], [d.coverage[c].get(s, 0) for c in cohorts], STATUS_COLORS[s]))
        chart.addSeries(series)
        _axes(chart, series, [COHORT_SHORT[c] for c in cohorts], horizontal=True)

    def _by_method(self, d) -> None:
        from desktop.services.dashboards import METHOD_ORDER, METHODS_ZH

        chart = self._reset("by_method")
        series = QStackedBarSeries()
        for m in METHOD_ORDER:
            values = [d.by_method[mo].get(m, 0) for mo in d.months]
            if any(values):
                series.append(_bar_set(METHODS_ZH[m], values, METHOD_COLORS[m]))
        chart.addSeries(series)
        _axes(chart, series, [f"{int(mo[5:])}月" for mo in d.months])
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignRight)  # seven methods: a column, not a cut row

    def _service_time(self, d) -> None:
        chart = self._reset("service_time")
        months = [m for m in d.months if m in d.service_time]
        if not months:
            chart.setTitle(CHARTS[2][1] + "（暂无现场认证计时记录）")
            return
        chart.setTitle(CHARTS[2][1])
        series = QBarSeries()
        series.append(_bar_set("中位数", [d.service_time[m]["median"] for m in months], "#1565c0"))
        series.append(_bar_set("90%的居民不超过", [d.service_time[m]["p90"] for m in months], "#90caf9"))
        chart.addSeries(series)
        _axes(chart, series, [f"{int(m[5:])}月" for m in months])

    def _face(self, d) -> None:
        chart = self._reset("face")
        bands = list(d.face_by_age)
        if not bands:
            chart.setTitle(CHARTS[3][1] + "（暂无刷脸记录）")
            return
        chart.setTitle(CHARTS[3][1])
        series = QBarSeries()
        series.append(_bar_set("首次通过率（%）", [d.face_by_age[b]["rate"] for b in bands], "#26a69a"))
        series.setLabelsVisible(True)
        series.setLabelsFormat("@value%")
        chart.addSeries(series)
        _axes(chart, series, bands, max_value=100)
        chart.setTitle(f"{CHARTS[3][1]}（共 {sum(int(v['n']) for v in d.face_by_age.values())} 人次）")
        chart.legend().setVisible(False)

    def _failures(self, d) -> None:
        chart = self._reset("failures")
        items = list(reversed(d.failures[:8]))  # most frequent on top
        if not items:
            chart.setTitle(CHARTS[4][1] + "（暂无）")
            return
        chart.setTitle(CHARTS[4][1])
        series = QHorizontalBarSeries()
        series.append(_bar_set("次数", [n for _, n in items], "#c62828"))
        series.setLabelsVisible(True)
        chart.addSeries(series)
        _axes(chart, series, [r for r, _ in items], horizontal=True)
        chart.legend().setVisible(False)

    def _outreach(self, d) -> None:
        chart = self._reset("outreach")
        o = d.outreach
        series = QPieSeries()
        for key, label, color in (("prevented", "联系后按期认证", "#2e7d32"), ("pending", "尚未到期", "#f9a825"),
                                  ("lapsed", "联系后仍逾期", "#c62828")):
            if o.get(key):
                sl = series.append(f"{label} {o[key]}人", o[key])
                sl.setColor(QColor(color))
                sl.setLabelVisible(True)
        if not series.count():
            chart.setTitle(CHARTS[5][1] + "（暂无联系记录）")
            return
        chart.setTitle(f"{CHARTS[5][1]}（已联系 {o['contacted']} 人）")
        series.setPieSize(0.62)
        chart.addSeries(series)

    # --- exports -------------------------------------------------------------------------------

    def export_pngs(self, folder: Path) -> list[Path]:
        """Each chart as its own PNG, plus the whole board; returns the paths."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for key, title in CHARTS:
            p = folder / f"看板-{title.split('（')[0]}.png"
            self.views[key].grab().save(str(p), "PNG")
            paths.append(p)
        whole = folder / "看板-全部.png"
        self.body.grab().save(str(whole), "PNG")
        paths.append(whole)
        self.summary.setText(f"已导出 {len(paths)} 张图到 {folder}")
        return paths

    def _export_png(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "选择保存图表的文件夹", str(Path.home()))
        if folder:
            self.export_pngs(Path(folder))

    def export_xlsx(self, path: Path) -> None:
        svc, dash = self.backend.services.dashboards, self.dashboard
        self.taskbar.start(lambda report, cancel: svc.export_xlsx(dash, path),
                           lambda p: self.summary.setText(f"已导出到 {p}"), self._failed, "正在导出…")

    def _export_xlsx(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "导出统计数据", str(Path.home() / f"统计看板-{self.backend.as_of}.xlsx"),
                                              "Excel 文件 (*.xlsx)")
        if path:
            self.export_xlsx(Path(path))


PAGE_SPEC = {"key": "dashboards", "title": "统计看板", "shortcut": "Ctrl+0", "order": 33, "cls": DashboardsPage}
