#!/usr/bin/env bash
# The installed app, used as a person would: index real photos (one HEIC), search, similar, captions,
# a GUI screenshot, and a ViT-B-32 ONNX export. Shared by CI (packaging/linux/smoke.sh) and the
# release workflow on every system. Needs only bash, grep and coreutils: no Python, no venv.
# Usage: run.sh CLI GUI INPUTS OUT
#   CLI, GUI   the installed console program and GUI launcher
#   INPUTS     made by packaging/smoke/make_inputs.py (photos/, captions.csv, tiny_clip.json)
#   OUT        an empty folder for the libraries, the screenshot and the logs
set -euo pipefail
cli=$1 gui=$2 in=$3 out=$4
mkdir -p "$out"
tiny=(--library "$out/library" --model "$in/tiny_clip.json" --pretrained random --offline)
photos=$(find "$in/photos" -type f | wc -l | tr -d ' ')
fail() { echo "smoke: FAILED: $*" >&2; exit 1; }
check() { # check NAME FILE PATTERN: FILE must contain the extended regex PATTERN
  grep -Eq -- "$3" "$2" || { echo "--- $2:" >&2; cat "$2" >&2; fail "$1"; }
}
now_ms() { # macOS's date has no %N
  local n; n=$(date +%s%N)
  case $n in *N) perl -MTime::HiRes=time -e 'printf "%d\n", time * 1000' ;; *) echo $((n / 1000000)) ;; esac
}
no_torch() { # no_torch NAME REPORT: the run that wrote REPORT imported neither torch nor open_clip
  [ -s "$2" ] || fail "$1: no import report (PHOTOSEARCH_IMPORTS_REPORT) was written"
  if grep -Eq '^(torch|open_clip)$' "$2"; then fail "$1 imported torch or open_clip"; fi
  echo "smoke: $1 imported $(wc -l < "$2" | tr -d ' ') modules, neither torch nor open_clip"
}

"$cli" --version > "$out/version.txt"
check "--version" "$out/version.txt" '^photosearch [0-9]'

"$cli" --json "${tiny[@]}" index "$in/photos" > "$out/index.json"
check "index encodes every photo (the HEIC too)" "$out/index.json" "\"encoded\": *$photos($|[^0-9])"
check "index skips nothing" "$out/index.json" '"skipped": *\[\]'

start=$(now_ms)
PHOTOSEARCH_IMPORTS_REPORT="$out/search-imports.txt" "$cli" --json "${tiny[@]}" search "a cat" -k 3 > "$out/search.json"
echo "smoke: search took $(($(now_ms) - start)) ms (process start to exit, cached ONNX export)"
[ "$(grep -o '"path"' "$out/search.json" | wc -l | tr -d ' ')" = 3 ] || fail "search returns 3 photos: $(cat "$out/search.json")"
no_torch search "$out/search-imports.txt"

"$cli" --json "${tiny[@]}" similar "$in/photos/cat_from_phone.heic" -k 3 > "$out/similar.json"
check "similar ranks the HEIC query photo itself first" "$out/similar.json" '^\[\{"path": "[^"]*cat_from_phone\.heic"'

"$cli" "${tiny[@]}" captions import "$in/captions.csv" > "$out/captions-import.txt"
"$cli" --json "${tiny[@]}" captions search "ginger cat" -k 3 > "$out/captions-search.json"
check "captions search finds the caption with the query's words" "$out/captions-search.json" 'a ginger cat'

"$cli" --json "${tiny[@]}" status > "$out/status.json"
check "status counts every photo" "$out/status.json" "\"indexed\": *$photos($|[^0-9])"
# The words in every photo were read: the OCR engine (rapidocr, cv2, its models) loads in the bundle.
tr -d ' \n' < "$out/status.json" > "$out/status-flat.json"  # status --json is indented
check "index read the text of every photo" "$out/status-flat.json" "\"ocr\":\\{\"done\":$photos,\"pending\":0\\}"

# The GUI launcher itself (what the menu entry starts), offscreen, searching and saving a PNG.
QT_QPA_PLATFORM=offscreen "$gui" "${tiny[@]}" --query "a cat" --screenshot "$out/screenshot.png" \
  > "$out/gui.log" 2>&1 || { cat "$out/gui.log" >&2; fail "GUI screenshot"; }
[ "$(head -c 8 "$out/screenshot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "screenshot is no PNG"
echo "smoke: GUI screenshot $out/screenshot.png ($(wc -c < "$out/screenshot.png" | tr -d ' ') bytes)"

# A real model architecture through the whole export path (random weights: no download).
b32=(--library "$out/library-b32" --model ViT-B-32 --pretrained random --offline)
start=$(now_ms)
PHOTOSEARCH_IMPORTS_REPORT="$out/index-b32-imports.txt" "$cli" --json "${b32[@]}" index "$in/photos" \
  > "$out/index-b32.json"
echo "smoke: ViT-B-32 export + index took $(($(now_ms) - start)) ms"
# The bundle ships no cuDNN engines; its launcher must have switched cuDNN off once torch loaded.
check "torch runs with cuDNN off in the bundle" "$out/index-b32-imports.txt" '^# torch cuDNN enabled: False$'
check "ViT-B-32 index encodes every photo" "$out/index-b32.json" "\"encoded\": *$photos($|[^0-9])"
start=$(now_ms)
PHOTOSEARCH_IMPORTS_REPORT="$out/search-b32-imports.txt" "$cli" --json "${b32[@]}" search "a rocket" -k 3 \
  > "$out/search-b32.json"
echo "smoke: ViT-B-32 search took $(($(now_ms) - start)) ms (cached ONNX export)"
[ "$(grep -o '"path"' "$out/search-b32.json" | wc -l | tr -d ' ')" = 3 ] || fail "ViT-B-32 search returns 3 photos"
no_torch "ViT-B-32 search" "$out/search-b32-imports.txt"
# Private: OpenVINO's telemetry (its conversion tool) must never start, so no analytics id in the home.
[ ! -e "$HOME/intel" ] || fail "the installed app left OpenVINO telemetry files in $HOME/intel"

echo "smoke: passed"
