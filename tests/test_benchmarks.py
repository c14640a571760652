"""The benchmark scripts still run: each `--quick` mode ends with one JSON line with its figures.

Behaviour only: no timing is asserted (CI machines vary); the goals are checked by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

EXPECTED = {
    "fused_query": {"photos", "captions", "encode_ms", "fused_search_ms", "total_ms", "load_average"},
    "browse": {
        "photos",
        "first_screen_ms",
        "months_ms",
        "scroll_page_ms",
        "next_page_ms",
        "new_date_filter_page_ms",
        "months",
    },
    "index": {
        "baseline_photos_per_s",
        "photosearch_photos_per_s",
        "ratio",
        "photosearch_encoded",
        "photosearch_peak_rss_mib",
        "onnx_export_seconds",
        "fidelity_mean_cosine",
        "stages_ms_per_photo",
        "backends",
        "onnx_photos_per_s",
        "photosearch_backend",
        "baseline",
    },
    "ocr": {
        "word_recall",
        "search_hit@5",
        "photos_per_s_with_text",
        "photos_per_s_without_text",
        "signs",
        "page",
        "index",
    },
    "duplicates": {"recall", "recall_by_kind", "false_group_rate", "false_groups", "hash_pairs_per_s"},
    "near_check": {"copies", "distinct_pairs", "figures", "copies_missed", "distinct_merged"},
    "rescan": {
        "photos",
        "first_index_seconds",
        "rescan_best_seconds",
        "rescan_encoded",
        "decode_calls",
        "fingerprint_calls",
        "photo_files_opened",
        "nothing_decoded",
    },
}


_RESULTS: dict[str, dict] = {}


def _run_quick(module: str, tmp_path: Path) -> dict:
    if module in _RESULTS:  # each script runs once per session
        return _RESULTS[module]
    env = {
        **os.environ,
        "PHOTOSEARCH_BENCH_CACHE": str(tmp_path / "bench-cache"),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert lines, proc.stderr[-3000:]
    _RESULTS[module] = json.loads(lines[-1])
    return _RESULTS[module]


def test_every_benchmark_module_has_a_quick_mode() -> None:
    modules = {p.stem for p in (ROOT / "benchmarks").glob("*.py")} - {"__init__", "common"}
    for name in modules:
        text = (ROOT / "benchmarks" / f"{name}.py").read_text(encoding="utf-8")
        assert "--quick" in text, f"benchmarks/{name}.py has no --quick mode (CI runs it with --quick)"


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_quick_mode_ends_with_json(module: str, tmp_path: Path) -> None:
    data = _run_quick(module, tmp_path)
    assert data["benchmark"] == module
    assert data["quick"] is True
    missing = EXPECTED[module] - data.keys()
    assert not missing, f"missing keys: {sorted(missing)}"


def test_rescan_quick_decodes_nothing(tmp_path: Path) -> None:
    data = _run_quick("rescan", tmp_path)
    assert data["rescan_encoded"] == 0
    assert data["decode_calls"] == 0 and data["fingerprint_calls"] == 0 and data["photo_files_opened"] == 0
    assert data["nothing_decoded"] is True
    assert data["first_index_encoded"] == data["photos"]


def test_duplicates_quick_groups_every_copy_and_no_distinct_photos(tmp_path: Path) -> None:
    data = _run_quick("duplicates", tmp_path)
    assert data["recall"] == 1.0 and data["false_group_rate"] == 0.0


def test_near_check_quick_keeps_every_copy_and_no_distinct_pair(tmp_path: Path) -> None:
    data = _run_quick("near_check", tmp_path)
    assert data["copies_missed"] == [] and data["distinct_merged"] == []
    assert data["card_pairs_within_near_bits"] > 0  # pHash alone would have grouped those cards


def test_ocr_quick_reads_the_signs(tmp_path: Path) -> None:
    data = _run_quick("ocr", tmp_path)
    assert data["signs"]["photos"] == 6 and data["word_recall"] > 0.5  # real models, easy signs
