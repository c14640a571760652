#!/usr/bin/env bash
# Builds the macOS (Apple silicon) release: dist/PhotoSearch.app and dist/PhotoSearch-<version>-macos-arm64.dmg.
# Usage: packaging/macos/build.sh      (on an arm64 Mac; torch 2.14.1 has no Intel Mac wheels)
# Env: PYTHON (a Python 3.11, default python3.11), PHOTOSEARCH_BUILD_VENV (reuse a venv), and for a
# signed, notarised release (the release runner fills these in from its secrets; without them the app
# is ad-hoc signed, runs on the building Mac, and Gatekeeper warns elsewhere):
#   MACOS_SIGN_IDENTITY   "Developer ID Application: NAME (TEAMID)" in the runner's keychain
#   MACOS_NOTARY_PROFILE  a `xcrun notarytool store-credentials` profile (Apple ID + app password or API key)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' photosearch/__init__.py)
venv=${PHOTOSEARCH_BUILD_VENV:-$root/build/macos/venv}
app=dist/PhotoSearch.app
dmg=dist/PhotoSearch-${version}-macos-arm64.dmg
started=$(date +%s)
step() { echo "== build.sh [$(($(date +%s) - started))s] $*"; }
[ "$(uname -m)" = arm64 ] || { echo "build.sh: needs an arm64 Mac (torch 2.14.1 ships macOS wheels for arm64 only)" >&2; exit 1; }

step "venv $venv"
[ -x "$venv/bin/python" ] || "${PYTHON:-python3.11}" -m venv "$venv"
"$venv/bin/pip" install -q "torch==2.14.1" "torchvision==0.29.1" "pyinstaller==6.22.0" .
# cv2 without its GUI parts (opencv-python, which rapidocr requires, brings Qt 5): see packaging/linux/build.sh.
"$venv/bin/pip" uninstall -q -y opencv-python opencv-python-headless
"$venv/bin/pip" install -q "opencv-python-headless==5.0.0.93"

step "icons"
QT_QPA_PLATFORM=offscreen "$venv/bin/python" packaging/make_icons.py build/icons

step "PyInstaller"
rm -rf dist/PhotoSearch dist/PhotoSearch.app
"$venv/bin/pyinstaller" --noconfirm --clean --log-level WARN --distpath dist --workpath build/macos/pyinstaller \
  packaging/pyinstaller/photosearch.spec
rm -rf build/macos/pyinstaller dist/PhotoSearch  # the .app holds everything
plutil -lint "$app/Contents/Info.plist"
"$app/Contents/MacOS/photosearch-cli" --version

step "signing"
entitlements=packaging/macos/entitlements.plist
if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  # Hardened runtime (required for notarisation); the entitlements let torch's JIT pages run.
  codesign --force --deep --options runtime --timestamp --entitlements "$entitlements" \
    --sign "$MACOS_SIGN_IDENTITY" "$app"
else
  echo "MACOS_SIGN_IDENTITY is not set: ad-hoc signature (fine for this Mac, not for distribution)"
  codesign --force --deep --sign - "$app"
fi
codesign --verify --deep --strict "$app"

step "DMG $dmg"
rm -f "$dmg"
staging=$(mktemp -d)
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"  # drag-to-install
hdiutil create -volname "PhotoSearch $version" -srcfolder "$staging" -fs HFS+ -format ULFO -ov "$dmg"
rm -rf "$staging"
if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$dmg"
fi
if [ -n "${MACOS_NOTARY_PROFILE:-}" ]; then
  step "notarisation"
  xcrun notarytool submit "$dmg" --keychain-profile "$MACOS_NOTARY_PROFILE" --wait
  xcrun stapler staple "$dmg"
else
  echo "MACOS_NOTARY_PROFILE is not set: not notarised"
fi

step "sizes"
du -sh "$app"
ls -l "$dmg" | awk '{printf "%s %.2f GB\n", $9, $5 / 1e9}'
step "done"
