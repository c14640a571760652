#!/usr/bin/env sh
# Adds PhotoSearch to the desktop's application menu for the current user, after a `pip install` or
# `pipx install` (the .deb installs its own entry). The icon and entry come from the installed package;
# the entry's Exec is the absolute path of the installed program, so it works without PATH changes.
# Usage: install-desktop-entry.sh [PROGRAM]   (default: photosearch-gui, else photosearch, on PATH)
set -eu
program=${1:-$(command -v photosearch-gui || command -v photosearch || true)}
[ -n "$program" ] || { echo "install-desktop-entry.sh: photosearch is not installed (or not on PATH); pass its path" >&2; exit 2; }
program=$(readlink -f "$program")  # pipx links ~/.local/bin/photosearch into its venv
bin=$(dirname "$program")
python=$bin/python
[ -x "$python" ] || python=$bin/python3
[ -x "$python" ] || { echo "install-desktop-entry.sh: no Python next to $program" >&2; exit 2; }
resources=$("$python" -c 'import pathlib, photosearch; print(pathlib.Path(photosearch.__file__).parent / "resources")')
quoted=$program
case "$program" in *" "*) quoted="\"$program\"" ;; esac  # the desktop entry spec's quoting
case "$(basename "$program")" in
  photosearch-gui) exec_line=$quoted ;;
  *) exec_line="$quoted gui" ;;
esac
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/scalable/apps"
mkdir -p "$apps" "$icons"
escaped=$(printf '%s' "$exec_line" | sed 's/[&|\\]/\\&/g')
sed "s|^Exec=.*|Exec=$escaped|" "$resources/photosearch.desktop" > "$apps/photosearch.desktop"
cp "$resources/photosearch.svg" "$icons/photosearch.svg"
if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database "$apps" || true; fi
echo "PhotoSearch added to the application menu (Exec=$exec_line)"
