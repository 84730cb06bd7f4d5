"""Run mode: production, demo or test.

Simulated hardware (card reader, camera) must never run at a real counter, where a fake card or
a replayed face would certify someone who is not there. Simulators call
:func:`require_simulation_allowed` in their constructor.
"""

from __future__ import annotations

import os

PRODUCTION, DEMO, TEST = "production", "demo", "test"
_override: str | None = None


def current_mode() -> str:
    mode = _override or os.environ.get("CERTDESK_MODE", PRODUCTION)
    return mode if mode in (PRODUCTION, DEMO, TEST) else PRODUCTION


def set_mode(mode: str) -> None:
    """Set by the composition root (``certdesk demo``) before any device is built."""
    global _override
    if mode not in (PRODUCTION, DEMO, TEST):
        raise ValueError(mode)
    _override = mode


def simulation_allowed() -> bool:
    return current_mode() in (DEMO, TEST)


class SimulationNotAllowed(RuntimeError):
    code = "simulation_not_allowed"
    message_zh = "模拟设备只能在演示或测试模式下使用"


def require_simulation_allowed(what: str) -> None:
    if not simulation_allowed():
        raise SimulationNotAllowed(f"{what} refuses to run in {current_mode()} mode")
