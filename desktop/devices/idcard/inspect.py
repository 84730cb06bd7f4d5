"""Say what a frame, or a captured serial stream of them, is (``certdesk idcard decode``, field diagnostics)."""

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


def describe_capture(untrusted_bytes: bytes, *, today: date | None = None) -> dict:
    """Every frame of a captured serial stream, in order, read the way the serial driver reads it
    (:class:`codec.FrameDecoder`: line noise before a preamble is skipped, a frame with a bad
    checksum is dropped and the reader resynchronises after it).

    One clean frame and nothing else gives :func:`describe_frame`'s document unchanged. Anything
    else gives ``{"frames": [...], "count", "discarded_bytes" (outside any good frame: noise and
    bad frames), "errors": [...], "trailing_bytes"}``,
    each frame its document plus ``offset`` (byte position in the capture); a frame whose payload
    cannot be understood carries ``error`` and ``message`` instead. A capture without one good
    frame raises the first fault (bad checksum, truncated frame, or no preamble at all).
    """
    decoder = codec.FrameDecoder(max_buffer=max(64 * 1024, len(untrusted_bytes) + 1))
    decoder.feed(bytes(untrusted_bytes))
    frames: list[tuple[int, bytes]] = []
    faults: list[tuple[int, codec.FrameError]] = []
    pos = 0  # where the decoder's buffer starts in the capture
    while True:
        before = decoder.discarded
        try:
            frame = decoder.next_frame()
        except codec.BadChecksum as exc:
            skipped = decoder.discarded - before
            faults.append((pos + skipped - 1, exc))
            pos += skipped
            continue
        skipped = decoder.discarded - before
        if frame is None:
            pos += skipped
            break
        frames.append((pos + skipped, frame))
        pos += skipped + len(frame)
    trailing = decoder.pending
    if not frames:
        if faults:
            raise faults[0][1]
        if trailing:
            raise codec.Truncated(f"帧不完整：捕获在第 {pos} 字节处的帧中途结束（{trailing} 字节）")
        raise codec.BadPreamble("未找到帧头 AA AA AA 96 69")
    if len(frames) == 1 and not faults and not trailing and decoder.discarded == 0:
        return describe_frame(frames[0][1], today=today)
    docs = []
    for offset, frame in frames:
        try:
            docs.append({"offset": offset, **describe_frame(frame, today=today)})
        except (codec.FrameError, CardDataError) as exc:
            docs.append({"offset": offset, "length": len(frame), "error": exc.code, "message": exc.message_zh})
    errors = [{"offset": offset, "error": exc.code, "message": exc.message_zh} for offset, exc in faults]
    if trailing:
        errors.append({"offset": pos, "error": codec.Truncated.code,
                       "message": f"捕获在一帧中途结束（最后 {trailing} 字节）"})
    return {"frames": docs, "count": len(docs), "discarded_bytes": decoder.discarded, "errors": errors,
            "trailing_bytes": trailing}
