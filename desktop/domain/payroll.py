"""The answer of a payroll run for month M (domain.md §3): the instructions recorded for M.

The computation is the payment ledger (:mod:`desktop.domain.ledger`); this module holds the result's
shape, which the payroll department's tools read (``certdesk payroll --month --json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from desktop.domain.ledger import HIGH_RISK_MONTHS  # noqa: F401  (re-exported for the counter and forms)
from desktop.domain.months import Month


@dataclass
class PayrollResult:
    month: Month
    run_day: date
    suspend: list[dict] = field(default_factory=list)
    resume: list[dict] = field(default_factory=list)
    terminate: list[dict] = field(default_factory=list)
    recover: list[dict] = field(default_factory=list)
    # every money correction of the run, each exactly once: back_pay, recovery, recovery_cancel
    corrections: list[dict] = field(default_factory=list)
    # entitlements with no certification on file that this run would suspend (go-live guard)
    go_live_guard: list[dict] = field(default_factory=list)
    go_live_confirmed: bool = False
    recorded: bool = False

    def as_json(self) -> dict:
        return {
            "month": str(self.month),
            "run_day": self.run_day.isoformat(),
            "suspend": self.suspend,
            "resume": self.resume,
            "terminate": self.terminate,
            "recover": self.recover,
            "corrections": self.corrections,
            "go_live_guard": self.go_live_guard,
            "go_live_confirmed": self.go_live_confirmed,
        }


def yuan(fen_per_month: int | None, months: int) -> float | None:
    if fen_per_month is None:
        return None
    return round(fen_per_month * months / 100, 2)
