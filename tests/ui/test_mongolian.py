"""Mongolian residents (issue 19 §7): the resident screen shows each prompt in traditional
Mongolian script — shaped (joined letter forms), vertical, columns left to right — beside the
Chinese, with the bundled Noto Sans Mongolian; Mongolian recordings where a bureau added them; the
choice made once per resident at the counter (F8) and remembered."""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QRawFont

from tests.ui.test_counter_flow import AS_OF, card_for, reader, world  # noqa: F401 - world is a fixture

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
WORDS = ("ᠮᠣᠩᠭᠣᠯ", "ᠪᠢᠴᠢᠭ")  # mongγol bičig


def _ink(img: QImage, background: QColor) -> QRectF | None:
    xs, ys = [], []
    bg = background.rgb()
    for y in range(img.height()):
        for x in range(img.width()):
            if img.pixel(x, y) != bg:
                xs.append(x)
                ys.append(y)
    if not xs:
        return None
    return QRectF(min(xs), min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1)


def _render(text: str, rect: QRectF, size=(240, 320), px=28) -> QImage:
    from ui.mongolian import mongolian_font, paint_vertical

    img = QImage(*size, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    paint_vertical(p, rect, text, mongolian_font(px), "black", centre=False)
    p.end()
    return img


def test_the_bundled_font_is_noto_sans_mongolian_under_the_ofl(qapp):
    from ui.mongolian import FONT_FILE, mongolian_family

    assert mongolian_family() == "Noto Sans Mongolian"
    folder = ROOT / "resources" / Path(*FONT_FILE).parent
    licence = (folder / "NotoSansMongolian-LICENSE.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE" in licence and "Version 1.1" in licence and "Copyright 2018 Google" in licence
    notes = (ROOT / "LICENSES.md").read_text(encoding="utf-8")
    assert "Noto Sans Mongolian" in notes and "Open Font License" in notes
    # not among the CJK fonts the window and the printing layer choose from (resources/fonts/*)
    assert not list((ROOT / "resources" / "fonts").glob("NotoSansMongolian*"))


def test_every_translation_is_a_known_prompt_in_mongolian_script_the_font_covers(qapp):
    from desktop.prompts import chinese_texts, translations
    from ui.mongolian import mongolian_font

    data = json.loads((ROOT / "resources" / "prompts" / "mn.json").read_text(encoding="utf-8"))
    texts = translations("mn")
    assert texts and set(texts) <= set(chinese_texts())
    assert set(data["transliteration"]) == set(texts), "every text has its transliteration for the reviewer"
    for code in ("idle", "get_ready", "look_at_camera", "blink", "open_mouth", "turn_left", "turn_right", "success",
                 "retry", "not_found"):
        assert code in texts, code
    raw = QRawFont.fromFont(mongolian_font(20))
    for code, text in texts.items():
        for ch in text:
            if ch in " \u202f\u180e":  # space, narrow no-break space before a suffix, vowel separator
                continue
            assert unicodedata.name(ch).startswith("MONGOLIAN"), (code, ch, unicodedata.name(ch))
            assert raw.supportsCharacter(ord(ch)), (code, ch)


def test_text_is_shaped_not_drawn_letter_by_letter(qapp):
    """Joined forms: the shaped glyphs of a word are not the letters' isolated (nominal) glyphs."""
    from ui.mongolian import mongolian_font, vertical_layout

    font = mongolian_font(30)
    raw = QRawFont.fromFont(font)
    word = WORDS[0]
    shaped = [g for run in vertical_layout(word, font, 1000).glyphRuns() for g in run.glyphIndexes()]
    nominal = [raw.glyphIndexesForString(ch)[0] for ch in word]
    assert shaped and shaped != nominal
    assert set(shaped) - set(nominal), "no contextual form was chosen"


def test_vertical_top_to_bottom_with_columns_left_to_right(qapp):
    rect = QRectF(10, 10, 220, 300)
    one = _ink(_render(WORDS[0], rect), QColor("white"))
    assert one is not None and one.height() > 2 * one.width(), one  # a column, not a line
    assert one.top() < rect.top() + 20, "it starts at the top"
    # two words in columns too short for both: the first word is the left column, exactly as alone
    from ui.mongolian import mongolian_font, vertical_layout

    layout = vertical_layout(WORDS[0], mongolian_font(28), 1000)  # kept: its lines refer to it
    column = layout.lineAt(0).naturalTextWidth() + 4
    short = QRectF(10, 10, 220, column)
    both = _render(" ".join(WORDS), short)
    alone = _render(WORDS[0], short)
    first = _ink(alone, QColor("white"))
    assert first is not None
    right_of_first = _ink(both.copy(int(first.right()) + 2, 0, both.width() - int(first.right()) - 2, both.height()),
                          QColor("white"))
    assert right_of_first is not None, "the second word is not in a column to the right"
    for y in range(int(first.top()), int(first.bottom())):
        for x in range(int(first.left()), int(first.right())):
            assert both.pixel(x, y) == alone.pixel(x, y)


def test_the_resident_screen_shows_mongolian_beside_the_chinese(qtbot, tmp_path):
    from ui.resident_screen import PromptSpeaker, ResidentScreen

    screen = ResidentScreen(PromptSpeaker(use_tts=False, audio_dir=tmp_path))
    qtbot.addWidget(screen)
    screen.resize(1024, 768)
    screen.show_prompt("blink", "请眨一眨眼睛", speak=False)
    screen.grab()  # paints
    assert screen.second_text == "" and screen.second_area is None
    screen.set_language("mn")
    assert screen.second_text and screen.speaker.spoken == ["请眨一眨眼睛"]  # said again for her
    screen.grab()
    area = screen.second_area
    assert area is not None and area.height() > area.width() and area.left() > screen.width() * 0.7
    screen.show_prompt("turn_left", "请慢慢向左转头，然后转回来", speak=False)
    from desktop.prompts import translations

    assert screen.second_text == translations("mn")["turn_left"]
    screen.show_prompt("camera_error", "请检查摄像头连接，或改用人工核验。", speak=False)
    assert screen.second_text == ""  # not translated: Chinese only


def test_mongolian_recordings_first_where_a_bureau_added_them(qtbot, tmp_path):
    from tests.ui.test_resident_screen import FakeSoundEffect, _wav
    from ui.resident_screen import PromptSpeaker, ResidentScreen

    _wav(tmp_path / "blink@slow.wav")
    _wav(tmp_path / "open_mouth@slow.wav")
    (tmp_path / "mn").mkdir()
    _wav(tmp_path / "mn" / "blink@slow.wav")
    FakeSoundEffect.played = []
    speaker = PromptSpeaker(use_tts=False, audio_dir=tmp_path, sound_effect=FakeSoundEffect, outputs=lambda: ["扬声器"])
    screen = ResidentScreen(speaker)
    qtbot.addWidget(screen)
    screen.show_prompt("blink", "请眨一眨眼睛")
    screen.set_language("mn")  # said again, in Mongolian
    screen.show_prompt("open_mouth", "请张开嘴巴，然后合上")  # no Mongolian recording: Mandarin
    assert FakeSoundEffect.played == [str(tmp_path / "blink@slow.wav"), str(tmp_path / "mn" / "blink@slow.wav"),
                                      str(tmp_path / "open_mouth@slow.wav")]
    assert speaker.has_recordings("mn") and not speaker.has_recordings("kk")


def test_the_clerk_chooses_mongolian_once_and_it_is_remembered(qtbot, styled_qapp, world, tmp_path):
    from desktop.counter.station import build_demo_station
    from ui.models.backend import Backend
    from ui.pages.counter import CounterPage
    from ui.resident_screen import PromptSpeaker, ResidentScreen

    db, services, people = world
    cards = [card_for(people["normal"], "王秀英", date(1950, 3, 1)),
             card_for(people["two"], "赵淑芬", date(1951, 1, 5))]
    resident = ResidentScreen(PromptSpeaker(use_tts=False, audio_dir=tmp_path))
    qtbot.addWidget(resident)
    kit = build_demo_station(cards=cards, pace_fps=60)
    page = CounterPage()
    page.set_resident_screen(resident)
    qtbot.addWidget(page)
    page.resize(1366, 700)
    page.show()
    page.set_operator(services.operators.login("zhangmin", "Counter2026", "ws-test"), "ws-test")
    page.set_backend(Backend(services.persons, services.lists, AS_OF, True, "test", services, station=kit))
    qtbot.waitUntil(lambda: page.reader_ok and page.camera_ready, timeout=5000)
    try:
        assert not page.language_button.isEnabled()  # nobody at the counter yet
        reader(page).place_card(0)
        qtbot.waitUntil(lambda: page.state == "person", timeout=5000)
        assert resident.language == "zh" and page.language_button.isEnabled()
        qtbot.keyClick(page, Qt.Key.Key_F8)
        assert page.language_button.isChecked() and resident.language == "mn" and resident.second_text
        qtbot.waitUntil(lambda: services.resident_languages.get(page.lookup.person.id) == "mn", timeout=3000)
        stored = services.resident_languages.path.read_text(encoding="utf-8")
        assert people["normal"] not in stored and "王秀英" not in stored  # the person's UUID only
        # the next resident starts in Mandarin
        reader(page).remove_card()
        qtbot.wait(300)
        page.next_resident()
        assert resident.language == "zh" and not page.language_button.isChecked()
        reader(page).place_card(1)
        qtbot.waitUntil(lambda: page.state == "person", timeout=5000)
        qtbot.wait(300)
        assert resident.language == "zh"
        # she comes back (another day, a fresh service reading the file): Mongolian from the start
        reader(page).remove_card()
        qtbot.wait(300)
        page.next_resident()
        services.__dict__.pop("resident_languages", None)
        reader(page).place_card(0)
        qtbot.waitUntil(lambda: page.state == "person", timeout=5000)
        qtbot.waitUntil(lambda: resident.language == "mn", timeout=3000)
        assert page.language_button.isChecked()
        # and choosing Mandarin again forgets it
        page.language_button.click()
        qtbot.waitUntil(lambda: services.resident_languages.get(page.lookup.person.id) == "zh", timeout=3000)
    finally:
        page.shutdown()
