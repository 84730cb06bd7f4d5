"""现场认证: the counter's one screen, a view of :class:`desktop.counter.flow.CounterFlow`.

The flow holds the states and rules of serving one resident (card → person → face check or staff
attestation → record → receipt); this page shows its events (state, banner, prompts, the person,
the result) and turns the clerk's keys, the reader bridge, the camera panel and the dialogs into
the flow's commands. Keys: Enter = the next step, F4 manual entry, F6 helper (代办), F7 reference
photo, F8 Mongolian, F9 staff attestation, F12 next resident, Ctrl+P receipt (Ctrl+L lock is the
window's). Services run through :func:`ui.workers.run_in_background`; the station (reader,
camera, face check, printer) comes injected (:class:`desktop.counter.station.Station`).
"""

from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QWidget

from desktop.domain import idnumber
from desktop.counter.flow import NO_CAMERA_ZH, STEP_OF, STEPS  # noqa: F401 - STEPS: the page's step row
from desktop.platform.workstation import Actor
from ui import workers
from ui.pages import counter_layout
from ui.pages.counter_resident import ResidentSide
from ui.pages.counter_steps import CounterSteps
from ui.widgets.entitlement_card import EntitlementCard
from ui.workers import run_in_background

PAGE_CSS = counter_layout.PAGE_CSS


class CounterPage(CounterSteps, ResidentSide, QWidget):
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
        self.backend = self.kit = self.flow = self.operator = None
        self.workstation = "workstation"
        self.bridge = self.camera = self.panel = None
        self.dialog = None  # the open dialog (tests drive it)
        self.preview = self.stats = None
        self.training_panel = None  # demo / 培训模式 only (ui.widgets.training_panel)
        self._shut_down = False
        self._camera_job = {"cancelled": False, "pending": False}
        self._pending_session = None
        self._receipt_files: list[Path] = []
        self._bare_state = "idle"
        counter_layout.build(self)
        self._clear_person()
        self._render_state("idle")

    # --- the flow's state, read by the window, the drill and the tests ----------------------------

    state = property(lambda self: self.flow.state if self.flow else self._bare_state)
    card = property(lambda self: self.flow.card if self.flow else None)
    lookup = property(lambda self: self.flow.lookup if self.flow else None)
    helper = property(lambda self: self.flow.helper if self.flow else None)
    result = property(lambda self: self.flow.result if self.flow else None)
    face_attempts = property(lambda self: self.flow.face_attempts if self.flow else 0)
    reader_ok = property(lambda self: bool(self.flow and self.flow.reader_ok))
    camera_ready = property(lambda self: bool(self.flow and self.flow.camera_ready))
    locked = property(lambda self: bool(self.flow and self.flow.locked))
    enrolled_reference = property(lambda self: self.flow.enrolled_reference if self.flow else None)
    station = property(lambda self: self.kit)

    @property
    def actor(self) -> Actor:
        op = self.operator
        return Actor(op.username, self.workstation, op.role) if op else Actor("unknown", self.workstation, "clerk")

    # --- wiring ------------------------------------------------------------------------------------

    def set_backend(self, backend) -> None:
        self.backend = backend
        if self.flow is None and backend is not None and backend.services is not None:
            from desktop.counter.flow import CounterFlow

            self.flow = CounterFlow(backend.services.counter, backend.as_of, actor=lambda: self.actor,
                                    run=lambda fn, ok, err: run_in_background(fn, ok, err, owner=self),
                                    on_event=self._on_event)
            if backend.station is not None:
                self.set_station(backend.station)
            self.flow.refresh_today()

    def set_operator(self, operator, workstation: str) -> None:
        self.operator, self.workstation = operator, workstation
        try:
            window = self.backend.services.counter.window_label() if self.backend and self.backend.services else ""
        except Exception:  # noqa: BLE001 - a label only
            window = ""
        self.operator_label.setText(f"经办人：{operator.display_name}（{operator.role_zh}）" + (f" · {window}" if window else ""))

    def set_station(self, station) -> None:
        """Reader bridge from the station; the camera opens on the device pool (a webcam's driver
        import and probing take a while); the face panel is built once it is open."""
        from ui.reader_bridge import ReaderBridge

        self.kit = station
        self.flow.can_enrol = lambda: (self.kit is not None and self.kit.enrolment is not None
                                       and self.kit.enrol_collector_factory is not None)
        if station.demo and self.training_panel is None:  # demo and 培训模式: the simulated devices' controls
            from ui.widgets.training_panel import TrainingPanel

            self.training_panel = TrainingPanel(self, station.training_cards, training=station.training, parent=self)
            self.layout().insertWidget(1, self.training_panel)
        self.bridge = b = ReaderBridge(station.reader_session_factory, self)
        b.card_placed.connect(self._card_placed)
        b.card_read.connect(self._card_read)
        b.card_removed.connect(self.flow.card_removed)
        b.reader_lost.connect(self._reader_lost)
        b.reader_found.connect(self._reader_found)
        b.read_failed.connect(self.flow.read_failed)
        b.start()  # before the camera worker starts importing its driver (Thread.start needs the GIL)
        self.face_result.setText("正在打开摄像头…")
        factory, job = station.camera_factory, self._camera_job

        def open_camera():  # device worker: no widgets here
            camera = factory()
            if job["cancelled"]:  # shut down meanwhile: release the device at once
                camera.stop()
                return None
            job["camera"] = camera  # until delivered: shutdown() releases it if the delivery never comes
            return camera

        job["pending"] = True
        run_in_background(open_camera, lambda camera: self._camera_opened(station, camera),
                          lambda exc: self._camera_opened(station, None, exc), pool=workers.device_pool())
        self._resident_prompt("idle")

    set_kit = set_station

    def _camera_opened(self, station, camera, exc: BaseException | None = None) -> None:
        self._camera_job["pending"] = False
        self._camera_job.pop("camera", None)
        if not shiboken6.isValid(self) or self._shut_down or station is not self.kit:
            if camera is not None:  # the page went away meanwhile: release the device
                camera.stop()
            return
        self.camera = camera
        if camera is None:  # no camera: the non-face route remains
            self.face_result.setText(f"摄像头不可用：{getattr(exc, 'message_zh', exc)}。可改用人工核验。")
            self.side.set_device("camera", False, "不可用")
        else:
            from ui.face_check_panel import FaceCheckPanel

            self.side.set_device("camera", True, "正常")
            self.face_result.setText("")
            self.panel = p = FaceCheckPanel(camera, lambda: self._pending_session,
                                            resident_screen=self.resident_screen, parent=self.face_box)
            p.start_button.hide()  # the counter's Enter starts the check
            p.show_result = False  # the counter says it below, in its own words
            p.check_finished.connect(self.flow.face_finished)
            p.check_aborted.connect(lambda: self.state == "face" and not self._shut_down and self.flow.face_cancelled())
            p.camera_state_changed.connect(self._camera_state)
            p.next_step_chosen.connect(self._next_step_chosen)
            self._reset_panel()
            self.face_layout.takeAt(self.face_layout.count() - 1)  # the placeholder stretch
            self.face_layout.insertWidget(1, p, 1)
        self.flow.camera_opened(camera is not None and self.panel.camera_ok)

    def shutdown(self) -> None:
        self._shut_down = True
        self._camera_job["cancelled"] = True
        if self._camera_job["pending"]:
            workers.device_pool().waitForDone(5000)  # shutdown only: the worker then releases the camera itself
        undelivered = self._camera_job.pop("camera", None)
        if undelivered is not None:  # opened, but the GUI thread never got it
            undelivered.stop()
        for device in (self.panel, self.camera):
            if device is not None:
                device.stop()
        if self.bridge is not None:
            self.bridge.stop()
            self.bridge.wait(3)
        self._clean_receipts()

    def activated(self) -> None:
        self.setFocus()
        self.refresh_today()

    def refresh_today(self) -> None:
        if self.flow is not None:
            self.flow.refresh_today()

    # --- the flow's events ------------------------------------------------------------------------

    def _on_event(self, e) -> None:
        if e.kind == "state":
            self._render_state(e.data)
        elif e.kind == "banner":
            self._banner(e.text, e.level)
        elif e.kind == "prompt":
            self._resident_prompt(e.level, e.text or None, speak=e.data)
        elif e.kind == "lookup":
            self._show_lookup(e.data)
        elif e.kind == "cleared":
            self._new_resident(e.data)
        elif e.kind == "face_result":
            self.face_result.setObjectName("resultPass" if e.data else "resultFail")
            self.face_result.setStyleSheet("")
            self.face_result.setText(e.text)
        elif e.kind == "recorded":
            self._recorded(e.data)
        elif e.kind == "today":
            self._show_today(e.data)

    def _set_state(self, state: str) -> None:
        if self.flow is not None:
            self.flow._set(state)
        else:  # no database yet (a window still opening): only the view
            self._bare_state = state
            self._render_state(state)

    def _render_state(self, state: str) -> None:
        idx = STEP_OF.get(state, 0)
        for i, lab in enumerate(self.step_labels):
            lab.setProperty("active", "true" if i == idx else "false")
            lab.setProperty("past", "true" if i < idx else "false")
            lab.style().unpolish(lab)
            lab.style().polish(lab)
        c = self.flow.controls() if self.flow else None
        self.primary_button.setText(c.primary if c else "请放置身份证")
        for button, on in ((self.primary_button, c and c.primary_enabled), (self.attest_button, c and c.attest),
                           (self.helper_button, c and c.helper), (self.enrol_button, c and c.enrol),
                           (self.print_button, c and c.print), (self.next_button, not c or c.next),
                           (self.manual_button, not c or c.manual), (self.detail_button, c and c.detail),
                           (self.language_button, c and c.language)):
            button.setEnabled(bool(on))
        self.state_changed.emit(state)

    def _banner(self, text: str, kind: str = "") -> None:
        self.banner.setText(text)
        self.banner.setProperty("kind", kind)
        self.banner.style().unpolish(self.banner)
        self.banner.style().polish(self.banner)

    def _clear_person(self) -> None:
        for w in (self.name_label, self.id_label, self.card_source, self.face_result):
            w.setText("")
        for w in (self.warn_label, self.resume_label, self.forms_label, self.helper_label):
            w.hide()
        self._clear_cards()

    def _clear_cards(self) -> None:
        while self.cards_layout.count():
            item = self.cards_layout.takeAt(0)
            if item.widget():
                item.widget().hide()  # gone from the screen now, not when the event loop deletes it
                item.widget().deleteLater()

    def _new_resident(self, card) -> None:
        """A new resident's card (or none: ready for the next one)."""
        self._clean_receipts()
        self._clear_person()
        self._reset_panel()
        if self.resident_language != "zh":  # Mandarin until chosen or remembered
            self.set_resident_language("zh", say_again=False)
        if card is not None:
            self.name_label.setText(card.name or "（手工录入）")
            self.id_label.setText(idnumber.mask(card.id_number))
            self.card_source.setText("手工录入" if card.source == "manual" else "已读取证件芯片")

    def _show_lookup(self, lookup) -> None:
        if lookup.warnings:
            self.warn_label.setText("⚠ " + "\n⚠ ".join(lookup.warnings))
            self.warn_label.show()
        if not lookup.found:
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

    def _recorded(self, result) -> None:
        self.certified.emit(result)
        if result.resumptions:
            self.resume_label.setText("已恢复发放：\n" + "\n".join(x.text_zh() for x in result.resumptions))
            self.resume_label.show()
        self._clear_cards()
        for e in result.person.entitlements:
            self.cards_layout.addWidget(EntitlementCard(e, result.person.as_of, self.person_box, columns=2))
        station = self.backend.services.station if self.backend.services else None
        if station is None or station.get("print_after_record"):
            self.open_receipt()

    def _show_today(self, stats) -> None:
        from desktop.domain.labels import CERT_METHOD_ZH

        self.stats = stats
        self.today_count.setText(str(stats.certified))
        avg = "—" if stats.average_seconds is None else f"{stats.average_seconds:.0f} 秒"
        methods = "，".join(f"{CERT_METHOD_ZH.get(k, k)} {v}" for k, v in stats.by_method.items()) or "—"
        lines = [f"平均每人用时：<b>{avg}</b>", f"方式：{methods}", f"代办：{stats.helpers} 人",
                 f"非本地人员来访：{stats.not_on_roster} 人", f"<br><b>未通过 {stats.failed} 次</b>"]
        lines += [f"· {zh}：{n}" for _, zh, n in stats.failures[:6]]
        self.today_detail.setText("<br>".join(lines))

    def _failed(self, exc) -> None:
        self.flow._failed(exc)

    # --- the reader and the camera ---------------------------------------------------------------

    def _reader_found(self, info) -> None:
        self.side.set_device("reader", True, "已连接", getattr(info, "description", "") or "")
        self.flow.reader_found()

    def _reader_lost(self, message: str) -> None:
        self.side.set_device("reader", False, "未连接", message)
        self.flow.reader_lost(message)

    def _card_placed(self) -> None:
        if not self.locked and not self.isVisible() and self.state in ("idle", "printed", "not_found", "done", "person"):
            self.attention_requested.emit()  # the clerk was on another page: back to the counter
        self.flow.card_placed(dialog_open=self._helper_dialog_open())

    def _helper_dialog_open(self) -> bool:
        from ui.dialogs.counter_dialogs import HelperDialog

        return isinstance(self.dialog, HelperDialog) and self.dialog.isVisible()

    def _card_read(self, card) -> None:
        if not self.locked and self._helper_dialog_open():
            self.dialog.set_card(card)  # the helper's own card
            return
        if not self.locked and self.state not in ("face", "recording") and not self.isVisible():
            self.attention_requested.emit()
        self.flow.card_read(card)

    def start_resident(self, card, manual_reason: str = "") -> None:
        self.flow.start_resident(card, manual_reason)

    def _camera_state(self, ok: bool) -> None:
        self.side.set_device("camera", ok, "正常" if ok else "无画面",
                             "" if ok else "摄像头没有画面（未连接、被占用或驱动故障）：可按 F9 人工核验")
        self.flow.camera_state(ok)

    def _reset_panel(self, hint: str | None = None) -> None:
        if self.panel is not None:
            self.panel.reset(hint if hint is not None else ("" if self.panel.camera_ok else "摄像头没有画面"))

    def _next_step_chosen(self, step: str) -> None:
        if step == "staff_attestation":
            self.open_attestation()
        elif step in ("retry_with_advice", "another_challenge"):
            self.start_face_check()
        elif step == "re_enrol":
            self.open_enrolment()

    # --- the clerk's commands ---------------------------------------------------------------------

    def primary_action(self) -> None:
        if self.flow is None or (self.dialog is not None and self.dialog.isVisible()):
            return
        step = self.flow.primary()
        {"face": self.start_face_check, "attest": self.open_attestation, "note": self.note_not_on_roster,
         "receipt": self.open_receipt, "next": self.next_resident}.get(step, lambda: None)()

    def next_resident(self) -> None:
        if self.flow is not None:
            self.flow.next_resident()  # its "cleared" event empties the columns

    def start_face_check(self) -> None:
        if not self.flow.face_possible():
            return
        if self.panel.running:  # the previous check's worker is still winding down
            QTimer.singleShot(30, self.start_face_check)
            return
        try:
            self._pending_session = self.kit.face_session_factory(self.card, self.lookup)
        except Exception as exc:  # noqa: BLE001 - e.g. no chip photo, engine unavailable
            self.flow.face_session_refused(exc)
            return
        self.face_result.setText("")
        self.flow.face_started()
        self.panel.start_check()

    def escape_pressed(self) -> bool:
        """Esc cancels the current step and stays on the counter (returns True: handled here)."""
        if self.flow is None or (self.dialog is not None and self.dialog.isVisible()):
            return True  # the dialog has its own Esc
        if self.flow.escape() == "abort_face" and self.panel is not None:
            self.panel.abort_check()
        return True

    def set_locked(self, locked: bool) -> None:
        """The lock screen: the resident screen shows nothing of the last resident; a card put
        down meanwhile is not read (nobody is there to check the person against it)."""
        self._lock_resident_screen(locked)
        if self.flow is not None:
            self.flow.set_locked(locked)

    def note_not_on_roster(self) -> None:
        if self.flow is not None:
            self.flow.note_not_on_roster()


PAGE_SPEC = {"key": "counter", "title": "现场认证", "shortcut": "F1", "order": 0, "cls": CounterPage}
