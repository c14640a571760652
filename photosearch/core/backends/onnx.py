"""ONNX Runtime on the CPU: the cached fp32 export, or a dynamic int8 copy of a tower when the
library's ranking check accepted it (photosearch.core.quant_check).

Dynamic int8 picks its activation scale per input tensor; an int8 tower is therefore run one
row at a time, so a photo's vector never depends on its batch-mates.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnxruntime as ort

from photosearch.core.backends.export import (
    MODEL_FILE,
    export_model,
    model_dir,
    read_stamp,
    replace_dir,
)
from photosearch.core.devices import cpu_cores
from photosearch.core.models import quiet

if TYPE_CHECKING:
    import torch

# quantize_dynamic must write weights to a side file beyond protobuf's 2 GB limit.
_EXTERNAL_DATA_BYTES = 1_500_000_000

Progress = Callable[[str], None]


TOWERS = ("image", "text")


def int8_towers(quantize: str, verdict: dict[str, Any] | None) -> set[str]:
    """Towers to run in int8: all with "always", none with "never"; with "auto" only those the
    library's ranking check accepted (no verdict yet: none, fp32 until it has run)."""
    if quantize == "always":
        return set(TOWERS)
    if quantize != "auto" or not verdict:
        return set()
    return {t for t in TOWERS if isinstance(verdict.get(t), dict) and verdict[t].get("used") is True}


def cached_towers_ready(directory: Path, towers: set[str]) -> bool:
    """Whether OnnxBackend can open this export as is, without making an int8 copy first."""
    return all((directory / f"{tower}-int8" / MODEL_FILE).is_file() for tower in towers)


def make_session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = cpu_cores()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3  # errors only: keep loading quiet
    # Idle ORT threads otherwise spin after each run, stealing one of two cores from decode threads,
    # the vector search and the GUI.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def run(session: ort.InferenceSession, batch: np.ndarray) -> np.ndarray:
    name = session.get_inputs()[0].name
    return np.asarray(session.run(None, {name: batch})[0], dtype=np.float32)


def run_rows(session: ort.InferenceSession, batch: np.ndarray) -> np.ndarray:
    """One row at a time: dynamic int8's activation scale then comes from that row alone."""
    if len(batch) <= 1:
        return run(session, batch)
    return np.concatenate([run(session, batch[i : i + 1]) for i in range(len(batch))])


def quantized_model(directory: Path, tower: str) -> Path:
    """Dynamic int8 copy of a tower (QInt8 weights), made once and cached."""
    target = directory / f"{tower}-int8"
    if (target / MODEL_FILE).is_file():
        return target / MODEL_FILE
    from onnxruntime.quantization import QuantType, quantize_dynamic  # ~0.5 s to import

    source = directory / tower
    big = sum(f.stat().st_size for f in source.iterdir()) > _EXTERNAL_DATA_BYTES
    tmp = target.with_name(f"{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        with quiet():
            quantize_dynamic(
                source / MODEL_FILE,
                tmp / MODEL_FILE,
                weight_type=QuantType.QInt8,
                use_external_data_format=big,
            )
        replace_dir(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target / MODEL_FILE


class OnnxBackend:
    """Both towers on ONNX Runtime, each in fp32 or (when asked) dynamic int8, row by row."""

    quant_check: dict[str, Any] | None = None

    def __init__(self, directory: Path, int8: set[str], say: Progress) -> None:
        self.directory = directory
        self._say = say
        self.int8 = {t for t in int8 if self._int8_ok(t)}
        self._sessions = {t: self._session(t, t in self.int8) for t in TOWERS}

    @property
    def name(self) -> str:
        return "onnx-int8" if "image" in self.int8 else "onnx-fp32"

    def _int8_ok(self, tower: str) -> bool:
        try:
            if not (self.directory / f"{tower}-int8" / MODEL_FILE).is_file():
                self._say(f"Quantising the {tower} encoder to int8 (one-time)")
            quantized_model(self.directory, tower)
            return True
        except Exception as exc:  # int8 is an optimisation: fp32 still works
            self._say(f"int8 quantisation of the {tower} encoder failed ({exc}); using fp32")
            return False

    def _session(self, tower: str, int8: bool) -> ort.InferenceSession:
        folder = f"{tower}-int8" if int8 else tower
        return make_session(self.directory / folder / MODEL_FILE)

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        return self._run("image", batch)

    def encode_texts(self, tokens: np.ndarray) -> np.ndarray:
        return self._run("text", tokens)

    def _run(self, tower: str, batch: np.ndarray) -> np.ndarray:
        session = self._sessions[tower]
        return run_rows(session, batch) if tower in self.int8 else run(session, batch)

    def int8_candidate(self, tower: str) -> Callable[[np.ndarray], np.ndarray] | None:
        """An int8 encoder for one tower, for the ranking check; None when it cannot be made."""
        if not self._int8_ok(tower):
            return None
        session = self._session(tower, True)
        return lambda batch: run_rows(session, batch)

    def use_int8(self, towers: set[str]) -> None:
        """Switch the accepted towers to int8 (after a ranking check)."""
        for tower in towers - self.int8:
            if self._int8_ok(tower):
                self._sessions[tower] = self._session(tower, True)
                self.int8.add(tower)


def ensure_export(
    model_id: str,
    build_model: Callable[[], torch.nn.Module],
    probe_tokens: np.ndarray,
    say: Progress,
) -> tuple[Path, dict[str, Any]]:
    """The cached, complete export for model_id (exporting it first if needed) and its stamp."""
    directory = model_dir(model_id)
    meta = read_stamp(directory, model_id)
    if meta is not None:
        return directory, meta
    model = build_model()
    say("Exporting the model to ONNX for faster CPU encoding (one-time)")
    meta = export_model(model, directory, model_id, probe_tokens)
    del model
    return directory, meta


def open_backend(
    model_id: str,
    build_model: Callable[[], torch.nn.Module],
    probe_tokens: np.ndarray,
    int8: set[str],
    say: Progress,
) -> tuple[OnnxBackend, dict[str, Any]]:
    """The cached export for model_id (exporting it first if needed) on ONNX Runtime."""
    directory, meta = ensure_export(model_id, build_model, probe_tokens, say)
    try:
        return OnnxBackend(directory, int8, say), meta
    except Exception as exc:  # damaged cache: export again
        say(f"The cached ONNX model could not be opened ({exc}); exporting it again")
    (directory / "stamp.json").unlink(missing_ok=True)
    directory, meta = ensure_export(model_id, build_model, probe_tokens, say)
    return OnnxBackend(directory, int8, say), meta
