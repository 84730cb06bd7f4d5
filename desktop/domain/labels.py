"""Display constants shared by the services and the pages, in a module that imports nothing.

The pages need these while the window is being built (role names in a combo box, the password
rule, the recovery methods, the home-visit reasons); importing them from the services would pull
SQLAlchemy and argon2 onto the GUI thread's start-up path. The services re-export them, so both
names refer to the same objects.

One table per concept (issue 19 §4): a failure reason, a certification method or an approval has
one Chinese name, whether the clerk reads it on the counter, the director on a dashboard or the
resident on a receipt. When a word changes, it changes here.
"""

from __future__ import annotations

# desktop.services.operators
ROLES = ("clerk", "supervisor", "admin")
ROLE_ZH = {"clerk": "经办员", "supervisor": "审核主管", "admin": "系统管理员"}
MIN_LENGTH = 8

# desktop.services.deaths
METHOD_ZH = {"lump_sum": "一次性退回", "instalments": "分期退回", "offset": "从后续待遇中抵扣"}

# desktop.services.visits
REASONS_ZH = ("行动不便", "卧床", "高龄", "重病", "其他")

# 认证方式 (docs/domain.md §4): the counter, the person page, the dashboards and every printed form
CERT_METHOD_ZH = {
    "counter": "现场认证",
    "home_visit": "上门认证",
    "remote_assist": "异地认证",
    "mobile_app": "手机认证",
    "data_match": "信息比对",
    "staff_attestation": "人工核验",
    "legacy": "历史认证记录",
}

# why an attempt at the counter failed: the face check's reasons (desktop.face.triage.Reason
# values) and the counter's own (reader, roster); the counter's today panel, the dashboards, the
# clerk's face panel and the enrolment dialog all say these words
FAILURE_REASON_ZH = {
    "no_face": "没有检测到人脸",
    "multiple_faces": "画面中有多张人脸",
    "too_dark": "光线太暗",
    "too_bright": "光线太亮或逆光",
    "blurry": "画面模糊",
    "face_too_small": "离摄像头太远",
    "eyes_closed": "眼睛没有睁开",
    "not_matching": "与参考照片不一致",
    "review_needed": "相似度处于临界，需人工确认",
    "challenge_not_done": "没有完成指定动作",
    "flat_photo_suspected": "疑似照片或屏幕翻拍",
    "replay_suspected": "疑似播放录像",
    "face_lost": "人脸离开了画面",
    "camera_error": "摄像头故障",
    "engine_unavailable": "人脸识别组件不可用",
    "cancelled": "已取消",
    "reader_lost": "读卡器断开",
    "read_failed": "读卡失败",
    "not_on_roster": "非本地待遇人员",
    "terminated": "待遇已终止",
    "no_photo": "证件无可用照片",
    "old_photo": "证件照片年代久远",
    "approval_refused": "审批未通过",
    "liveness_failed": "活体检测未通过",
}



def face_failure_zh(code: str) -> str:
    """The one Chinese name of a failure reason code (the code itself when it is not known)."""
    return FAILURE_REASON_ZH.get(code, code)


# who approves a staff attestation (人工核验): always said the same way
ATTESTATION_APPROVAL_ZH = "需审核主管审批"
