"""Permission checks for the issue-8 services.

Uses the central matrix (``desktop.services.guard.require``: checks the role and audits a refusal)
when it is installed; otherwise falls back to the same rule for these actions, so the bureau's
high-risk operations (termination, reversal, recovery, payroll hand-over) never run for a clerk.
"""

from __future__ import annotations

from desktop.errors import PermissionDenied
from desktop.platform.workstation import Actor

SENIOR_ONLY = {
    "payroll.run": "生成月度发放指令",
    "payroll.export": "导出发放指令",
    "payroll.approve_resumption": "审核超过12个月的恢复发放",
    "death.record": "登记死亡",
    "death.reverse": "撤销错误的死亡登记",
    "recovery.manage": "处理多领待遇追回",
}


def require(db, actor: Actor, action: str) -> None:
    try:
        from desktop.services.guard import require as central
    except ImportError:  # the permissions module has not landed on this checkout
        central = None
    if central is not None:
        try:
            central(db, actor, action)
            return
        except KeyError:  # an action the matrix does not know yet: use the rule below
            pass
    if action in SENIOR_ONLY and actor.role not in ("supervisor", "admin"):
        raise PermissionDenied(f"无权限：{SENIOR_ONLY[action]}需要主管或系统管理员权限", action=action, role=actor.role)
