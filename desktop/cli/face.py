"""``certdesk face …``: compare two photos, run the whole check on a recorded clip, self-test.

face_recognition is imported lazily inside the handlers (through desktop.face.models), never at
module import: other commands must start fast.
"""

from __future__ import annotations

import argparse
import random

from desktop.cli import emit
from desktop.errors import CertDeskError


def register(subparsers) -> None:
    face = subparsers.add_parser("face", help="人脸比对与活体检测")
    sub = face.add_subparsers(dest="face_command")

    p = sub.add_parser("compare", help="比对两张照片是否为同一人")
    p.add_argument("image_a")
    p.add_argument("image_b")
    p.add_argument("--json", action="store_true")
    _threshold_args(p)
    p.set_defaults(handler=_compare)

    p = sub.add_parser("verify-clip", help="对录制的视频运行完整的人脸认证（含活体检测）")
    p.add_argument("video")
    p.add_argument("--reference", required=True, help="参考照片（芯片照片或采集照片）")
    p.add_argument("--json", action="store_true")
    p.add_argument("--seed", type=int, default=None, help="固定动作顺序的随机种子（调试用）")
    p.add_argument("--challenges", default=None, help="指定动作，例如 blink,open_mouth（调试用）")
    _threshold_args(p)
    p.set_defaults(handler=_verify_clip)

    p = sub.add_parser("selftest", help="检查人脸识别组件（模型文件、AVX）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_selftest)

    face.set_defaults(handler=lambda args: (face.print_help(), 2)[1])


def _threshold_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--accept", type=float, default=None, help="通过阈值（默认 0.50）")
    p.add_argument("--reject", type=float, default=None, help="拒绝阈值（默认 0.60）")


def _settings(args):
    from desktop.face.settings import FaceSettings

    changes = {}
    if args.accept is not None:
        changes["accept_threshold"] = args.accept
    if args.reject is not None:
        changes["reject_threshold"] = args.reject
    return FaceSettings().with_(**changes)


def _engine():
    from desktop.face.detect import FaceEngine
    from desktop.face.models import FaceModelsUnavailable

    engine = FaceEngine()
    try:
        engine.warm_up()
    except FaceModelsUnavailable as exc:
        raise CertDeskError(exc.message_zh, code=exc.code) from None
    return engine


def _compare(args) -> int:
    from desktop.face.reference import compare_images, load_image

    engine = _engine()
    res = compare_images(engine, load_image(args.image_a), load_image(args.image_b), _settings(args),
                         names=(args.image_a, args.image_b))
    if args.json:
        emit({"distance": round(res.distance, 4), "decision": res.decision.value})
    else:
        print(f"距离 {res.distance:.3f}：{ {'match': '同一人', 'review': '需人工确认', 'no_match': '不是同一人'}[res.decision.value]}")
    return 0


def _verify_clip(args) -> int:
    from desktop.devices.cameras import VideoFileSource
    from desktop.face.liveness import Challenge
    from desktop.face.reference import encode_single_face, load_image
    from desktop.face.session import FaceCheckSession, run_frames

    engine = _engine()
    reference = encode_single_face(engine, load_image(args.reference), name=args.reference)
    challenges = [Challenge(c.strip()) for c in args.challenges.split(",")] if args.challenges else None
    source = VideoFileSource(args.video)
    try:
        source._open()
        fps = source.file_fps
    except Exception as exc:
        raise CertDeskError(getattr(exc, "message_zh", "无法打开视频文件"), code="camera_error") from None
    finally:
        source._close()
    session = FaceCheckSession(reference, _settings(args), engine=engine, rng=random.Random(args.seed),
                               challenges=challenges)
    result = run_frames(session, source.frames(), fps=fps)
    ev = result.evidence
    doc = {
        "passed": result.passed,
        "decision": result.decision.value if result.decision else None,
        "reason": result.reason.value if result.reason else None,
        "distance": None if ev.distance is None else round(ev.distance, 4),
        "frames_used": ev.frames_used,
        "frames_seen": ev.frames_seen,
        "liveness_passed": ev.liveness_passed,
        "challenges": list(ev.challenges),
        "challenges_done": list(ev.challenges_done),
        "advice": result.triage.advice_zh if result.triage else "",
        "next_steps": [s.value for s in result.triage.next_steps] if result.triage else [],
    }
    if args.json:
        emit(doc)
    else:
        print("认证通过" if result.passed else f"未通过：{result.triage.title_zh}。{result.triage.advice_zh}")
    return 0 if result.passed else 3


def _selftest(args) -> int:
    from desktop.face.models import selftest

    report = selftest()
    if args.json:
        emit(report)
    else:
        print("人脸识别组件正常" if report.get("ok") else f"错误：{report.get('message')}")
    return 0 if report.get("ok") else 5
