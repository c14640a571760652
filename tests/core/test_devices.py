"""Only devices that exist are offered."""

from __future__ import annotations

import sys
import types

from photosearch.core import devices


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
