#!/usr/bin/env bash
# Build the one-folder CertDesk bundle on Linux: dist/certdesk/{certdesk,certdesk-cli,_internal/}
# and a tarball dist/certdesk-<version>-linux-x86_64.tar.gz for the field laptops.
#
#   scripts/build.sh              # build, check the bundle starts, pack
#   scripts/build.sh --no-pack    # build and check only
#
# Needs: uv. The CJK font is the committed resources/fonts/wqy-microhei.ttc (LICENSES.md).
# PyInstaller is a build-time tool fetched by uv; it is not a dependency of the app. See
# docs/installer.md.
set -euo pipefail
cd "$(dirname "$0")/.."

PACK=1
[ "${1:-}" = "--no-pack" ] && PACK=0

uv sync --quiet
# the committed spoken prompts must match the prompt texts (resources/README.md)
uv run python scripts/render_prompts.py --check >/dev/null || echo "warning: recorded prompts are out of date: scripts/render_prompts.py --only-stale" >&2
PYINSTALLER_VERSION="${PYINSTALLER_VERSION:->=6.10,<7}"
uv run --with "pyinstaller${PYINSTALLER_VERSION}" pyinstaller --noconfirm --clean \
  --distpath dist --workpath build installer.spec

# The bundle must start from a clean environment (no Python, no venv on PATH).
HOME_DIR="$(mktemp -d)"
trap 'rm -rf "$HOME_DIR"' EXIT
env -i PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen CERTDESK_HOME="$HOME_DIR" \
  dist/certdesk/certdesk-cli --version
env -i PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen CERTDESK_HOME="$HOME_DIR" \
  dist/certdesk/certdesk-cli selftest || echo "warning: self-test reported errors (see above)" >&2

VERSION="$(dist/certdesk/certdesk-cli --version)"
echo "bundle: dist/certdesk ($(du -sm dist/certdesk | cut -f1) MB), version $VERSION"
if [ "$PACK" = 1 ]; then
  TAR="dist/certdesk-${VERSION}-linux-$(uname -m).tar.gz"
  tar -C dist -czf "$TAR" certdesk
  echo "archive: $TAR ($(du -sm "$TAR" | cut -f1) MB)"
fi
