"""Which device to run on: 'auto', 'cpu', 'cuda', 'mps', decided without importing torch when possible."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

from photosearch.core.errors import PhotoSearchError

DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str) -> str:
    """'auto' picks cuda, then mps, then cpu; an explicit device must be available.

    "cpu", and "auto" on a machine that cannot have a GPU, never import torch (seconds of
    start-up, during which the import holds the GIL).
    """
    wanted = name.strip().lower()
    if wanted == "cpu":
        return "cpu"
    if wanted == "auto" and "torch" not in sys.modules and not gpu_possible():
        return "cpu"
    import torch

    cuda_ok = torch.cuda.is_available()
    mps_ok = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if wanted == "auto":
        return "cuda" if cuda_ok else "mps" if mps_ok else "cpu"
    if wanted == "cuda":
        if not cuda_ok:
            raise PhotoSearchError("CUDA was requested but no CUDA device is available; use --device cpu or auto")
        return "cuda"
    if wanted == "mps":
        if not mps_ok:
            raise PhotoSearchError("MPS (Apple GPU) was requested but is not available; use --device cpu or auto")
        return "mps"
    raise PhotoSearchError(f"Unknown device '{name}'; choose auto, cpu, cuda or mps")


def gpu_possible() -> bool:
    """False only when torch could not find a CUDA/ROCm (or MPS) device here; cheap, no torch.

    macOS always says True (MPS is up to torch). Elsewhere a GPU needs a driver: NVIDIA's
    (its /proc entry, or libcuda / nvcuda.dll, which is also how WSL exposes it) or AMD ROCm's
    /dev/kfd. A torch build without CUDA and HIP cannot use one either way.
    """
    if sys.platform == "darwin":
        return True
    if os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/kfd"):
        return True
    if torch_build_has_no_gpu():
        return False
    import ctypes.util  # runs ldconfig on Linux: only when the cheaper checks can't tell

    return ctypes.util.find_library("nvcuda" if sys.platform == "win32" else "cuda") is not None


def torch_build_has_no_gpu() -> bool:
    """True for a CPU-only torch build, read from torch/version.py as text (no import)."""
    try:
        spec = importlib.util.find_spec("torch")
        folders = list(spec.submodule_search_locations or []) if spec else []
        text = (Path(folders[0]) / "version.py").read_text(encoding="utf-8")
    except (ImportError, ValueError, IndexError, OSError):
        return False
    return version_file_says_cpu_only(text)


def version_file_says_cpu_only(text: str) -> bool:
    """torch/version.py of a build without CUDA and without HIP (ROCm) says cuda = hip = None."""
    found = dict(re.findall(r"^(cuda|hip)\b[^=\n]*=\s*(.+?)\s*$", text, flags=re.MULTILINE))
    return found.get("cuda") == "None" and found.get("hip") == "None"


def cpu_cores() -> int:
    """Cores this process may use (its affinity mask on Linux)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# --------------------------------------------------------------------------- offering devices (issue 8)

DEVICE_WORDS = {"auto": "Automatic", "cpu": "CPU", "cuda": "NVIDIA GPU (CUDA)", "mps": "Apple GPU (Metal)"}


def _gpu_driver_present() -> bool:
    """Without a GPU driver, torch cannot find a device: skip importing it (seconds) to learn that."""
    return "torch" in sys.modules or gpu_possible()


def available_devices() -> list[str]:
    """'auto' and 'cpu' always, then 'cuda' and 'mps' where torch can use them here."""
    found = ["auto", "cpu"]
    if not _gpu_driver_present():
        return found
    try:
        import torch
    except ImportError:
        return found
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found
