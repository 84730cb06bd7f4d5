"""Say what one frame is (for ``certdesk idcard decode`` and field diagnostics)."""

from __future__ import annotations

from datetime import date

from desktop.devices.base import CardDataError
from desktop.devices.idcard import codec, parser


def describe_frame(untrusted_frame: bytes, *, today: date | None = None) -> dict:
    """Decode a request or reply frame. Raises a FrameError subclass naming the fault."""
    if len(untrusted_frame) >= codec.HEADER_LEN and untrusted_frame[:5] == codec.PREAMBLE \
            and ((untrusted_frame[5] << 8) | untrusted_frame[6]) == 3:
        req = codec.parse_request(untrusted_frame)
        return {"frame": "request", "command": req.name, "cmd": f"{req.cmd:02X}", "para": f"{req.para:02X}"}
    reply = codec.parse_reply(untrusted_frame)
    base = {"frame": "reply", "length": len(untrusted_frame), "sw1": f"0x{reply.sw1:02X}",
            "sw2": f"0x{reply.sw2:02X}", "sw3": f"0x{reply.sw3:02X}", "status": reply.status_zh}
    data = reply.data
    if reply.sw3 == codec.SW_NO_CARD:
        return {**base, "result": "no_card"}
    if reply.sw3 == codec.SW_FOUND:
        return {**base, "result": "card_found", "management_number": data.hex().upper()}
    if reply.sw3 == codec.SW_NO_CONTENT:
        return {**base, "result": "no_content"}
    if reply.sw3 != codec.SW_OK:
        return {**base, "result": "error"}
    if not data:
        return {**base, "result": "ok"}
    if len(data) == 16:
        return {**base, "result": "sam_id", "sam_id": codec.decode_sam_id(data)}
    if len(data) == 8:
        return {**base, "result": "card_selected", "card_sn": data.hex().upper()}
    fingerprint = parser.detect_fingerprint_layout(data)
    if fingerprint is not None:
        card = parser.parse_read_data(data, fingerprint=fingerprint, today=today)
        return {**card.to_json(), "result": "card", "frame": "reply", "length": len(untrusted_frame),
                "sw3": base["sw3"]}
    if len(data) % parser.ADDRESS_RECORD == 0:
        return {**base, "result": "appended_addresses",
                "appended_addresses": list(parser.parse_appended_addresses(data))}
    raise CardDataError(f"无法识别的应答数据（{len(data)} 字节）", code="unknown_reply")
