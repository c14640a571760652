"""Every preset the app offers loads: a known tag, a buildable model (random weights) and tokenizer."""

from __future__ import annotations

import open_clip
import pytest
import torch

from photosearch.core.model_loader import open_clip_tokenizer
from photosearch.core.models import ModelSpec, register_model
from photosearch.core.presets import PRESETS, preset_for
from photosearch.core.pretrained import preprocess_cfg, resolve_weights


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.key)
def test_every_preset_builds(preset) -> None:
    name, _ = register_model(preset.model)
    assert preset.pretrained in open_clip.list_pretrained_tags_by_model(name)
    weights = resolve_weights(name, ModelSpec(preset.model, "random", tag=preset.pretrained))
    assert weights.preprocess == {k: v for k, v in preprocess_cfg(name, preset.pretrained).items()
                                  if k in weights.preprocess}
    tokens = open_clip_tokenizer(name)(["a photo of a dog"])
    # The architecture with the tag's activation, on the meta device: no memory for the weights.
    with torch.device("meta"):
        model = open_clip.create_model(name, force_quick_gelu=weights.quick_gelu, pretrained_text=False, device="meta")
    assert model.visual is not None and tokens.shape[0] == 1


def test_preset_lookup() -> None:
    first = PRESETS[0]
    assert preset_for(first.model, first.pretrained) is first
    assert preset_for("xlm-roberta-base-ViT-B-32", "laion5b_s13b_b90k") is None  # needs transformers: not offered
