"""Validation of roster rows (issue 2 §5), kept free of the database and Qt so a large file can
be read and validated in a second process while the importer writes (see
``desktop.services.imports``). A parsed row is a plain tuple (cheap to send between processes):

``(line, id_number, name, cohort, start, last_cert, phone, address, residence, amount_fen,
birth_date, sex, amount_from)`` with the dates as ISO text (``last_cert`` may be ``None``;
``amount_from`` is the ``YYYY-MM`` of 待遇调整生效月份 or ``None``); a rejected row is
``(line, reason)``. :func:`iter_roster_chunks` also rejects duplicates within the file and adds
to each accepted row, at position 13, the record the importer writes when the person is new: one
flat tuple in the columns of ``db.import_bulk.STAGE_COLS`` — the ``persons`` row, its
``entitlements`` row and its ``certifications`` row (that part ``None`` without a last
certification date; :func:`records` splits it into rows of :data:`PERSON_COLS`, :data:`ENT_COLS`
and :data:`CERT_COLS`) — with fresh time-ordered keys. It is made here, in the reading process,
so the writing process (the bottleneck of a large import) only decides and inserts; text that
repeats (names, dates, phone numbers, addresses) is one object within a chunk, so the pipe
carries it once. Columns that are the same for the whole import (timestamps, operator,
workstation …) are not in it: the importer writes those once per statement. A row accepted with a warning (a second line of the
same person with other contact details: the later line wins) is preceded by
``(line, reason, WARN)``.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from db.ids import new_ids
from desktop.domain import idnumber
from desktop.domain.rules import COHORT_BY_NAME, COHORTS
from desktop.formats.import_mapping import read_table
from desktop.formats.tabular import FORMULA_LEAD, CellError, clean, compact, parse_amount_fen, parse_date, parse_month

ROSTER_COLUMNS = ["姓名", "公民身份号码", "认证对象", "待遇开始日期", "最近认证日期", "联系电话", "居住地址", "居住地类型", "月待遇金额"]
ROSTER_REQUIRED = ROSTER_COLUMNS[:4]
# Optional columns beyond the standard template: the month from which a changed 月待遇金额 is in
# force (a re-import with a new amount; without it, the month of the import).
AMOUNT_FROM = "待遇调整生效月份"
ROSTER_OPTIONAL = [*ROSTER_COLUMNS[4:], AMOUNT_FROM]
WARN = "warn"  # marks a (line, reason, WARN) warning in a chunk

RESIDENCE = {"本地": "local", "异地": "remote"}
_PHONE = re.compile(r"[0-9+()/\-]+")
_DIGIT = re.compile(r"\d")

ID_REASON = {
    "empty": "公民身份号码为空",
    "length": "公民身份号码应为18位",
    "format": "公民身份号码含有非法字符",
    "check_digit": "公民身份号码校验码错误",
    "birth_date": "公民身份号码中的出生日期不存在",
    "future_birth": "公民身份号码中的出生日期晚于今天",
    "region": "公民身份号码的地址码无效",
}

# tuple positions of a parsed row (iter_roster_chunks adds the new-person record at 13)
LINE, NUMBER, NAME, COHORT, START, LAST, PHONE, ADDRESS, RESIDENCE_, AMOUNT, BIRTH, SEX, AMOUNT_FROM_ = range(13)
REC = 13

PERSON_COLS = ("id", "id_number", "name", "sex", "birth_date", "phone", "address", "residence")
ENT_COLS = ("id", "person_id", "cohort", "start_date", "monthly_amount_fen")
CERT_COLS = ("id", "person_id", "cert_date", "evidence")
# the record of a line (position 13): its person, entitlement and certification in one tuple, as
# the importer stages it (the same columns as db.import_bulk.STAGE_COLS; the person part empty on
# a later line of a person the import creates, the certification part without a new one)
REC_COLS = ("person_id", "id_number", "name", "sex", "birth_date", "phone", "address", "residence",
            "ent_id", "cohort", "start_date", "monthly_amount_fen", "cert_id", "cert_date", "evidence")
_NO_CERT = (None, None, None)
_NO_PERSON = (None,) * 7


def person_record(pid: str, r: tuple) -> tuple:
    """The ``persons`` row (PERSON_COLS) of a new person from parsed row ``r``."""
    return (pid, r[1], r[2], r[11], r[10], r[6], r[7], r[8] or "local")


def ent_record(eid: str, pid: str, r: tuple) -> tuple:
    return (eid, pid, r[3], r[4], r[9])


def _evidence(r: tuple) -> str:
    return f'{{"source":"roster","line":{r[0]}}}'


def cert_record(cid: str, pid: str, r: tuple) -> tuple:
    """The legacy certification the roster's 最近认证日期 stands for (CERT_COLS)."""
    return (cid, pid, r[5], _evidence(r))


def new_record(pid: str, eid: str, cid: str, r: tuple) -> tuple:
    """The record (REC_COLS) of the line that creates a person: the person, the entitlement and,
    with a last certification date, the certification."""
    return (*person_record(pid, r), eid, r[3], r[4], r[9], *(_NO_CERT if r[5] is None else (cid, r[5], _evidence(r))))


def line_record(pid: str, eid: str | None, cid: str | None, r: tuple) -> tuple:
    """The record (REC_COLS) of a later line of a person created by the same import: no person
    part; the entitlement ``eid`` and the certification ``cid`` when the line adds them (None:
    not)."""
    return (pid, *_NO_PERSON, eid, r[3], r[4], r[9], *(_NO_CERT if cid is None else (cid, r[5], _evidence(r))))


def records(rec: tuple) -> tuple[tuple | None, tuple | None, tuple | None]:
    """A record split into its ``persons`` (PERSON_COLS), ``entitlements`` (ENT_COLS) and
    ``certifications`` (CERT_COLS) rows, None for a part it has not got."""
    pid = rec[0]
    return (rec[:8] if rec[1] is not None else None,
            (rec[8], pid, rec[9], rec[10], rec[11]) if rec[8] is not None else None,
            (rec[12], pid, rec[13], rec[14]) if rec[12] is not None else None)


def check_id(raw: object, today: date) -> idnumber.IdCheck:
    check = idnumber.validate(compact(raw), today)
    if not check.valid:
        raise CellError(ID_REASON.get(check.reason, "公民身份号码无效"))
    return check


# Separators written between the parts of Mongolian, Uyghur and other minority names (and
# transliterated foreign ones): 巴特尔·其其格 = 巴特尔•其其格 = 巴特尔・其其格 = 巴特尔其其格.
_NAME_SEPARATORS = str.maketrans(dict.fromkeys(
    "\u00b7\u2022\u30fb\uff0e.\u2027\uff65\u2219\u22c5\u0387\u2e31\u16eb \u3000\u00a0", None))


def name_key(name: str | None) -> str:
    """A name as compared between a file and the database: without the separators of minority
    names (``·`` U+00B7, ``•`` U+2022, ``・`` U+30FB, ``．``, ``.``, similar dots) or spaces."""
    if not name:
        return ""
    return name.translate(_NAME_SEPARATORS)


def same_name(a: str | None, b: str | None) -> bool:
    return a == b or name_key(a) == name_key(b)


# spaces and brackets of either width, ignored when a cohort name is looked up
_COHORT_NOISE = str.maketrans(dict.fromkeys(" \u3000()（）[]［］【】〔〕〈〉《》{}｛｝<>＜＞", None))
_COHORT_KEYS = {k.translate(_COHORT_NOISE): v for k, v in COHORT_BY_NAME.items()}
_COHORT_SEEN: dict[str, str] = {}  # raw cell text -> cohort code (a roster uses a handful)


def cohort_of(raw: object) -> str:
    """The cohort code of a 认证对象 cell: an official name, a known variant (desktop.domain.rules
    COHORT_BY_NAME) or a code, spaces and brackets of either width ignored; raises CellError."""
    code = _COHORT_SEEN.get(raw) if type(raw) is str else None
    if code is not None:
        return code
    text = clean(raw)
    code = _COHORT_KEYS.get(text.translate(_COHORT_NOISE))
    if code is None and text in COHORTS:
        code = text
    if code is None:
        raise CellError(f"认证对象无法识别：{text.replace(' ', '') or '（空）'}")
    if type(raw) is str and len(_COHORT_SEEN) < 1000:
        _COHORT_SEEN[raw] = code
    return code


def check_name(raw: object) -> str:
    if type(raw) is str and raw.lstrip(" \u3000").startswith(FORMULA_LEAD):
        raise CellError("姓名不能以 = + - @ 或制表符开头（电子表格会把它当作公式）")
    name = clean(raw).replace(" ", "")
    if not name:
        raise CellError("姓名为空")
    if name.startswith(FORMULA_LEAD):
        raise CellError("姓名不能以 = + - @ 或制表符开头（电子表格会把它当作公式）")
    if len(name) > 40 or _DIGIT.search(name):
        raise CellError(f"姓名无效：{name[:20]}")
    return name


class _Memo(dict):
    """Raw text cell -> what ``parse`` makes of it, for the values a roster repeats (dates, names,
    phone numbers, addresses, amounts): each distinct one is parsed once per process, and the
    rows share one object for it. A cell that raises is not remembered (it raises again, with
    its own message); cells that are not text are parsed each time."""

    LIMIT = 100_000

    def __init__(self, parse):
        super().__init__()
        self.parse = parse

    def __call__(self, raw):
        if type(raw) is not str:
            return self.parse(raw)
        value = self.get(raw, self)
        if value is self:
            if len(self) >= self.LIMIT:
                self.clear()
            value = self[raw] = self.parse(raw)
        return value


def _phone(raw: object) -> str | None:
    phone = compact(raw) or None
    if phone and not phone.isdigit() and not _PHONE.fullmatch(phone):
        raise CellError(f"联系电话无效：{phone[:20]}")
    return phone


_name = _Memo(check_name)
_start = _Memo(lambda raw: parse_date(raw, field="待遇开始日期", month_ok=True))
_last = _Memo(lambda raw: parse_date(raw, field="最近认证日期", month_ok=True))
_phone_of = _Memo(_phone)
_address = _Memo(lambda raw: (clean(raw) or "")[:200] or None)
_amount = _Memo(lambda raw: parse_amount_fen(raw, field="月待遇金额"))
_ISO: dict[date, str] = {}  # date -> ISO text, one object per date


def _iso(d: date) -> str:
    text = _ISO.get(d)
    if text is None:
        if len(_ISO) >= _Memo.LIMIT:
            _ISO.clear()
        text = _ISO[d] = d.isoformat()
    return text


def parse_roster_row(values: dict, line: int, today: date) -> tuple:
    """One row as a parsed tuple (see the module docstring); raises CellError."""
    name = _name(values.get("姓名"))
    check = check_id(values.get("公民身份号码"), today)
    number = check.number
    cohort = cohort_of(values.get("认证对象"))
    start = _start(values.get("待遇开始日期"))
    if start is None:
        raise CellError("待遇开始日期为空")
    if start < check.birth_date:
        raise CellError("待遇开始日期早于出生日期")
    if start.year > today.year + 1:
        raise CellError(f"待遇开始日期不合理：{start.isoformat()}")
    last = _last(values.get("最近认证日期"))
    if last is not None:
        if last > today:
            raise CellError(f"最近认证日期晚于今天：{last.isoformat()}")
        if last < check.birth_date:
            raise CellError("最近认证日期早于出生日期")
    phone = _phone_of(values.get("联系电话"))
    address = _address(values.get("居住地址"))
    res_text = compact(values.get("居住地类型"))
    residence = None
    if res_text:
        residence = RESIDENCE.get(res_text)
        if residence is None:
            raise CellError(f"居住地类型应为“本地”或“异地”：{res_text[:10]}")
    amount = _amount(values.get("月待遇金额"))
    amount_from = values.get(AMOUNT_FROM)
    if amount_from is not None:
        amount_from = parse_month(amount_from, field=AMOUNT_FROM)
        if amount_from is not None:
            start_month = f"{start.year:04d}-{start.month:02d}"
            if amount_from < start_month:
                raise CellError(f"{AMOUNT_FROM}（{amount_from}）早于待遇开始月份（{start_month}）")
            if int(amount_from[:4]) > today.year + 1:
                raise CellError(f"{AMOUNT_FROM}不合理：{amount_from}")
    return (line, number, name, cohort, _iso(start), _iso(last) if last is not None else None,
            phone, address, residence, amount, _iso(check.birth_date), check.sex, amount_from)


class FileDuplicates:
    """Duplicates within one file: the same ID number and cohort twice, or one person (ID number)
    with different names. Returns ``None`` for a row to accept as it is, ``(line, reason)`` to
    reject it, or ``(line, reason, WARN)`` to accept it with a warning: a later line of the same
    person with other contact details (联系电话, 居住地址, 居住地类型) wins, and the difference
    is reported (the importer records the earlier values in the audit log)."""

    def __init__(self) -> None:
        self.seen: dict[tuple, tuple] = {}  # (number, cohort) -> first row
        # number -> (name, line, phone, address, residence, lines): the person's first line and
        # contact details so far; ``lines`` (the line that gave each detail) once a later line
        # changed one, else None
        self.persons: dict[str, tuple] = {}

    def __call__(self, r: tuple) -> tuple | None:
        key = (r[1], r[3])
        prior = self.seen.get(key)
        if prior is not None:
            if prior[2] == r[2] and prior[4:10] == r[4:10] and prior[12] == r[12]:
                return (r[0], f"与第{prior[0]}行重复")
            return (r[0], f"与第{prior[0]}行的身份号码和认证对象相同但内容不同，请核对")
        known = self.persons.get(r[1])
        if known is None:
            self.seen[key] = r
            self.persons[r[1]] = (r[2], r[0], r[6], r[7], r[8], None)
            return None
        if known[0] != r[2] and not same_name(known[0], r[2]):
            return (r[0], f"姓名与身份号码不符：同一身份号码在第{known[1]}行的姓名不同")
        self.seen[key] = r
        contact, lines = list(known[2:5]), list(known[5] or (known[1],) * 3)
        diff = []
        for i, label in enumerate(("联系电话", "居住地址", "居住地类型")):
            new = r[6 + i]
            if new and new != contact[i]:
                if contact[i]:
                    diff.append((label, lines[i]))
                contact[i] = new
                lines[i] = r[0]
        self.persons[r[1]] = (known[0], known[1], *contact, tuple(lines))
        if not diff:
            return None
        at = sorted({n for _, n in diff})
        return (r[0], f"与第{'、'.join(map(str, at))}行是同一人，{'、'.join(k for k, _ in diff)}不一致："
                      "已采用本行（较后一行）的内容，原内容记入修改记录", WARN)


def _with_records(rows: list[tuple]) -> list[tuple]:
    """Accepted rows get their new-person record (position 13); rejections and warnings stay as
    they are."""
    keys = iter(new_ids(3 * sum(1 for r in rows if len(r) > 3)))
    out = []
    for r in rows:
        if len(r) <= 3:
            out.append(r)
            continue
        out.append((*r, new_record(next(keys), next(keys), next(keys), r)))
    return out


def iter_roster_chunks(path: Path, today: date, chunk: int, first: int | None = None,
                       mapping: dict[str, str] | None = None):
    """Read and validate the file, yielding lists of accepted or rejected row tuples in file
    order (``first`` rows in the first list, so a consumer in another process can start early).
    ``mapping``: {source header: field} given by the clerk or a profile (synonyms do the rest).
    Every line ends up in exactly one list, as a row or as ``(line, reason)`` (a row accepted with
    a warning is preceded by its ``(line, reason, WARN)``)."""
    out = []
    size = first or chunk
    duplicate = FileDuplicates()
    for row in read_table(path, ROSTER_REQUIRED, ROSTER_OPTIONAL, mapping):
        try:
            r = parse_roster_row(row.values, row.line, today)
        except CellError as exc:
            out.append((row.line, str(exc)))
        else:
            flag = duplicate(r)
            if flag is None:
                out.append(r)
            elif len(flag) == 2:
                out.append(flag)
            else:  # accepted with a warning: the warning goes just before its row
                out.append(flag)
                out.append(r)
        if len(out) >= size:
            yield _with_records(out)
            out = []
            size = chunk
    if out:
        yield _with_records(out)


def roster_worker(path: str, today: date, chunk: int, conn, mapping: dict[str, str] | None = None) -> None:
    """Process target (module level, so it also runs under the spawn start method of Windows and
    PyInstaller): sends each chunk through ``conn``, then ``None``; a failure is sent as
    ``("error", message)``.

    A thread sends while the main thread reads on: the pipe holds far less than a chunk, so
    without it the reader would stall whenever the importer is busy writing and could never get
    ahead by more than one chunk. At most ``_AHEAD`` chunks wait here. If the importer goes away
    (the pipe breaks), both threads stop."""
    import gc
    import queue
    import threading

    # This process only parses and forwards rows: it makes no reference cycles worth collecting,
    # while the collector would keep walking the file's duplicate-check table as it grows.
    gc.disable()
    ahead: queue.Queue = queue.Queue(maxsize=_AHEAD)
    broken = threading.Event()

    def send() -> None:
        try:
            while True:
                part = ahead.get()
                conn.send(part)
                if part is None or type(part) is tuple:
                    return
        except (OSError, EOFError):
            broken.set()

    sender = threading.Thread(target=send, name="roster-sender", daemon=True)
    sender.start()

    def put(part) -> bool:
        while not broken.is_set():
            try:
                ahead.put(part, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    try:
        for part in iter_roster_chunks(Path(path), today, chunk, first=min(chunk, 500), mapping=mapping):
            if not put(part):
                return
        put(None)
    except BaseException as exc:  # the importer re-raises it in the main process
        put(("error", getattr(exc, "message_zh", None) or f"{exc.__class__.__name__}: {exc}"))
    finally:
        sender.join()
        conn.close()


_AHEAD = 8
