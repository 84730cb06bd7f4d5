"""Failure triage: stable reason codes, Chinese advice, next steps (docs/domain.md §4).

Codes are stable (logged and stored); the advice text is shown to the clerk and read to the
resident. Face recognition is never the only route: every failure offers staff attestation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from desktop.domain.labels import ATTESTATION_APPROVAL_ZH, FAILURE_REASON_ZH


class Reason(str, Enum):
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    BLURRY = "blurry"
    FACE_TOO_SMALL = "face_too_small"
    EYES_CLOSED = "eyes_closed"
    NOT_MATCHING = "not_matching"
    REVIEW_NEEDED = "review_needed"
    CHALLENGE_NOT_DONE = "challenge_not_done"
    FLAT_PHOTO_SUSPECTED = "flat_photo_suspected"
    REPLAY_SUSPECTED = "replay_suspected"
    FACE_LOST = "face_lost"
    CAMERA_ERROR = "camera_error"
    ENGINE_UNAVAILABLE = "engine_unavailable"
    CANCELLED = "cancelled"


class NextStep(str, Enum):
    RETRY_WITH_ADVICE = "retry_with_advice"
    ANOTHER_CHALLENGE = "another_challenge"
    CLERK_REVIEW = "clerk_review"
    RE_ENROL = "re_enrol"
    STAFF_ATTESTATION = "staff_attestation"   # 人工核验: needs a second officer (docs/domain.md §4)


NEXT_STEP_ZH = {
    NextStep.RETRY_WITH_ADVICE: "按提示调整后重试",
    NextStep.ANOTHER_CHALLENGE: "换一组动作再试",
    NextStep.CLERK_REVIEW: "由工作人员比对照片后确认",
    NextStep.RE_ENROL: "重新采集参考照片（需本人同意）",
    NextStep.STAFF_ATTESTATION: f"改用人工核验（{ATTESTATION_APPROVAL_ZH}）",
}

# the one table of failure names (desktop.domain.labels), keyed by Reason here
REASON_ZH = {r: FAILURE_REASON_ZH[r.value] for r in Reason}

ADVICE_ZH = {
    Reason.NO_FACE: "请坐到摄像头正前方，摘下帽子和口罩，脸对着屏幕。",
    Reason.MULTIPLE_FACES: "请只让本人留在镜头前，陪同人员请稍微让开。",
    Reason.TOO_DARK: "请打开柜台灯或调整座位，让脸部光线充足。",
    Reason.TOO_BRIGHT: "请避开窗户或强光，不要背对光源。",
    Reason.BLURRY: "请保持头部稳定，必要时擦拭摄像头镜头。",
    Reason.FACE_TOO_SMALL: "请坐近一些，让脸部占满画面中间的框。",
    Reason.EYES_CLOSED: "请睁开眼睛看着屏幕；如戴墨镜请摘下。",
    Reason.NOT_MATCHING: "请核对本人身份；参考照片较旧时可重新采集，或改用人工核验。",
    Reason.REVIEW_NEEDED: "请工作人员比对现场照片与参考照片后确认，或重试一次。",
    Reason.CHALLENGE_NOT_DONE: "请慢慢地再做一遍；听不清时可按“重复”键，或换一组动作。",
    Reason.FLAT_PHOTO_SUSPECTED: "请本人到镜头前完成认证；如确为本人，请换一组动作重试。",
    Reason.REPLAY_SUSPECTED: "请检查摄像头是否为柜台设备；如确为本人，请重试或改用人工核验。",
    Reason.FACE_LOST: "请保持脸部在画面中间，动作做完后回到正面。",
    Reason.CAMERA_ERROR: "请检查摄像头连接，或改用人工核验。",
    Reason.ENGINE_UNAVAILABLE: "请联系技术人员，本次可改用人工核验。",
    Reason.CANCELLED: "",
}

_STEPS = {
    Reason.NO_FACE: (NextStep.RETRY_WITH_ADVICE,),
    Reason.MULTIPLE_FACES: (NextStep.RETRY_WITH_ADVICE,),
    Reason.TOO_DARK: (NextStep.RETRY_WITH_ADVICE,),
    Reason.TOO_BRIGHT: (NextStep.RETRY_WITH_ADVICE,),
    Reason.BLURRY: (NextStep.RETRY_WITH_ADVICE,),
    Reason.FACE_TOO_SMALL: (NextStep.RETRY_WITH_ADVICE,),
    Reason.EYES_CLOSED: (NextStep.RETRY_WITH_ADVICE,),
    Reason.NOT_MATCHING: (NextStep.RETRY_WITH_ADVICE, NextStep.RE_ENROL),
    Reason.REVIEW_NEEDED: (NextStep.CLERK_REVIEW, NextStep.RETRY_WITH_ADVICE, NextStep.RE_ENROL),
    Reason.CHALLENGE_NOT_DONE: (NextStep.RETRY_WITH_ADVICE, NextStep.ANOTHER_CHALLENGE),
    Reason.FLAT_PHOTO_SUSPECTED: (NextStep.ANOTHER_CHALLENGE,),
    Reason.REPLAY_SUSPECTED: (),
    Reason.FACE_LOST: (NextStep.RETRY_WITH_ADVICE,),
    Reason.CAMERA_ERROR: (),
    Reason.ENGINE_UNAVAILABLE: (),
    Reason.CANCELLED: (NextStep.RETRY_WITH_ADVICE,),
}


@dataclass(frozen=True)
class Triage:
    reason: Reason
    title_zh: str
    advice_zh: str
    next_steps: tuple[NextStep, ...]
    failures: int = 1   # how many times this session/person failed in a row (drives re-enrolment)

    @property
    def next_steps_zh(self) -> tuple[str, ...]:
        return tuple(NEXT_STEP_ZH[s] for s in self.next_steps)


def triage(reason: Reason | str, *, failures: int = 1, reference_is_old: bool = False) -> Triage:
    """Advice and next steps for a failure. Staff attestation is always offered last."""
    reason = Reason(reason)
    steps = list(_STEPS[reason])
    if reason in (Reason.NOT_MATCHING, Reason.REVIEW_NEEDED) and not (reference_is_old or failures >= 2):
        # re-enrolment only when the reference is old or the person keeps failing
        steps = [s for s in steps if s is not NextStep.RE_ENROL]
    if failures >= 3 and NextStep.RETRY_WITH_ADVICE in steps:
        steps.remove(NextStep.RETRY_WITH_ADVICE)  # do not make an elderly person try forever
    if reason is not Reason.CANCELLED:
        steps.append(NextStep.STAFF_ATTESTATION)
    return Triage(reason, REASON_ZH[reason], ADVICE_ZH[reason], tuple(steps), failures)
