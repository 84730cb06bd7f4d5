"""Start-up self-test: can this machine run CertDesk? (Qt-free)

Used by the window at start-up (``ui/dialogs/selftest_dialog.py``: failures shown in a dialog,
never a silent exit) and by ``certdesk selftest [--json] [--deep]`` for IT staff.

Checks, each with a clear Chinese message:

* ``cpu_avx``     the dlib-bin wheel is compiled with AVX; without it dlib dies with an illegal
                  instruction that no ``try`` catches (docs/face.md) -> face check unusable;
* ``face_models`` the four dlib model files (bundled by the installer) are present;
                  ``deep=True`` also loads the face engine (~1 s, ~150 MiB);
* ``cjk_font``    an embeddable Chinese TrueType font for printed forms (desktop.printing.fonts);
* ``database``    the local SQLite file and its folder are writable (and the disk not full);
                  a central/remote URL is only connected to with ``deep=True``;
* ``key_store``   the OS key store that keeps the database and image keys (SECURITY.md);
* ``card_reader`` / ``camera``  present or not: a warning, never an error (manual entry and the
                  clerk's own check remain). Nothing is opened: ports are listed, not probed,
                  so a reader in use by the app is never disturbed.

Severities: ``error`` (a function of the app cannot work), ``warning`` (degraded), ``info``.
A check that itself crashes becomes an error row; :func:`run_selftest` never raises.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from desktop.platform import paths

ERROR, WARNING, INFO = "error", "warning", "info"
MIN_FREE_MB = 200  # below this the database and logs may fail to grow mid-certification


@dataclass(frozen=True, slots=True)
class Check:
    key: str  # stable id: cpu_avx, face_models, cjk_font, database, card_reader, camera
    title_zh: str
    ok: bool | None  # True passed, False failed, None not determined / not applicable
    severity: str = INFO  # how bad a failure is: error, warning, info
    message_zh: str = ""
    detail: str = ""  # technical detail for the log (paths, exception text); no personal data

    @property
    def failed(self) -> bool:
        return self.ok is False


@dataclass(frozen=True, slots=True)
class SelfTestReport:
    checks: tuple[Check, ...]
    seconds: float = 0.0
    platform: dict = field(default_factory=dict)

    @property
    def errors(self) -> list[Check]:
        return [c for c in self.checks if c.failed and c.severity == ERROR]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.failed and c.severity == WARNING]

    @property
    def problems(self) -> list[Check]:
        """What the clerk should be told: failed errors first, then failed warnings."""
        return self.errors + self.warnings

    @property
    def ok(self) -> bool:
        return not self.errors

    def get(self, key: str) -> Check | None:
        return next((c for c in self.checks if c.key == key), None)

    def as_json(self) -> dict:
        return {"ok": self.ok, "seconds": round(self.seconds, 3), "platform": self.platform,
                "errors": [c.key for c in self.errors], "warnings": [c.key for c in self.warnings],
                "checks": [asdict(c) for c in self.checks]}

    def summary_zh(self) -> str:
        if not self.problems:
            return "自检通过"
        return "；".join(f"{c.title_zh}：{c.message_zh}" for c in self.problems)


# --- the checks ----------------------------------------------------------------------------------


def check_cpu(cpu_has_avx: Callable[[], bool | None] | None = None) -> Check:
    if cpu_has_avx is None:
        from desktop.face.models import cpu_has_avx
    avx = cpu_has_avx()
    title = "处理器（AVX 指令）"
    if avx is True:
        return Check("cpu_avx", title, True, ERROR, "处理器支持 AVX 指令")
    if avx is False:
        return Check("cpu_avx", title, False, ERROR,
                     "本机处理器不支持 AVX 指令，无法运行人脸识别。请改用人工核验，并联系技术人员更换电脑",
                     "the dlib-bin wheel is compiled with AVX")
    return Check("cpu_avx", title, None, INFO, "无法确认处理器是否支持 AVX 指令（非 x86 处理器或系统未报告）")


def check_face_models(deep: bool = False) -> Check:
    from desktop.face import models

    title = "人脸识别模型"
    try:
        folder = models.models_dir()
    except models.FaceModelsUnavailable as exc:
        return Check("face_models", title, False, ERROR, exc.message_zh, exc.detail)
    if deep:
        try:
            models.load_face_recognition()
        except models.FaceModelsUnavailable as exc:
            return Check("face_models", title, False, ERROR, exc.message_zh, exc.detail)
        return Check("face_models", title, True, ERROR, "人脸识别模型已加载", str(folder))
    return Check("face_models", title, True, ERROR, "人脸识别模型文件齐全", str(folder))


def check_cjk_font() -> Check:
    from desktop.printing import fonts

    title = "中文打印字体"
    try:
        reg = fonts.register_cjk_font()
    except fonts.FontNotFound as exc:
        return Check("cjk_font", title, False, ERROR, exc.message_zh, "; ".join(exc.data.get("problems", [])))
    return Check("cjk_font", title, True, ERROR, "已找到可嵌入 PDF 的中文字体", f"{reg.path}#{reg.subfont_index}")


def check_key_store(name: Callable[[], str] | None = None) -> Check:
    """The OS key store that holds the database and image keys (SECURITY.md). Without one a
    production start refuses (no key is ever written to a file): an error here says so before."""
    from desktop.platform import keystore, runmode

    title = "系统密钥库"
    try:
        backend = (name or keystore.backend_name)()
    except keystore.KeyStoreUnavailable as exc:
        return Check("key_store", title, False, ERROR, exc.message_zh, "refused")
    if backend == "none":
        return Check("key_store", title, False, ERROR,
                     "本机没有可用的系统密钥库（Windows 凭据管理器 / Linux Secret Service），"
                     "本地数据库的密钥无法保存，程序不能启动。请在已登录的桌面会话中运行，或联系信息科", backend)
    if backend == "memory":
        mode = "演示或测试模式" if runmode.simulation_allowed() else ""
        return Check("key_store", title, True, INFO, f"{mode}：使用模拟密钥（数据为合成数据）", backend)
    return Check("key_store", title, True, ERROR, "已找到系统密钥库，数据库与图像密钥保存在其中", backend)


def _sqlite_file(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    rest = url.split("://", 1)[-1]
    if rest in ("", "/", "/:memory:") or ":memory:" in rest:
        return None
    return Path(rest[1:] if rest.startswith("/") else rest)


def _writable_dir(folder: Path) -> str | None:
    """Why ``folder`` cannot take a new file, or None when it can."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".certdesk-selftest-", delete=True) as fh:
            fh.write(b"ok")
            fh.flush()
    except OSError as exc:
        return f"{folder}: {exc.strerror or exc}"
    return None


def check_database(db_url: str | None = None, demo: bool = False, deep: bool = False) -> Check:
    title = "数据库"
    explicit = db_url or os.environ.get("CERTDESK_DB")
    if explicit and "://" not in explicit:
        url = "sqlite:///" + str(Path(explicit).resolve())
    elif explicit:
        url = explicit
    else:
        url = "sqlite:///" + str(paths.default_db_path(demo))
    path = _sqlite_file(url)
    if path is None:
        if not url.startswith("sqlite"):
            host = url.split("@", 1)[-1]  # never show a password
            if not deep:
                return Check("database", title, None, INFO, f"使用中心数据库 {host}（启动时连接）")
            try:
                from sqlalchemy import text

                from db.engine import make_engine

                engine = make_engine(url)
                try:
                    with engine.connect() as conn:
                        conn.execute(text("SELECT 1"))
                finally:
                    engine.dispose()
            except Exception as exc:  # driver errors differ per database
                return Check("database", title, False, ERROR, f"无法连接中心数据库 {host}，请检查网络和地址",
                             type(exc).__name__)
            return Check("database", title, True, ERROR, f"已连接中心数据库 {host}")
        return Check("database", title, None, INFO, "内存数据库（仅测试）")
    why = _writable_dir(path.parent)
    if why:
        return Check("database", title, False, ERROR,
                     f"数据库所在文件夹不可写，无法保存认证记录：{path.parent}。请联系技术人员检查权限或磁盘", why)
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            return Check("database", title, False, ERROR,
                         f"数据库文件只读，无法保存认证记录：{path}。请联系技术人员检查文件权限", str(path))
        try:
            with open(path, "r+b"):
                pass
        except OSError as exc:
            return Check("database", title, False, ERROR,
                         f"数据库文件无法写入：{path}（{exc.strerror or exc}）", str(exc))
    free_mb = shutil.disk_usage(path.parent).free / 2**20
    if free_mb < MIN_FREE_MB:
        return Check("database", title, False, WARNING,
                     f"磁盘剩余空间不足（{free_mb:.0f} MB），请清理磁盘或联系技术人员", str(path.parent))
    state = "可写" if path.exists() else "将在首次启动时创建"
    return Check("database", title, True, ERROR, f"本机数据库{state}：{path}", f"free {free_mb:.0f} MB")


def check_card_reader(demo: bool = False, ports: Iterable[dict] | None = None,
                      sdk_paths: Iterable[tuple[str, str]] | None = None) -> Check:
    title = "身份证读卡器"
    if demo:
        return Check("card_reader", title, None, INFO, "演示模式：使用模拟读卡器")
    if ports is None or sdk_paths is None:
        from desktop.devices import registry

        ports = registry.candidate_ports() if ports is None else ports
        sdk_paths = registry.default_sdk_paths() if sdk_paths is None else sdk_paths
    ports, sdk_paths = list(ports), list(sdk_paths)
    known = [p for p in ports if p.get("known_as")]
    if sdk_paths:
        return Check("card_reader", title, True, WARNING, "已找到读卡器厂商驱动库",
                     ", ".join(p for _, p in sdk_paths))
    if known:
        names = "、".join(f"{p['port']}（{p['known_as']}）" for p in known)
        return Check("card_reader", title, True, WARNING, f"已发现读卡器端口：{names}")
    if ports:
        names = "、".join(p["port"] for p in ports[:4])
        return Check("card_reader", title, None, WARNING,
                     f"发现串口 {names}，未确认是否为读卡器（可运行 certdesk-cli devices probe 检测）")
    return Check("card_reader", title, False, WARNING,
                 "未检测到身份证读卡器：请检查 USB 连接和驱动；暂时可手工录入身份号码")


def _linux_cameras() -> list[str]:
    root = Path("/sys/class/video4linux")
    if not root.is_dir():
        return sorted(str(p) for p in Path("/dev").glob("video*"))
    names = []
    for dev in sorted(root.iterdir()):
        try:
            names.append((dev / "name").read_text().strip() or dev.name)
        except OSError:
            names.append(dev.name)
    return names


def check_camera(demo: bool = False, lister: Callable[[], list] | None = None) -> Check:
    title = "摄像头"
    if demo:
        return Check("camera", title, None, INFO, "演示模式：使用模拟摄像头")
    if lister is None:
        if sys.platform.startswith("linux"):
            lister = _linux_cameras
        else:  # Windows: DirectShow, index 0 only (nothing else lists cameras cheaply)
            def lister():
                from desktop.devices.cameras.webcam import list_webcams

                return [c["name"] for c in list_webcams(max_index=1)]
    cams = list(lister())
    if cams:
        return Check("camera", title, True, WARNING, "已发现摄像头：" + "、".join(str(c) for c in cams[:3]))
    return Check("camera", title, False, WARNING,
                 "未检测到摄像头：请检查 USB 连接；人脸核验暂不可用，可由工作人员人工核验")


# --- running them --------------------------------------------------------------------------------

CHECK_KEYS = ("cpu_avx", "face_models", "cjk_font", "database", "key_store", "card_reader", "camera")


def _guard(key: str, fn: Callable[[], Check]) -> Check:
    try:
        return fn()
    except Exception as exc:  # a self-test must report, never crash the app
        return Check(key, key, False, ERROR, f"自检出错：{type(exc).__name__}", str(exc)[:300])


def platform_info() -> dict:
    import platform

    from desktop import __version__

    return {"version": __version__, "system": platform.system(), "release": platform.release(),
            "machine": platform.machine(), "python": platform.python_version(),
            "frozen": bool(getattr(sys, "frozen", False))}


def run_selftest(*, db_url: str | None = None, demo: bool = False, deep: bool = False,
                 only: Iterable[str] | None = None) -> SelfTestReport:
    """Run the checks (all, or ``only`` these keys); never raises."""
    t0 = time.perf_counter()
    avx_check = _guard("cpu_avx", check_cpu)
    runners: dict[str, Callable[[], Check]] = {
        "cpu_avx": lambda: avx_check,
        # never load dlib on a CPU without AVX: it would crash the process
        "face_models": lambda: check_face_models(deep=deep and avx_check.ok is not False),
        "cjk_font": check_cjk_font,
        "database": lambda: check_database(db_url, demo, deep),
        "key_store": check_key_store,
        "card_reader": lambda: check_card_reader(demo),
        "camera": lambda: check_camera(demo),
    }
    keys = [k for k in CHECK_KEYS if only is None or k in set(only)]
    checks = tuple(_guard(k, runners[k]) for k in keys)
    return SelfTestReport(checks, time.perf_counter() - t0, platform_info())


def save_report(report: SelfTestReport) -> Path | None:
    """Keep the last result in the log folder (for IT staff on the phone). Best effort."""
    try:
        path = paths.log_dir() / "selftest-last.json"
        path.write_text(json.dumps(report.as_json(), ensure_ascii=False, indent=1), encoding="utf-8")
        return path
    except OSError:
        return None
