"""Spreadsheets for other departments (desktop.formats.xlsx: streamed sheet XML).

Every exported cell is formula-safe (issue 16 §4, the OWASP CSV-injection rule): in XLSX all text
is an inline string cell, never a formula (desktop.formats.xlsx); in CSV text beginning with
``= + - @``, a tab or a CR gets a leading single quote (:func:`csv_row`).
"""

from __future__ import annotations

from pathlib import Path

from desktop.domain.payroll import PayrollResult
from desktop.domain.rules import COHORTS
from desktop.formats.tabular import FORMULA_LEAD
from desktop.formats.xlsx import write_sheets

SHEETS = [
    ("suspend", "暂停发放", [("姓名", "name"), ("公民身份号码", "id_number"), ("认证对象", "cohort"),
                          ("规则暂停月份", "suspend_from"), ("执行月份", "effective_month"),
                          ("错过的截止日期", "missed_deadline"), ("最近认证日期", "last_certified"),
                          ("逾期仍已发放月份", "paid_while_overdue")]),
    ("resume", "恢复发放", [("姓名", "name"), ("公民身份号码", "id_number"), ("认证对象", "cohort"),
                         ("暂停起始月份", "suspended_from"), ("认证日期", "certified_on"),
                         ("恢复发放月份", "resume_from"), ("补发月份", "back_pay_months"),
                         ("补发金额（元）", "back_pay_amount"), ("需主管审核", "needs_approval")]),
    ("terminate", "终止发放", [("姓名", "name"), ("公民身份号码", "id_number"), ("认证对象", "cohort"),
                            ("死亡日期", "death_date"), ("终止月份", "terminate_from"),
                            ("死亡后认证", "certified_after_death")]),
    ("recover", "多领追回", [("姓名", "name"), ("公民身份号码", "id_number"), ("认证对象", "cohort"),
                          ("死亡日期", "death_date"), ("多领月份", "overpaid_months"),
                          ("多领金额（元）", "overpaid_amount")]),
    # every money correction of the run, each once (the back pay of 恢复发放 and the demands of
    # 多领追回 are among them): the sheet the payroll department pays and recovers from
    ("corrections", "补发与追回汇总", [("姓名", "name"), ("公民身份号码", "id_number"), ("认证对象", "cohort"),
                                 ("更正类别", "kind"), ("所属月份", "months"), ("金额（元）", "amount")]),
]
CORRECTION_ZH = {"back_pay": "补发", "recovery": "追回", "recovery_cancel": "撤销追回（退还或不再追回）"}
CAPTIONS = {"corrections": "含恢复发放表中的补发和多领追回表中的追回，按本表执行，勿重复"}


def _cell(key: str, value):
    if key == "cohort":
        return COHORTS[value].name_zh if value in COHORTS else value
    if key == "kind":
        return CORRECTION_ZH.get(value, value)
    if isinstance(value, list):
        return "、".join(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def payroll_xlsx(result: PayrollResult, path: Path) -> Path:
    """One sheet per kind of instruction. Full ID numbers: the payroll system needs them."""
    sheets = []
    for kind, title, columns in SHEETS:
        note = f"；{CAPTIONS[kind]}" if kind in CAPTIONS else ""
        items = getattr(result, kind)
        rows = ([_cell(key, item.get(key)) for _, key in columns] for item in items)
        sheets.append((title, f"{result.month} 发放月 {title}名单（制表日 {result.run_day.isoformat()}）{note}",
                       [c[0] for c in columns], rows, len(items)))
    return write_sheets(path, sheets, widths={1: 22})


def csv_cell(value):
    """A CSV cell a spreadsheet will not run: text beginning with ``= + - @``, a tab or a CR
    gets a leading single quote (OWASP); numbers stay numbers."""
    if type(value) is str and value.startswith(FORMULA_LEAD):
        return "'" + value
    return value


def csv_row(values) -> list:
    return [csv_cell(v) for v in values]
