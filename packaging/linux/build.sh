#!/usr/bin/env bash
# Builds the Linux release from this checkout, in its own venv:
#   dist/PhotoSearch/                               PyInstaller folder: `PhotoSearch` (GUI) and `photosearch` (CLI)
#   dist/photosearch_<version>_amd64.deb            installs /opt/photosearch, /usr/bin/photosearch, menu entry, icons
#   dist/PhotoSearch-<version>-linux-x86_64.tar.zst the same folder for any distribution, unpack and run
# Usage: packaging/linux/build.sh [--clean]   (--clean also deletes the build venv afterwards)
# Env: PYTHON (default python3, must be 3.11 for the pinned wheels), PHOTOSEARCH_BUILD_VENV (reuse a venv),
#      PHOTOSEARCH_ZSTD_LEVEL (default 9).
# Needs: dpkg-deb, zstd, objdump (binutils). Prints each step's time and each artefact's size.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
clean_venv=0
[ "${1:-}" = "--clean" ] && clean_venv=1

version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' photosearch/__init__.py)
[ -n "$version" ] || { echo "build.sh: no __version__ in photosearch/__init__.py" >&2; exit 1; }
venv=${PHOTOSEARCH_BUILD_VENV:-$root/build/linux/venv}
work=$root/build/linux
stage=$work/deb
deb=dist/photosearch_${version}_amd64.deb
tarball=dist/PhotoSearch-${version}-linux-x86_64.tar.zst
# zstd level of the .deb and the tarball: 9 is 77 MB smaller than dpkg's default 3 on this bundle (3 is just
# over 2.0 GB), for 1-3 more minutes per artefact on 2 cores, by load (xz -6 took over 18 minutes).
level=${PHOTOSEARCH_ZSTD_LEVEL:-9}
started=$(date +%s)
step() { echo "== build.sh [$(($(date +%s) - started))s] $*"; }

for tool in dpkg-deb zstd objdump; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing (apt-get install dpkg zstd binutils)" >&2; exit 1; }
done

step "venv $venv (torch 2.14.1, torchvision 0.29.1, PyInstaller 6.22.0, this project)"
if [ ! -x "$venv/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/pip" install -q "torch==2.14.1" "torchvision==0.29.1" "pyinstaller==6.22.0" .
# rapidocr-onnxruntime requires opencv-python, whose cv2 carries Qt 5 and its plugins (the bundle has
# PySide6); the headless build is the same cv2 without the GUI (OCR uses none of it): 35 MB less.
# Both own cv2/, so one goes before the other comes (pip check then names the unmet requirement).
"$venv/bin/pip" uninstall -q -y opencv-python opencv-python-headless
"$venv/bin/pip" install -q "opencv-python-headless==5.0.0.93"

step "icons from resources/photosearch.svg"
QT_QPA_PLATFORM=offscreen "$venv/bin/python" packaging/make_icons.py build/icons  # the spec reads build/icons

step "PyInstaller"
rm -rf dist/PhotoSearch
"$venv/bin/pyinstaller" --noconfirm --clean --log-level WARN --distpath dist --workpath "$work/pyinstaller" \
  packaging/pyinstaller/photosearch.spec
rm -rf "$work/pyinstaller"
app=dist/PhotoSearch
[ -x "$app/PhotoSearch" ] && [ -x "$app/photosearch" ] || { echo "build.sh: PyInstaller made no programs" >&2; exit 1; }
# The two programs are the same 50 MB file (bootloader + Python archive; launch.py picks the mode from
# the name it was started by): one file with two names (hard links), kept as such by dpkg and tar.
cmp -s "$app/PhotoSearch" "$app/photosearch" || { echo "build.sh: the two programs differ" >&2; exit 1; }
ln -f "$app/PhotoSearch" "$app/photosearch"
"$app/photosearch" --version
if [ "$clean_venv" = 1 ] && [ -z "${PHOTOSEARCH_BUILD_VENV:-}" ]; then
  rm -rf "$venv"  # 5 GB, not needed past this point
fi

step "oldest glibc the bundle runs on"
glibc=$(find "$app" -type f \( -name '*.so*' -o -perm -u+x \) -exec sh -c 'objdump -T "$@" 2>/dev/null || true' sh {} + \
  | grep -o 'GLIBC_[0-9][0-9.]*' | sort -u -V | tail -1)
[ -n "$glibc" ] || { echo "build.sh: found no GLIBC symbol versions" >&2; exit 1; }
echo "needs ${glibc/_/ } or newer"

step "Debian package $deb"
rm -rf "$stage"
mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" "$stage/usr/share/metainfo" \
  "$stage/usr/share/icons/hicolor/scalable/apps"
cp -al "$root/$app" "$stage/opt/photosearch"  # hard links: no second 3 GB copy on disk
ln -s /opt/photosearch/photosearch "$stage/usr/bin/photosearch"
sed 's|^Exec=.*|Exec=/opt/photosearch/PhotoSearch|' resources/photosearch.desktop \
  > "$stage/usr/share/applications/photosearch.desktop"
cp resources/photosearch.svg "$stage/usr/share/icons/hicolor/scalable/apps/"
cp -r build/icons/hicolor/. "$stage/usr/share/icons/hicolor/"
cp resources/org.photosearch.PhotoSearch.metainfo.xml "$stage/usr/share/metainfo/"
glibc_version=${glibc#GLIBC_}
# Qt's X11 plugin needs these; PyInstaller copies them only when the build machine has them installed.
x11_libs="libgl1, libegl1, libfontconfig1, libdbus-1-3, libxkbcommon0, libxkbcommon-x11-0, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-image0, libxcb-render-util0, libxcb-shape0, libxcb-xkb1"
cat > "$stage/DEBIAN/control" <<EOF
Package: photosearch
Version: $version
Architecture: amd64
Maintainer: PhotoSearch developers <photosearch@users.noreply.github.com>
Installed-Size: $(du -sk --apparent-size "$stage" | cut -f1)
Depends: libc6 (>= $glibc_version), $x11_libs
Section: graphics
Priority: optional
Homepage: https://github.com/photosearch/photosearch
Description: find your own photos by what they show, offline
 PhotoSearch ranks the photos in your folders by meaning with CLIP, on your own
 machine: type what you remember or drop in a photo. Includes the desktop app and
 the photosearch command line. The model weights are downloaded on first use.
EOF
dpkg-deb --root-owner-group -Zzstd -z"$level" --threads-max="$(nproc)" --build "$stage" "$deb"
rm -rf "$stage"

step "tarball $tarball"
tar -C dist -cf - PhotoSearch | zstd -q -"$level" -T0 -f -o "$tarball"

step "sizes"
echo "folder: $(du -sb "$app" | cut -f1) bytes in $(find "$app" -type f | wc -l) files (the two programs are one)"
ls -l "$deb" "$tarball" | awk '{printf "%s %d bytes (%.3f GB)\n", $9, $5, $5 / 1e9}'
echo "largest parts of the folder:"
du -s --block-size=1M "$app"/_internal/* "$app"/_internal/nvidia/* 2>/dev/null | sort -rn | sed -n 1,20p  # sed reads it all: head would SIGPIPE sort under pipefail
step "done"
