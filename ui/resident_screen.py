"""The resident-facing second window: mirrored preview, big-type prompts, pictograms, spoken prompts.

Independent of the rest of the app: the panel (or any controller) calls :meth:`show_frame`,
:meth:`show_prompt`, :meth:`set_progress`. Speech: QtTextToSpeech with a Mandarin voice when one
exists; otherwise the recorded WAV files ``resources/audio/<prompt code>[@slow].wav`` (committed;
rendered once with espeak-ng by scripts/render_prompts.py; the ``@slow`` variant while the speed is
set slow, +/- keys) played with QSoundEffect; otherwise visual only (the clerk sees which mode is
active in :attr:`PromptSpeaker.mode`, and why there is no sound in :attr:`PromptSpeaker.problem`).

QtMultimedia (QSoundEffect, and QtTextToSpeech which links it) needs the system's sound library
(``libpulse.so.0`` on Linux). Without it the import fails: that means no sound, never a crash — the
speaker falls back to the visual prompts and says why.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QLocale, QObject, QPointF, QRectF, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QKeySequence, QPainter, QPainterPath, QPen, QShortcut
from PySide6.QtWidgets import QWidget

from ui.qt_compat import guard_none_refcount

AUDIO_DIR = Path(__file__).resolve().parent.parent / "resources" / "audio"
NO_SOUND_SHORT_ZH = "无法播放语音提示（本机缺少系统声音库），居民屏幕只显示大字和图示"  # the status bar
NO_SOUND_ZH = ("无法播放语音提示：本机缺少系统声音库（QtMultimedia 无法加载），提示只以大字和图示显示。"
               "No sound: Qt Multimedia cannot load the system's sound library (on Linux libpulse0); "
               "prompts are shown in large type and pictograms only.")

NO_DEVICE_SHORT_ZH = "没有声音输出设备（未接音箱或耳机），居民屏幕只显示大字和图示"
NO_DEVICE_ZH = ("无法播放语音提示：本机没有可用的声音输出设备（未接音箱或耳机，或系统声音服务没有运行），"
                "提示只以大字和图示显示。No sound: no audio output device is available.")
PLAY_FAILED_ZH = "语音提示播放出错，居民屏幕只显示大字和图示"

log = logging.getLogger(__name__)


def load_sound_effect():
    """The QSoundEffect class; raises ImportError (or OSError) when QtMultimedia cannot load,
    e.g. ``libpulse.so.0: cannot open shared object file`` on a Linux machine without PulseAudio."""
    from PySide6.QtMultimedia import QSoundEffect

    return QSoundEffect


def audio_outputs() -> list[str]:
    """The names of the machine's sound outputs (loudspeakers, headphones); [] when there is none.
    Raises ImportError when QtMultimedia cannot load."""
    from PySide6.QtMultimedia import QMediaDevices

    return [d.description() for d in QMediaDevices.audioOutputs()]

TITLE_ZH = "社保待遇资格认证"


class PromptSpeaker(QObject):
    """Speaks prompts. ``mode`` is "tts", "audio" or "visual". ``rate`` -1.0 (slow) .. 1.0 (fast).

    ``problem`` says why a machine that has recorded prompts stays silent (empty otherwise): no
    sound library, no output device (checked again whenever one is plugged in or out), or a file
    that failed to play. :attr:`state_changed` tells the clerk's indicator.
    ``sound_effect`` is the player class (default :func:`load_sound_effect`), ``outputs`` lists the
    output devices (default :func:`audio_outputs`); tests pass stand-ins.
    """

    state_changed = Signal()

    def __init__(self, *, rate: float = -0.3, use_tts: bool = True, use_audio: bool = True,
                 audio_dir: Path = AUDIO_DIR, sound_effect=None, outputs=None, parent=None):
        super().__init__(parent)
        self._outputs = outputs
        self._devices = None  # QMediaDevices, to hear of a plugged-in loudspeaker
        self._sound_mode = "visual"  # what the machine could do with a device present
        self.rate = rate
        self.audio_dir = audio_dir
        self.language = "zh"    # the resident's language: its recordings (audio_dir/<language>/) first
        self.mode = "visual"
        self.problem = ""       # why there is no sound (Chinese and English, with the cause; logged)
        self.problem_zh = ""    # the same, short, for the clerk's status bar
        self._tts = None
        self._effect = None
        self._sound_effect = None
        self.spoken: list[str] = []     # what was said (text), for the clerk's log view and tests
        self.last_source: Path | None = None   # the WAV of the last prompt in audio mode
        if use_tts:
            self._init_tts()
        if use_audio and self.mode == "visual" and audio_dir.is_dir() and any(audio_dir.glob("*.wav")):
            try:
                self._sound_effect = sound_effect if sound_effect is not None else load_sound_effect()
            except (ImportError, OSError) as exc:
                self.problem = f"{NO_SOUND_ZH} ({exc})"
                self.problem_zh = NO_SOUND_SHORT_ZH
                log.warning("%s", self.problem)
            else:
                self.mode = "audio"
        self._sound_mode = self.mode
        if self.mode != "visual":
            self._watch_devices()
            self._check_devices(emit=False)

    def _watch_devices(self) -> None:
        if self._outputs is None:
            try:
                from PySide6.QtMultimedia import QMediaDevices
            except (ImportError, OSError):
                return
            self._outputs = audio_outputs
            self._devices = QMediaDevices(self)
            self._devices.audioOutputsChanged.connect(self._check_devices)

    def _check_devices(self, emit: bool = True) -> None:
        """No output device: visual only, and say so; a device again: back to sound."""
        try:
            devices = list(self._outputs()) if self._outputs is not None else None
        except Exception:  # noqa: BLE001 - unknown: assume the sound works
            devices = None
        before = (self.mode, self.problem_zh)
        if devices == []:
            self.mode, self.problem, self.problem_zh = "visual", NO_DEVICE_ZH, NO_DEVICE_SHORT_ZH
            log.warning("%s", self.problem)
        elif self.problem_zh in (NO_DEVICE_SHORT_ZH, PLAY_FAILED_ZH):
            self.mode, self.problem, self.problem_zh = self._sound_mode, "", ""
        if emit and (self.mode, self.problem_zh) != before:
            self.state_changed.emit()

    def _play_status(self, effect) -> None:
        status = getattr(type(effect), "Status", None)
        if status is not None and effect.status() == status.Error:
            log.warning("prompt playback failed: %s", effect.source().toLocalFile())
            self.mode, self.problem, self.problem_zh = "visual", PLAY_FAILED_ZH, PLAY_FAILED_ZH
            self.state_changed.emit()

    def _init_tts(self) -> None:
        try:
            from PySide6.QtTextToSpeech import QTextToSpeech
        except (ImportError, OSError):  # no engine, or no system sound library (see the module doc)
            return
        engines = [e for e in QTextToSpeech.availableEngines() if e != "mock"]
        for engine in engines:
            tts = QTextToSpeech(engine, self)
            voices = [v for v in tts.availableVoices() if v.locale().language() == QLocale.Language.Chinese]
            if not voices:
                for locale in tts.availableLocales():
                    if locale.language() == QLocale.Language.Chinese:
                        tts.setLocale(locale)
                        voices = list(tts.availableVoices())
                        break
            if voices:
                tts.setVoice(voices[0])
                tts.setRate(self.rate)
                self._tts, self.mode = tts, "tts"
                return
            tts.deleteLater()

    def set_rate(self, rate: float) -> None:
        self.rate = max(-1.0, min(1.0, rate))
        if self._tts is not None:
            self._tts.setRate(self.rate)

    def say(self, text: str, code: str = "") -> None:
        self.spoken.append(text)
        if self.mode == "tts":
            self._tts.stop()
            self._tts.say(text)
        elif self.mode == "audio":
            wav = self.audio_file(code)
            if wav is not None:   # no file for this code: this prompt is visual only
                if self._effect is not None:
                    self._effect.stop()
                self._effect = self._sound_effect(self)
                if hasattr(self._effect, "statusChanged"):
                    effect = self._effect
                    effect.statusChanged.connect(lambda: self._play_status(effect))
                self._effect.setSource(QUrl.fromLocalFile(str(wav)))
                self._effect.play()
            self.last_source = wav

    def audio_file(self, code: str) -> Path | None:
        """The recorded WAV for a prompt code (scripts/render_prompts.py): the slow variant
        ``<code>@slow.wav`` when the chosen rate is slow (the default for elderly residents).
        For a resident who chose another language, that language's recording
        (``<audio_dir>/<language>/<code>.wav``, a bureau's own) when there is one, else Mandarin."""
        if not code:
            return None
        names = ([f"{code}@slow.wav"] if self.rate <= -0.15 else []) + [f"{code}.wav"]
        folders = ([self.audio_dir / self.language] if self.language != "zh" else []) + [self.audio_dir]
        for folder in folders:
            for name in names:
                path = folder / name
                if path.is_file():
                    return path
        return None

    def has_recordings(self, language: str) -> bool:
        folder = self.audio_dir / language
        return folder.is_dir() and any(folder.glob("*.wav"))

    @property
    def player(self):
        """The QSoundEffect of the last pre-rendered prompt (None in tts/visual mode)."""
        return self._effect


def bgr_to_qimage(image: np.ndarray, mirror: bool = False) -> QImage:
    """BGR uint8 -> QImage (a deep copy: the numpy buffer may be reused by the capture thread)."""
    img = np.ascontiguousarray(image[:, ::-1] if mirror else image)
    h, w = img.shape[:2]
    return QImage(img.data, w, h, img.strides[0], QImage.Format.Format_BGR888).copy()


PLACEMENT_ZH = {  # for the clerk's device column: (working?, a few words, the explanation)
    "second_screen": (True, "第二屏幕显示中", "居民屏幕全屏显示在第二块显示器上"),
    "docked": (None, "单屏：右侧预览", "只有一块显示器：居民看到的提示显示在右侧的预览中，语音照常播放"),
    "window": (None, "窗口显示", "居民屏幕显示在一个窗口中"),
    "hidden": (False, "未显示", "居民屏幕没有显示"),
}
SPEECH_ZH = {
    "tts": (True, "系统语音", "提示由系统的普通话语音朗读"),
    "audio": (True, "录音提示", "提示播放预先录制的语音"),
    "visual": (False, "无声音", "没有声音：提示只以大字和图示显示"),
}
WINDOW_FLAGS = Qt.WindowType.Window | Qt.WindowType.WindowDoesNotAcceptFocus


class ResidentScreen(QWidget):
    """The second window: full screen on the second monitor, or docked in the counter page where
    there is only one. It never takes the keyboard from the clerk: shown without activation and
    refusing focus (``WA_ShowWithoutActivating``, ``WindowDoesNotAcceptFocus``); if a window
    manager activates it anyway, the activation goes straight back to :attr:`focus_owner`.
    A touch (click) on it repeats the prompt, as do Space/R/F5 where it has the keyboard; +/-
    change the speech speed."""

    repeat_requested = Signal()
    placement_changed = Signal(str)  # a key of PLACEMENT_ZH

    def __init__(self, speaker: PromptSpeaker | None = None, *, mirror: bool = True, parent=None):
        super().__init__(parent)
        guard_none_refcount()   # PySide6 6.12 + Python 3.11: painting leaks None references
        self.setWindowTitle(TITLE_ZH)
        if parent is None:
            self.setWindowFlags(WINDOW_FLAGS)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.focus_owner: QWidget | None = None   # the counter's main window
        self.placement = "hidden"
        self._dock = None                          # callable(screen) that docks it on a single monitor
        self._following = False
        self.speaker = speaker if speaker is not None else PromptSpeaker()
        self.mirror = mirror
        self.prompt_text = "请稍候"
        self.prompt_code = "idle"
        self.language = "zh"   # "mn": each prompt also in traditional Mongolian script, beside the Chinese
        self.second_text = ""  # the prompt in that language (resources/prompts/<language>.json)
        self.second_area: QRectF | None = None  # where it was last painted (tests, screenshots)
        self.progress = 0.0
        self._image: QImage | None = None
        self.frames_painted = 0
        for key in (Qt.Key.Key_Space, Qt.Key.Key_R, Qt.Key.Key_F5):
            QShortcut(QKeySequence(key), self, activated=self.repeat)
        QShortcut(QKeySequence(Qt.Key.Key_Plus), self, activated=lambda: self.speaker.set_rate(self.speaker.rate + 0.2))
        QShortcut(QKeySequence(Qt.Key.Key_Minus), self, activated=lambda: self.speaker.set_rate(self.speaker.rate - 0.2))

    # -- placement
    def place(self, dock=None) -> str:
        """Full screen on a monitor other than the clerk's when there is one; else docked through
        ``dock(self)`` (the counter page's preview), else a window. Returns the placement."""
        if dock is not None:
            self._dock = dock
        owner = self.focus_owner.window() if self.focus_owner is not None else None
        clerk_screen = owner.screen() if owner is not None else QGuiApplication.primaryScreen()
        others = [s for s in QGuiApplication.screens() if s is not clerk_screen]
        if others:
            target = others[0]
            if not self.isWindow():  # it was docked: a window of its own again
                self.setParent(None)
                self.setWindowFlags(WINDOW_FLAGS)
            self.setMinimumSize(640, 480)
            self.setScreen(target)
            self.setGeometry(target.geometry())
            # not showFullScreen(): it also calls activateWindow(), which this window must never do
            self.setWindowState(Qt.WindowState.WindowFullScreen)
            self.show()
            placement = "second_screen"
        elif self._dock is not None:
            if self.isWindow():
                self.hide()
            self.setMinimumSize(120, 90)
            self._dock(self)
            self.show()
            placement = "docked"
        else:
            self.setMinimumSize(640, 480)
            self.resize(960, 720)
            self.show()
            placement = "window"
        self._set_placement(placement)
        return placement

    def follow_screens(self) -> None:
        """Place again when a monitor is plugged in or out (once connected, stays connected)."""
        if self._following:
            return
        self._following = True
        app = QGuiApplication.instance()
        app.screenAdded.connect(lambda _s: self._replace())
        app.screenRemoved.connect(lambda _s: self._replace())

    def _replace(self) -> None:
        if self.placement != "hidden":
            from PySide6.QtCore import QTimer

            QTimer.singleShot(0, self.place)  # after Qt has moved its windows off a removed screen

    def _set_placement(self, placement: str) -> None:
        if placement != self.placement:
            self.placement = placement
            self.placement_changed.emit(placement)

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().hideEvent(event)
        if self.isWindow() and not self.isMinimized():
            self._set_placement("hidden")

    def event(self, event) -> bool:
        # a window manager that ignores the no-focus hints: the keyboard goes back to the counter
        if event.type() == QEvent.Type.WindowActivate and self.isWindow():
            owner = self.focus_owner.window() if self.focus_owner is not None else None
            if owner is not None and owner.isVisible():
                from PySide6.QtCore import QTimer

                QTimer.singleShot(0, owner.activateWindow)
        return super().event(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - a touch on the resident's screen
        self.repeat()
        event.accept()

    # -- API for the controller (GUI thread)
    def show_frame(self, image: np.ndarray) -> None:
        self._image = bgr_to_qimage(image, mirror=self.mirror)
        self.update()

    def set_language(self, language: str, *, say_again: bool = True) -> None:
        """The resident's language ("zh", or a key of desktop.prompts.LANGUAGES): shown beside the
        Chinese from now on, and the prompt on screen said again in it."""
        if language == self.language:
            return
        self.language = language
        self.speaker.language = language
        self.second_text = self._translation(self.prompt_code)
        self.update()
        from desktop.prompts import SILENT

        if say_again and self.prompt_code not in SILENT:
            self.speaker.say(self.prompt_text, self.prompt_code)

    def _translation(self, code: str) -> str:
        if self.language == "zh":
            return ""
        from desktop.prompts import translations

        return translations(self.language).get(code, "")

    def show_prompt(self, code: str, text: str, *, speak: bool = True) -> None:
        self.prompt_code, self.prompt_text = code, text
        self.second_text = self._translation(code)
        if speak:
            self.speaker.say(text, code)
        self.update()

    def set_progress(self, fraction: float) -> None:
        self.progress = max(0.0, min(1.0, fraction))
        self.update()

    def repeat(self) -> None:
        self.speaker.say(self.prompt_text, self.prompt_code)
        self.repeat_requested.emit()

    # -- painting
    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        p.fillRect(self.rect(), QColor("#10243e"))
        strip = self._paint_second_language(p, w, h)  # the Mongolian columns at the right
        w = w - strip
        text_h = int(h * 0.24)
        preview = QRectF(w * 0.05, h * 0.04, w * 0.6, h - text_h - h * 0.08)
        if self._image is not None:
            img = self._image.scaled(preview.size().toSize(), Qt.AspectRatioMode.KeepAspectRatio,
                                     Qt.TransformationMode.FastTransformation)
            x = preview.x() + (preview.width() - img.width()) / 2
            y = preview.y() + (preview.height() - img.height()) / 2
            p.drawImage(QPointF(x, y), img)
            self.frames_painted += 1
        else:
            p.fillRect(preview, QColor("#1d3a5f"))
        # face guide oval
        p.setPen(QPen(QColor("#ffffff"), 3, Qt.PenStyle.DashLine))
        cx, cy = preview.center().x(), preview.center().y()
        p.drawEllipse(QPointF(cx, cy), preview.height() * 0.28, preview.height() * 0.38)
        # pictogram
        self._paint_pictogram(p, QRectF(w * 0.68, h * 0.08, w * 0.28, w * 0.28))
        # prompt in big type
        font = QFont()
        font.setPixelSize(max(28 if h >= 480 else 11, int(text_h * 0.36)))  # docked: a small preview
        font.setBold(True)
        p.setFont(font)
        p.setPen(QColor("#ffe066"))
        p.drawText(QRectF(w * 0.03, h - text_h - h * 0.02, w * 0.94, text_h),
                   Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.prompt_text)
        # progress bar
        p.fillRect(QRectF(0, h - h * 0.02, w * self.progress, h * 0.02), QColor("#4cd964"))
        p.end()

    def _paint_second_language(self, p: QPainter, w: int, h: int) -> int:
        """The prompt in traditional Mongolian script, vertical, in a strip at the right; returns the
        strip's width (0 when there is nothing to show)."""
        if not self.second_text:
            return 0
        from ui.mongolian import fitting_font, paint_vertical

        strip = int(w * 0.22)
        rect = QRectF(w - strip + w * 0.01, h * 0.04, strip - w * 0.03, h * 0.92)
        font = fitting_font(self.second_text, rect, max(12, int(h * 0.05)))
        if font is None:
            return 0
        p.fillRect(QRectF(w - strip, 0, strip, h), QColor("#163256"))
        self.second_area = paint_vertical(p, rect, self.second_text, font, "#ffe066")
        return strip

    def _paint_pictogram(self, p: QPainter, r: QRectF) -> None:
        code = self.prompt_code
        p.setPen(QPen(QColor("#ffffff"), max(3, r.width() / 40)))
        p.setBrush(QColor("#f2c79b"))
        face = r.adjusted(r.width() * 0.15, r.height() * 0.05, -r.width() * 0.15, -r.height() * 0.05)
        shift = {"turn_left": -1, "turn_right": 1}.get(code, 0)
        p.drawEllipse(face)
        ex1 = face.center().x() - face.width() * 0.18 + shift * face.width() * 0.1
        ex2 = face.center().x() + face.width() * 0.18 + shift * face.width() * 0.1
        ey = face.top() + face.height() * 0.38
        p.setBrush(QColor("#10243e"))
        for ex in (ex1, ex2):
            if code == "blink":
                p.drawLine(QPointF(ex - face.width() * 0.08, ey), QPointF(ex + face.width() * 0.08, ey))
            else:
                p.drawEllipse(QPointF(ex, ey), face.width() * 0.06, face.width() * 0.06)
        mx = face.center().x() + shift * face.width() * 0.1
        my = face.top() + face.height() * 0.72
        if code == "open_mouth":
            p.drawEllipse(QPointF(mx, my), face.width() * 0.12, face.height() * 0.1)
        else:
            p.drawLine(QPointF(mx - face.width() * 0.12, my), QPointF(mx + face.width() * 0.12, my))
        if shift:  # an arrow in the direction the resident should turn (as seen in the mirror)
            p.setPen(QPen(QColor("#ffe066"), max(4, r.width() / 25)))
            y = r.bottom() + r.height() * 0.12
            x0, x1 = (r.right(), r.left()) if shift < 0 else (r.left(), r.right())
            path = QPainterPath(QPointF(x0, y))
            path.lineTo(QPointF(x1, y))
            p.drawPath(path)
            head = r.width() * 0.08 * (1 if shift > 0 else -1)
            p.drawLine(QPointF(x1, y), QPointF(x1 - head, y - abs(head)))
            p.drawLine(QPointF(x1, y), QPointF(x1 - head, y + abs(head)))
