"""采集参考照片: consent first (text read aloud, who consented, a checkbox), then a few good live
frames through :class:`desktop.face.enrol.EnrolmentCollector` on a :func:`ui.workers.stream` thread.

Emits :attr:`EnrolDialog.captured` with ``(Enrolment, ConsentRecord)``; the counter page stores it
(:meth:`desktop.services.enrolment.EnrolmentService.enrol_from`). The GUI thread never waits for
face work; the image is never shown in logs.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QDialog, QHBoxLayout, QLabel, QPushButton, QRadioButton, QStackedWidget,
                               QTextBrowser, QVBoxLayout, QWidget)

from desktop.face.enrol import Consent, ConsentMissing
from desktop.domain.labels import FAILURE_REASON_ZH
from desktop.services.enrolment import CONSENT_TEXT_ZH, ConsentRecord, now_utc

REASON_ZH = {"no_reference": "该居民没有可用的参考照片（无芯片照片，也未采集过）",
             "reference_old": "参考照片较旧，且多次比对未通过",
             "keeps_failing": "多次比对未通过，可重新采集参考照片"}
ISSUE_ZH = FAILURE_REASON_ZH  # the one table of these words (desktop.domain.labels)


class EnrolDialog(QDialog):
    captured = Signal(object, object)   # (desktop.face.enrol.Enrolment, ConsentRecord)

    def __init__(self, source, collector_factory, *, clerk: str, helper=None, reason: str = "no_reference",
                 resident: str = "", max_frames: int = 600, parent=None):
        super().__init__(parent)
        self.setWindowTitle("采集参考照片")
        self.setModal(True)
        self.source = source
        self.collector_factory = collector_factory
        self.clerk = clerk
        self.helper = helper
        self.reason = reason
        self.max_frames = max_frames
        self.consent: ConsentRecord | None = None
        self.enrolment = None
        self._thread = None  # the capture loop's ui.workers.Stream

        self.pages = QStackedWidget(self)
        # -- page 1: consent
        consent_page = QWidget(self)
        lay = QVBoxLayout(consent_page)
        lay.addWidget(QLabel(f"{resident}　{REASON_ZH.get(reason, '')}", consent_page))
        lay.addWidget(QLabel("请向居民宣读以下内容，征得同意后再采集：", consent_page))
        self.consent_text = QTextBrowser(consent_page)
        self.consent_text.setPlainText(CONSENT_TEXT_ZH)
        lay.addWidget(self.consent_text, 1)
        self.by_resident = QRadioButton("本人同意", consent_page)
        helper_text = f"代办人同意（{helper.name}，{helper.relationship}）" if helper is not None else "代办人同意（未登记代办人，请先按 F6）"
        self.by_helper = QRadioButton(helper_text, consent_page)
        self.by_helper.setEnabled(helper is not None)
        self.by_resident.setChecked(True)
        row = QHBoxLayout()
        row.addWidget(self.by_resident)
        row.addWidget(self.by_helper)
        lay.addLayout(row)
        self.agree = QCheckBox("已向居民宣读上述内容，居民（或代办人）同意采集", consent_page)
        lay.addWidget(self.agree)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        cancel = QPushButton("取消 (Esc)", consent_page)
        cancel.clicked.connect(self.reject)
        self.start_button = QPushButton("同意并开始采集", consent_page)
        self.start_button.setObjectName("primaryButton")
        self.start_button.setEnabled(False)
        self.start_button.clicked.connect(self.start_capture)
        self.agree.toggled.connect(self.start_button.setEnabled)
        buttons.addWidget(cancel)
        buttons.addWidget(self.start_button)
        lay.addLayout(buttons)
        # -- page 2: capture
        capture_page = QWidget(self)
        lay2 = QVBoxLayout(capture_page)
        self.status = QLabel("请居民正对摄像头，保持不动……", capture_page)
        self.status.setWordWrap(True)
        lay2.addWidget(self.status, 1)
        self.stop_button = QPushButton("取消采集", capture_page)
        self.stop_button.clicked.connect(self.reject)
        lay2.addWidget(self.stop_button, 0, Qt.AlignmentFlag.AlignRight)

        self.pages.addWidget(consent_page)
        self.pages.addWidget(capture_page)
        outer = QVBoxLayout(self)
        outer.addWidget(self.pages)
        self.resize(560, 420)

    # -- consent
    def consent_record(self) -> ConsentRecord:
        by = "helper" if self.by_helper.isChecked() and self.helper is not None else "resident"
        h = self.helper if by == "helper" else None
        return ConsentRecord(self.agree.isChecked(), by, self.clerk, now_utc(),
                             helper_name=h.name if h else "", helper_relationship=h.relationship if h else "",
                             helper_masked_id=h.masked_id if h else "")

    def start_capture(self) -> None:
        record = self.consent_record()
        if not record.given:
            self.status.setText(ConsentMissing.message_zh)
            return
        self.consent = record
        self.pages.setCurrentIndex(1)
        from ui.workers import stream

        source, factory, reason, limit = self.source, self.collector_factory, self.reason, self.max_frames
        consent = Consent(True, "spoken_recorded", record.clerk, record.recorded_at, by_guardian=record.by == "helper")
        self._thread = stream(lambda emit, running: _collect(source, factory, consent, reason, limit, emit, running),
                              self._on_item, lambda: None, name="enrol-capture")

    def _on_item(self, item) -> None:
        kind, *args = item
        {"progress": self._on_progress, "done": self._on_done, "failed": self._on_failed}[kind](*args)

    def _on_progress(self, n: int, issues: str) -> None:
        self.status.setText(f"已采集 {n} 张清晰画面……" + (f"（{issues}）" if issues else ""))

    def _on_done(self, enrolment) -> None:
        self.enrolment = enrolment
        self.status.setText("采集完成")
        self.captured.emit(enrolment, self.consent)
        self.accept()

    def _on_failed(self, message: str) -> None:
        self.status.setText(message)
        self.stop_button.setText("关闭")

    def done(self, result: int) -> None:  # noqa: D401 - QDialog.done: stop the worker first
        if self._thread is not None:
            self._thread.stop()
            self._thread.wait(5)
        super().done(result)


def _collect(source, collector_factory, consent, reason, max_frames, emit, running) -> None:
    """The capture loop (its own thread, through ui.workers.stream): camera frames into the
    collector until it has enough clear faces; only plain data goes out through ``emit``."""
    try:
        collector = collector_factory()
        last, seen = 0, 0
        while running() and seen < max_frames:
            frame = source.wait_next(last, timeout=0.2)
            if frame is None:
                if getattr(source, "ended", False):
                    break
                continue
            last, seen = frame.index, seen + 1
            ready = collector.add(frame.image)
            issues = "、".join(ISSUE_ZH.get(getattr(i, "value", str(i)), "") for i in collector.last_issues)
            emit(("progress", len(collector._encodings), issues))
            if ready:
                emit(("done", collector.build(consent, reason=reason)))
                return
        if running():
            emit(("failed", "没有采集到足够清晰的正脸画面，请调整光线和坐姿后重试"))
    except Exception as exc:  # noqa: BLE001 - shown to the clerk, never kills the app
        emit(("failed", getattr(exc, "message_zh", "采集失败，请重试或改用人工核验")))
