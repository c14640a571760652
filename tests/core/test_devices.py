"""Device choice: GPU probes that never import torch, resolve_device, and only devices that exist offered."""

from __future__ import annotations

import sys
import types

import pytest

from photosearch.core import devices

# --------------------------------------------------------------------------- devices


@pytest.fixture
def no_gpu_signs(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(devices.os.path, "exists", lambda _path: False)
    monkeypatch.setattr(devices, "torch_build_has_no_gpu", lambda: False)
    import ctypes.util

    monkeypatch.setattr(ctypes.util, "find_library", lambda _name: None)


def test_gpu_possible_without_any_driver_is_false(no_gpu_signs) -> None:
    assert devices.gpu_possible() is False


@pytest.mark.parametrize("path", ["/proc/driver/nvidia/version", "/dev/kfd"])
def test_gpu_possible_with_a_driver_entry(no_gpu_signs, monkeypatch, path) -> None:
    monkeypatch.setattr(devices.os.path, "exists", lambda p: p == path)
    assert devices.gpu_possible() is True


def test_gpu_possible_with_libcuda_or_on_macos(no_gpu_signs, monkeypatch) -> None:
    import ctypes.util

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: "libcuda.so.1" if name == "cuda" else None)
    assert devices.gpu_possible() is True
    monkeypatch.setattr(sys, "platform", "win32")
    assert devices.gpu_possible() is False  # Windows looks for nvcuda.dll
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: "nvcuda.dll" if name == "nvcuda" else None)
    assert devices.gpu_possible() is True
    monkeypatch.setattr(ctypes.util, "find_library", lambda _name: None)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert devices.gpu_possible() is True  # MPS: only torch can tell


def test_cpu_only_torch_build_needs_no_library_search(no_gpu_signs, monkeypatch) -> None:
    import ctypes.util

    monkeypatch.setattr(devices, "torch_build_has_no_gpu", lambda: True)
    monkeypatch.setattr(ctypes.util, "find_library", lambda _name: "libcuda.so.1")
    assert devices.gpu_possible() is False


def test_cpu_only_build_is_read_from_version_file() -> None:
    assert devices.version_file_says_cpu_only("__version__ = '2.1+cpu'\ncuda: Optional[str] = None\nhip = None\n")
    assert not devices.version_file_says_cpu_only("cuda: Optional[str] = '13.0'\nhip: Optional[str] = None\n")
    assert not devices.version_file_says_cpu_only("cuda = None\nhip = '6.2'\n")
    assert not devices.version_file_says_cpu_only("")


class _BlockTorch:
    """A meta path finder that refuses to import torch (it is never imported twice)."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch must not be imported here")
        return None


def test_auto_without_torch_and_without_gpu_is_cpu(no_gpu_signs, monkeypatch) -> None:
    monkeypatch.setattr(sys, "meta_path", [_BlockTorch(), *sys.meta_path])
    monkeypatch.delitem(sys.modules, "torch", raising=False)  # put back afterwards
    assert devices.resolve_device("auto") == "cpu"
    assert devices.resolve_device(" CPU ") == "cpu"
    with pytest.raises(ImportError, match="must not be imported"):
        devices.resolve_device("cuda")  # an explicit GPU still asks torch


# --------------------------------------------------------------------------- offered devices (from issue 8)


def test_no_driver_means_cpu_only_without_importing_torch(monkeypatch) -> None:
    monkeypatch.setattr(devices, "_gpu_driver_present", lambda: False)
    monkeypatch.setitem(sys.modules, "torch", None)  # importing it would raise: it must not be tried
    assert devices.available_devices() == ["auto", "cpu"]


def test_devices_torch_can_use_are_listed(monkeypatch) -> None:
    fake = types.SimpleNamespace(
        cuda=types.SimpleNamespace(is_available=lambda: True),
        backends=types.SimpleNamespace(mps=types.SimpleNamespace(is_available=lambda: False)),
    )
    monkeypatch.setattr(devices, "_gpu_driver_present", lambda: True)
    monkeypatch.setitem(sys.modules, "torch", fake)
    assert devices.available_devices() == ["auto", "cpu", "cuda"]


def test_this_machine_offers_what_torch_says() -> None:
    import torch

    expected = ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    assert devices.available_devices()[: len(expected)] == expected
