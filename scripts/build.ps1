# Build the one-folder CertDesk bundle on Windows: dist\certdesk\{certdesk.exe, certdesk-cli.exe, _internal\}
# and a zip dist\certdesk-<version>-windows-x64.zip for the counter PCs.
#
#   powershell -ExecutionPolicy Bypass -File scripts\build.ps1            # build, check, zip
#   powershell -ExecutionPolicy Bypass -File scripts\build.ps1 -NoPack
#
# Needs: uv (https://docs.astral.sh/uv/), 64-bit Windows 10/11. The CJK font is the committed
# resources\fonts\wqy-microhei.ttc (Apache-2.0, LICENSES.md); at run time the counter PC's own
# Microsoft YaHei / SimSun is preferred. PyInstaller is fetched by uv at build time only.
param(
    [switch]$NoPack
)
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")

uv sync --quiet
if ($LASTEXITCODE -ne 0) { throw "uv sync failed" }
uv run --with "pyinstaller>=6.10,<7" pyinstaller --noconfirm --clean --distpath dist --workpath build installer.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }

# The bundle must start without Python: a private CERTDESK_HOME, offscreen Qt.
$cli = "dist\certdesk\certdesk-cli.exe"
$home = Join-Path $env:TEMP ("certdesk-build-check-" + [guid]::NewGuid().ToString("N"))
$env:CERTDESK_HOME = $home
$env:QT_QPA_PLATFORM = "offscreen"
try {
    $version = (& $cli --version).Trim()
    if ($LASTEXITCODE -ne 0) { throw "certdesk-cli --version failed" }
    & $cli selftest
    if ($LASTEXITCODE -ne 0) { Write-Warning "self-test reported errors (see above)" }
    & $cli gui --exit-when-ready
    if ($LASTEXITCODE -ne 0) { throw "the window did not open (certdesk-cli gui --exit-when-ready)" }
} finally {
    Remove-Item Env:CERTDESK_HOME, Env:QT_QPA_PLATFORM -ErrorAction SilentlyContinue
    Remove-Item -Recurse -Force $home -ErrorAction SilentlyContinue
}

$size = [math]::Round(((Get-ChildItem dist\certdesk -Recurse -File | Measure-Object Length -Sum).Sum / 1MB), 1)
Write-Host "bundle: dist\certdesk ($size MB), version $version"
if (-not $NoPack) {
    $zip = "dist\certdesk-$version-windows-x64.zip"
    if (Test-Path $zip) { Remove-Item $zip }
    Compress-Archive -Path dist\certdesk -DestinationPath $zip
    Write-Host "archive: $zip"
}
