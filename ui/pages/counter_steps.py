"""The counter page's dialogs, each one step of the flow: the receipt preview (print), staff
attestation with a supervisor's approval (F9), a reference photo (F7), the helper (F6) and manual
entry (F4). A mixin of :class:`ui.pages.counter.CounterPage`; each dialog's answer becomes a
command of the counter flow (:mod:`desktop.counter.flow`)."""

from __future__ import annotations

from pathlib import Path

from ui.workers import run_in_background


class CounterSteps:
    """Needs from the page: ``flow``, ``kit`` (the station), ``backend``, ``actor``, ``dialog``."""

    def open_receipt(self) -> None:
        if self.result is None or self.state not in ("done", "printed"):
            return
        from desktop.counter.receipt import write_receipt

        result = self.result
        run_in_background(lambda: str(write_receipt(result)), self._show_preview, self._failed, owner=self)

    def _show_preview(self, path: str) -> None:
        from ui.dialogs.receipt_preview import ReceiptPreviewDialog

        self._receipt_files.append(Path(path))
        self.preview = self.dialog = ReceiptPreviewDialog(path, self.kit.printer if self.kit else None, parent=self)
        self.preview.printed.connect(self._printed)
        self.preview.open()

    def _printed(self, text: str) -> None:
        self.flow.receipt_printed(text)
        self.receipt_printed.emit(text)
        self.setFocus()

    def _clean_receipts(self) -> None:
        for p in self._receipt_files:
            p.unlink(missing_ok=True)
        self._receipt_files.clear()

    def open_attestation(self) -> None:
        flow = self.flow
        if flow is None or not flow.found or self.state not in ("person", "face_failed") or flow.terminated:
            return
        from ui.dialogs.counter_dialogs import ApprovalDialog

        self.dialog = ApprovalDialog(self.backend.services.operators, self.actor.operator, self.workstation,
                                     resident=f"{self.lookup.person.name}（{self.lookup.masked_id}）",
                                     default_reason=flow.attestation_default(), parent=self)
        self.dialog.approved.connect(flow.attested)
        self.dialog.open()

    def open_enrolment(self) -> None:
        reason = self.flow.enrol_reason() if self.flow else None
        if reason is None or self.camera is None or not self.flow.found or self.state not in ("person", "face_failed"):
            return
        from ui.dialogs.enrol_dialog import EnrolDialog

        self.dialog = EnrolDialog(self.camera, self.kit.enrol_collector_factory, clerk=self.actor.operator,
                                  helper=self.helper, reason=reason,
                                  resident=f"{self.lookup.person.name}（{self.lookup.masked_id}）", parent=self)
        self.dialog.captured.connect(lambda enrolment, consent: self._enrolled(enrolment, consent, reason))
        self.dialog.open()

    def _enrolled(self, enrolment, consent, reason: str) -> None:
        service, pid, actor = self.kit.enrolment, self.lookup.person.id, self.actor
        self.flow.enrol(lambda: service.enrol_from(pid, enrolment, consent, actor, reason=reason))

    def open_helper(self) -> None:
        if self.flow is None or not self.flow.found or self.state not in ("person", "face_failed"):
            return
        from ui.dialogs.counter_dialogs import HelperDialog

        self.dialog = HelperDialog(self.lookup.id_number, self.backend.as_of, parent=self)
        self.dialog.chosen.connect(self._helper_chosen)
        self.dialog.open()

    def _helper_chosen(self, helper) -> None:
        self.helper_label.setText(f"代办人：{helper.name}（{helper.relationship}，{helper.masked_id}）"
                                  "——人脸认证仍由居民本人完成")
        self.helper_label.show()
        self.flow.helper_chosen(helper)

    def open_manual_entry(self) -> None:
        if self.flow is None or self.state in ("face", "recording", "reading", "looking"):
            return
        from ui.dialogs.counter_dialogs import ManualEntryDialog

        self.dialog = ManualEntryDialog(self.actor.operator, self.backend.as_of,
                                        reason="reader_fault" if not self.reader_ok else "card_unreadable", parent=self)
        self.dialog.entered.connect(lambda entry: self.flow.start_resident(entry.to_card(), entry.reason))
        self.dialog.open()
