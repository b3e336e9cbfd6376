"""Every experiment config under configs/: it loads, every component it names is registered where
the Runner will look for it, and what a child config changes (num_points, voxel_size) reaches the
pipelines it runs (a child that only sets ``voxel_size`` would otherwise train at its base's size)."""
from pathlib import Path

import pytest
from mmengine.config import Config
import mmengine.runner  # noqa: F401  (fills mmengine's own registries: hooks, loops, schedulers)
from mmengine.registry import (DATA_SAMPLERS, FUNCTIONS, LOOPS, OPTIM_WRAPPERS, OPTIMIZERS, PARAM_SCHEDULERS,
                               WEIGHT_INITIALIZERS, init_default_scope)

import voxclip.datasets  # noqa: F401  (registers datasets, transforms, collate functions)
import voxclip.engine  # noqa: F401
import voxclip.evaluation  # noqa: F401
import voxclip.models  # noqa: F401
from voxclip.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (REPO / "configs").rglob("*.py") if "_base_" not in p.parts)
LOADERS = ("train_dataloader", "val_dataloader", "test_dataloader")


def _types(node, key=None):
    """(parent key, type name) of every dict with a string ``type`` below ``node``."""
    if isinstance(node, dict):
        if isinstance(node.get("type"), str):
            yield key, node["type"]
        for k, v in node.items():
            yield from _types(v, k if k != "type" else key)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from _types(v, key)


def _registered(registry, name: str) -> bool:
    return registry.get(name) is not None


@pytest.fixture(params=CONFIGS, ids=lambda p: str(p.relative_to(REPO / "configs")))
def cfg(request):
    init_default_scope("voxclip")
    return Config.fromfile(str(request.param))


def test_there_are_configs_to_check():
    assert len(CONFIGS) >= 15 and any("demo" in p.parts for p in CONFIGS)


def test_components_are_registered(cfg):
    assert _registered(MODELS, cfg.model.type)
    for key, name in _types(cfg.model.to_dict()):
        registry = WEIGHT_INITIALIZERS if key == "init_cfg" else MODELS
        assert _registered(registry, name), f"model component {name} (under {key})"
    for loader in LOADERS:
        if cfg.get(loader) is None:
            continue
        lc = cfg[loader]
        assert _registered(DATASETS, lc.dataset.type), lc.dataset.type
        assert _registered(DATA_SAMPLERS, lc.sampler.type), lc.sampler.type
        assert _registered(FUNCTIONS, lc.collate_fn.type), lc.collate_fn.type
        for t in lc.dataset.get("pipeline", []):
            assert _registered(TRANSFORMS, t.type), f"{loader} transform {t.type}"
    for ev in ("val_evaluator", "test_evaluator"):
        if cfg.get(ev) is not None:
            assert _registered(METRICS, cfg[ev].type), cfg[ev].type
    for hook in cfg.default_hooks.values():
        assert _registered(HOOKS, hook.type), hook.type
    if cfg.get("train_cfg") is None:  # evaluation-only configs (S4Token open-vocabulary) train nothing
        assert cfg.get("optim_wrapper") is None and cfg.get("train_dataloader") is None
        assert _registered(LOOPS, cfg.test_cfg.type)
        return
    assert _registered(OPTIM_WRAPPERS, cfg.optim_wrapper.type)
    assert _registered(OPTIMIZERS, cfg.optim_wrapper.optimizer.type)
    for sched in cfg.get("param_scheduler", []):
        assert _registered(PARAM_SCHEDULERS, sched.type), sched.type
    assert _registered(LOOPS, cfg.train_cfg.type)


def test_pipelines_use_the_configs_own_sizes(cfg):
    for loader in LOADERS:
        if cfg.get(loader) is None or "pipeline" not in cfg[loader].dataset:
            continue
        pipeline = cfg[loader].dataset.pipeline
        names = [t.type for t in pipeline]
        assert names[-2:] == ["Voxelize", "PackInputs"], (loader, names)
        assert pipeline[-2].voxel_size == cfg.voxel_size, (loader, pipeline[-2].voxel_size, cfg.voxel_size)
        for t in pipeline:
            if t.type == "PointSample":
                assert t.num_points == cfg.num_points, (loader, t.num_points, cfg.num_points)
            if t.type == "FPSSample":  # objects: num_points, or the voting pool of a test pipeline
                allowed = (cfg.num_points,) if loader == "train_dataloader" else (cfg.num_points, cfg.get("fps_pool"))
                assert t.num_points in allowed, (loader, t.num_points, allowed)
        if loader == "train_dataloader":
            # sampling comes before any augmentation, except crops of the full scan that may precede it
            # (3DETR's random cuboid, S3DIS blocks)
            first = [n for n in names if n not in ("RandomCuboid", "RandomBlockCrop")][0]
            assert first in ("PointSample", "FPSSample"), names
