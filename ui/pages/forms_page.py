"""异地协助认证表: batch printing, receiving returned forms, tracking (issue 6).

A self-contained page: the main window passes the services in the constructor,
``FormsPage(forms_service, actor, as_of=backend.as_of, operators=…, printer_name=…, camera_factory=…)``
(``printer_name``: the station's printer, a string or a callable; ``camera_factory``: returns a
started frame source for 用摄像头扫描, see :func:`ui.dialogs.qr_camera_dialog.camera_factory_for`).
Every service call goes through
:func:`ui.workers.run_in_background`; nothing here touches the database or SQL.
"""

from __future__ import annotations

import tempfile
import threading
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (QComboBox, QDateEdit, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QProgressBar, QPushButton, QSpinBox, QTabWidget, QVBoxLayout,
                               QWidget)

from ui.models.table import Column, RowTableModel
from ui.pages.common import heading, hint, make_table, row_of
from ui.workers import progress_reporter, run_in_background

OK_STYLE = "color: #1b6e20; font-weight: bold;"
BAD_STYLE = "color: #b00020; font-weight: bold;"


def _err(exc: BaseException) -> str:
    return getattr(exc, "message_zh", None) or str(exc) or exc.__class__.__name__


class FormsPage(QWidget):
    """Tabs 批量打印 / 收回登记 / 跟踪. Signals: ``batch_finished(result)``, ``check_finished(check)``,
    ``receive_finished(result)``, ``list_loaded(rows)``, ``reprinted(pdf_path)``."""

    batch_finished = Signal(object)
    check_finished = Signal(object)
    receive_finished = Signal(object)
    list_loaded = Signal(object)
    reprinted = Signal(str)
    person_requested = Signal(str)  # person id (double-click in the tracking list)

    def __init__(self, forms, actor, as_of: date | None = None, *, operators, output_dir: str | Path | None = None,
                 printer_name=None, camera_factory=None, parent=None):
        super().__init__(parent)
        self.forms, self.actor = forms, actor
        self.operators = operators  # the supervisor who confirms a typed serial signs with their password
        self.printer_name = printer_name
        self.camera_factory = camera_factory
        self.camera_dialog = None
        self.camera_scan: Path | None = None  # the webcam frame the QR was read from, kept as the scan
        self.as_of = as_of or date.today()
        self.output_dir = Path(output_dir) if output_dir else Path(tempfile.mkdtemp(prefix="certdesk-forms-"))
        self.expected_id_number: str | None = None
        self.last_batch = None
        self.last_check = None
        self.last_result = None
        self.preview = None  # ui.dialogs.forms_preview.FormsPreviewDialog (imported when first used)
        self._cancel = threading.Event()

        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._build_batch_tab(), "批量打印")
        self.tabs.addTab(self._build_receive_tab(), "收回登记")
        self.tabs.addTab(self._build_track_tab(), "跟踪")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.addWidget(heading("异地协助认证表", self))
        layout.addWidget(self.tabs, 1)

    def set_expected_person(self, id_number: str | None) -> None:
        """The person the clerk has open: a returned form of anyone else is refused."""
        self.expected_id_number = id_number or None

    # ------------------------------------------------------------------ 批量打印

    def _build_batch_tab(self) -> QWidget:
        w = QWidget(self)
        self.days = QSpinBox(w)
        self.days.setRange(0, 366)
        self.days.setValue(30)
        self.days.setSuffix(" 天内到期")
        self.count_button = QPushButton("统计人数", w)
        self.count_button.clicked.connect(self.count_candidates)
        self.count_label = QLabel("", w)
        self.generate_button = QPushButton("生成认证表和信封标签", w)
        self.generate_button.setObjectName("primaryButton")
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button = QPushButton("取消", w)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._cancel.set)
        self.progress = QProgressBar(w)
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.batch_label = QLabel("", w)
        self.batch_label.setWordWrap(True)
        self.preview_button = QPushButton("打印预览（认证表）…", w)
        self.preview_button.setEnabled(False)
        self.preview_button.clicked.connect(lambda: self.open_preview(self.last_batch.pdf, "打印预览：协助认证表"))
        self.labels_button = QPushButton("打印预览（信封标签）…", w)
        self.labels_button.setEnabled(False)
        self.labels_button.clicked.connect(lambda: self.open_preview(self.last_batch.labels, "打印预览：信封标签"))

        row = QHBoxLayout()
        row.addWidget(QLabel("认证截止日期在", w))
        row.addWidget(self.days)
        row.addWidget(self.count_button)
        row.addWidget(self.count_label, 1)
        run = QHBoxLayout()
        run.addWidget(self.generate_button)
        run.addWidget(self.progress, 1)
        run.addWidget(self.cancel_button)
        after = QHBoxLayout()
        after.addWidget(self.preview_button)
        after.addWidget(self.labels_button)
        after.addStretch(1)
        v = QVBoxLayout(w)
        v.addWidget(hint("为截止日期在所选天数内、且没有未寄回认证表的异地居住人员，每人打印一份协助认证表"
                         "（含告知单）和一张信封地址标签。", w))
        v.addLayout(row)
        v.addLayout(run)
        v.addWidget(self.batch_label)
        v.addLayout(after)
        v.addStretch(1)
        return w

    def count_candidates(self) -> None:
        days, as_of, forms = self.days.value(), self.as_of, self.forms
        self.count_label.setText("正在统计…")
        run_in_background(lambda: forms.batch_candidates(days, as_of),
                          lambda rows: self.count_label.setText(f"共 {len(rows)} 人需要打印"),
                          lambda exc: self.count_label.setText(f"统计失败：{_err(exc)}"), owner=self)

    def generate(self) -> None:
        days, as_of, forms, actor = self.days.value(), self.as_of, self.forms, self.actor
        stamp = f"{as_of:%Y%m%d}-{days}d"
        pdf, labels = self.output_dir / f"协助认证表-{stamp}.pdf", self.output_dir / f"信封标签-{stamp}.pdf"
        self._cancel.clear()
        self.progress.setValue(0)
        self.generate_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.preview_button.setEnabled(False)
        self.labels_button.setEnabled(False)
        self.batch_label.setText("正在生成…")
        report = progress_reporter(self._progress)
        cancel = self._cancel
        run_in_background(
            lambda: forms.batch(days, actor, pdf, labels_out=labels, as_of=as_of, cancel=cancel,
                                progress=lambda i, n: report(int(i * 100 / n), f"{i}/{n}")),
            self._generated, self._generate_failed, owner=self)

    def _progress(self, pct, text: str) -> None:
        if pct is not None:
            self.progress.setValue(pct)
        self.batch_label.setText(f"正在生成：{text}")

    def _generated(self, res) -> None:
        self.last_batch = res
        self.generate_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if res.cancelled:
            self.progress.setValue(0)
            self.batch_label.setText("已取消：没有生成文件，也没有登记任何认证表")
        elif not res.forms:
            self.batch_label.setText("没有需要打印的人员")
        else:
            self.progress.setValue(100)
            first, last = res.serials[0], res.serials[-1]
            self.batch_label.setText(f"已生成 {len(res.forms)} 份认证表（编号 {first} 至 {last}），"
                                     f"请预览后打印。文件：{res.pdf}")
            self.preview_button.setEnabled(True)
            self.labels_button.setEnabled(bool(res.labels))
        self.batch_finished.emit(res)

    def _generate_failed(self, exc: BaseException) -> None:
        self.generate_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.batch_label.setText(f"生成失败：{_err(exc)}")
        self.batch_finished.emit(exc)

    def open_preview(self, pdf, title: str):
        from ui.dialogs.forms_preview import FormsPreviewDialog  # pdf rendering stack: load on demand

        self.preview = FormsPreviewDialog(pdf, title, self, printer_name=self.printer_name)
        self.preview.show()
        return self.preview

    # ------------------------------------------------------------------ 收回登记

    def _build_receive_tab(self) -> QWidget:
        w = QWidget(self)
        self.scan_edit = QLineEdit(w)
        self.scan_edit.setPlaceholderText("扫描件或照片（PNG、JPEG、TIFF、PDF）")
        browse = QPushButton("选择扫描件…", w)
        browse.clicked.connect(self._browse)
        self.camera_button = QPushButton("用摄像头扫描", w)
        self.camera_button.clicked.connect(self.scan_with_camera)
        if self.camera_factory is None:
            self.camera_button.setEnabled(False)
            self.camera_button.setToolTip("本机没有配置摄像头")
        self.serial_edit = QLineEdit(w)
        self.serial_edit.setPlaceholderText("或：用扫码枪扫描二维码 / 手工输入表格编号，如 AES-2026-7K3M-000123")
        self.check_button = QPushButton("校验", w)
        self.check_button.clicked.connect(self.check)
        self.verdict = QLabel("", w)
        self.verdict.setWordWrap(True)
        self.verdict.setObjectName("verdict")
        self.body_edit = QLineEdit(w)
        self.body_edit.setPlaceholderText("盖章单位全称，如 大连市沙河口区西安路街道社区服务中心")
        self.date_edit = QDateEdit(w)
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.setMaximumDate(QDate(self.as_of.year, self.as_of.month, self.as_of.day))
        self.date_edit.setDate(QDate(self.as_of.year, self.as_of.month, self.as_of.day))
        self.certifier_edit = QLineEdit(w)
        self.certifier_edit.setPlaceholderText("认证单位经办人姓名")
        self.accept_button = QPushButton("登记认证", w)
        self.accept_button.setObjectName("primaryButton")
        self.accept_button.setEnabled(False)
        self.accept_button.clicked.connect(self.accept_form)
        self.result_label = QLabel("", w)
        self.result_label.setWordWrap(True)
        self.result_label.setObjectName("receiveResult")
        self.scan_edit.textChanged.connect(self._source_changed)
        self.serial_edit.textChanged.connect(self._source_changed)
        self.serial_edit.returnPressed.connect(self.check)

        src = QHBoxLayout()
        src.addWidget(self.scan_edit, 1)
        src.addWidget(browse)
        src.addWidget(self.camera_button)
        ser = QHBoxLayout()
        ser.addWidget(self.serial_edit, 1)
        ser.addWidget(self.check_button)
        form = QFormLayout()
        form.addRow("扫描件", src)
        form.addRow("二维码/编号", ser)
        form.addRow("", self.verdict)
        form.addRow("认证单位", self.body_edit)
        form.addRow("认证日期", self.date_edit)
        form.addRow("经办人", self.certifier_edit)
        v = QVBoxLayout(w)
        v.addWidget(hint("核对公章和日期后，填写认证单位、认证日期和经办人。登记后按认证单位的日期记为一次"
                         "异地认证；已暂停发放的人员将在下次发放时恢复并补发。", w))
        v.addLayout(form)
        v.addWidget(self.accept_button)
        v.addWidget(self.result_label)
        v.addStretch(1)
        return w

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "选择扫描件", str(Path.home()),
                                              "扫描件 (*.png *.jpg *.jpeg *.tif *.tiff *.pdf)")
        if path:
            self.scan_edit.setText(path)

    def scan_with_camera(self):
        from ui.dialogs.qr_camera_dialog import QrCameraDialog

        if self.camera_factory is None:
            return None
        self.camera_dialog = QrCameraDialog(self.camera_factory, self)
        self.camera_dialog.payload_found.connect(self._camera_read)
        self.camera_dialog.open()
        return self.camera_dialog

    def _camera_read(self, text: str, frame) -> None:
        """Fill the form from the webcam read and check it; the frame is kept as the scan."""
        from ui.resident_screen import bgr_to_qimage

        self.scan_edit.clear()
        self.serial_edit.setText(text)
        snap = self.output_dir / f"摄像头扫描-{len(list(self.output_dir.glob('摄像头扫描-*'))) + 1}.png"
        self.camera_scan = snap if bgr_to_qimage(frame).save(str(snap), "PNG") else None
        self.check()

    def _source_changed(self) -> None:
        self.accept_button.setEnabled(False)
        self.last_check = None
        self.camera_scan = None
        self.verdict.setText("")

    def _source(self) -> dict:
        path = self.scan_edit.text().strip()
        return {"image_path": path} if path else {"text": self.serial_edit.text().strip()}

    def check(self) -> None:
        src, forms, expected = self._source(), self.forms, self.expected_id_number
        self.verdict.setStyleSheet("")
        self.verdict.setText("正在校验…")
        self.check_button.setEnabled(False)
        run_in_background(lambda: forms.check(expected_id_number=expected, **src), self._checked,
                          self._check_failed, owner=self)

    def _checked(self, chk) -> None:
        self.check_button.setEnabled(True)
        self.last_check = chk
        if chk.ok:
            lines = [f"✔ {chk.reason_zh}", f"编号 {chk.serial}：{chk.name}（{chk.masked_id}），寄回截止 {chk.deadline}"]
            if chk.deadline and self.as_of > chk.deadline:
                lines.append("注意：已超过截止日期寄回，仍可登记认证")
            lines += [f"注意：{f}" for f in chk.flags_zh]
            self.verdict.setStyleSheet(OK_STYLE)
        else:
            who = f"（编号 {chk.serial}：{chk.name}，{chk.masked_id}）" if chk.name else ""
            lines = [f"✘ {chk.reason_zh}{who}"]
            self.verdict.setStyleSheet(BAD_STYLE)
        self.verdict.setText("\n".join(lines))
        self.accept_button.setEnabled(chk.ok)
        self.check_finished.emit(chk)

    def _check_failed(self, exc: BaseException) -> None:
        self.check_button.setEnabled(True)
        self.verdict.setStyleSheet(BAD_STYLE)
        self.verdict.setText(f"✘ 校验失败：{_err(exc)}")
        self.check_finished.emit(exc)

    def accept_form(self) -> None:
        if self.last_check is None or not self.last_check.ok:
            return
        qd = self.date_edit.date()
        body_date = date(qd.year(), qd.month(), qd.day())
        src, forms, actor, as_of, expected = self._source(), self.forms, self.actor, self.as_of, self.expected_id_number
        if "text" in src and self.camera_scan is not None:
            src["scan_path"] = str(self.camera_scan)
        body, certifier = self.body_edit.text().strip(), self.certifier_edit.text().strip()
        confirmed_by = None
        if not self.last_check.qr_verified and getattr(actor, "role", "clerk") not in ("supervisor", "admin"):
            confirmed_by = self.confirm_typed_serial()  # issue 15 §4: a typed serial needs a supervisor
            if confirmed_by is None:
                return
        self.accept_button.setEnabled(False)
        self.result_label.setText("正在登记…")
        run_in_background(
            lambda: forms.receive(body_name=body, body_date=body_date, certifier=certifier, actor=actor,
                                  today=as_of, expected_id_number=expected, confirmed_by=confirmed_by, **src),
            self._received, self._receive_failed, owner=self)

    def confirm_typed_serial(self):
        """A supervisor confirms a typed serial with their own user name and password (None: not
        confirmed). Tests replace this method."""
        from PySide6.QtWidgets import QDialog, QDialogButtonBox

        from desktop.platform.workstation import Actor

        dlg = QDialog(self)
        dlg.setWindowTitle("手工输入编号 · 审核主管确认")
        user, pw, err = QLineEdit(dlg), QLineEdit(dlg), QLabel("", dlg)
        pw.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout(dlg)
        form.addRow(QLabel("未扫描二维码，签名未校验。请审核主管核对公章后用本人账号确认。", dlg))
        form.addRow("审核主管", user)
        form.addRow("密码", pw)
        form.addRow(err)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dlg)
        form.addRow(buttons)
        result: list = []

        operators, actor = self.operators, self.actor

        def verified(view) -> None:
            result.append(Actor(view.username, actor.workstation, view.role))
            dlg.accept()

        def refused(exc: BaseException) -> None:
            err.setText(_err(exc))
            pw.clear()
            buttons.setEnabled(True)

        def ok() -> None:
            # the password hash (argon2) and the audit write run on the database pool, not here
            name, secret = user.text().strip(), pw.text()
            buttons.setEnabled(False)
            err.setText("正在核对…")
            run_in_background(
                lambda: operators.verify_second_officer(name, secret, "supervisor", workstation=actor.workstation,
                                                        first_officer=actor.operator, purpose="forms_typed_serial"),
                verified, refused, owner=dlg)

        buttons.accepted.connect(ok)
        buttons.rejected.connect(dlg.reject)
        dlg.exec()
        return result[0] if result else None

    def _received(self, res) -> None:
        self.last_result = res
        self.result_label.setStyleSheet(OK_STYLE if res.accepted else BAD_STYLE)
        self.result_label.setText(res.summary_zh())
        self.accept_button.setEnabled(not res.accepted and res.reason in ("missing_body", "missing_certifier",
                                                                          "future_date", "before_issue"))
        self.receive_finished.emit(res)

    def _receive_failed(self, exc: BaseException) -> None:
        self.result_label.setStyleSheet(BAD_STYLE)
        self.result_label.setText(f"登记失败：{_err(exc)}")
        self.accept_button.setEnabled(True)
        self.receive_finished.emit(exc)

    # ------------------------------------------------------------------ 跟踪

    def _build_track_tab(self) -> QWidget:
        w = QWidget(self)
        self.which = QComboBox(w)
        self.which.addItem("未寄回", "outstanding")
        self.which.addItem("已逾期（过截止日期未寄回）", "overdue")
        self.which.currentIndexChanged.connect(self.reload)
        refresh = QPushButton("刷新", w)
        refresh.clicked.connect(self.reload)
        self.reprint_button = QPushButton("补打所选…", w)
        self.reprint_button.clicked.connect(self.reprint_selected)
        self.track_label = QLabel("", w)
        self.track_model = RowTableModel([
            Column("表格编号", lambda r: r.serial),
            Column("姓名", lambda r: r.name),
            Column("身份证号码", lambda r: r.masked_id),
            Column("寄回截止", lambda r: r.deadline.isoformat()),
            Column("逾期天数", lambda r: str(r.days_overdue) if r.days_overdue else "—", key=lambda r: r.days_overdue,
                   align_center=True),
            Column("打印日期", lambda r: r.issued_on.isoformat()),
            Column("打印次数", lambda r: str(r.printed_count), key=lambda r: r.printed_count, align_center=True),
            Column("联系电话", lambda r: r.phone or "—"),
        ], w)
        self.track_table = make_table(self.track_model, w, sortable=True)
        self.track_table.setObjectName("formsTable")
        self.track_table.doubleClicked.connect(
            lambda idx: self.person_requested.emit(row_of(self.track_table, idx.row()).person_id))
        top = QHBoxLayout()
        top.addWidget(self.which)
        top.addWidget(refresh)
        top.addWidget(self.reprint_button)
        top.addStretch(1)
        top.addWidget(self.track_label)
        v = QVBoxLayout(w)
        v.addLayout(top)
        v.addWidget(self.track_table, 1)
        return w

    def reload(self) -> None:
        kind, forms, as_of = self.which.currentData(), self.forms, self.as_of
        self.track_label.setText("正在加载…")
        fn = forms.overdue if kind == "overdue" else forms.outstanding
        run_in_background(lambda: fn(as_of), self._listed,
                          lambda exc: self.track_label.setText(f"加载失败：{_err(exc)}"), owner=self)

    def _listed(self, rows) -> None:
        self.track_model.set_rows(rows)
        self.track_label.setText(f"共 {len(rows)} 份")
        self.list_loaded.emit(rows)

    def reprint_selected(self) -> None:
        sel = self.track_table.selectionModel().selectedRows()
        if not sel:
            self.track_label.setText("请先选择一份认证表")
            return
        row = row_of(self.track_table, sel[0].row())
        self.reprint(row.serial)

    def reprint(self, serial: str) -> None:
        forms, actor = self.forms, self.actor
        out = self.output_dir / f"补打-{serial}.pdf"
        run_in_background(lambda: forms.reprint(serial, actor, out), self._reprinted,
                          lambda exc: self.track_label.setText(f"补打失败：{_err(exc)}"), owner=self)

    def _reprinted(self, res) -> None:
        self.track_label.setText(f"已补打 {res.serial}")
        self.open_preview(res.pdf, f"打印预览：补打 {res.serial}")
        self.reprinted.emit(res.pdf)
        self.reload()
