"""PyTorch: cpu/mps in fp32, cuda in fp16 (outputs cast back to float32)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch


class TorchBackend:
    quant_check: dict[str, Any] | None = None

    def __init__(self, model: torch.nn.Module, device: str) -> None:
        import torch

        self._torch = torch
        self.dtype = torch.float16 if device == "cuda" else torch.float32
        self.name = f"torch-{device}-fp16" if device == "cuda" else f"torch-{device}-fp32"
        self.device = device
        self.model = model.to(device=device, dtype=self.dtype).eval()

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        x = self._torch.from_numpy(batch).to(self.device, self.dtype)
        with self._torch.inference_mode():
            return self.model.encode_image(x).float().cpu().numpy()

    def encode_texts(self, tokens: np.ndarray) -> np.ndarray:
        t = self._torch.from_numpy(tokens).to(self.device)
        with self._torch.inference_mode():
            return self.model.encode_text(t).float().cpu().numpy()
