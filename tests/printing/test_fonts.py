from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from desktop.printing import fonts

from desktop.platform.paths import resource_path

# The font that comes with CertDesk (resources/fonts, LICENSES.md): there on every machine.
WQY = resource_path("fonts", "wqy-microhei.ttc")


def test_finds_an_embeddable_cjk_font():
    reg = fonts.register_cjk_font()
    assert reg.name
    assert fonts.check_font(fonts.FontSpec(reg.path, reg.subfont_index)) is None
    assert fonts.missing_glyphs("阿尔山市0482-2773972领取社会保险待遇资格协助认证表XZ", reg.name) == set()
    assert fonts.register_cjk_font() is reg  # registered once


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


def test_the_bundled_font_is_in_the_repository_with_its_licence():
    assert WQY.is_file(), "resources/fonts/wqy-microhei.ttc is committed (LICENSES.md)"
    assert fonts.check_font(fonts.FontSpec(str(WQY), 0)) is None
    licence = WQY.with_name("wqy-microhei-LICENSE.txt").read_text(encoding="utf-8")
    assert "Apache License" in licence and "WenQuanYi" in licence


def test_system_fonts_first_bundled_last(monkeypatch):
    monkeypatch.delenv(fonts.ENV_VAR, raising=False)
    monkeypatch.delenv(fonts.NO_SYSTEM_ENV_VAR, raising=False)
    system = fonts.FontSpec(r"C:\Windows\Fonts\msyh.ttc", 0)
    monkeypatch.setattr(fonts, "_windows_candidates", lambda: [system])
    monkeypatch.setattr(fonts, "_fc_list_candidates", lambda: [system])
    monkeypatch.setattr(fonts, "_LINUX", [])
    monkeypatch.setattr(fonts, "_MAC", [(system.path, 0)])
    specs = fonts.candidates()
    assert specs[0] == system
    assert specs[-1] == fonts.FontSpec(str(WQY), 0)
    monkeypatch.setenv(fonts.NO_SYSTEM_ENV_VAR, "1")
    assert fonts.candidates() == [fonts.FontSpec(str(WQY), 0)]


def test_without_system_fonts_the_bundled_font_prints(monkeypatch):
    """A fresh machine: no Chinese font installed (CERTDESK_NO_SYSTEM_FONTS hides the system's)."""
    monkeypatch.delenv(fonts.ENV_VAR, raising=False)
    monkeypatch.setenv(fonts.NO_SYSTEM_ENV_VAR, "1")
    monkeypatch.setattr(fonts, "_default", None)
    assert fonts.candidates() == [fonts.FontSpec(str(WQY), 0)]
    reg = fonts.register_cjk_font()
    assert Path(reg.path) == WQY
    assert fonts.missing_glyphs("阿尔山市人社局0482-2773972", reg.name) == set()


def test_no_font_at_all_says_so_in_chinese(monkeypatch, tmp_path):
    monkeypatch.delenv(fonts.ENV_VAR, raising=False)
    monkeypatch.setenv(fonts.NO_SYSTEM_ENV_VAR, "1")
    monkeypatch.setattr(fonts, "_default", None)
    monkeypatch.setattr("desktop.platform.paths.resource_root", lambda: tmp_path)  # a broken installation
    with pytest.raises(fonts.FontNotFound) as ei:
        fonts.register_cjk_font()
    assert "wqy-microhei.ttc" in ei.value.message_zh and "重新安装" in ei.value.message_zh
