"""Who may do what (条例 第三十七条: high-risk business is reviewed at a higher level).

The matrix is checked in the core services, not only by hiding buttons: a refused attempt raises
:class:`PermissionDenied` and is itself recorded in the audit log.

When adding an action: add it to ``MATRIX`` with the roles allowed, and call
:func:`authorize` at the top of the service method that performs it.
"""

from __future__ import annotations

from desktop.errors import PermissionDenied
from desktop.platform.workstation import Actor

CLERK, SUPERVISOR, ADMIN = "clerk", "supervisor", "admin"
ROLES = (CLERK, SUPERVISOR, ADMIN)
ROLE_ZH = {CLERK: "经办员", SUPERVISOR: "主管", ADMIN: "系统管理员"}
ALL = frozenset(ROLES)
SENIOR = frozenset((SUPERVISOR, ADMIN))

MATRIX: dict[str, tuple[frozenset, str]] = {
    # action: (roles, description in Chinese)
    "person.view": (ALL, "查询人员"),
    "certification.record": (ALL, "记录认证"),
    "certification.approve_attestation": (SENIOR, "审核人工核验"),
    "forms.issue": (ALL, "打印协助认证表"),
    "forms.receive": (ALL, "登记收回的协助认证表"),
    "forms.cancel": (SENIOR, "作废协助认证表"),
    "visits.manage": (ALL, "预约和登记上门认证"),
    "outreach.record": (ALL, "登记电话提醒结果"),
    "payroll.preview": (ALL, "查看发放名单预览"),
    "roster.import": (SENIOR, "导入待遇人员名册"),
    "results.import": (SENIOR, "导入认证结果和死亡信息"),
    "payroll.run": (SENIOR, "生成月度发放指令"),
    "payroll.export": (SENIOR, "导出发放指令"),
    "payroll.approve_resumption": (SENIOR, "审核超过12个月的恢复发放"),
    "death.record": (SENIOR, "登记死亡"),
    "death.reverse": (SENIOR, "撤销错误的死亡登记"),
    "recovery.manage": (SENIOR, "处理多领待遇追回"),
    "audit.verify": (SENIOR, "校验审计日志"),
    "sync.run": (ALL, "与中心数据库同步"),
    "sync.resolve": (SENIOR, "处理同步冲突、重试被拒绝的上传"),
    "settings.change": (frozenset((ADMIN,)), "修改系统设置"),
    "operators.manage": (frozenset((ADMIN,)), "管理操作员账号"),
    "data.purge": (frozenset((ADMIN,)), "按保存期限清理人脸图像"),
    "data.backup": (SENIOR, "备份本机数据库（加密）"),
    "data.restore": (SENIOR, "从备份恢复本机数据库"),
    "central.admin": (frozenset((ADMIN,)), "登记工作站、轮换表格签名密钥、升级中心数据库"),
}


def allowed(role: str, action: str) -> bool:
    roles, _ = MATRIX[action]
    return role in roles


def authorize(actor: Actor, action: str, *, record=None) -> None:
    """Raise PermissionDenied unless ``actor`` may do ``action``. ``record(actor, action)`` is
    called first for a refusal (the services pass a function that writes the audit event)."""
    if action not in MATRIX:
        raise KeyError(f"unknown action {action!r}")
    if allowed(actor.role, action):
        return
    if record is not None:
        record(actor, action)
    roles, text = MATRIX[action]
    need = "、".join(ROLE_ZH[r] for r in ROLES if r in roles)
    raise PermissionDenied(f"无权限：{text}需要{need}权限", action=action, role=actor.role)


def matrix_rows() -> list[tuple[str, str, dict[str, bool]]]:
    """(action, description, {role: allowed}) for the settings page and the documentation."""
    return [(a, text, {r: r in roles for r in ROLES}) for a, (roles, text) in MATRIX.items()]
