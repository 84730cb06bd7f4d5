"""``certdesk devices …``: find the ID-card reader (serial ports, vendor SDK, photo decoder)."""

from __future__ import annotations

from desktop.cli import emit


def register(subparsers) -> None:
    parser = subparsers.add_parser("devices", help="设备：检测身份证读卡器")
    sub = parser.add_subparsers(dest="devices_command")
    parser.set_defaults(handler=lambda args: (parser.print_help(), 2)[1])

    probe = sub.add_parser("probe", help="列出串口并发送 SAM 状态指令（11 FF），报告哪个端口应答")
    probe.add_argument("--json", action="store_true", help="输出 JSON")
    probe.add_argument("--port", action="append", help="只探测指定端口（可重复）")
    probe.add_argument("--timeout", type=float, default=0.5, help="每个端口的应答等待时间（秒）")
    probe.add_argument("--photo-decoder", choices=["wltrs", "wlt2bmp"], help="同时检查照片解码库")
    probe.add_argument("--photo-decoder-path")
    probe.set_defaults(handler=_probe)


def _probe(args) -> int:
    from desktop.devices import registry
    from desktop.devices.idcard.photo import describe, make_decoder

    ports = registry.probe(args.port, timeout=args.timeout)
    sdks = [{"driver": d, "path": p} for d, p in registry.default_sdk_paths()]
    decoder = describe(make_decoder(args.photo_decoder, args.photo_decoder_path))
    doc = {
        "ports": ports,
        "readers": [p["port"] for p in ports if p.get("sam_status") == "0x90"],
        "sdk_libraries": sdks,
        "photo_decoder": {"kind": decoder.kind, "available": decoder.available, "message": decoder.reason_zh},
    }
    if args.json:
        emit(doc)
    else:
        if not ports:
            print("未发现串口")
        for p in ports:
            state = f"应答 SAM {p.get('sam_id', '')}" if p.get("answered") else f"无应答（{p.get('message', '')}）"
            print(f"{p['port']}\t{p.get('description', '')}\t{state}")
        print(f"照片解码库：{'可用' if decoder.available else decoder.reason_zh}")
    return 0 if ports is not None else 5
