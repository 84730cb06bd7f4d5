"""Resident screen: mirrored preview, prompts in big type, repeat key, speech fallback."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


@pytest.fixture
def screen(qtbot, tmp_path):
    from ui.resident_screen import PromptSpeaker, ResidentScreen

    speaker = PromptSpeaker(use_tts=False, audio_dir=tmp_path)
    w = ResidentScreen(speaker)
    qtbot.addWidget(w)
    w.resize(800, 600)
    w.show()
    return w


def test_visual_mode_without_voice_still_records_prompts(screen):
    assert screen.speaker.mode == "visual"
    screen.show_prompt("blink", "请眨一眨眼睛")
    assert screen.prompt_text == "请眨一眨眼睛"
    assert screen.speaker.spoken == ["请眨一眨眼睛"]


def test_repeat_key_says_it_again_and_signals(screen, qtbot):
    screen.show_prompt("open_mouth", "请张开嘴巴")
    with qtbot.waitSignal(screen.repeat_requested, timeout=1000):
        qtbot.keyClick(screen, Qt.Key.Key_Space)
    assert screen.speaker.spoken == ["请张开嘴巴", "请张开嘴巴"]


def test_speed_keys_adjust_rate(screen, qtbot):
    before = screen.speaker.rate
    qtbot.keyClick(screen, Qt.Key.Key_Minus)
    assert screen.speaker.rate < before


def test_preview_is_mirrored_and_painted(screen, qtbot):
    from ui.resident_screen import bgr_to_qimage

    img = np.zeros((48, 64, 3), np.uint8)
    img[:, :8] = (0, 0, 255)          # red stripe on the image-left
    q = bgr_to_qimage(img, mirror=True)
    assert q.pixelColor(63, 10).red() == 255 and q.pixelColor(0, 10).red() == 0
    for code in ("turn_left", "turn_right", "blink", "open_mouth", "look_at_camera"):
        screen.show_prompt(code, "提示", speak=False)
        screen.show_frame(img)
        screen.repaint()
    assert screen.frames_painted >= 5


def test_place_uses_a_window_on_a_single_screen(screen):
    screen.place()
    assert screen.isVisible()
