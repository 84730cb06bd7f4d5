"""Which column of a bureau's file feeds which field (issue 21 §1–§3).

No source uses our exact headers: the provincial system says 身份证号码 and 人员类别, the mobile
app 认证时间, the 公安 list 注销日期. A header is recognised by its synonyms (spaces, ``*``
markers and a unit in brackets ignored); the clerk maps the rest — in the window, with
``--map 'SOURCE=TARGET,…'``, or by a saved source profile. The header row itself is found among
the first rows (a title row above it, two header rows of merged cells), and the rows that are
not people (a totals row, 制表人 …) are left out.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from itertools import chain, zip_longest
from operator import itemgetter
from pathlib import Path
from typing import Iterator

from desktop.errors import UserFacingError
from desktop.formats.sheets import HEADER_SCAN, open_grid
from desktop.formats.tabular import Row, clean

# field → the headers that mean it (the field's own name first)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "姓名": ("姓名", "名字", "人员姓名", "参保人姓名", "领取人姓名", "死者姓名", "户籍人员姓名"),
    "公民身份号码": ("公民身份号码", "身份证号码", "身份证号", "证件号码", "社会保障号码", "公民身份证号码",
               "身份号码", "证件号", "身份证件号码", "社会保障号"),
    "认证对象": ("认证对象", "人员类别", "待遇类别", "人员身份", "待遇类型", "人员类型"),
    "待遇开始日期": ("待遇开始日期", "待遇开始时间", "待遇开始年月", "待遇享受开始日期", "享受待遇时间",
               "开始领取时间", "待遇领取开始时间"),
    "最近认证日期": ("最近认证日期", "上次认证时间", "最近一次认证时间", "上次认证日期", "最近认证时间",
               "最后认证日期", "最近一次认证日期"),
    "联系电话": ("联系电话", "电话", "电话号码", "手机号码", "手机号", "联系方式"),
    "居住地址": ("居住地址", "现居住地址", "家庭住址", "住址", "现住址", "地址", "联系地址"),
    "居住地类型": ("居住地类型", "居住类型", "本地异地", "居住地区类型"),
    "月待遇金额": ("月待遇金额", "月养老金", "待遇标准", "发放金额", "月发放金额", "月待遇", "月领取金额"),
    "待遇调整生效月份": ("待遇调整生效月份", "调整生效月份", "生效月份"),
    "认证日期": ("认证日期", "认证时间", "认证完成时间"),
    "认证方式": ("认证方式", "认证渠道"),
    "认证结果": ("认证结果", "认证状态"),
    "死亡日期": ("死亡日期", "死亡时间"),
    "来源": ("来源", "信息来源", "数据来源", "报送单位"),
    "注销日期": ("注销日期", "注销时间", "户籍注销日期", "户口注销日期"),
    "注销原因": ("注销原因", "注销类别", "注销类型", "户口注销原因"),
}
FIELD_HINT = {"待遇开始日期": "可为年月，如 202306", "最近认证日期": "可为年月", "月待遇金额": "元"}
IGNORE = ""  # a mapping target: leave the column out

_UNIT = re.compile(r"[（(［\[【][^）)］\]】]{0,12}[）)］\]】]$")
_NOISE = str.maketrans(dict.fromkeys(" \u3000*＊:：", None))


def normalize(header: object) -> str:
    """A header as compared: cleaned, without spaces, ``*`` marks, a colon or a trailing unit in
    brackets (月养老金（元） = 月养老金), ASCII lower-cased."""
    text = clean(header).translate(_NOISE)
    text = _UNIT.sub("", text) or text
    return text.lower()


_KNOWN = {normalize(s): f for f, names in SYNONYMS.items() for s in names}


def field_of(header: object) -> str | None:
    return _KNOWN.get(normalize(header))


def score(names: list[str]) -> int:
    """How many distinct fields a candidate header row names."""
    return len({f for f in map(field_of, names) if f is not None})


def signature(header: list[str]) -> str:
    """The header's fingerprint (a saved profile is offered for a file with the same one)."""
    names = "\x1f".join(normalize(h) for h in header if clean(h))
    return hashlib.sha1(names.encode("utf-8")).hexdigest()[:16]


def parse_map(text: str) -> dict[str, str]:
    """``'身份证号=公民身份号码,类别=认证对象'`` → ``{source: target}`` (a Chinese comma works
    too; an empty target leaves the column out). Raises ValueError with a Chinese reason."""
    out: dict[str, str] = {}
    for part in re.split(r"[,，;；]", text or ""):
        if not part.strip():
            continue
        if "=" not in part:
            raise ValueError(f"--map 的每一项应为 原列名=目标列名：{part.strip()}")
        source, target = (clean(p) for p in part.split("=", 1))
        if not source:
            raise ValueError(f"--map 缺少原列名：{part.strip()}")
        out[source] = target
    if not out:
        raise ValueError("--map 是空的")
    return out


@dataclass
class Mapping:
    """The resolved columns of one file."""

    header: list[str]  # the file's cleaned header
    header_line: int  # its (last) row number
    columns: dict[str, int] = field(default_factory=dict)  # field → column index
    missing: list[str] = field(default_factory=list)  # required fields without a column

    def source_of(self, name: str) -> str | None:
        i = self.columns.get(name)
        return None if i is None else self.header[i]

    def as_profile(self) -> dict[str, str]:
        """{source header: field} of every mapped column (what a profile keeps)."""
        return {self.header[i]: f for f, i in self.columns.items()}


def resolve(header: list[str], required: list[str], optional: list[str] = (), explicit: dict[str, str] | None = None,
            *, strict: bool = True, header_line: int = 1) -> Mapping:
    """Map ``header`` onto the fields: ``explicit`` {source: target} first (a target "" leaves
    the column out), synonyms for the rest; the first column wins a field named twice. With
    ``strict`` an explicit source missing from the file is an error (``--map``); a profile's
    optional columns may be absent."""
    fields = list(required) + [f for f in optional if f not in required]
    wanted = set(fields)
    m = Mapping(header=[clean(h) for h in header], header_line=header_line)
    by_norm: dict[str, int] = {}
    for i, h in enumerate(m.header):
        if h:
            by_norm.setdefault(normalize(h), i)
    taken: set[int] = set()
    for source, target in (explicit or {}).items():
        i = by_norm.get(normalize(source))
        if i is None:
            if strict:
                raise UserFacingError(f"文件中没有列“{source}”（对应关系中指定的原列名）", code="bad_map", column=source)
            continue
        taken.add(i)
        if target == IGNORE:
            continue
        if target not in wanted:
            raise UserFacingError(f"没有这个目标列：{target}（可选：{'、'.join(fields)}）", code="bad_map", column=target)
        m.columns.setdefault(target, i)
    for i, h in enumerate(m.header):
        if i in taken or not h:
            continue
        f = field_of(h)
        if f in wanted and f not in m.columns:
            m.columns[f] = i
    m.missing = [f for f in required if f not in m.columns]
    return m


def missing_error(missing: list[str]) -> UserFacingError:
    return UserFacingError("文件缺少必需的列：" + "、".join(missing) + "（列名不同的，请在导入窗口中指定对应列，"
                           "或用 --map 原列名=目标列名、--profile 来源方案）", code="missing_columns", missing=missing)


# --- the header row and the rows that are not people ------------------------------------------

def locate_header(grid: Iterator[tuple[int, list]]) -> tuple[list[str], int, Iterator[tuple[int, list]]]:
    """Find the header among the first HEADER_SCAN rows: the row (or two rows of merged header
    cells, read together) naming the most known fields; without any, the first row with at
    least two cells. Returns (header, its last row number, the remaining rows)."""
    buffer: list[tuple[int, list]] = []
    for item in grid:
        buffer.append(item)
        if len(buffer) >= HEADER_SCAN:
            break
    if not buffer:
        raise UserFacingError("文件是空的", code="empty_file")
    names = [[clean(c) for c in cells] for _, cells in buffer]
    best = None  # (score, single first, -index) , index, rows used
    for i, row in enumerate(names):
        candidates = [(row, 1)]
        if i + 1 < len(names):
            candidates.append(([b or a for a, b in zip_longest(row, names[i + 1], fillvalue="")], 2))
        for cand, used in candidates:
            key = (score(cand), -used, -i)
            if best is None or key > best[0]:
                best = (key, i, used, cand)
    (s, _, _), i, used, header = best
    if s == 0:
        i = next((k for k, row in enumerate(names) if sum(1 for c in row if c) >= 2), 0)
        used, header = 1, names[i]
    last = i + used - 1
    return header, buffer[last][0], chain(buffer[last + 1:], grid)


_FOOTER = ("合计", "总计", "小计", "共计", "累计", "制表", "审核", "填报", "负责人", "经办人", "说明", "备注", "注：")


def is_footer(cells: list, id_col: int | None) -> bool:
    """A totals row or a signature line (合计 …, 共3人; 制表人 …): its first non-empty cell says
    so and it has nothing like an ID number (15+ characters) — not a person."""
    if id_col is not None and id_col < len(cells) and len(clean(cells[id_col])) >= 15:
        return False
    for c in cells:
        text = clean(c)
        if text:
            return text.replace(" ", "").startswith(_FOOTER)
    return False


def open_table(path: Path, required: list[str], optional: list[str] = (), explicit: dict[str, str] | None = None,
               *, strict: bool = True, one_of: tuple[str, ...] = ()) -> tuple[Mapping, Iterator[Row]]:
    """The file's mapping and its rows as ``Row(line, {field: raw value})``; whole-file problems
    (refused file, missing columns) raise UserFacingError before any row is read. ``one_of``:
    fields of which at least one must be present (死亡日期 or 注销日期)."""
    grid = open_grid(Path(path))
    header, line, rest = locate_header(grid)
    m = resolve(header, required, optional, explicit, strict=strict, header_line=line)
    if one_of and not any(f in m.columns for f in one_of):
        m.missing.append(one_of[0])
    if m.missing:
        raise missing_error(m.missing)
    return m, _rows(m, rest)


def _rows(m: Mapping, rest: Iterator[tuple[int, list]]) -> Iterator[Row]:
    index = list(m.columns.items())
    names = [name for name, _ in index]
    # a row with every mapped column (the usual case) is taken in one C call
    take = itemgetter(*(i for _, i in index)) if len(index) > 1 else None
    width = max((i for _, i in index), default=-1) + 1
    id_col = m.columns.get("公民身份号码")
    for line, cells in rest:
        n = len(cells)
        number = cells[id_col] if id_col is not None and id_col < n else None
        # a cell beginning with a letter or digit is not blank (clean() only removes spaces): the
        # ID number's cell answers "blank row?" for almost every line without cleaning them all
        if not (type(number) is str and number[:1].isalnum()) and not any(clean(c) for c in cells):
            continue  # blank row
        if not (type(number) is str and len(number) >= 15) and is_footer(cells, id_col):
            continue  # 合计 / 制表人: not a person (a row with an ID number never is)
        if take is not None and n >= width:
            yield Row(line, dict(zip(names, take(cells))))
        else:
            yield Row(line, {name: (cells[i] if i < n else None) for name, i in index})


def read_table(path: Path, required: list[str], optional: list[str] = (), explicit: dict[str, str] | None = None,
               *, strict: bool = True, one_of: tuple[str, ...] = ()) -> Iterator[Row]:
    """Rows as ``{field: raw value}`` (see :func:`open_table`); a generator, so whole-file errors
    raise at the first ``next``."""
    _, rows = open_table(path, required, optional, explicit, strict=strict, one_of=one_of)
    yield from rows


def read_header(path: Path, explicit: dict[str, str] | None = None) -> list[str]:
    """The fields a file's header names (synonyms and ``explicit`` applied; empty when the file
    cannot be read)."""
    try:
        header, line, _ = locate_header(open_grid(Path(path)))
        m = resolve(header, [], list(SYNONYMS), explicit, strict=False, header_line=line)
    except UserFacingError:
        return []
    return list(m.columns)


@dataclass(frozen=True)
class Preview:
    """The first rows of a file for the mapping dialog."""

    header: list[str]
    header_line: int
    rows: list[tuple[int, list[str]]]  # (line, cleaned cells)
    signature: str
    guess: dict[str, str]  # {source header: field} recognised by synonym


def preview(path: Path, n: int = 8) -> Preview:
    header, line, rest = locate_header(open_grid(Path(path)))
    m = resolve(header, [], list(SYNONYMS), None, strict=False, header_line=line)
    id_col = m.columns.get("公民身份号码")
    rows = []
    for ln, cells in rest:
        if len(rows) >= n:
            break
        if not any(clean(c) for c in cells) or is_footer(cells, id_col):
            continue
        rows.append((ln, [clean(c) for c in cells]))
    return Preview([clean(h) for h in header], line, rows, signature(header), m.as_profile())
