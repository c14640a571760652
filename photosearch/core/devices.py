"""The compute devices this machine really has, for offering only those (cheap when there is no GPU)."""

from __future__ import annotations

import ctypes.util
import os
import sys

DEVICE_WORDS = {"auto": "Automatic", "cpu": "CPU", "cuda": "NVIDIA GPU (CUDA)", "mps": "Apple GPU (Metal)"}


def _gpu_driver_present() -> bool:
    """Without a GPU driver, torch cannot find a device: skip importing it (seconds) to learn that."""
    if sys.platform == "darwin" or "torch" in sys.modules:
        return True
    if os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/kfd"):
        return True
    return ctypes.util.find_library("nvcuda" if sys.platform == "win32" else "cuda") is not None


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
