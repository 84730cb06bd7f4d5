from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from desktop.printing import fonts

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def test_finds_an_embeddable_cjk_font():
    reg = fonts.register_cjk_font()
    assert reg.name
    assert fonts.check_font(fonts.FontSpec(reg.path, reg.subfont_index)) is None
    assert fonts.missing_glyphs("阿尔山市0482-2773972领取社会保险待遇资格协助认证表XZ", reg.name) == set()
    assert fonts.register_cjk_font() is reg  # registered once


@pytest.mark.skipif(not WQY.is_file(), reason="WenQuanYi Micro Hei not installed")
def test_override_path_and_index(monkeypatch):
    monkeypatch.setenv(fonts.ENV_VAR, f"{WQY}#0")
    reg = fonts.register_cjk_font()
    assert Path(reg.path) == WQY and reg.subfont_index == 0


def test_missing_override_gives_chinese_error(tmp_path):
    with pytest.raises(fonts.FontNotFound) as ei:
        fonts.register_cjk_font(tmp_path / "nope.ttf")
    assert ei.value.code == "cjk_font_missing"
    assert "中文" in ei.value.message_zh and "字体" in ei.value.message_zh


def test_not_a_font_is_rejected(tmp_path):
    bad = tmp_path / "fake.ttf"
    bad.write_bytes(b"\x00\x01\x00\x00garbage" * 50)
    assert fonts.check_font(fonts.FontSpec(str(bad))) is not None
    with pytest.raises(fonts.FontNotFound):
        fonts.register_cjk_font(bad)


@pytest.mark.skipif(not WQY.is_file(), reason="WenQuanYi Micro Hei not installed")
def test_droid_sans_fallback_is_rejected(tmp_path):
    droid = tmp_path / "DroidSansFallbackFull.ttf"
    shutil.copy(WQY, droid)
    why = fonts.check_font(fonts.FontSpec(str(droid)))
    assert why is not None and "数字" in why


def test_latin_only_font_is_rejected():
    import reportlab

    vera = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"
    if not vera.is_file():
        pytest.skip("reportlab's Vera.ttf not shipped")
    why = fonts.check_font(fonts.FontSpec(str(vera)))
    assert why is not None and "缺少" in why


def test_parse_spec():
    assert fonts.parse_spec(r"C:\Windows\Fonts\simsun.ttc#1") == fonts.FontSpec(r"C:\Windows\Fonts\simsun.ttc", 1)
    assert fonts.parse_spec("/x/y.ttf") == fonts.FontSpec("/x/y.ttf", 0)
