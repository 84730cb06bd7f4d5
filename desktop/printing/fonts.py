"""Find and register an embeddable TrueType CJK font (reportlab embeds TrueType only).

Order: an explicit path (argument, or the ``CERTDESK_CJK_FONT`` environment variable / setting,
``path`` or ``path#subfont_index``), then the system's fonts — well-known files (SimSun /
Microsoft YaHei / SimHei on Windows, WenQuanYi Micro Hei on Linux, …), then ``fc-list :lang=zh`` on
Linux — and last the font that comes with CertDesk: ``resources/fonts/wqy-microhei.ttc``
(WenQuanYi Micro Hei, Apache-2.0, committed to the repository and bundled by ``installer.spec``), so
printing works on a machine with no Chinese font at all. ``CERTDESK_NO_SYSTEM_FONTS=1`` skips the
system's fonts (tests that simulate a fresh machine; a bureau that wants the same font on every
workstation). Every candidate must
load as TrueType and contain Latin digits and common Chinese characters: Droid Sans Fallback (no
digits: numbers would silently vanish) and CFF fonts such as Noto CJK are rejected. The built-in
STSong-Light CID font is never used: it is not embedded and prints blank without the viewer's
language pack.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from desktop.errors import CertDeskError

ENV_VAR = "CERTDESK_CJK_FONT"
NO_SYSTEM_ENV_VAR = "CERTDESK_NO_SYSTEM_FONTS"
BUNDLED_FONT = "resources/fonts/wqy-microhei.ttc"  # WenQuanYi Micro Hei (LICENSES.md)
FONT_NAME = "CertDeskCJK"

# Characters every candidate must contain (digits, Latin for serials, the Chinese we print).
REQUIRED_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-:*()（）：，。年月日认证表社保局姓名号码盖章经核实该同志仍健在"

_LINUX = [
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
]
_WINDOWS_FILES = [("simsun.ttc", 0), ("msyh.ttc", 0), ("msyh.ttf", 0), ("simhei.ttf", 0), ("simfang.ttf", 0)]
_MAC = [("/Library/Fonts/Arial Unicode.ttf", 0), ("/System/Library/Fonts/Supplemental/Songti.ttc", 0)]
_REJECT_NAMES = ("droidsansfallback",)


class FontNotFound(CertDeskError):
    code = "cjk_font_missing"


@dataclass(frozen=True, slots=True)
class FontSpec:
    path: str
    subfont_index: int = 0


@dataclass(frozen=True, slots=True)
class RegisteredFont:
    name: str  # the reportlab font name to use with setFont()
    path: str
    subfont_index: int


_lock = threading.Lock()
_registered: dict[tuple[str, int], RegisteredFont] = {}
_default: RegisteredFont | None = None


def parse_spec(text: str) -> FontSpec:
    """``/path/font.ttc`` or ``/path/font.ttc#1``."""
    path, sep, idx = text.strip().rpartition("#")
    if sep and idx.isdigit():
        return FontSpec(path, int(idx))
    return FontSpec(text.strip(), 0)


def _windows_candidates() -> list[FontSpec]:
    roots = [Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"]
    local = os.environ.get("LOCALAPPDATA")
    if local:
        roots.append(Path(local) / "Microsoft" / "Windows" / "Fonts")
    return [FontSpec(str(r / f), i) for r in roots for f, i in _WINDOWS_FILES]


def _fc_list_candidates() -> list[FontSpec]:
    exe = shutil.which("fc-list")
    if not exe:
        return []
    try:
        out = subprocess.run([exe, ":lang=zh", "file", "index"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    specs = []
    for line in sorted(out.splitlines()):
        # "/path/file.ttc: :index=0"
        path, _, rest = line.partition(":")
        if not path.lower().endswith((".ttf", ".ttc")):
            continue
        idx = 0
        if "index=" in rest:
            try:
                idx = int(rest.split("index=")[1].strip().split()[0])
            except ValueError:
                idx = 0
        specs.append(FontSpec(path.strip(), idx))
    return specs


def _bundled_candidates() -> list[FontSpec]:
    """The fonts that come with CertDesk in ``resources/fonts`` (the repository and the bundle)."""
    from desktop.platform.paths import resource_path

    folder = resource_path("fonts")
    if not folder.is_dir():
        return []
    return [FontSpec(str(p), 0) for p in sorted(folder.iterdir()) if p.suffix.lower() in (".ttf", ".ttc")]


def system_fonts_ignored() -> bool:
    return os.environ.get(NO_SYSTEM_ENV_VAR, "").strip().lower() not in ("", "0", "no", "false")


def system_candidates() -> list[FontSpec]:
    """The operating system's CJK TrueType fonts, best first (none when they are ignored)."""
    if system_fonts_ignored():
        return []
    if sys.platform.startswith("win"):
        return _windows_candidates()
    if sys.platform == "darwin":
        return [FontSpec(p, i) for p, i in _MAC]
    return [FontSpec(p, i) for p, i in _LINUX] + _fc_list_candidates()


def candidates(override: str | os.PathLike | None = None) -> list[FontSpec]:
    """Candidate fonts, best first (an override alone when one is given): system, then bundled."""
    explicit = str(override) if override else os.environ.get(ENV_VAR, "")
    if explicit:
        return [parse_spec(explicit)]
    return system_candidates() + _bundled_candidates()


def check_font(spec: FontSpec) -> str | None:
    """Why ``spec`` cannot be used (Chinese text), or None when it can."""
    from reportlab.pdfbase.ttfonts import TTFont

    p = Path(spec.path)
    if not p.is_file():
        return "文件不存在"
    if any(bad in p.name.lower().replace(" ", "").replace("_", "") for bad in _REJECT_NAMES):
        return "Droid Sans Fallback 不含拉丁数字，打印的号码会丢失"
    try:
        font = TTFont("_probe", str(p), subfontIndex=spec.subfont_index)
    except Exception:  # reportlab raises TTFError and friends for CFF/OTF and broken files
        return "不是可嵌入的 TrueType 字体（例如 CFF/OpenType 字体）"
    cmap = font.face.charToGlyph
    missing = [c for c in REQUIRED_CHARS if ord(c) not in cmap]
    if missing:
        return "字体缺少字符：" + "".join(missing[:10])
    return None


def register_cjk_font(override: str | os.PathLike | None = None) -> RegisteredFont:
    """Find, check and register the CJK font once; returns its reportlab name.

    Raises :class:`FontNotFound` (message in Chinese) when no usable font exists.
    """
    global _default
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    with _lock:
        use_default = override is None and not os.environ.get(ENV_VAR)
        if use_default and _default is not None:
            return _default
        problems = []
        for spec in candidates(override):
            key = (str(Path(spec.path).resolve()) if Path(spec.path).exists() else spec.path,
                   spec.subfont_index)
            if key in _registered:
                reg = _registered[key]
                break
            why = check_font(spec)
            if why is not None:
                problems.append(f"{spec.path}: {why}")
                continue
            name = FONT_NAME if not _registered else f"{FONT_NAME}{len(_registered)}"
            pdfmetrics.registerFont(TTFont(name, spec.path, subfontIndex=spec.subfont_index))
            reg = RegisteredFont(name, spec.path, spec.subfont_index)
            _registered[key] = reg
            break
        else:
            if override or os.environ.get(ENV_VAR):
                msg = ("指定的中文字体无法使用：" + ("；".join(problems) or str(override))
                       + f"。请改正设置（环境变量 {ENV_VAR}，如 C:\\Windows\\Fonts\\simsun.ttc），"
                       "或删除该设置以使用随程序提供的字体")
            else:
                msg = ("未找到可嵌入 PDF 的中文 TrueType 字体，无法打印：随程序提供的字体 "
                       f"{BUNDLED_FONT} 缺失或已损坏，请重新安装本程序，或在设置中指定中文 TrueType 字体文件"
                       f"（环境变量 {ENV_VAR}，如 C:\\Windows\\Fonts\\simsun.ttc）")
            raise FontNotFound(msg, problems=problems)
        if use_default:
            _default = reg
        return reg


def missing_glyphs(text: str, font_name: str) -> set[str]:
    """Characters of ``text`` the registered font cannot draw (whitespace ignored)."""
    from reportlab.pdfbase import pdfmetrics

    cmap = pdfmetrics.getFont(font_name).face.charToGlyph
    return {c for c in text if not c.isspace() and ord(c) not in cmap}
