"""Serving one resident at the counter, Qt-free: the states, the rules, and what to tell the clerk.

    idle ─card placed→ reading ─card read→ looking ─lookup→ person ─Enter→ face ─passed→ recording
      ↑                                        └→ not_found ─Enter→ (visit noted) → printed    │
      │                                  person/face_failed ─F9 approved→ recording            │
      └──────── next resident ←── printed ←─ receipt printed ←── done ←── recorded ←───────────┘
                                         face ─failed→ face_failed ─Enter→ face (retry)

Commands come in as method calls (from the window, the drill, or a test); everything the clerk
should see goes out as :class:`Event` to the one listener given (``on_event``). Service calls run
through the ``run(fn, on_success, on_error)`` given: the window's database worker
(:func:`ui.workers.run_in_background`), or at once (:func:`run_now`, headless). The devices are
the station's (:mod:`desktop.counter.station`); the flow only hears what they did.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from desktop.domain import idnumber
from desktop.counter.facts import CardFacts, FaceOutcome, Helper
from desktop.domain.labels import face_failure_zh

if TYPE_CHECKING:  # the window imports this module while it starts: no services, no database here
    from desktop.services.counter import CounterService
    from desktop.platform.workstation import Actor

STEPS = [("idle", "① 放置身份证"), ("person", "② 核对信息"), ("face", "③ 人脸认证"), ("done", "④ 记录"),
         ("printed", "⑤ 打印回执")]
STEP_OF = {"idle": 0, "reading": 0, "looking": 1, "person": 1, "not_found": 1, "face": 2, "face_failed": 2,
           "recording": 3, "done": 3, "printed": 4}
BUSY = ("reading", "looking", "face", "recording")
SERVING = ("person", "face_failed")
NO_CAMERA_ZH = "摄像头不可用，请按 F9 人工核验（需审核主管审批）。"

Runner = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[BaseException], None] | None], None]


def run_now(fn, on_success, on_error=None) -> None:
    """Headless runner: the call happens at once, on the caller's thread."""
    try:
        result = fn()
    except Exception as exc:  # noqa: BLE001 - handed to on_error like the window's worker does
        if on_error is None:
            raise
        on_error(exc)
    else:
        on_success(result)


@dataclass(frozen=True)
class Event:
    """``kind``: state, banner, prompt, lookup, face_result, recorded, today, cleared (a new resident, or none)."""

    kind: str
    data: Any = None
    text: str = ""
    level: str = ""  # banner: "", ok, warn, error; prompt: the prompt code


@dataclass(frozen=True)
class Controls:
    """What the clerk can do now (the window enables its buttons from this)."""

    primary: str
    primary_enabled: bool
    attest: bool
    helper: bool
    enrol: bool
    print: bool
    next: bool
    manual: bool
    detail: bool
    language: bool


class CounterFlow:
    """One counter's resident at a time. Not thread-safe: call it from one thread (the GUI thread,
    or the test's); ``run`` brings results back to that thread."""

    def __init__(self, counter: CounterService, as_of, *, actor: Callable[[], Actor], run: Runner = run_now,
                 on_event: Callable[[Event], None] = lambda e: None, clock: Callable[[], float] = time.perf_counter):
        self.counter, self.as_of, self._actor, self.run, self.on_event, self.clock = (
            counter, as_of, actor, run, on_event, clock)
        self.state = "idle"
        self.reader_ok = False
        self.camera_ready = False  # the camera worker finished (usable or not)
        self.camera_ok = False  # frames arrive
        self.camera_present = False  # the camera opened (it may have lost its frames since)
        self.can_enrol: Callable[[], bool] = lambda: False  # the station can enrol a reference photo now
        self.enrolled_reference: str | None = None  # the reference photo enrolled for this resident
        self.locked = False
        self.missed_card = False
        self.cancel_requested = False
        self.last_seconds: float | None = None
        self.banner_text, self.banner_level = "", ""
        self._clear()

    def _clear(self) -> None:
        self.card = self.card_facts = self.lookup = self.helper = self.result = self.enrolled_reference = None
        self.face_attempts = 0
        self.face_failures: list[str] = []
        self.t0: float | None = None

    # --- what is true now -------------------------------------------------------------------------

    @property
    def actor(self) -> Actor:
        return self._actor()

    @property
    def found(self) -> bool:
        return self.lookup is not None and self.lookup.found

    @property
    def terminated(self) -> bool:
        return bool(self.lookup and self.lookup.all_terminated)

    def face_possible(self) -> bool:
        return (self.camera_ok and self.card is not None and self.card.source != "manual" and self.found
                and not self.terminated)

    def attest_instead(self) -> bool:
        """A person on the roster whom the face check cannot serve: 人工核验 is the main step."""
        return (self.found and not self.terminated and self.card is not None
                and (self.card.source == "manual" or (self.camera_ready and not self.camera_ok)))

    def enrol_reason(self) -> str | None:
        """Offer 采集参考照片 when there is no chip photo, or after two failures (offer re-enrolment)."""
        if not self.can_enrol() or not self.camera_present or self.card is None or self.terminated:
            return None
        if not getattr(self.card, "photo_bmp", None):
            return "no_reference"
        return "keeps_failing" if self.face_attempts >= 2 else None

    def attestation_default(self) -> str:
        return ("no_photo" if self.card is not None and self.card.source == "manual"
                else "camera_fault" if self.camera_ready and not self.camera_ok else "face_failed")

    def primary(self) -> str | None:
        """What Enter does now: face, attest, note, receipt, next (None: nothing)."""
        if self.state in SERVING and self.face_possible():
            return "face"
        if self.state in SERVING and self.attest_instead():
            return "attest"
        return {"not_found": "note", "done": "receipt", "printed": "next"}.get(self.state)

    def controls(self) -> Controls:
        s, person = self.state, self.found
        label, enabled = {
            "idle": ("请放置身份证", False), "reading": ("正在读卡…", False), "looking": ("正在查找…", False),
            "person": ("开始人脸认证 Enter", self.face_possible()), "not_found": ("登记来访 Enter", True),
            "face": ("正在人脸认证…", False), "face_failed": ("重新人脸认证 Enter", self.face_possible()),
            "recording": ("正在记录…", False), "done": ("打印回执 Enter", True), "printed": ("下一位 Enter", True),
        }[s]
        if s in SERVING and self.attest_instead():
            label, enabled = "人工核验 F9", True  # no camera (or no chip data): the non-face route is the main one
        serving = person and s in SERVING
        return Controls(label, enabled, serving and not self.terminated, serving,
                        serving and self.enrol_reason() is not None, s in ("done", "printed"), s not in BUSY,
                        s not in BUSY, person and s not in BUSY, self.card is not None and s not in ("idle", "reading"))

    def elapsed(self) -> float | None:
        return None if self.t0 is None else self.clock() - self.t0

    # --- events out -------------------------------------------------------------------------------

    def _emit(self, kind: str, data: Any = None, text: str = "", level: str = "") -> None:
        self.on_event(Event(kind, data, text, level))

    def _set(self, state: str) -> None:
        self.state = state
        self._emit("state", state)

    def _banner(self, text: str, level: str = "") -> None:
        self.banner_text, self.banner_level = text, level
        self._emit("banner", None, text, level)

    def _prompt(self, code: str, text: str = "", speak: bool = True) -> None:
        self._emit("prompt", speak, text, code)

    def idle_banner(self) -> None:
        if self.camera_ready and not self.camera_ok:
            self._banner("摄像头不可用，请按 F9：读卡后改用人工核验（需审核主管审批）。"
                         "请居民将身份证放在读卡器上（无证件时按 F4 手工录入）。", "warn")
        elif self.reader_ok:
            self._banner("请居民将身份证放在读卡器上（无证件或读卡失败时按 F4 手工录入）")

    # --- the reader -------------------------------------------------------------------------------

    def reader_found(self) -> None:
        self.reader_ok = True
        if self.state == "idle":
            self.idle_banner()

    def reader_lost(self, message: str) -> None:
        self.reader_ok = False
        if self.state == "reading":
            self.record_failure("reader_lost")
            self._set("idle")
        # the driver's message usually says it already ("读卡器连接已断开（…）"): say it once
        what = message.strip().rstrip("。") if "读卡器" in message else f"读卡器连接已断开（{message.strip()}）"
        if self.state in ("idle", "reading"):
            self._banner(f"{what}。请检查连接，或按 F4 手工录入。", "error")
        else:
            self._banner(f"{what}。当前居民的证件信息已读取，可继续办理；下一位如读卡器仍未恢复请按 F4 手工录入。", "warn")

    def card_placed(self, *, dialog_open: bool = False) -> None:
        if self.locked:
            self.missed_card = True
        elif self.state in ("idle", "printed", "not_found") and not dialog_open:
            self._banner("正在读取身份证，请不要移动证件…")
            self._set("reading")

    def read_failed(self, message: str) -> None:
        self.record_failure("read_failed")
        if self.state == "reading":
            self._set("idle")
        self._banner(f"读卡失败：{message}。请重新放置证件，或按 F4 手工录入。", "warn")

    def card_removed(self) -> None:
        if self.state == "reading":
            self._set("idle")

    def card_read(self, card) -> bool:
        """A card was read; returns True when it starts serving a new resident."""
        if self.locked:  # nobody at the counter to check it: read again once unlocked
            self.missed_card = True
            return False
        if self.state in ("face", "recording"):
            return False  # the current resident first
        if self.state in ("person", "face_failed", "done") and self.card is not None \
                and idnumber.normalize(card.id_number) == idnumber.normalize(self.card.id_number):
            return False  # the same card read again
        self.start_resident(card)
        return True

    def start_resident(self, card, manual_reason: str = "") -> None:
        """A new resident: the card (or a manual entry's card-shaped record) → lookup."""
        self._clear()
        self.card, self.t0 = card, self.clock()
        self.card_facts = CardFacts(card.source, card.name, tuple(i.code for i in card.issues), card.photo_status,
                                    manual_reason)
        self._emit("cleared", card)
        self._set("looking")
        self._banner("正在查找待遇领取信息…")
        warnings = tuple(i.message_zh for i in card.issues)
        counter, number, name, as_of = self.counter, card.id_number, card.name, self.as_of
        self.run(lambda: counter.lookup(number, as_of, card_name=name, card_warnings=warnings),
                 self._looked_up, self._failed)

    def _failed(self, exc) -> None:
        self._banner(f"出错了：{getattr(exc, 'message_zh', exc)}", "error")
        self._set("person" if self.found else "idle")

    def _looked_up(self, lookup) -> None:
        self.lookup = lookup
        self._emit("lookup", lookup)
        if not lookup.found:
            self._set("not_found")
            self._banner(f"非本地待遇领取人员：系统中没有 {lookup.masked_id} 的待遇记录。"
                         "请告知居民到参保地经办机构办理；按 Enter 登记本次来访。", "warn")
            self._prompt("not_found")
            return
        self._set("person")
        if self.terminated:
            self._banner("该人员的待遇均已终止，不能办理资格认证。如属误报，请转审核主管处理。", "error")
        elif self.card.source == "manual":
            self._banner("手工录入没有证件照片，无法人脸比对：请当面核实身份后按 F9 人工核验（需审核主管审批）。", "warn")
        elif not self.camera_ok:
            self._banner(NO_CAMERA_ZH, "warn")
        elif lookup.resumptions:
            self._banner("该居民待遇已暂停发放，本次认证后次月恢复并补发。核对无误后按 Enter 开始人脸认证。", "warn")
        else:
            self._banner("请核对证件与居民本人，核对无误后按 Enter 开始人脸认证；有人陪同代办请按 F6。")
        self._prompt("get_ready")

    # --- the camera -------------------------------------------------------------------------------

    def camera_opened(self, ok: bool) -> None:
        self.camera_ready, self.camera_ok, self.camera_present = True, ok, ok
        if self.state in SERVING:  # a resident arrived first: offer the face check now
            self._set(self.state)
            if not ok:
                self._banner(NO_CAMERA_ZH, "warn")
        elif self.state == "idle":
            self.idle_banner()

    def camera_state(self, ok: bool) -> None:
        self.camera_ok = ok
        if self.state in SERVING:
            self._set(self.state)
            if not ok:
                self._banner(NO_CAMERA_ZH, "warn")
            elif self.face_possible():
                self._banner("摄像头已恢复。按 Enter 开始人脸认证。", "ok")
        elif self.state == "idle":
            self.idle_banner()

    # --- the face check ---------------------------------------------------------------------------

    def face_session_refused(self, exc) -> None:
        """The station could not start a check (no chip photo, engine unavailable)."""
        self._banner(f"{getattr(exc, 'message_zh', exc)}（F9 人工核验）", "warn")
        self.record_failure(getattr(exc, "code", "engine_unavailable"))

    def face_started(self) -> None:
        self.cancel_requested = False
        self._set("face")
        self._banner("人脸认证进行中：请居民看着摄像头，按居民屏幕上的提示做动作。（Esc 取消）")

    def face_finished(self, result) -> None:
        """A FaceCheckResult (desktop.face.session): passed → record; failed → count and advise."""
        if self.state != "face":
            return
        if self.cancel_requested or (result.reason is not None and result.reason.value == "cancelled"):
            self.face_cancelled()
            return
        ev = result.evidence
        if not result.passed:
            self.face_attempts += 1
            reason = result.reason.value if result.reason else "cancelled"
            self.face_failures.append(reason)
            t = result.triage
            self._emit("face_result", False, f"✘ 未通过：{t.title_zh if t else face_failure_zh(reason)}\n"
                                             f"{t.advice_zh if t else ''}")
            self.record_failure(reason, detail={"attempt": self.face_attempts, "distance": ev.distance})
            self._set("face_failed")
            self._banner(f"人脸认证未通过（第{self.face_attempts}次）：按提示调整后按 Enter 重试；"
                         "无法通过时按 F9 改用人工核验（需审核主管审批）。", "warn")
            self._prompt("retry")
            return
        self._emit("face_result", True, "✔ 人脸认证通过（活体检测通过）")
        self._set("recording")
        self._banner("认证通过，正在记录…", "ok")
        face = FaceOutcome(ev.distance, ev.liveness_passed, ev.frames_used, ev.frames_seen, tuple(ev.challenges_done),
                           ev.settings_accept, ev.settings_reject, ev.image_png)
        counter, pid, as_of, actor = self.counter, self.lookup.person.id, self.as_of, self.actor
        card, helper, secs = self.card_facts, self.helper, self.elapsed()
        attempts, failures = self.face_attempts + 1, tuple(self.face_failures)
        self.run(lambda: counter.certify_by_face(pid, as_of, actor, face, card=card, helper=helper, seconds=secs,
                                                 attempts=attempts, failures=failures),
                 self._recorded, self._record_error)

    def face_cancelled(self) -> None:
        """Esc during the check, or the camera went: nothing recorded, the resident stays."""
        self.cancel_requested = False
        self._set("person")
        if self.camera_ok:
            self._banner("已取消人脸认证（未记录）。按 Enter 重新开始，或按 F9 改用人工核验。", "warn")
        else:
            self._banner(NO_CAMERA_ZH, "warn")
        self._prompt("get_ready", speak=False)

    # --- recording --------------------------------------------------------------------------------

    def attested(self, approver, reason: str, note: str) -> None:
        """The supervisor approved 人工核验 (ApprovalDialog checked their own login)."""
        self._set("recording")
        self._banner(f"审核主管 {approver.display_name} 已审批，正在记录人工核验…", "ok")
        counter, pid, as_of, actor = self.counter, self.lookup.person.id, self.as_of, self.actor
        card, helper, secs, tries, fails = (self.card_facts, self.helper, self.elapsed(), self.face_attempts,
                                            tuple(self.face_failures))
        self.run(lambda: counter.certify_by_attestation(pid, as_of, actor, approver, reason, note=note, card=card,
                                                        helper=helper, seconds=secs, face_attempts=tries,
                                                        face_failures=fails),
                 self._recorded, self._record_error)

    def _record_error(self, exc) -> None:
        self._set("person")
        self._banner(f"记录失败：{getattr(exc, 'message_zh', exc)}", "error")

    def _recorded(self, result) -> None:
        self.result = result
        self.last_seconds = self.elapsed()
        r = result.receipt
        covers = "、".join(f"{c.label}（下次截止 {c.next_deadline.isoformat()}）" for c in r.covers)
        how = "现场人脸认证" if r.method == "counter" else "人工核验"
        text = f"认证已记录：{result.person.name}，{how}。覆盖：{covers}。"
        if result.resumptions:
            text += " " + "；".join(x.text_zh() for x in result.resumptions) + "。"
            first = result.resumptions[0]
            when = _ym(first.resume_from) if first.resume_from else "主管审核后"
            self._prompt("success_resumed", f"认证成功！您的待遇将从{when}起恢复发放，并补发暂停的月份")
        else:
            self._prompt("success")
        self._set("done")
        self._emit("recorded", result)
        self._banner(text + " 按 Enter 打印回执。", "ok")
        self.refresh_today()

    def receipt_printed(self, text: str) -> None:
        self._set("printed")
        secs = f"（用时 {self.last_seconds:.0f} 秒）" if self.last_seconds else ""
        self._banner(f"回执{text.replace('回执', '')}。请居民取回身份证和回执{secs}。按 Enter 办理下一位。", "ok")

    def helper_chosen(self, helper: Helper) -> None:
        self.helper = helper
        self._banner("已登记代办人。请居民本人看摄像头，按 Enter 开始人脸认证。")

    def enrol(self, save: Callable[[], Any]) -> None:
        """Save a captured reference photo (``save`` runs on the worker), then back to the resident."""
        self._set("recording")
        self._banner("正在保存参考照片…")

        def saved(image_id) -> None:
            self.enrolled_reference = image_id
            self._set("person")
            self._banner("参考照片已登记（已记录同意）。按 Enter 用新参考照片进行人脸认证。", "ok")

        self.run(save, saved, self._record_error)

    def note_not_on_roster(self) -> None:
        if self.state != "not_found" or self.lookup is None:
            return
        counter, number, actor, as_of, secs = self.counter, self.lookup.id_number, self.actor, self.as_of, self.elapsed()

        def done(_) -> None:
            self._banner("已登记本次来访（非本地待遇领取人员）。请居民取回证件。", "ok")
            self._set("printed")
            self.refresh_today()

        self.run(lambda: counter.note_not_on_roster(number, actor, as_of, note="柜台来访", seconds=secs), done,
                 self._failed)

    def record_failure(self, reason: str, detail: dict | None = None) -> None:
        counter, actor, as_of = self.counter, self.actor, self.as_of
        pid = self.lookup.person.id if self.found else None
        self.run(lambda: counter.record_failure(actor, as_of, reason, person_id=pid, detail=detail),
                 lambda _: self.refresh_today(), None)

    def refresh_today(self) -> None:
        counter, as_of, ws = self.counter, self.as_of, self.actor.workstation
        self.run(lambda: counter.today(as_of, ws), lambda stats: self._emit("today", stats), lambda exc: None)

    # --- between residents --------------------------------------------------------------------------

    def next_resident(self) -> bool:
        if self.state in BUSY:
            return False
        self._clear()
        self._emit("cleared", None)
        self._set("idle")
        self.idle_banner()
        self._prompt("idle")
        return True

    def escape(self) -> str:
        """Esc: cancel the current step and stay at the counter. Returns what the window does:
        ``abort_face`` (stop the running check), or ""."""
        if self.state == "face":
            self.cancel_requested = True
            self._banner("正在取消人脸认证…")
            return "abort_face"
        if self.state in ("person", "not_found", "face_failed", "printed"):
            was = self.state
            self.next_resident()
            if was != "printed":
                self._banner("已取消本次办理。" + self.banner_text, self.banner_level)
        elif self.state == "done":
            self._banner("认证已记录。按 Enter 打印回执，或按 F12 办理下一位。", "ok")
        elif self.state in ("reading", "looking", "recording"):
            self._banner("请稍候，正在处理…")
        return ""

    def set_locked(self, locked: bool) -> None:
        self.locked = locked
        if not locked and self.missed_card:
            self.missed_card = False
            self._banner("锁屏期间放在读卡器上的身份证没有读取：请居民把证件拿起后重新放置。", "warn")


def _ym(text: str) -> str:
    y, m = text.split("-")[:2]
    return f"{y}年{int(m)}月"
