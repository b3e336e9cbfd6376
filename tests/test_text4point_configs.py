"""The paper-size Text4Point configs: they build (random RN50 in place of the weights file), they
name the missing weights, and the pretraining backbone fits the fine-tuning backbones key for key."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

import voxclip.models  # noqa: F401  (registers the models)
from voxclip.registry import MODELS

REPO = Path(__file__).resolve().parents[1]
PRETRAIN = REPO / "configs/text4point/pretrain_srunet34c_scannet_pairs.py"
FINETUNE = [REPO / "configs/text4point/votenet_srunet34c_scannet.py",
            REPO / "configs/text4point/votenet_srunet34c_sunrgbd.py"]


def _random_clip(model_cfg: dict) -> dict:
    """Every CLIP weights key set to None (random weights) in a model config dict."""
    out = {}
    for k, v in model_cfg.items():
        if isinstance(v, dict):
            v = _random_clip(v)
            if v.get("type") in ("CLIPTextEncoder", "CLIPDenseImageEncoder"):
                v["weights"] = None
        out[k] = v
    return out


def test_missing_rn50_weights_say_what_to_download():
    cfg = Config.fromfile(str(FINETUNE[0]))
    with pytest.raises(FileNotFoundError, match="RN50"):
        MODELS.build(cfg.model.text.to_dict() | {"class_names": ["chair"]})


def test_backbones_agree_between_pretraining_and_finetuning():
    pre = Config.fromfile(str(PRETRAIN)).model.backbone.to_dict()
    for path in FINETUNE:
        ft = Config.fromfile(str(path)).model.backbone.to_dict()
        init = ft.pop("init_cfg")
        assert init["prefix"] == "backbone." and init["checkpoint"].startswith("work_dirs/pretrain_srunet34c_scannet_pairs/")
        assert ft == pre, path.name


def test_paper_models_build_with_rn50_shapes():
    torch.manual_seed(0)
    pre = MODELS.build(_random_clip(Config.fromfile(str(PRETRAIN)).model.to_dict()))
    assert pre.image_encoder.embed_dim == 1024 and pre.backbone.arch == "34C"
    assert pre.text().shape == (20, 1024)
    assert pre.decoder2d.out_channels == pre.backbone.out_channels
    sd = pre.state_dict()
    assert not any(k.startswith("image_encoder.") for k in sd)  # frozen CLIP stays out of checkpoints
    for path, k in zip(FINETUNE, (18, 10)):
        cfg = Config.fromfile(str(path)).model.to_dict()
        if cfg["head"].get("mean_sizes") == "from_dataset":
            cfg["head"]["mean_sizes"] = [[1.0, 1.0, 1.0]] * k  # filled from the prepared data by train.py
        model = MODELS.build(_random_clip(cfg))
        text = model.text
        assert type(text).__name__ == "PromptLearner" and text.ctx.shape == (8, 512)
        assert text().shape == (k, 1024) and model.backbone.embed_dim == 1024
        missing, unexpected = model.backbone.load_state_dict(
            {n[len("backbone."):]: v for n, v in sd.items() if n.startswith("backbone.")}, strict=False)
        assert missing == [] and unexpected == []
