#!/usr/bin/env sh
# Adds PhotoSearch to the desktop's application menu for the current user (after `pip install .`).
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/scalable/apps"
mkdir -p "$apps" "$icons"
cp "$here/resources/photosearch.desktop" "$apps/photosearch.desktop"
cp "$here/resources/photosearch.svg" "$icons/photosearch.svg"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$apps" || true
echo "PhotoSearch added to the application menu"
