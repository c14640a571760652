#!/usr/bin/env bash
# The desktop app in a real X server (Xvfb + openbox, driven with xdotool): type a query, scroll the
# grid with the wheel for 30+ s, then check the app is alive and a screenshot is not blank.
# Usage: .ci/real_window.sh [--seconds N] [--screenshot OUT.png]   (PYTHON=... to pick the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v Xvfb >/dev/null || missing+=(xvfb)
command -v xdotool >/dev/null || missing+=(xdotool)
command -v openbox >/dev/null || missing+=(openbox)
command -v xwd >/dev/null || missing+=(x11-apps)
PYTHON=${PYTHON:-.venv/bin/python}
# The system libraries Qt's xcb plugin lacks here (the app names them too, then refuses to start).
read -r -a libs <<< "$("$PYTHON" -m photosearch.ui.platform_check)"
missing+=("${libs[@]}")
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
exec "$PYTHON" .ci/real_window.py "$@"
