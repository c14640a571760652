"""The model presets the desktop app offers: each one a (model, tag) that loads here.

The Multilingual preset (xlm-roberta-base-ViT-B-32) was removed: its text tower needs
`transformers` and a Hugging Face tokenizer download, which neither the app's dependencies nor
an offline machine provide. Tests build every preset's model (random weights) and tokenizer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelPreset:
    key: str
    label: str
    model: str
    pretrained: str
    note: str


# Tags checked against open_clip.list_pretrained_tags_by_model (open_clip 3.x).
PRESETS: tuple[ModelPreset, ...] = (
    ModelPreset("fast", "Fast", "ViT-B-32", "laion2b_s34b_b79k", "ViT-B-32, ~600 MB, good on any CPU"),
    ModelPreset("better", "Better", "ViT-B-16", "laion2b_s34b_b88k", "ViT-B-16, ~600 MB, about 3x slower to index"),
    ModelPreset("best", "Best", "ViT-L-14", "laion2b_s32b_b82k", "ViT-L-14, ~1.7 GB, wants a GPU"),
)


def preset_for(model: str | None, pretrained: str | None) -> ModelPreset | None:
    return next((p for p in PRESETS if p.model == model and p.pretrained == pretrained), None)
