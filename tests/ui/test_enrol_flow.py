"""采集参考照片 at the counter (pytest-qt, offscreen): consent dialog, capture on a worker, stored
encrypted as the person's reference with the consent record, then the face check is offered again."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import cv2
import numpy as np
import pytest
from sqlalchemy import text

from test_counter_flow import counter, place, world  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.gui


class FakeCollector:
    """EnrolmentCollector's protocol without the models: ready after three frames."""

    def __init__(self):
        self._encodings = []
        self.last_issues = ()
        self.frame = None
        self.threads = set()

    def add(self, frame):
        import threading

        self.threads.add(threading.get_ident())
        self._encodings.append(np.zeros(128))
        self.frame = frame
        return len(self._encodings) >= 3

    def build(self, consent, reason="no_reference"):
        from desktop.face.enrol import Enrolment

        ok, buf = cv2.imencode(".png", self.frame)
        return Enrolment(tuple([0.0] * 128), 3, 0.01, consent, datetime.now(timezone.utc), reason, buf.tobytes())


def test_enrolment_with_consent_stores_the_reference(qtbot, counter, world):
    import threading

    from desktop.services.enrolment import EnrolmentService
    from ui.dialogs.enrol_dialog import EnrolDialog

    db, services, people = world
    page = counter
    collectors = []
    page.kit.enrolment = EnrolmentService(db, services.evidence)
    page.kit.enrol_collector_factory = lambda: collectors.append(FakeCollector()) or collectors[-1]
    place(qtbot, page, 0)
    if page.card.photo_bmp:                      # a chip photo: offered only after repeated failures
        page.kit.face_script[:] = ["not_matching", "not_matching"]
        for _ in range(2):
            page.primary_action()
            qtbot.waitUntil(lambda: page.state == "face_failed", timeout=8000)
    assert page.enrol_button.isEnabled()
    page.open_enrolment()   # F7
    dlg = page.dialog
    assert isinstance(dlg, EnrolDialog) and dlg.isVisible()
    assert not dlg.start_button.isEnabled()       # no capture before the consent box is ticked
    assert "人脸认证比对" in dlg.consent_text.toPlainText()
    assert not dlg.by_helper.isEnabled()          # no 代办 helper registered
    dlg.agree.setChecked(True)
    dlg.start_button.click()
    qtbot.waitUntil(lambda: bool(page.state == "person" and getattr(page, "enrolled_reference", None)), timeout=8000)
    assert "参考照片已登记" in page.banner.text(), (page.state, page.enrolled_reference, page.banner.text())
    assert threading.get_ident() not in collectors[0].threads      # captured off the GUI thread
    pid = page.lookup.person.id
    png = page.kit.enrolment.reference_png(pid)
    assert png is not None and png.startswith(b"\x89PNG")
    with db.engine.connect() as conn:
        row = conn.execute(text("select ciphertext, consent from face_images where person_id=:p and kind='reference'"),
                           {"p": pid}).one()
    assert b"\x89PNG" not in bytes(row.ciphertext)
    rec = json.loads(row.consent)
    assert rec["given"] and rec["by"] == "resident" and rec["clerk"] == "zhangmin"
    assert page.primary_button.isEnabled()       # Enter: the face check with the new reference


def test_enrolment_dialog_refuses_without_consent(qtbot, counter, world):
    db, services, people = world
    page = counter
    from desktop.services.enrolment import EnrolmentService

    page.kit.enrolment = EnrolmentService(db, services.evidence)
    page.kit.enrol_collector_factory = FakeCollector
    place(qtbot, page, 0)
    page.kit.face_script[:] = ["not_matching", "not_matching"]
    if page.card.photo_bmp:
        for _ in range(2):
            page.primary_action()
            qtbot.waitUntil(lambda: page.state == "face_failed", timeout=8000)
    page.open_enrolment()
    dlg = page.dialog
    dlg.start_capture()                           # forced without the box: nothing is captured
    assert dlg.consent is None and dlg.pages.currentIndex() == 0
    dlg.reject()
    assert page.kit.enrolment.reference_png(page.lookup.person.id) is None
