"""Clerk panel with a fake camera and a scripted session: runs off the GUI thread, shows triage."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

pytestmark = pytest.mark.gui


class SlowSession:
    """Stands in for FaceCheckSession: ~80 ms a frame, then a failure with triage."""

    def __init__(self, fail_after=8):
        from desktop.face.triage import Reason

        self.reason = Reason.CHALLENGE_NOT_DONE
        self.fed = 0
        self.threads = set()
        self.finished = False
        self.requests = []
        self.fail_after = fail_after

    def request(self, action):
        self.requests.append(action)

    def feed(self, image):
        from datetime import datetime, timezone

        from desktop.face.session import FaceCheckResult, FaceEvidence, Phase, Progress, Prompt
        from desktop.face.triage import triage

        self.threads.add(threading.get_ident())
        time.sleep(0.08)
        self.fed += 1
        if self.fed == 1:
            return [Prompt("blink", "请眨一眨眼睛")]
        if self.fed < self.fail_after:
            return [Progress(Phase.CHALLENGE, 0.5, 1, None, (), 0, 2)]
        now = datetime.now(timezone.utc)
        ev = FaceEvidence(0.41, (0.41,), 1, self.fed, ("blink", "open_mouth"), (), False, 0, 0, 0.5, 0.6, now, now, b"")
        self.finished = True
        return [FaceCheckResult(False, None, self.reason, triage(self.reason), ev)]


def test_panel_runs_check_off_gui_thread_and_shows_triage(qtbot, tmp_path):
    from desktop.devices.cameras import ArraySource
    from ui.face_check_panel import FaceCheckPanel
    from ui.resident_screen import PromptSpeaker, ResidentScreen

    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (120, 160, 3), dtype=np.uint8) for _ in range(30)]
    source = ArraySource(frames, pace_fps=60, loop=True).start()
    session = SlowSession()
    resident = ResidentScreen(PromptSpeaker(use_tts=False, audio_dir=tmp_path))
    qtbot.addWidget(resident)
    panel = FaceCheckPanel(source, lambda: session, resident_screen=resident)
    qtbot.addWidget(panel)
    try:
        with qtbot.waitSignal(panel.check_finished, timeout=10000) as blocker:
            assert not panel.repeat_button.isEnabled()      # nothing to repeat before start
            panel.start_check()
            qtbot.waitUntil(lambda: session.fed >= 2, timeout=5000)
            panel.repeat_button.click()
        result = blocker.args[0]
        assert result.reason.value == "challenge_not_done"
        assert threading.get_ident() not in session.threads      # face work never on the GUI thread
        assert "repeat" in session.requests
        assert panel.suggestions.count() >= 2
        assert "未通过" in panel.result_label.text()
        assert resident.prompt_text == "请眨一眨眼睛"
        # the preview kept painting while the (slow) session worked: more paints than analysed frames
        assert panel.frames_painted > session.fed
        qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=3000)
    finally:
        panel.stop()
        source.stop()
