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


class FakeSoundEffect:
    """Stands in for QSoundEffect: the choice of file is tested on machines without a sound library."""

    played: list = []

    def __init__(self, parent=None):
        self._source = None

    def setSource(self, url):  # noqa: N802 - Qt's name
        self._source = url

    def source(self):
        return self._source

    def play(self):
        FakeSoundEffect.played.append(self._source.toLocalFile())

    def stop(self):
        pass


def test_without_a_voice_the_prerendered_wav_is_played(qtbot, tmp_path):
    from ui.resident_screen import PromptSpeaker, ResidentScreen

    normal = _wav(tmp_path / "blink.wav")
    slow = _wav(tmp_path / "blink@slow.wav")
    _wav(tmp_path / "open_mouth.wav")
    FakeSoundEffect.played = []
    speaker = PromptSpeaker(use_tts=False, audio_dir=tmp_path, rate=-0.3, sound_effect=FakeSoundEffect,
                            outputs=lambda: ["扬声器"])  # a machine with a loudspeaker
    screen = ResidentScreen(speaker)
    qtbot.addWidget(screen)
    assert speaker.mode == "audio" and speaker.problem == ""
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
    assert FakeSoundEffect.played == [str(slow), str(normal), str(tmp_path / "open_mouth.wav")]


def test_without_the_system_sound_library_prompts_are_visual_and_say_why(qtbot, tmp_path, monkeypatch):
    """QtMultimedia needs libpulse.so.0 on Linux: missing, it means no sound, never a crash."""
    from ui import resident_screen
    from ui.resident_screen import PromptSpeaker, ResidentScreen

    def no_pulse():
        raise ImportError("libpulse.so.0: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(resident_screen, "load_sound_effect", no_pulse)
    _wav(tmp_path / "blink.wav")
    speaker = PromptSpeaker(use_tts=True, audio_dir=tmp_path)
    screen = ResidentScreen(speaker)
    qtbot.addWidget(screen)
    assert speaker.mode in ("visual", "tts")
    if speaker.mode == "visual":
        assert "声音库" in speaker.problem and "No sound" in speaker.problem and "libpulse" in speaker.problem
        assert "声音库" in speaker.problem_zh
    screen.show_prompt("blink", "请眨一眨眼睛")
    screen.repeat()
    assert screen.prompt_text == "请眨一眨眼睛" and speaker.player is None


def test_the_real_sound_library_or_a_reason(qtbot, tmp_path):
    """On this machine, whatever it has: the committed prompts either play or the reason is given."""
    from ui.resident_screen import AUDIO_DIR, PromptSpeaker

    speaker = PromptSpeaker(use_tts=False, audio_dir=AUDIO_DIR)
    assert speaker.mode in ("audio", "visual")
    if speaker.mode == "visual":
        assert speaker.problem
    else:
        speaker.say("请眨一眨眼睛", "blink")
        assert speaker.last_source == AUDIO_DIR / "blink@slow.wav"


def test_neither_voice_nor_audio_is_visual_only(qtbot, tmp_path):
    from ui.resident_screen import PromptSpeaker, ResidentScreen

    speaker = PromptSpeaker(use_tts=False, audio_dir=tmp_path / "missing")
    screen = ResidentScreen(speaker)
    qtbot.addWidget(screen)
    screen.show_prompt("blink", "请眨一眨眼睛")
    assert speaker.mode == "visual" and speaker.player is None and speaker.last_source is None
    assert screen.prompt_text == "请眨一眨眼睛"


def _render_script():
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "render_prompts.py"
    spec = importlib.util.spec_from_file_location("render_prompts", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_prompt_is_recorded_and_committed():
    """resources/audio holds a current recording of every code the session, triage and the counter
    send (normal and slow), so no machine needs espeak-ng (scripts/render_prompts.py re-records)."""
    import wave

    from desktop.face.liveness import Challenge
    from desktop.face.triage import ADVICE_ZH, Reason
    from ui.resident_screen import AUDIO_DIR

    mod = _render_script()
    texts = mod.prompt_texts()
    from desktop.prompts import COUNTER_PROMPTS_ZH

    needed = {"look_at_camera", "hold_still", "retry", "success", "done"} | {c.value for c in Challenge} | \
             {r.value for r in Reason if ADVICE_ZH[r]} | set(COUNTER_PROMPTS_ZH)
    assert needed <= set(texts) and all(texts.values())
    assert mod.stale(AUDIO_DIR, texts) == {}, "run: uv run python scripts/render_prompts.py --only-stale"
    for code in texts:
        with wave.open(str(AUDIO_DIR / f"{code}@slow.wav")) as slow, wave.open(str(AUDIO_DIR / f"{code}.wav")) as normal:
            for w in (slow, normal):
                assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, mod.RATE)
            assert slow.getnframes() > normal.getnframes() > 0.5 * normal.getframerate(), code


def test_recording_trims_resamples_and_records_the_text(tmp_path):
    """The script's pipeline, with a stand-in for espeak-ng (a 22050 Hz tone between silences)."""
    import sys
    import wave

    mod = _render_script()
    fake = tmp_path / "fake_espeak.py"
    fake.write_text(
        "import sys, wave, math\n"
        "a = sys.argv; out = a[a.index('-w') + 1]; wpm = int(a[a.index('-s') + 1])\n"
        "n = int(22050 * 60 / wpm)\n"
        "tone = b''.join(int(8000 * math.sin(i / 10)).to_bytes(2, 'little', signed=True) for i in range(n))\n"
        "with wave.open(out, 'wb') as w:\n"
        "    w.setnchannels(1); w.setsampwidth(2); w.setframerate(22050)\n"
        "    w.writeframes(bytes(22050) + tone + bytes(22050))\n")
    launcher = tmp_path / "espeak-ng"
    launcher.write_text(f"#!/bin/sh\nexec {sys.executable} {fake} \"$@\"\n")
    launcher.chmod(0o755)
    out = tmp_path / "audio"
    written = mod.render(out, {"blink": "请眨一眨眼睛"}, str(launcher))
    assert {p.name for p in written} == {"blink.wav", "blink@slow.wav"}
    with wave.open(str(out / "blink.wav")) as w:
        assert w.getframerate() == mod.RATE
        seconds = w.getnframes() / w.getframerate()
    assert abs(seconds - (60 / 150 + 2 * mod.MARGIN_S)) < 0.02  # the half-second silences are cut
    assert mod.stale(out, {"blink": "请眨一眨眼睛"}) == {}
    assert "blink" in mod.stale(out, {"blink": "请眨眼"})          # the text changed: re-record


# --- placement and focus (issue 19 §2) ------------------------------------------------------------


def test_the_resident_window_never_asks_for_the_keyboard(qtbot, tmp_path):
    """Shown without activation and refusing focus (what a window manager honours: checked by hand
    under Xvfb + openbox, where the old window took the clerk's keyboard); and should something
    activate it anyway (offscreen Qt does, on every show), the activation goes back to the counter."""
    from PySide6.QtWidgets import QApplication, QLineEdit

    from ui.resident_screen import PromptSpeaker, ResidentScreen

    clerk = QLineEdit("柜台")
    qtbot.addWidget(clerk)
    clerk.show()
    clerk.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is clerk, timeout=2000)
    screen = ResidentScreen(PromptSpeaker(use_tts=False, audio_dir=tmp_path))
    qtbot.addWidget(screen)
    assert screen.windowFlags() & Qt.WindowType.WindowDoesNotAcceptFocus
    assert screen.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    assert screen.focusPolicy() == Qt.FocusPolicy.NoFocus
    screen.focus_owner = clerk
    assert screen.place() == "window"  # one screen and nowhere to dock: a window
    assert screen.isVisible()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is clerk, timeout=2000)
    assert clerk.hasFocus()
    qtbot.keyClicks(clerk, "12")
    assert clerk.text() == "柜台12"


def test_on_a_single_monitor_it_is_docked_not_a_covering_window(qtbot, tmp_path):
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from ui.resident_screen import PromptSpeaker, ResidentScreen

    host = QWidget()
    qtbot.addWidget(host)
    box = QVBoxLayout(host)
    host.show()
    screen = ResidentScreen(PromptSpeaker(use_tts=False, audio_dir=tmp_path))
    qtbot.addWidget(screen)
    seen = []
    screen.placement_changed.connect(seen.append)
    assert screen.place(dock=box.addWidget) == "docked"
    assert not screen.isWindow() and host.isAncestorOf(screen) and screen.isVisible()
    assert screen.minimumHeight() < 200 and seen == ["docked"]
    screen.show_prompt("blink", "请眨一眨眼睛", speak=False)
    screen.resize(200, 150)
    screen.repaint()  # the small preview paints (smaller type) without error
    assert screen.frames_painted == 0 and screen.prompt_text == "请眨一眨眼睛"


def test_a_touch_on_the_resident_screen_repeats_the_prompt(screen, qtbot):
    screen.show_prompt("open_mouth", "请张开嘴巴")
    with qtbot.waitSignal(screen.repeat_requested, timeout=1000):
        qtbot.mouseClick(screen, Qt.MouseButton.LeftButton)
    assert screen.speaker.spoken == ["请张开嘴巴", "请张开嘴巴"]


# --- sound that always works, or says why not (issue 19 §5) ---------------------------------------


def test_no_output_device_means_visual_prompts_and_the_reason(qtbot, tmp_path):
    from ui.resident_screen import NO_DEVICE_SHORT_ZH, PromptSpeaker, ResidentScreen

    _wav(tmp_path / "blink.wav")
    FakeSoundEffect.played = []
    devices: list = []
    speaker = PromptSpeaker(use_tts=False, audio_dir=tmp_path, sound_effect=FakeSoundEffect,
                            outputs=lambda: list(devices))
    screen = ResidentScreen(speaker)
    qtbot.addWidget(screen)
    assert speaker.mode == "visual" and speaker.problem_zh == NO_DEVICE_SHORT_ZH and "音箱" in speaker.problem_zh
    screen.show_prompt("blink", "请眨一眨眼睛")
    assert FakeSoundEffect.played == [] and screen.prompt_text == "请眨一眨眼睛"
    devices.append("扬声器 (USB Audio)")  # the loudspeaker is plugged in
    with qtbot.waitSignal(speaker.state_changed, timeout=1000):
        speaker._check_devices()  # what QMediaDevices.audioOutputsChanged calls
    assert speaker.mode == "audio" and speaker.problem_zh == ""
    screen.show_prompt("blink", "请眨一眨眼睛")
    assert FakeSoundEffect.played == [str(tmp_path / "blink.wav")]
    devices.clear()  # and pulled out again
    with qtbot.waitSignal(speaker.state_changed, timeout=1000):
        speaker._check_devices()
    assert speaker.mode == "visual"


def test_the_clerk_sees_the_sound_state_change(qtbot, tmp_path):
    from ui.pages.counter import CounterPage
    from ui.resident_screen import PromptSpeaker, ResidentScreen

    _wav(tmp_path / "blink.wav")
    devices = ["扬声器"]
    speaker = PromptSpeaker(use_tts=False, audio_dir=tmp_path, sound_effect=FakeSoundEffect,
                            outputs=lambda: list(devices))
    screen = ResidentScreen(speaker)
    qtbot.addWidget(screen)
    page = CounterPage()
    qtbot.addWidget(page)
    page.set_resident_screen(screen)
    assert page.side.device_text("sound") == "录音提示" and page.side.device_ok("sound") is True
    devices.clear()
    speaker._check_devices()
    assert page.side.device_text("sound") == "无声音" and page.side.device_ok("sound") is False
    assert "音箱" in page.side.device_labels["sound"].toolTip()


def test_a_file_that_fails_to_play_is_reported(qtbot, tmp_path):
    from PySide6.QtCore import QObject, Signal

    from ui.resident_screen import PLAY_FAILED_ZH, PromptSpeaker

    class BrokenEffect(QObject):
        statusChanged = Signal()

        class Status:
            Error = "error"

        def __init__(self, parent=None):
            super().__init__(parent)
            self._source = None

        def setSource(self, url):  # noqa: N802
            self._source = url

        def source(self):
            return self._source

        def status(self):
            return self.Status.Error

        def play(self):
            self.statusChanged.emit()

        def stop(self):
            pass

    _wav(tmp_path / "blink.wav")
    speaker = PromptSpeaker(use_tts=False, audio_dir=tmp_path, sound_effect=BrokenEffect, outputs=lambda: ["扬声器"])
    with qtbot.waitSignal(speaker.state_changed, timeout=1000):
        speaker.say("请眨一眨眼睛", "blink")
    assert speaker.mode == "visual" and speaker.problem_zh == PLAY_FAILED_ZH


def test_the_counter_prompts_speak_their_own_recording():
    """Every code the counter shows has a recording of exactly its text (the success prompt used to
    play "认证动作已完成，请稍候")."""
    import json

    from desktop.prompts import COUNTER_PROMPTS_ZH
    from ui.resident_screen import AUDIO_DIR

    manifest = json.loads((AUDIO_DIR / "prompts.json").read_text(encoding="utf-8"))
    for code, text in COUNTER_PROMPTS_ZH.items():
        assert manifest[code]["text"] == text, code
        assert all((AUDIO_DIR / f).is_file() for f in manifest[code]["files"])
    counter_src = (AUDIO_DIR.parent.parent / "ui" / "pages" / "counter.py").read_text(encoding="utf-8")
    import re

    for code in re.findall(r'_resident_prompt\("([a-z_]+)"', counter_src):
        assert code in COUNTER_PROMPTS_ZH, code


def test_the_committed_recordings_play_where_the_machine_has_sound(qtbot):
    """On a machine with QtMultimedia and an output device, every committed WAV loads and plays
    through QSoundEffect without an error (elsewhere: skipped, with the reason)."""
    from ui.resident_screen import AUDIO_DIR, audio_outputs, load_sound_effect

    try:
        effect_cls = load_sound_effect()
        devices = audio_outputs()
    except (ImportError, OSError) as exc:
        pytest.skip(f"no sound library here: {exc}")
    if not devices:
        pytest.skip("no audio output device here")
    from PySide6.QtCore import QUrl

    for wav in sorted(AUDIO_DIR.glob("*.wav")):
        effect = effect_cls()
        effect.setVolume(0.0)
        effect.setSource(QUrl.fromLocalFile(str(wav)))
        qtbot.waitUntil(lambda e=effect: e.status() in (effect_cls.Status.Ready, effect_cls.Status.Error), timeout=5000)
        assert effect.status() == effect_cls.Status.Ready, wav.name
        effect.play()
        qtbot.waitUntil(effect.isPlaying, timeout=3000)
        effect.stop()
