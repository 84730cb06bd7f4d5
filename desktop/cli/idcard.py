"""``certdesk idcard …``: ID-card reply decoding and manual-entry checks (no Qt, no serial)."""

from __future__ import annotations

import sys

from desktop.cli import emit, parse_date
from desktop.errors import UserFacingError


def register(subparsers) -> None:
    parser = subparsers.add_parser("idcard", help="身份证：解码读卡器应答帧")
    sub = parser.add_subparsers(dest="idcard_command")
    parser.set_defaults(handler=lambda args: (parser.print_help(), 2)[1])

    decode = sub.add_parser(
        "decode", help="解码读卡器串口记录中的帧（十六进制文本，可含空格和换行）",
        description="按串口驱动的方式读取捕获的十六进制记录：跳过帧头前的线路噪声，丢弃校验错误的帧并重新同步，"
                    "按顺序输出每一帧。只有一个完整帧时输出该帧本身；否则输出 frames 列表（含 offset）、"
                    "discarded_bytes、errors 和 trailing_bytes。")
    decode.add_argument("--hex", required=True, metavar="FILE", help="十六进制文本文件（- 表示标准输入）")
    decode.add_argument("--json", action="store_true", help="输出 JSON")
    decode.add_argument("--today", type=parse_date, help="有效期检查所用的日期（默认今天）")
    decode.set_defaults(handler=_decode)

    manual = sub.add_parser("check-number", help="校验手工录入的身份号码并记录原因")
    manual.add_argument("number")
    manual.add_argument("--reason", default="reader_fault")
    manual.add_argument("--note", default="")
    manual.add_argument("--json", action="store_true")
    manual.set_defaults(handler=_check_number)

    from desktop.cli.idcheck import add_check

    add_check(sub)  # `certdesk idcard check NUMBER --json` (issue 2)


def _decode(args) -> int:
    from desktop.devices.idcard.codec import parse_hex
    from desktop.devices.idcard.inspect import describe_capture

    try:
        text = sys.stdin.read() if args.hex == "-" else open(args.hex, encoding="utf-8").read()
    except OSError as exc:
        raise UserFacingError(f"无法读取文件：{args.hex}（{exc.strerror}）", code="file_error") from None
    doc = describe_capture(parse_hex(text), today=args.today)  # the serial driver's stream reader
    if args.json:
        emit(doc)
    elif "frames" in doc:
        for i, frame in enumerate(doc["frames"], 1):
            print(f"-- 第 {i} 帧（偏移 {frame['offset']}）")
            for key, value in frame.items():
                if key != "offset":
                    print(f"{key}: {value}")
        for err in doc["errors"]:
            print(f"-- 偏移 {err['offset']}：{err['message']}（{err['error']}）")
        print(f"-- 共 {doc['count']} 帧，跳过 {doc['discarded_bytes']} 字节")
    else:
        for key, value in doc.items():
            print(f"{key}: {value}")
    return 0


def _check_number(args) -> int:
    from desktop.devices.idcard.manual import make_manual_entry

    entry = make_manual_entry(args.number, args.reason, args.note)
    doc = {"valid": True, "id_number": entry.masked_number, "birth_date": entry.birth_date,
           "sex": entry.sex, "region": entry.region, "reason": entry.reason_zh}
    if args.json:
        emit(doc)
    else:
        print(f"号码有效：{entry.masked_number}，{entry.region}，原因：{entry.reason_zh}")
    return 0
