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


def _wav(path, seconds=0.1):
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * int(16000 * seconds))
    return path


def test_without_a_voice_the_prerendered_wav_is_played(qtbot, tmp_path):
    from ui.resident_screen import PromptSpeaker, ResidentScreen

    normal = _wav(tmp_path / "blink.wav")
    slow = _wav(tmp_path / "blink@slow.wav")
    _wav(tmp_path / "open_mouth.wav")
    speaker = PromptSpeaker(use_tts=False, audio_dir=tmp_path, rate=-0.3)
    screen = ResidentScreen(speaker)
    qtbot.addWidget(screen)
    assert speaker.mode == "audio"
    screen.show_prompt("blink", "请眨一眨眼睛")
    assert speaker.player is not None
    assert speaker.player.source().toLocalFile() == str(slow)          # slow speed: the slow rendering
    speaker.set_rate(0.2)
    screen.repeat()                                                     # the repeat key replays it
    assert speaker.player.source().toLocalFile() == str(normal)
    screen.show_prompt("open_mouth", "很好，请张开嘴巴，然后合上")       # no slow variant: the normal one
    assert speaker.player.source().toLocalFile() == str(tmp_path / "open_mouth.wav")
    before = speaker.player
    screen.show_prompt("turn_left", "请慢慢向左转头")                    # no file for this code: visual only
    assert speaker.last_source is None and speaker.player is before
    assert screen.prompt_text == "请慢慢向左转头"


def test_neither_voice_nor_audio_is_visual_only(qtbot, tmp_path):
    from ui.resident_screen import PromptSpeaker, ResidentScreen

    speaker = PromptSpeaker(use_tts=False, audio_dir=tmp_path / "missing")
    screen = ResidentScreen(speaker)
    qtbot.addWidget(screen)
    screen.show_prompt("blink", "请眨一眨眼睛")
    assert speaker.mode == "visual" and speaker.player is None and speaker.last_source is None
    assert screen.prompt_text == "请眨一眨眼睛"


def test_every_prompt_code_is_rendered(tmp_path):
    """scripts/render_prompts.py covers every code the session and triage can send."""
    import importlib.util
    import shutil
    from pathlib import Path

    from desktop.face.liveness import Challenge
    from desktop.face.triage import ADVICE_ZH, Reason

    script = Path(__file__).resolve().parents[2] / "scripts" / "render_prompts.py"
    spec = importlib.util.spec_from_file_location("render_prompts", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    texts = mod.prompt_texts()
    needed = {"look_at_camera", "hold_still", "retry"} | {c.value for c in Challenge} | \
             {r.value for r in Reason if ADVICE_ZH[r]}
    assert needed <= set(texts) and all(texts.values())
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install -y espeak-ng)")
    written = mod.render(tmp_path, {"blink": texts["blink"]}, shutil.which("espeak-ng"))
    assert {p.name for p in written} == {"blink.wav", "blink@slow.wav"}
    import wave

    with wave.open(str(tmp_path / "blink@slow.wav")) as slow, wave.open(str(tmp_path / "blink.wav")) as normal:
        assert slow.getnframes() > normal.getnframes() > 0.5 * normal.getframerate()
