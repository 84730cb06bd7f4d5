"""What the resident screen says, in one place: every prompt code and its Mandarin text.

The face check sends its own codes (``desktop.face.session``: look, hold still, done; the liveness
challenges; the triage advice after a failure); the counter sends the ones below. The recorded
audio (``resources/audio/<code>[@slow].wav``, made by ``scripts/render_prompts.py``) and every
translation (``resources/prompts/<language>.json``, see :func:`translations`) are keyed by these
codes, so the screen, the sound and the translations always say the same thing.

Qt-free; reads nothing but ``resources/prompts`` (on demand).
"""

from __future__ import annotations

import json
from functools import lru_cache

from desktop.platform import paths

# the counter's own prompts (ui/pages/counter.py), code -> Mandarin text
COUNTER_PROMPTS_ZH = {
    "idle": "请将身份证放在读卡器上",
    "get_ready": "请看屏幕，准备进行人脸认证",
    "not_found": "您不在本地待遇领取名单中，请听工作人员说明",
    "retry": "没有通过，请听工作人员说明",
    "success": "认证成功！您的待遇将继续按时发放",
    # on screen the month is added ("将从2026年12月起恢复发放"); the recording says it without
    "success_resumed": "认证成功！您的待遇将恢复发放，并补发暂停的月份",
    "please_wait": "请稍候，工作人员马上回来",
}
SILENT = frozenset({"idle"})  # shown, not spoken (it would repeat all day at an empty counter)


def chinese_texts() -> dict[str, str]:
    """Every prompt code the resident screen can show -> its Mandarin text."""
    from desktop.face.liveness import CHALLENGE_PROMPT_ZH
    from desktop.face.session import DONE_ZH, HOLD_ZH, LOOK_ZH
    from desktop.face.triage import ADVICE_ZH

    texts = dict(COUNTER_PROMPTS_ZH)
    texts["look_at_camera"] = LOOK_ZH
    texts["hold_still"] = HOLD_ZH
    texts["done"] = DONE_ZH
    for ch, text in CHALLENGE_PROMPT_ZH.items():
        texts[ch.value] = text
    for reason, text in ADVICE_ZH.items():
        if text:
            texts[reason.value] = text
    return texts


# languages a resident can choose besides Mandarin: code -> (name in Chinese, name in the language)
LANGUAGES = {"mn": ("蒙古语", "ᠮᠣᠩᠭᠣᠯ")}


@lru_cache(maxsize=None)
def translations(language: str) -> dict[str, str]:
    """``resources/prompts/<language>.json``: ``{"prompts": {code: text}}`` (a bureau may edit or
    extend it; a missing code falls back to Mandarin only). Empty when there is no such file."""
    path = paths.resource_path("prompts", f"{language}.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in (data.get("prompts") or {}).items() if v}
