"""``certdesk central migrate|enrol|devices|keys rotate`` — the central admin steps (issue 15).

    certdesk central migrate --central ADMIN_URL [--ca FILE]          # schema + authority layer
    certdesk central enrol --central ADMIN_URL [--name NAME] [--ca FILE] [--device-url URL]
    certdesk central devices --central ADMIN_URL [--ca FILE] [--json]
    certdesk central keys rotate --central ADMIN_URL [--ca FILE]

``ADMIN_URL`` is the central schema owner's ``postgresql://`` address (its password from the URL,
``PGPASSWORD`` or ``~/.pgpass``); it is used for this step only and never saved. Connections
use TLS with ``sslmode=verify-full`` and the CA file (``--ca``, ``CERTDESK_CENTRAL_CA`` or the
one saved with ``certdesk sync --ca``). Every step needs an admin signed in.
"""

from __future__ import annotations

from desktop.cli import emit
from desktop.cli._common import add_json, open_db, signed_in


def _common(p) -> None:
    p.add_argument("--central", required=True, metavar="ADMIN_URL", help="中心数据库管理员地址（不保存）")
    p.add_argument("--ca", help="验证中心服务器证书的 CA 证书文件")
    add_json(p)


def register(sub) -> None:
    c = sub.add_parser("central", help="中心管理：升级中心数据库、登记工作站、轮换表格签名密钥").add_subparsers(
        dest="central_command")
    p = c.add_parser("migrate", help="升级中心数据库结构并安装权限控制（管理员，单独步骤）")
    _common(p)
    p.set_defaults(handler=_migrate)
    p = c.add_parser("enrol", help="在中心登记本机：分配身份、标签和凭据（凭据存入系统密钥库）")
    _common(p)
    p.add_argument("--name", help="本机名称，例如 林海街道1号窗口")
    p.add_argument("--device-url", help="本机连接中心所用的地址（默认与 --central 相同的主机和数据库）")
    p.set_defaults(handler=_enrol)
    p = c.add_parser("devices", help="列出已登记的工作站")
    _common(p)
    p.set_defaults(handler=_devices)
    keys = c.add_parser("keys", help="表格二维码签名密钥").add_subparsers(dest="keys_command")
    p = keys.add_parser("rotate", help="在中心生成新的签名密钥（旧密钥仍可校验已打印的表格）")
    _common(p)
    p.set_defaults(handler=_rotate)


def _migrate(args) -> int:
    from desktop.services import central

    db = open_db(args)
    doc = central.migrate(db, args.central, signed_in(args), ca_file=args.ca)
    emit(doc) if args.json else print(f"中心数据库已升级到 {doc['revision']}，权限控制已安装")
    return 0


def _enrol(args) -> int:
    from desktop.services import central

    db = open_db(args)
    res = central.enrol(db, args.central, signed_in(args), name=args.name, ca_file=args.ca, device_url=args.device_url)
    if args.json:
        emit(res.as_json())
    else:
        print(f"本机已登记：身份 {res.device_id}，表格编号标签 {res.tag}；凭据已存入系统密钥库。"
              "请运行 certdesk sync --once 获取账号、设置和签名密钥")
    return 0


def _devices(args) -> int:
    from desktop.services import central

    db = open_db(args)
    rows = central.list_devices(db, args.central, signed_in(args), ca_file=args.ca)
    if args.json:
        emit([{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows])
    else:
        for r in rows:
            print(f"{r['device_id']}  {r['tag']}  {r['name'] or ''}  {r['status']}  最近同步 {r['last_seen_at'] or '从未'}")
    return 0


def _rotate(args) -> int:
    from desktop.services import central

    db = open_db(args)
    key_id = central.rotate_form_key(db, args.central, signed_in(args), ca_file=args.ca)
    emit({"key_id": key_id}) if args.json else print(f"已生成新的表格签名密钥 {key_id}；各工作站下次同步后使用")
    return 0
