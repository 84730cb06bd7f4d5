"""Dialogs of the counter: 人工核验审批 (second officer), 手工录入 (manual entry), 代办人 (helper).

They are opened with ``open()`` (never a blocking ``exec``) and report through signals, so the
counter keeps reacting to the card reader meanwhile.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QVBoxLayout)

from desktop.domain import idnumber
from desktop.devices.idcard.manual import REASONS, make_manual_entry
from desktop.services.counter import ATTESTATION_REASONS, RELATIONSHIPS, Helper
from ui.dialogs.login import DIALOG_CSS, _title
from ui.workers import run_in_background


def _buttons(dlg: QDialog, ok_text: str) -> tuple[QHBoxLayout, QPushButton]:
    ok = QPushButton(ok_text, dlg)
    ok.setObjectName("primaryButton")
    ok.setDefault(True)
    cancel = QPushButton("取消 (Esc)", dlg)
    cancel.clicked.connect(dlg.reject)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(cancel)
    row.addWidget(ok)
    return row, ok


class ApprovalDialog(QDialog):
    """人工核验: the reason, then a supervisor types their OWN user name and password here."""

    approved = Signal(object, str, str)  # OperatorView (approver), reason code, note

    def __init__(self, operators, clerk: str, workstation: str, *, resident: str = "", default_reason: str = "face_failed",
                 parent=None):
        super().__init__(parent)
        self.operators, self.clerk, self.workstation = operators, clerk, workstation
        self.setWindowTitle("人工核验 · 审核主管审批")
        self.setStyleSheet(DIALOG_CSS)
        self.setMinimumWidth(560)
        self.reason = QComboBox(self)
        for code, text in ATTESTATION_REASONS.items():
            self.reason.addItem(text, code)
        self.reason.setCurrentIndex(max(0, self.reason.findData(default_reason)))
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("核验情况说明（如：已核对户口簿、社区证明）")
        self.username = QLineEdit(self)
        self.username.setPlaceholderText("审核主管的用户名")
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("审核主管本人输入密码")
        self.error = QLabel("", self)
        self.error.setObjectName("dlgError")
        self.error.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(30, 24, 30, 20)
        layout.addLayout(_title("人工核验（需审核主管审批）",
                                f"居民：{resident}。经办人已当面核实本人身份；请审核主管到场核对后，用本人账号审批。"))
        form = QFormLayout()
        form.addRow("核验原因", self.reason)
        form.addRow("情况说明", self.note)
        form.addRow("审批人", self.username)
        form.addRow("审批人密码", self.password)
        layout.addLayout(form)
        layout.addWidget(self.error)
        row, self.ok_button = _buttons(self, "审批通过")
        self.ok_button.clicked.connect(self.submit)
        layout.addLayout(row)
        self.username.setFocus()

    def submit(self) -> None:
        code = self.reason.currentData()
        note = self.note.text().strip()
        if code == "other" and not note:
            self.error.setText("选择“其他原因”时请填写情况说明")
            return
        user, pw = self.username.text().strip(), self.password.text()
        if not user or not pw:
            self.error.setText("请审核主管输入用户名和密码")
            return
        self.ok_button.setEnabled(False)
        self.error.setText("正在验证…")
        run_in_background(
            lambda: self.operators.verify_second_officer(user, pw, "supervisor", workstation=self.workstation,
                                                         first_officer=self.clerk, purpose="attestation"),
            lambda op: self._ok(op, code, note), self._failed, owner=self)

    def _failed(self, exc) -> None:
        self.ok_button.setEnabled(True)
        self.error.setText(getattr(exc, "message_zh", str(exc)))
        self.password.clear()

    def _ok(self, op, code, note) -> None:
        self.approved.emit(op, code, note)
        self.accept()


class ManualEntryDialog(QDialog):
    """手工录入: no card or the reader fails — type the number, say why."""

    entered = Signal(object)  # desktop.devices.idcard.manual.ManualEntry

    def __init__(self, clerk: str, today, *, reason: str = "reader_fault", parent=None):
        super().__init__(parent)
        self.clerk, self.today = clerk, today
        self.setWindowTitle("手工录入身份号码")
        self.setStyleSheet(DIALOG_CSS)
        self.setMinimumWidth(560)
        self.number = QLineEdit(self)
        self.number.setPlaceholderText("18位公民身份号码")
        self.number.setMaxLength(22)
        self.reason = QComboBox(self)
        for code, text in REASONS.items():
            self.reason.addItem(text, code)
        self.reason.setCurrentIndex(max(0, self.reason.findData(reason)))
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("说明（选“其他原因”时必填）")
        self.error = QLabel("", self)
        self.error.setObjectName("dlgError")
        self.error.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(30, 24, 30, 20)
        layout.addLayout(_title("手工录入", "没有芯片数据，也就没有证件照片：人脸比对无法进行，将改用人工核验。"))
        form = QFormLayout()
        form.addRow("身份号码", self.number)
        form.addRow("录入原因", self.reason)
        form.addRow("说明", self.note)
        layout.addLayout(form)
        layout.addWidget(self.error)
        row, self.ok_button = _buttons(self, "查找")
        self.ok_button.clicked.connect(self.submit)
        layout.addLayout(row)
        self.number.setFocus()

    def submit(self) -> None:
        try:
            entry = make_manual_entry(self.number.text(), self.reason.currentData(), self.note.text(),
                                      clerk=self.clerk, today=self.today)
        except Exception as exc:  # noqa: BLE001 - ManualEntryError carries message_zh
            self.error.setText(getattr(exc, "message_zh", str(exc)))
            return
        self.entered.emit(entry)
        self.accept()


class HelperDialog(QDialog):
    """代办人: read the helper's own card (the counter page feeds it via :meth:`set_card`) or type
    the number; record the relationship. The face check stays the resident's."""

    chosen = Signal(object)  # desktop.services.counter.Helper

    def __init__(self, resident_number: str = "", today=None, parent=None):
        super().__init__(parent)
        self.resident_number = resident_number
        self.today = today
        self.from_card = False
        self.setWindowTitle("代办人登记")
        self.setStyleSheet(DIALOG_CSS)
        self.setMinimumWidth(560)
        self.prompt = QLabel("请代办人将本人身份证放在读卡器上（或手工输入）", self)
        self.prompt.setObjectName("dlgInfo")
        self.name = QLineEdit(self)
        self.number = QLineEdit(self)
        self.number.setPlaceholderText("代办人身份号码")
        self.relationship = QComboBox(self)
        self.relationship.addItems(RELATIONSHIPS)
        self.relationship.setCurrentIndex(1)
        self.error = QLabel("", self)
        self.error.setObjectName("dlgError")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(30, 24, 30, 20)
        layout.addLayout(_title("代办人登记", "代办人陪同居民办理；人脸认证仍须由居民本人完成。"))
        layout.addWidget(self.prompt)
        form = QFormLayout()
        form.addRow("代办人姓名", self.name)
        form.addRow("身份号码", self.number)
        form.addRow("与居民关系", self.relationship)
        layout.addLayout(form)
        layout.addWidget(self.error)
        row, self.ok_button = _buttons(self, "确定")
        self.ok_button.clicked.connect(self.submit)
        layout.addLayout(row)

    def set_card(self, card) -> None:
        if idnumber.normalize(card.id_number) == self.resident_number:
            self.error.setText("这是居民本人的证件，请放代办人的身份证")
            return
        self.name.setText(card.name)
        self.number.setText(card.id_number)
        self.from_card = True
        self.prompt.setText(f"已读取代办人证件：{card.name}（{idnumber.mask(card.id_number)}）")
        self.error.setText("")
        self.relationship.setFocus()

    def submit(self) -> None:
        number = idnumber.normalize(self.number.text())
        check = idnumber.validate(number, today=self.today)
        if not check.valid:
            self.error.setText(f"身份号码无效：{check.reason_zh}")
            return
        if number == self.resident_number:
            self.error.setText("代办人不能是居民本人")
            return
        if not self.name.text().strip():
            self.error.setText("请填写代办人姓名")
            return
        self.chosen.emit(Helper(number, self.name.text().strip(), self.relationship.currentText(), self.from_card))
        self.accept()
