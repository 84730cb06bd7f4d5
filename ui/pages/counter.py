"""现场认证: the counter's one screen, from the card on the reader to a printed receipt.

card placed → card read and checked → person found (or "not a beneficiary here") → entitlements
with status and deadline, suspensions and outstanding assist forms → face check on the resident
screen → result → record → receipt preview and print → ready for the next card.

Keys: Enter = the next step (start the face check, retry, print, next resident), F4 manual entry,
F6 helper (代办), F9 staff attestation, F12 next resident, Ctrl+L lock. Services run through
:func:`ui.workers.run_in_background`; devices come injected (:class:`ui.counter_kit.CounterKit`).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy,
                               QVBoxLayout, QWidget)

from desktop import idnumber
from desktop.workstation import Actor
from ui.widgets.entitlement_card import EntitlementCard
from ui.widgets.status import StatusBadge
from ui.workers import run_in_background

STEPS = [("idle", "① 放置身份证"), ("person", "② 核对信息"), ("face", "③ 人脸认证"), ("done", "④ 记录"),
         ("printed", "⑤ 打印回执")]
STEP_OF = {"idle": 0, "reading": 0, "looking": 1, "person": 1, "not_found": 1, "face": 2, "face_failed": 2,
           "recording": 3, "done": 3, "printed": 4}

PAGE_CSS = """
QWidget#counterPage { background: #f4f6f8; }
QLabel#counterBanner { font-size: 15pt; font-weight: bold; padding: 10px 14px; border-radius: 8px;
    background: #e3edf7; color: #1f3a5f; border: 1px solid #b6cde5; }
QLabel#counterBanner[kind="ok"] { background: #e3f4e6; color: #1e5e25; border-color: #a6d8ae; }
QLabel#counterBanner[kind="warn"] { background: #fff4e0; color: #8a4b00; border-color: #fbd38d; }
QLabel#counterBanner[kind="error"] { background: #fde8e8; color: #9b1c1c; border-color: #f8b4b4; }
QLabel#step { padding: 4px 10px; border-radius: 12px; color: #7b8794; background: #e4e7eb; font-size: 11pt; }
QLabel#step[active="true"] { background: #2d5282; color: #ffffff; font-weight: bold; }
QLabel#step[past="true"] { background: #c6dbef; color: #1f3a5f; }
QLabel#devOk { color: #1e5e25; font-weight: bold; }
QLabel#devBad { color: #b23c17; font-weight: bold; }
QLabel#warnBox { background: #fff4e0; color: #8a4b00; border: 1px solid #fbd38d; border-radius: 6px; padding: 8px 12px; }
QLabel#resumeBox { background: #e3f4e6; color: #1e5e25; border: 2px solid #4caf50; border-radius: 8px;
    padding: 10px 14px; font-size: 14pt; font-weight: bold; }
QLabel#formsBox { background: #eef2ff; color: #283593; border: 1px solid #c5cae9; border-radius: 6px; padding: 8px 12px; }
QLabel#helperBox { background: #f3e8ff; color: #5b21b6; border: 1px solid #d8b4fe; border-radius: 6px; padding: 8px 12px; }
QFrame#todayBox, QFrame#faceBox { background: #ffffff; border: 1px solid #d9e2ec; border-radius: 8px; }
QLabel#todayBig { font-size: 24pt; font-weight: bold; color: #1f3a5f; }
QLabel#resultPass { font-size: 14pt; font-weight: bold; color: #1e5e25; }
QLabel#resultFail { font-size: 14pt; font-weight: bold; color: #b23c17; }
QLabel#faceprompt { font-size: 13pt; font-weight: bold; color: #1f3a5f; }
QLabel#faceDetails { font-size: 10pt; color: #52606d; background: #f4f6f8; padding: 4px; }
QFrame#faceBox QPushButton { font-size: 11pt; padding: 4px 8px; }
QFrame#faceBox QListWidget { font-size: 11pt; }
QPushButton { font-size: 12pt; padding: 6px 12px; }
QPushButton#primaryButton { background: #2d5282; color: #ffffff; border-color: #2d5282; font-size: 15pt; padding: 10px 20px; }
QLabel#sideTitle { font-size: 13pt; font-weight: bold; color: #1f3a5f; }
QLabel#deviceLine { font-size: 11pt; }
QPushButton#primaryButton:disabled { background: #a0aec0; border-color: #a0aec0; }
"""


_camera_pool = None


def _device_pool():
    """Opening a camera must not queue behind (or hold up) the single database worker."""
    global _camera_pool
    if _camera_pool is None:
        from PySide6.QtCore import QThreadPool

        _camera_pool = QThreadPool()
        _camera_pool.setMaxThreadCount(1)
    return _camera_pool


def _ym(text: str) -> str:
    y, m = text.split("-")[:2]
    return f"{y}年{int(m)}月"


NO_CAMERA_ZH = "摄像头不可用，请按 F9 人工核验（需审核主管审批）。"


class CounterPage(QWidget):
    person_requested = Signal(str)
    attention_requested = Signal()  # a card was put on the reader while another page was shown
    state_changed = Signal(str)
    certified = Signal(object)  # CounterResult
    receipt_printed = Signal(str)
    lock_requested = Signal()
    settings_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("counterPage")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(PAGE_CSS)
        self.backend = None
        self.kit = None
        self.operator = None
        self.workstation = "workstation"
        self.bridge = None
        self.camera = None
        self.panel = None
        self.state = "idle"
        self.card = None
        self.card_facts = None  # desktop.services.counter.CardFacts
        self.lookup = None
        self.helper = None
        self.result = None
        self.face_attempts = 0
        self.face_failure_reasons: list[str] = []
        self.t0: float | None = None
        self.last_seconds: float | None = None
        self.dialog = None  # the open dialog (tests drive it)
        self.preview = None
        self.stats = None
        self.reader_ok = False
        self.camera_ready = False  # set_kit: the camera worker has finished (camera/panel are final)
        self._shut_down = False
        self._camera_job = {"cancelled": False, "pending": False}
        self._pending_session = None
        self._cancel_requested = False  # Esc during a face check: whatever comes back is not recorded
        self.locked = False             # the lock screen is up: cards wait for the clerk
        self.resident_language = "zh"   # the resident screen's language for the resident at the counter
        self.training_panel = None      # demo / 培训模式 only (ui.widgets.training_panel)
        self._missed_card = False
        self._receipt_files: list[Path] = []
        self._build()

    # --- layout ----------------------------------------------------------------------------------

    def _build(self) -> None:
        from ui.widgets.counter_side import CounterSidePanel
        from ui.widgets.flow import FlowRow

        title = QLabel("现场认证", self)
        title.setObjectName("pageTitle")
        self.step_labels = []
        head = FlowRow(self, spacing=6)
        head.add(title)
        for _, text in STEPS:
            lab = QLabel(text, self)
            lab.setObjectName("step")
            self.step_labels.append(lab)
            head.add(lab)

        self.banner = QLabel("", self)
        self.banner.setObjectName("counterBanner")
        self.banner.setWordWrap(True)
        self.banner.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        # person column
        self.person_box = QWidget(self)
        pv = QVBoxLayout(self.person_box)
        pv.setContentsMargins(0, 0, 6, 0)
        pv.setSpacing(8)
        self.name_label = QLabel("", self.person_box)
        self.name_label.setObjectName("personName")
        self.name_label.setWordWrap(True)
        self.name_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.id_label = QLabel("", self.person_box)
        self.id_label.setObjectName("personId")
        self.card_source = QLabel("", self.person_box)
        self.card_source.setObjectName("muted")
        top = FlowRow(self.person_box, spacing=10)
        top.add(self.id_label, self.card_source)
        pv.addWidget(self.name_label)
        pv.addWidget(top)
        self.warn_label = QLabel("", self.person_box)
        self.warn_label.setObjectName("warnBox")
        self.warn_label.setWordWrap(True)
        self.resume_label = QLabel("", self.person_box)
        self.resume_label.setObjectName("resumeBox")
        self.resume_label.setWordWrap(True)
        self.forms_label = QLabel("", self.person_box)
        self.forms_label.setObjectName("formsBox")
        self.forms_label.setWordWrap(True)
        self.helper_label = QLabel("", self.person_box)
        self.helper_label.setObjectName("helperBox")
        self.helper_label.setWordWrap(True)
        for w in (self.warn_label, self.resume_label, self.forms_label, self.helper_label):
            w.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            w.hide()
            pv.addWidget(w)
        self.cards_layout = QVBoxLayout()
        self.cards_layout.setSpacing(8)
        pv.addLayout(self.cards_layout)
        pv.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.person_box)
        scroll.setMinimumWidth(260)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # the columns that scroll ask for no height of their own: the page (in its own scroll area,
        # which sizes it by its preferred height) then fits the screen, and these scroll instead
        scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        self.person_scroll = scroll

        # face column
        self.face_box = QFrame(self)
        self.face_box.setObjectName("faceBox")
        self.face_box.setMinimumWidth(280)
        self.face_layout = QVBoxLayout(self.face_box)
        self.face_layout.setContentsMargins(8, 8, 8, 8)
        self.face_result = QLabel("", self.face_box)
        self.face_result.setWordWrap(True)
        self.face_result.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.face_layout.addWidget(self.face_result)
        self.face_layout.addStretch(1)

        # right column: operator, devices, today's figures
        self.side = CounterSidePanel(self)
        self.today_box = self.side
        self.operator_label = self.side.operator_label
        self.today_count = self.side.today_count
        self.today_detail = self.side.today_detail

        body = QHBoxLayout()
        body.setSpacing(10)
        body.addWidget(scroll, 4)
        body.addWidget(self.face_box, 4)
        side_scroll = QScrollArea(self)  # the figures may grow; they scroll, the page does not
        side_scroll.setWidgetResizable(True)
        side_scroll.setFrameShape(QFrame.Shape.NoFrame)
        side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side_scroll.setWidget(self.side)
        side_scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        bar = side_scroll.verticalScrollBar().sizeHint().width()  # room for it: nothing is cut at the right
        side_scroll.setMinimumWidth(self.side.minimumWidth() + bar)
        side_scroll.setMaximumWidth(self.side.maximumWidth() + bar)
        body.addWidget(side_scroll, 2)

        # actions: the secondary ones wrap onto a second line on a narrow screen, the main button
        # stays at the right, under the clerk's hand
        def button(text, slot, primary=False):
            b = QPushButton(text, self)
            if primary:
                b.setObjectName("primaryButton")
            b.clicked.connect(slot)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            return b

        self.primary_button = button("请放置身份证", self.primary_action, True)
        self.manual_button = button("手工录入 F4", self.open_manual_entry)
        self.helper_button = button("代办人 F6", self.open_helper)
        self.attest_button = button("人工核验 F9", self.open_attestation)
        self.enrol_button = button("采集参考照片 F7", self.open_enrolment)
        self.note_button = button("登记来访", self.note_not_on_roster)
        self.print_button = button("打印回执 Ctrl+P", self.open_receipt)
        self.next_button = button("下一位 F12", self.next_resident)
        self.detail_button = button("人员详情", lambda: self.lookup and self.lookup.person
                                    and self.person_requested.emit(self.lookup.person.id))
        self.actions_row = FlowRow(self, spacing=8)
        # the resident screen's language for this resident (remembered for the next visit)
        self.language_button = button("蒙古语 F8", lambda: self._language_chosen(self.language_button.isChecked()))
        self.language_button.setCheckable(True)
        self.language_button.setObjectName("languageButton")
        self.language_button.setToolTip("居民屏幕同时用传统蒙古文显示提示（有蒙古语录音时播放蒙古语）；为该居民记住")
        self.actions_row.add(self.manual_button, self.helper_button, self.enrol_button, self.attest_button,
                             self.language_button, self.detail_button, self.next_button, self.print_button)
        self.note_button.hide()  # 登记来访 is the main button's job when the card is not on the roster
        actions = QHBoxLayout()
        actions.setSpacing(10)
        actions.addWidget(self.actions_row, 1)
        actions.addWidget(self.primary_button, 0, Qt.AlignmentFlag.AlignBottom)

        # below this the page scrolls (its scroll area in the main window) instead of squeezing the
        # face column: 1024×768 and 1280×720 (1920×1080 at 150 %) leave about 660-710 pixels
        self.setMinimumHeight(600)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.setSpacing(8)
        layout.addWidget(head)
        layout.addWidget(self.banner)
        layout.addLayout(body, 1)
        layout.addLayout(actions)

        for key, slot in (("Return", self.primary_action), ("Enter", self.primary_action), ("F4", self.open_manual_entry),
                          ("F8", self._toggle_language),
                          ("F6", self.open_helper), ("F7", self.open_enrolment), ("F9", self.open_attestation), ("F12", self.next_resident),
                          ("Ctrl+P", self.open_receipt)):  # Ctrl+L (lock) is the window's
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        self._clear_person()
        self._set_state("idle")

    # --- wiring ------------------------------------------------------------------------------------

    def set_backend(self, backend) -> None:
        self.backend = backend
        if self.kit is None and backend is not None and backend.services is not None:
            kit = getattr(backend, "counter_kit", None)
            if kit is not None and hasattr(kit, "reader_session_factory"):  # not the start-up info dict
                self.set_kit(kit)
        self.refresh_today()

    def set_operator(self, operator, workstation: str) -> None:
        self.operator, self.workstation = operator, workstation
        window = ""
        try:
            window = self.backend.services.counter.window_label() if self.backend and self.backend.services else ""
        except Exception:  # noqa: BLE001 - a label only
            window = ""
        self.operator_label.setText(f"经办人：{operator.display_name}（{operator.role_zh}）" + (f" · {window}" if window else ""))

    @property
    def actor(self) -> Actor:
        op = self.operator
        return Actor(op.username, self.workstation, op.role) if op else Actor("unknown", self.workstation, "clerk")

    def set_kit(self, kit) -> None:
        """Build the reader bridge from the injected kit and open the camera off the GUI thread
        (a webcam's driver import and device probing take a while); the face panel is built when
        the camera is ready (``camera_ready``, then ``camera``/``panel`` are final)."""
        from ui.reader_bridge import ReaderBridge

        self.kit = kit
        self.camera_ready = False
        if kit.demo and self.training_panel is None:  # demo and 培训模式: the simulated devices' controls
            from ui.widgets.training_panel import TrainingPanel

            self.training_panel = TrainingPanel(self, kit.training_cards, training=kit.training, parent=self)
            self.layout().insertWidget(1, self.training_panel)
        self.bridge = ReaderBridge(kit.reader_session_factory, self)
        self.bridge.card_placed.connect(self._card_placed)
        self.bridge.card_read.connect(self._card_read)
        self.bridge.card_removed.connect(self._card_removed)
        self.bridge.reader_lost.connect(self._reader_lost)
        self.bridge.reader_found.connect(self._reader_found)
        self.bridge.read_failed.connect(self._read_failed)
        self.bridge.start()  # before the camera worker starts importing its driver (Thread.start needs the GIL)
        self.face_result.setText("正在打开摄像头…")
        factory, job = kit.camera_factory, self._camera_job

        def open_camera():  # camera worker: no widgets here
            camera = factory()
            if job["cancelled"]:  # shut down meanwhile: release the device at once
                camera.stop()
                return None
            job["camera"] = camera  # until delivered: shutdown() releases it if the delivery never comes
            return camera

        job["pending"] = True
        run_in_background(open_camera, lambda camera: self._camera_opened(kit, camera),
                          lambda exc: self._camera_opened(kit, None, exc), pool=_device_pool())
        self._resident_prompt("idle")

    def _camera_opened(self, kit, camera, exc: BaseException | None = None) -> None:
        """GUI thread: the camera worker finished (``camera`` is a started source, or None)."""
        self._camera_job["pending"] = False
        self._camera_job.pop("camera", None)
        if not shiboken6.isValid(self) or self._shut_down or kit is not self.kit:
            if camera is not None:  # the page went away meanwhile: release the device
                camera.stop()
            return
        self.camera = camera
        if camera is None:  # no camera: the non-face route remains
            self.face_result.setText(f"摄像头不可用：{getattr(exc, 'message_zh', exc)}。可改用人工核验。")
            self.side.set_device("camera", False, "不可用")
        else:
            self.side.set_device("camera", True, "正常")
            from ui.face_check_panel import FaceCheckPanel

            self.face_result.setText("")
            self.panel = FaceCheckPanel(camera, lambda: self._pending_session,
                                        resident_screen=kit.resident_screen, parent=self.face_box)
            self.panel.start_button.hide()  # the counter's Enter starts the check
            self.panel.show_result = False  # the counter says it below, in its own words
            self.panel.check_finished.connect(self._face_finished)
            self.panel.check_aborted.connect(self._face_aborted)
            self.panel.camera_state_changed.connect(self._camera_state)
            self.panel.next_step_chosen.connect(self._next_step_chosen)
            self._reset_panel()
            self.face_layout.takeAt(self.face_layout.count() - 1)  # the placeholder stretch
            self.face_layout.insertWidget(1, self.panel, 1)
        self.camera_ready = True
        if self.state in ("person", "face_failed"):  # a resident arrived first: offer the face check now
            self._set_state(self.state)
            if camera is None:
                self._banner(NO_CAMERA_ZH, "warn")
        elif self.state == "idle":
            self._idle_banner()

    def set_resident_screen(self, screen) -> None:
        """The resident screen, built after the window is usable (see ``ui.app.start_counter``)."""
        if self.kit is not None:
            self.kit.resident_screen = screen
        if self.panel is not None:
            self.panel.set_resident_screen(screen)
        self.show_resident_state(screen)
        if screen is not None:
            screen.placement_changed.connect(lambda _p: self.show_resident_state(screen))
            screen.speaker.state_changed.connect(lambda: self.show_resident_state(screen))
        if screen is not None and self.state == "idle":
            self._resident_prompt("idle")

    def dock_resident_screen(self, screen) -> None:
        """A single monitor: the resident screen becomes a preview in the right-hand column
        instead of a window covering the counter."""
        self.side.dock(screen)

    def show_resident_state(self, screen, *, enabled: bool = True) -> None:
        """The device column's 居民屏幕 and 语音提示 lines: is it showing, where, and is there sound."""
        from ui.resident_screen import PLACEMENT_ZH, SPEECH_ZH

        if screen is None:
            why = "已在设置中关闭（设置 → 设备）" if not enabled else "居民屏幕未能启动"
            self.side.set_device("resident", False, "未开启" if not enabled else "未启动", why)
            self.side.set_device("sound", False, "无", why)
            return
        ok, text, detail = PLACEMENT_ZH[screen.placement]
        self.side.set_device("resident", ok, text, detail)
        if screen.placement != "docked":
            self.side.undock()
        speaker = screen.speaker
        ok, text, detail = SPEECH_ZH[speaker.mode]
        self.side.set_device("sound", ok, text, speaker.problem_zh or detail)

    def shutdown(self) -> None:
        self._shut_down = True
        self._camera_job["cancelled"] = True
        if self._camera_job["pending"] and _camera_pool is not None:
            _camera_pool.waitForDone(5000)  # shutdown only: the worker then releases the camera itself
        undelivered = self._camera_job.pop("camera", None)
        if undelivered is not None:  # opened, but the GUI thread never got it
            undelivered.stop()
        if self.panel is not None:
            self.panel.stop()
        if self.camera is not None:
            self.camera.stop()
        if self.bridge is not None:
            self.bridge.stop()
            self.bridge.wait(3)
        self._clean_receipts()

    def activated(self) -> None:
        self.setFocus()
        self.refresh_today()

    # --- state ---------------------------------------------------------------------------------

    def _set_state(self, state: str) -> None:
        self.state = state
        idx = STEP_OF.get(state, 0)
        for i, lab in enumerate(self.step_labels):
            lab.setProperty("active", "true" if i == idx else "false")
            lab.setProperty("past", "true" if i < idx else "false")
            lab.style().unpolish(lab)
            lab.style().polish(lab)
        person = self.lookup is not None and self.lookup.found
        busy = state in ("reading", "looking", "face", "recording")
        primary = {
            "idle": ("请放置身份证", False), "reading": ("正在读卡…", False), "looking": ("正在查找…", False),
            "person": ("开始人脸认证 Enter", self._face_possible()), "not_found": ("登记来访 Enter", True),
            "face": ("正在人脸认证…", False), "face_failed": ("重新人脸认证 Enter", self._face_possible()),
            "recording": ("正在记录…", False), "done": ("打印回执 Enter", True), "printed": ("下一位 Enter", True),
        }[state]
        if state in ("person", "face_failed") and self._attest_instead():
            primary = ("人工核验 F9", True)  # no camera (or no chip data): the non-face route is the main one
        self.primary_button.setText(primary[0])
        self.primary_button.setEnabled(primary[1])
        self.attest_button.setEnabled(person and state in ("person", "face_failed") and not self._terminated())
        self.helper_button.setEnabled(person and state in ("person", "face_failed"))
        self.enrol_button.setEnabled(person and state in ("person", "face_failed") and self._enrol_reason() is not None)
        self.print_button.setEnabled(state in ("done", "printed"))
        self.next_button.setEnabled(not busy)
        self.manual_button.setEnabled(not busy)
        self.detail_button.setEnabled(person and not busy)
        self.language_button.setEnabled(self.card is not None and state not in ("idle", "reading"))
        self.state_changed.emit(state)

    def _banner(self, text: str, kind: str = "") -> None:
        self.banner.setText(text)
        self.banner.setProperty("kind", kind)
        self.banner.style().unpolish(self.banner)
        self.banner.style().polish(self.banner)

    def _resident_prompt(self, code: str, text: str | None = None, *, speak: bool = True) -> None:
        """Show (and say) one of the counter's prompts (desktop.prompts: the text, the recording
        and every translation share the code); ``text`` when the screen says more than the
        recording (a month)."""
        from desktop.prompts import COUNTER_PROMPTS_ZH, SILENT

        screen = self.kit.resident_screen if self.kit else None
        if screen is not None:
            screen.show_prompt(code, text or COUNTER_PROMPTS_ZH[code], speak=speak and code not in SILENT)

    def _terminated(self) -> bool:
        return bool(self.lookup and self.lookup.all_terminated)

    def _camera_usable(self) -> bool:
        return self.panel is not None and self.panel.camera_ok

    def _face_possible(self) -> bool:
        return (self._camera_usable() and self.card is not None and self.card.source != "manual"
                and self.lookup is not None and self.lookup.found and not self._terminated())

    def _attest_instead(self) -> bool:
        """A person on the roster whom the face check cannot serve: 人工核验 is the main button."""
        return (self.lookup is not None and self.lookup.found and not self._terminated() and self.card is not None
                and (self.card.source == "manual" or (self.camera_ready and not self._camera_usable())))

    def _idle_banner(self) -> None:
        if self.camera_ready and not self._camera_usable():
            self._banner("摄像头不可用，请按 F9：读卡后改用人工核验（需审核主管审批）。"
                         "请居民将身份证放在读卡器上（无证件时按 F4 手工录入）。", "warn")
        elif self.reader_ok:
            self._banner("请居民将身份证放在读卡器上（无证件或读卡失败时按 F4 手工录入）")
    def _clear_person(self) -> None:
        self.name_label.setText("")
        self.id_label.setText("")
        self.card_source.setText("")
        for w in (self.warn_label, self.resume_label, self.forms_label, self.helper_label):
            w.hide()
        while self.cards_layout.count():
            item = self.cards_layout.takeAt(0)
            if item.widget():
                item.widget().hide()  # gone from the screen now, not when the event loop deletes it
                item.widget().deleteLater()
        self.face_result.setText("")

    # --- the resident's language -------------------------------------------------------------

    def _toggle_language(self) -> None:
        if self.language_button.isEnabled():
            self.language_button.setChecked(not self.language_button.isChecked())
            self._language_chosen(self.language_button.isChecked())

    def _language_chosen(self, mongolian: bool) -> None:
        """The clerk chose (F8) the resident's language: shown now, remembered for a person on the roster."""
        language = "mn" if mongolian else "zh"
        self.set_resident_language(language)
        person = self.lookup.person if self.lookup is not None and self.lookup.found else None
        services = self.backend.services if self.backend is not None else None
        if person is not None and services is not None:
            prefs, pid = services.resident_languages, person.id
            run_in_background(lambda: prefs.set(pid, language), lambda _: None, self._failed, owner=self)

    def set_resident_language(self, language: str, *, say_again: bool = True) -> None:
        """Show the resident screen in ``language`` ("zh" or "mn") for the resident now at the counter
        (the prompt on screen said again in it, unless ``say_again`` is False)."""
        self.resident_language = language
        self.language_button.blockSignals(True)
        self.language_button.setChecked(language == "mn")
        self.language_button.blockSignals(False)
        screen = self.kit.resident_screen if self.kit else None
        if screen is not None and hasattr(screen, "set_language"):
            screen.set_language(language, say_again=say_again)

    def _remembered_language(self, person_id: str) -> None:
        """On the roster: the language this person chose last time."""
        services = self.backend.services if self.backend is not None else None
        if services is None:
            return
        prefs = services.resident_languages

        def apply(language: str) -> None:
            if self.lookup is not None and self.lookup.found and self.lookup.person.id == person_id \
                    and language != self.resident_language:
                self.set_resident_language(language)

        run_in_background(lambda: prefs.get(person_id), apply, lambda exc: None, owner=self)

    def next_resident(self) -> None:
        if self.state in ("face", "recording", "reading", "looking"):
            return
        self.card = self.card_facts = self.lookup = self.helper = self.result = None
        self.face_attempts = 0
        self.face_failure_reasons: list[str] = []
        self.t0 = None
        self._clear_person()
        self._clean_receipts()
        self._reset_panel()
        if self.resident_language != "zh":
            self.set_resident_language("zh", say_again=False)
        self._set_state("idle")
        self._idle_banner()
        self._resident_prompt("idle")

    def primary_action(self) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            return
        if self.state in ("person", "face_failed") and self._face_possible():
            self.start_face_check()
        elif self.state in ("person", "face_failed") and self._attest_instead():
            self.open_attestation()
        elif self.state == "not_found":
            self.note_not_on_roster()
        elif self.state == "done":
            self.open_receipt()
        elif self.state == "printed":
            self.next_resident()

    # --- reader ----------------------------------------------------------------------------------

    def _reader_found(self, info) -> None:
        self.reader_ok = True
        self.side.set_device("reader", True, "已连接", getattr(info, "description", "") or "")
        if self.state == "idle":
            self._idle_banner()

    def _reader_lost(self, message: str) -> None:
        self.reader_ok = False
        self.side.set_device("reader", False, "未连接", message)
        if self.state == "reading":
            self._record_failure("reader_lost")
            self._set_state("idle")
        # the driver's message usually says it already ("读卡器连接已断开（…）"): say it once
        what = message.strip().rstrip("。") if "读卡器" in message else f"读卡器连接已断开（{message.strip()}）"
        if self.state in ("idle", "reading"):
            self._banner(f"{what}。请检查连接，或按 F4 手工录入。", "error")
        else:
            self._banner(f"{what}。当前居民的证件信息已读取，可继续办理；"
                         "下一位如读卡器仍未恢复请按 F4 手工录入。", "warn")

    def _card_placed(self) -> None:
        if self.locked:
            self._missed_card = True
            return
        if not self.isVisible() and self.state in ("idle", "printed", "not_found", "done", "person"):
            self.attention_requested.emit()  # the clerk was on another page: back to the counter
        if self.state in ("idle", "printed", "not_found", "done", "person") and not self._helper_dialog_open():
            if self.state in ("idle", "printed", "not_found"):
                self._banner("正在读取身份证，请不要移动证件…")
                self._set_state("reading")

    def _helper_dialog_open(self) -> bool:
        from ui.dialogs.counter_dialogs import HelperDialog

        return isinstance(self.dialog, HelperDialog) and self.dialog.isVisible()

    def _read_failed(self, message: str) -> None:
        self._record_failure("read_failed")
        if self.state == "reading":
            self._set_state("idle")
        self._banner(f"读卡失败：{message}。请重新放置证件，或按 F4 手工录入。", "warn")

    def _card_removed(self) -> None:
        if self.state == "reading":
            self._set_state("idle")

    def _card_read(self, card) -> None:
        if self.locked:  # nobody at the counter to check it: read again once unlocked
            self._missed_card = True
            return
        if self._helper_dialog_open():
            self.dialog.set_card(card)
            return
        if self.state in ("face", "recording"):
            return  # the current resident first
        if not self.isVisible():
            self.attention_requested.emit()
        if self.state in ("person", "face_failed", "done") and self.card is not None \
                and idnumber.normalize(card.id_number) == idnumber.normalize(self.card.id_number):
            return  # the same card read again
        self.start_resident(card)

    def start_resident(self, card, manual_reason: str = "") -> None:
        """A new resident: the card (or a manual entry's card-shaped record) → lookup."""
        self._clean_receipts()
        self.card, self.helper, self.result, self.lookup = card, None, None, None
        self.face_attempts = 0
        self.face_failure_reasons: list[str] = []
        self.t0 = time.perf_counter()
        from desktop.services.counter import CardFacts  # loaded by the database worker long before

        self.card_facts = CardFacts(card.source, card.name, tuple(i.code for i in card.issues), card.photo_status,
                                    manual_reason)
        self._clear_person()
        self._reset_panel()
        if self.resident_language != "zh":
            self.set_resident_language("zh", say_again=False)  # a new resident: Mandarin until chosen or remembered
        self.name_label.setText(card.name or "（手工录入）")
        self.id_label.setText(idnumber.mask(card.id_number))
        self.card_source.setText("手工录入" if card.source == "manual" else "已读取证件芯片")
        self._set_state("looking")
        self._banner("正在查找待遇领取信息…")
        warnings = tuple(i.message_zh for i in card.issues)
        number, name, as_of = card.id_number, card.name, self.backend.as_of
        counter = self.backend.services.counter
        run_in_background(lambda: counter.lookup(number, as_of, card_name=name, card_warnings=warnings),
                          self._show_lookup, self._failed, owner=self)

    def _failed(self, exc) -> None:
        self._banner(f"出错了：{getattr(exc, 'message_zh', exc)}", "error")
        self._set_state("person" if self.lookup and self.lookup.found else "idle")

    def _show_lookup(self, lookup) -> None:
        self.lookup = lookup
        if lookup.warnings:
            self.warn_label.setText("⚠ " + "\n⚠ ".join(lookup.warnings))
            self.warn_label.show()
        if not lookup.found:
            self._set_state("not_found")
            self._banner(f"非本地待遇领取人员：系统中没有 {lookup.masked_id} 的待遇记录。"
                         "请告知居民到参保地经办机构办理；按 Enter 登记本次来访。", "warn")
            self._resident_prompt("not_found")
            return
        p = lookup.person
        self.name_label.setText(p.name)  # as written, Mongolian name separators (·) included
        self._remembered_language(p.id)
        for e in p.entitlements:
            self.cards_layout.addWidget(EntitlementCard(e, p.as_of, self.person_box, columns=2))
        if lookup.resumptions:
            self.resume_label.setText("本次认证后恢复发放：\n" + "\n".join(r.text_zh() for r in lookup.resumptions))
            self.resume_label.show()
        if p.outstanding_forms:
            forms = "；".join(f"{f['serial']}（{f['deadline'].isoformat() if f['deadline'] else ''}前寄回）"
                             for f in p.outstanding_forms)
            self.forms_label.setText(f"有未收回的协助认证表：{forms}。本次现场认证后，该表无需再寄回。")
            self.forms_label.show()
        self._set_state("person")
        if self._terminated():
            self._banner("该人员的待遇均已终止，不能办理资格认证。如属误报，请转审核主管处理。", "error")
        elif self.card.source == "manual":
            self._banner("手工录入没有证件照片，无法人脸比对：请当面核实身份后按 F9 人工核验（需审核主管审批）。", "warn")
        elif not self._camera_usable():
            self._banner(NO_CAMERA_ZH, "warn")
        elif lookup.resumptions:
            self._banner("该居民待遇已暂停发放，本次认证后次月恢复并补发。核对无误后按 Enter 开始人脸认证。", "warn")
        else:
            self._banner("请核对证件与居民本人，核对无误后按 Enter 开始人脸认证；有人陪同代办请按 F6。")
        self._resident_prompt("get_ready")

    # --- face check --------------------------------------------------------------------------------

    def start_face_check(self) -> None:
        if not self._face_possible():
            return
        if self.panel._thread is not None:  # the previous check's worker is still winding down
            QTimer.singleShot(30, self.start_face_check)
            return
        try:
            self._pending_session = self.kit.face_session_factory(self.card, self.lookup)
        except Exception as exc:  # noqa: BLE001 - e.g. no chip photo, engine unavailable
            self._banner(f"{getattr(exc, 'message_zh', exc)}（F9 人工核验）", "warn")
            self._record_failure(getattr(exc, "code", "engine_unavailable"))
            return
        self.face_result.setText("")
        self._cancel_requested = False
        self._set_state("face")
        self._banner("人脸认证进行中：请居民看着摄像头，按居民屏幕上的提示做动作。（Esc 取消）")
        self.panel.start_check()

    def _face_finished(self, result) -> None:
        if self.state != "face":
            return
        if self._cancel_requested or (result.reason is not None and result.reason.value == "cancelled"):
            self._face_cancelled()
            return
        from desktop.services.counter import FAILURE_ZH, FaceOutcome

        ev = result.evidence
        if result.passed:
            self.face_result.setObjectName("resultPass")
            self.face_result.setText("✔ 人脸认证通过（活体检测通过）")
            self.face_result.setStyleSheet("")
            self._set_state("recording")
            self._banner("认证通过，正在记录…", "ok")
            face = FaceOutcome(ev.distance, ev.liveness_passed, ev.frames_used, ev.frames_seen, tuple(ev.challenges_done),
                               ev.settings_accept, ev.settings_reject, ev.image_png)
            counter, pid, as_of, actor = (self.backend.services.counter, self.lookup.person.id, self.backend.as_of,
                                          self.actor)
            card, helper, secs = self.card_facts, self.helper, self._elapsed()
            attempts, failures = self.face_attempts + 1, tuple(self.face_failure_reasons)
            run_in_background(lambda: counter.certify_by_face(pid, as_of, actor, face, card=card, helper=helper,
                                                              seconds=secs, attempts=attempts, failures=failures),
                              self._recorded, self._record_error, owner=self)
        else:
            self.face_attempts += 1
            t = result.triage
            reason = result.reason.value if result.reason else "cancelled"
            self.face_failure_reasons.append(reason)
            self.face_result.setObjectName("resultFail")
            self.face_result.setStyleSheet("")
            self.face_result.setText(f"✘ 未通过：{t.title_zh if t else FAILURE_ZH.get(reason, reason)}\n"
                                     f"{t.advice_zh if t else ''}")
            self._record_failure(reason, detail={"attempt": self.face_attempts,
                                                 "distance": ev.distance})
            self._set_state("face_failed")
            self._banner(f"人脸认证未通过（第{self.face_attempts}次）：按提示调整后按 Enter 重试；"
                         "无法通过时按 F9 改用人工核验（需审核主管审批）。", "warn")
            self._resident_prompt("retry")

    def set_locked(self, locked: bool) -> None:
        """The lock screen: the resident screen shows nothing of the last resident; a card put
        down meanwhile is not read (nobody is there to check the person against it)."""
        self.locked = locked
        screen = self.kit.resident_screen if self.kit else None
        if locked:
            if screen is not None:
                self._prompt_before_lock = (screen.prompt_code, screen.prompt_text)
            self._resident_prompt("please_wait", speak=False)
        elif screen is not None and getattr(self, "_prompt_before_lock", None):
            code, text = self._prompt_before_lock
            self._prompt_before_lock = None
            screen.show_prompt(code, text, speak=False)  # back where the resident screen was
        if not locked and self._missed_card:
            self._missed_card = False
            self._banner("锁屏期间放在读卡器上的身份证没有读取：请居民把证件拿起后重新放置。", "warn")

    def escape_pressed(self) -> bool:
        """Esc cancels the current step and stays on the counter (returns True: handled here)."""
        if self.dialog is not None and self.dialog.isVisible():
            return True  # the dialog has its own Esc
        if self.state == "face":
            self._cancel_requested = True
            self._banner("正在取消人脸认证…")
            if self.panel is not None:
                self.panel.abort_check()
        elif self.state in ("person", "not_found", "face_failed", "printed"):
            was = self.state
            self.next_resident()
            if was != "printed" and self.state == "idle":
                self._banner("已取消本次办理。" + self.banner.text(), self.banner.property("kind") or "")
        elif self.state == "done":
            self._banner("认证已记录。按 Enter 打印回执，或按 F12 办理下一位。", "ok")
        elif self.state in ("reading", "looking", "recording"):
            self._banner("请稍候，正在处理…")
        return True

    def _face_cancelled(self) -> None:
        """The clerk pressed Esc during the check: nothing recorded, the resident stays."""
        self._cancel_requested = False
        self._set_state("person")
        self._reset_panel("已取消。按 Enter 重新开始人脸认证。")
        if self._camera_usable():
            self._banner("已取消人脸认证（未记录）。按 Enter 重新开始，或按 F9 改用人工核验。", "warn")
        else:
            self._banner(NO_CAMERA_ZH, "warn")
        self._resident_prompt("get_ready", speak=False)

    def _face_aborted(self) -> None:
        """The check ended without a result: the camera was lost, or Esc stopped the worker."""
        if self.state == "face" and not self._shut_down:
            self._face_cancelled()

    def _camera_state(self, ok: bool) -> None:
        self.side.set_device("camera", ok, "正常" if ok else "无画面",
                             "" if ok else "摄像头没有画面（未连接、被占用或驱动故障）：可按 F9 人工核验")
        if self.state in ("person", "face_failed"):
            self._set_state(self.state)
            if not ok:
                self._banner(NO_CAMERA_ZH, "warn")
            elif self._face_possible():
                self._banner("摄像头已恢复。按 Enter 开始人脸认证。", "ok")
        elif self.state == "idle":
            self._idle_banner()

    def _reset_panel(self, hint: str | None = None) -> None:
        if self.panel is not None:
            self.panel.reset(hint if hint is not None else
                             ("" if self._camera_usable() else "摄像头没有画面"))

    def _next_step_chosen(self, step: str) -> None:
        if step == "staff_attestation":
            self.open_attestation()
        elif step in ("retry_with_advice", "another_challenge"):
            self.start_face_check()
        elif step == "re_enrol":
            self.open_enrolment()

    def _elapsed(self) -> float | None:
        return None if self.t0 is None else time.perf_counter() - self.t0

    # --- recording -----------------------------------------------------------------------------

    def _record_error(self, exc) -> None:
        self._set_state("person")
        self._banner(f"记录失败：{getattr(exc, 'message_zh', exc)}", "error")

    def _recorded(self, result) -> None:
        self.result = result
        self.last_seconds = self._elapsed()
        self.certified.emit(result)
        r = result.receipt
        covers = "、".join(f"{c.label}（下次截止 {c.next_deadline.isoformat()}）" for c in r.covers)
        text = f"认证已记录：{result.person.name}，{'现场人脸认证' if r.method == 'counter' else '人工核验'}。覆盖：{covers}。"
        if result.resumptions:
            text += " " + "；".join(x.text_zh() for x in result.resumptions) + "。"
            self.resume_label.setText("已恢复发放：\n" + "\n".join(x.text_zh() for x in result.resumptions))
            self.resume_label.show()
            self._resident_prompt("success_resumed", "认证成功！您的待遇将从" + _ym(result.resumptions[0].resume_month)
                                  + "起恢复发放，并补发暂停的月份")
        else:
            self._resident_prompt("success")
        while self.cards_layout.count():
            item = self.cards_layout.takeAt(0)
            if item.widget():
                item.widget().hide()  # gone from the screen now, not when the event loop deletes it
                item.widget().deleteLater()
        for e in result.person.entitlements:
            self.cards_layout.addWidget(EntitlementCard(e, result.person.as_of, self.person_box, columns=2))
        self._set_state("done")
        self._banner(text + " 按 Enter 打印回执。", "ok")
        self.refresh_today()
        station = self.backend.services.station if self.backend.services else None
        if station is None or station.get("print_after_record"):
            self.open_receipt()

    def open_receipt(self) -> None:
        if self.result is None or self.state not in ("done", "printed"):
            return
        from desktop.printing.receipt import receipt_pdf_bytes

        result = self.result

        def make() -> str:
            data = receipt_pdf_bytes(result.receipt, result.bureau)
            fh = tempfile.NamedTemporaryFile("wb", prefix="receipt-", suffix=".pdf", delete=False)
            with fh:
                fh.write(data)
            return fh.name

        run_in_background(make, self._show_preview, self._failed, owner=self)

    def _show_preview(self, path: str) -> None:
        from ui.dialogs.receipt_preview import ReceiptPreviewDialog

        self._receipt_files.append(Path(path))
        self.preview = self.dialog = ReceiptPreviewDialog(path, self.kit.printer if self.kit else None, parent=self)
        self.preview.printed.connect(self._printed)
        self.preview.open()

    def _printed(self, text: str) -> None:
        self._set_state("printed")
        secs = f"（用时 {self.last_seconds:.0f} 秒）" if self.last_seconds else ""
        self._banner(f"回执{text.replace('回执', '')}。请居民取回身份证和回执{secs}。按 Enter 办理下一位。", "ok")
        self.receipt_printed.emit(text)
        self.setFocus()

    def _clean_receipts(self) -> None:
        for p in self._receipt_files:
            try:
                p.unlink()
            except OSError:
                pass
        self._receipt_files.clear()

    # --- non-face route, helper, manual entry, not on roster --------------------------------------

    def open_attestation(self) -> None:
        if not (self.lookup and self.lookup.found) or self.state not in ("person", "face_failed") or self._terminated():
            return
        from ui.dialogs.counter_dialogs import ApprovalDialog

        default = ("no_photo" if self.card.source == "manual"
                   else "camera_fault" if self.camera_ready and not self._camera_usable() else "face_failed")
        self.dialog = ApprovalDialog(self.backend.services.operators, self.actor.operator, self.workstation,
                                     resident=f"{self.lookup.person.name}（{self.lookup.masked_id}）",
                                     default_reason=default, parent=self)
        self.dialog.approved.connect(self._attested)
        self.dialog.open()

    def _attested(self, approver, reason: str, note: str) -> None:
        self._set_state("recording")
        self._banner(f"审核主管 {approver.display_name} 已审批，正在记录人工核验…", "ok")
        counter, pid, as_of, actor = self.backend.services.counter, self.lookup.person.id, self.backend.as_of, self.actor
        card, helper, secs, tries = self.card_facts, self.helper, self._elapsed(), self.face_attempts
        run_in_background(lambda: counter.certify_by_attestation(pid, as_of, actor, approver, reason, note=note,
                                                                 card=card, helper=helper, seconds=secs,
                                                                 face_attempts=tries,
                                                                 face_failures=tuple(self.face_failure_reasons)),
                          self._recorded, self._record_error, owner=self)

    def _enrol_reason(self) -> str | None:
        """Offer 采集参考照片 when there is no chip photo, or after repeated failures."""
        kit = self.kit
        if kit is None or kit.enrolment is None or kit.enrol_collector_factory is None or self.camera is None \
                or self.card is None or self._terminated():
            return None
        if not getattr(self.card, "photo_bmp", None):
            return "no_reference"
        return "keeps_failing" if self.face_attempts >= 2 else None

    def open_enrolment(self) -> None:
        reason = self._enrol_reason()
        if not (self.lookup and self.lookup.found) or self.state not in ("person", "face_failed") or reason is None:
            return
        from ui.dialogs.enrol_dialog import EnrolDialog

        self.dialog = EnrolDialog(self.camera, self.kit.enrol_collector_factory, clerk=self.actor.operator,
                                  helper=self.helper, reason=reason,
                                  resident=f"{self.lookup.person.name}（{self.lookup.masked_id}）", parent=self)
        self.dialog.captured.connect(lambda enrolment, consent: self._enrolled(enrolment, consent, reason))
        self.dialog.open()

    def _enrolled(self, enrolment, consent, reason: str) -> None:
        self._set_state("recording")
        self._banner("正在保存参考照片…")
        service, pid, actor = self.kit.enrolment, self.lookup.person.id, self.actor
        run_in_background(lambda: service.enrol_from(pid, enrolment, consent, actor, reason=reason),
                          self._enrol_saved, self._record_error, owner=self)

    def _enrol_saved(self, image_id) -> None:
        self.enrolled_reference = image_id
        self._set_state("person")
        self._banner("参考照片已登记（已记录同意）。按 Enter 用新参考照片进行人脸认证。", "ok")

    def open_helper(self) -> None:
        if not (self.lookup and self.lookup.found) or self.state not in ("person", "face_failed"):
            return
        from ui.dialogs.counter_dialogs import HelperDialog

        self.dialog = HelperDialog(self.lookup.id_number, self.backend.as_of, parent=self)
        self.dialog.chosen.connect(self._helper_chosen)
        self.dialog.open()

    def _helper_chosen(self, helper) -> None:
        self.helper = helper
        self.helper_label.setText(f"代办人：{helper.name}（{helper.relationship}，{helper.masked_id}）"
                                  "——人脸认证仍由居民本人完成")
        self.helper_label.show()
        self._banner("已登记代办人。请居民本人看摄像头，按 Enter 开始人脸认证。")

    def open_manual_entry(self) -> None:
        if self.state in ("face", "recording", "reading", "looking"):
            return
        from ui.dialogs.counter_dialogs import ManualEntryDialog

        self.dialog = ManualEntryDialog(self.actor.operator, self.backend.as_of,
                                        reason="reader_fault" if not self.reader_ok else "card_unreadable", parent=self)
        self.dialog.entered.connect(self._manual_entered)
        self.dialog.open()

    def _manual_entered(self, entry) -> None:
        self.start_resident(entry.to_card(), manual_reason=entry.reason)

    def note_not_on_roster(self) -> None:
        if self.state != "not_found" or self.lookup is None:
            return
        counter, number, actor, as_of, secs = (self.backend.services.counter, self.lookup.id_number, self.actor,
                                               self.backend.as_of, self._elapsed())

        def done(_):
            self._banner("已登记本次来访（非本地待遇领取人员）。请居民取回证件。", "ok")
            self._set_state("printed")
            self.refresh_today()

        run_in_background(lambda: counter.note_not_on_roster(number, actor, as_of, note="柜台来访", seconds=secs),
                          done, self._failed, owner=self)

    def _record_failure(self, reason: str, detail: dict | None = None) -> None:
        if self.backend is None or self.backend.services is None:
            return
        counter, actor, as_of = self.backend.services.counter, self.actor, self.backend.as_of
        pid = self.lookup.person.id if self.lookup and self.lookup.found else None
        run_in_background(lambda: counter.record_failure(actor, as_of, reason, person_id=pid, detail=detail),
                          lambda _: self.refresh_today(), None, owner=self)

    # --- today's panel ---------------------------------------------------------------------------

    def refresh_today(self) -> None:
        if self.backend is None or self.backend.services is None:
            return
        counter, as_of, ws = self.backend.services.counter, self.backend.as_of, self.workstation
        run_in_background(lambda: counter.today(as_of, ws), self._show_today, lambda exc: None, owner=self)

    def _show_today(self, stats) -> None:
        self.stats = stats
        self.today_count.setText(str(stats.certified))
        avg = "—" if stats.average_seconds is None else f"{stats.average_seconds:.0f} 秒"
        from desktop.labels import CERT_METHOD_ZH

        methods = "，".join(f"{CERT_METHOD_ZH.get(k, k)} {v}" for k, v in stats.by_method.items()) or "—"
        lines = [f"平均每人用时：<b>{avg}</b>", f"方式：{methods}", f"代办：{stats.helpers} 人",
                 f"非本地人员来访：{stats.not_on_roster} 人", f"<br><b>未通过 {stats.failed} 次</b>"]
        lines += [f"· {zh}：{n}" for _, zh, n in stats.failures[:6]]
        self.today_detail.setText("<br>".join(lines))


PAGE_SPEC = {"key": "counter", "title": "现场认证", "shortcut": "F1", "order": 0, "cls": CounterPage}
