#!/usr/bin/env bash
# Installs the .deb with dpkg -i (as root) and runs the installed app from a clean environment
# (env -i, a fresh HOME, no venv on PATH): packaging/smoke/run.sh, the desktop entry (validated, and its
# Exec line launches the app), the metainfo file, and a real X11 window under Xvfb when xvfb-run exists.
# Usage: packaging/linux/smoke.sh [DEB]   (default: the newest dist/photosearch_*_amd64.deb)
# Inputs come from the test venv (.venv, for scikit-image's photos); the app under test never sees it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
deb=${1:-$(ls -t dist/photosearch_*_amd64.deb | sed -n 1p)}
py=${PHOTOSEARCH_SMOKE_PYTHON:-$root/.venv/bin/python}
[ "$(id -u)" = 0 ] || { echo "smoke.sh: run as root (it installs the .deb)" >&2; exit 1; }

need=()
command -v desktop-file-validate >/dev/null || need+=(desktop-file-utils)
command -v appstreamcli >/dev/null || need+=(appstream)
command -v xvfb-run >/dev/null || need+=(xvfb xauth)
# The .deb's Depends, so that dpkg -i alone can install it.
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//; s/ //g' | grep -v '^libc6$' || true)
for pkg in $deps; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "smoke.sh: apt-get install ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "== smoke.sh: dpkg -i $deb"
start=$(date +%s)
dpkg -i "$deb" >/dev/null
echo "installed in $(($(date +%s) - start)) s: $(du -sh /opt/photosearch | cut -f1) under /opt/photosearch"
[ "$(readlink -f /usr/bin/photosearch)" = /opt/photosearch/photosearch ] || { echo "no /usr/bin/photosearch" >&2; exit 1; }

desktop=/usr/share/applications/photosearch.desktop
desktop-file-validate "$desktop"
appstreamcli validate --no-net /usr/share/metainfo/org.photosearch.PhotoSearch.metainfo.xml
for icon in 48x48/apps/photosearch.png 256x256/apps/photosearch.png scalable/apps/photosearch.svg; do
  [ -f "/usr/share/icons/hicolor/$icon" ] || { echo "smoke.sh: icon $icon is not installed" >&2; exit 1; }
done
exec_line=$(sed -n 's/^Exec=//p' "$desktop")
gui=${exec_line%% *}
[ -x "$gui" ] || { echo "smoke.sh: the desktop entry's Exec ($exec_line) is not an installed program" >&2; exit 1; }

work=$(mktemp -d /tmp/photosearch-smoke.XXXXXX)
"$py" packaging/smoke/make_inputs.py "$work/inputs"
home=$work/home
mkdir -p "$home"
echo "== smoke.sh: the installed app from env -i (HOME=$home, PATH=/usr/bin:/bin)"
env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 \
  bash packaging/smoke/run.sh photosearch "$gui" "$work/inputs" "$work/out"

if command -v xvfb-run >/dev/null; then
  echo "== smoke.sh: the menu entry's program in a real X11 window (Xvfb)"
  env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 xvfb-run -a -s "-screen 0 1280x800x24" \
    "$gui" --library "$work/out/library" --model "$work/inputs/tiny_clip.json" --pretrained random --offline \
    --query "a cat" --screenshot "$work/out/screenshot-x11.png" > "$work/out/gui-x11.log" 2>&1 \
    || { cat "$work/out/gui-x11.log" >&2; echo "smoke.sh: FAILED: GUI under Xvfb" >&2; exit 1; }
  echo "smoke: X11 screenshot $work/out/screenshot-x11.png"
fi
mkdir -p dist
cp "$work/out/screenshot.png" dist/smoke-screenshot.png
[ -f "$work/out/screenshot-x11.png" ] && cp "$work/out/screenshot-x11.png" dist/smoke-screenshot-x11.png
rm -rf "$work"
echo "== smoke.sh: dpkg -r photosearch"
dpkg -r photosearch >/dev/null
[ ! -e /opt/photosearch ] && [ ! -e /usr/bin/photosearch ] || { echo "smoke.sh: dpkg -r left files" >&2; exit 1; }
echo "== smoke.sh: passed (screenshots in dist/smoke-screenshot*.png)"
