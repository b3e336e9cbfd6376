"""Turn a loaded config into one the Runner can run here: registries, sparse backend, dist backend."""
from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import torch
from mmengine.config import Config

# Importing these registers every voxclip component (the registries' `locations` do it lazily too).
_MODULES = ("voxclip.models", "voxclip.datasets", "voxclip.evaluation")


def import_all_modules() -> None:
    for name in _MODULES:
        importlib.import_module(name)


def _dataset_cfg(loader_cfg):
    ds = loader_cfg["dataset"]
    while "dataset" in ds:  # wrappers such as RepeatDataset
        ds = ds["dataset"]
    return ds


def class_mean_sizes_from_index(data_root: str, class_names) -> list:
    """Mean full box size per class over the train split, from `tools/prepare_*.py`'s index.json."""
    index = Path(data_root) / "index.json"
    if not index.is_file():
        raise FileNotFoundError(f"{index}: missing; run tools/prepare_scannet.py (or prepare_sunrgbd.py) first")
    index_data = json.loads(index.read_text())
    by_name = dict(zip(index_data["classes"], index_data["class_mean_sizes"]))
    unknown = [name for name in class_names if name not in by_name]
    if unknown:
        raise KeyError(f"{index}: no classes {unknown} (it has {index_data['classes']})")
    # A class absent from the train split keeps a neutral prior; its residual learns the rest.
    return [[1.0, 1.0, 1.0] if by_name[n] is None else [float(v) for v in by_name[n]] for n in class_names]


def _resolve_mean_sizes(node, train_ds) -> None:
    """Replace every `mean_sizes='from_dataset'` in the model config with the train split's means."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "mean_sizes" and value == "from_dataset":
                node[key] = class_mean_sizes_from_index(train_ds["data_root"], train_ds["class_names"])
            else:
                _resolve_mean_sizes(value, train_ds)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _resolve_mean_sizes(value, train_ds)


def allow_trusted_checkpoints() -> None:
    """Route every checkpoint load through weights-only loading (name kept for older callers).

    This used to set TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1, which let any checkpoint run code; see
    ``voxclip/engine/checkpoint_io.py`` and docs/reliability.md.
    """
    from .checkpoint_io import register_safe_checkpoint_loader

    os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
    register_safe_checkpoint_loader()


_SEEDED_SAMPLERS = {"DefaultSampler": "EpochSeededSampler", "mmengine.DefaultSampler": "EpochSeededSampler",
                    "InfiniteSampler": "SeededInfiniteSampler", "mmengine.InfiniteSampler": "SeededInfiniteSampler"}


def use_reproducible_randomness(cfg: Config) -> None:
    """Per-sample generators for the train loader (``EpochSeededSampler`` / ``SeededInfiniteSampler``,
    the same order as mmengine's) and ``RNGStateHook``: exact kill + resume (docs/reliability.md)."""
    loader = cfg.get("train_dataloader")
    sampler = loader.get("sampler") if loader is not None else None
    if isinstance(sampler, dict) and sampler.get("type") in _SEEDED_SAMPLERS:
        sampler["type"] = _SEEDED_SAMPLERS[sampler["type"]]
    hooks = list(cfg.get("custom_hooks") or [])
    if not any(isinstance(h, dict) and h.get("type") == "RNGStateHook" for h in hooks):
        cfg.custom_hooks = hooks + [dict(type="RNGStateHook")]


def init_cpu_process_group() -> None:
    """Join the torchrun process group with gloo on a machine without CUDA.

    mmengine 0.10's `init_dist('pytorch')` always calls `torch.cuda.set_device`, which fails without
    a GPU; the Runner skips its own init when a process group already exists.
    """
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="gloo")


def finish_distributed() -> None:
    """Wait for every process, then tear the process group down before the interpreter exits.

    Left to interpreter shutdown, gloo's worker threads can be destroyed while still joinable
    ("terminate called without an active exception", SIGABRT in one rank after a finished run).
    """
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def prepare_config(cfg: Config, launcher: str = "none") -> Config:
    """Apply voxclip's run-time settings to `cfg` in place and return it."""
    import_all_modules()
    allow_trusted_checkpoints()
    from voxclip.sparse import set_backend

    set_backend(cfg.get("sparse_backend", "auto"))
    cfg.launcher = launcher
    if launcher != "none" and not torch.cuda.is_available():
        cfg.setdefault("env_cfg", {}).setdefault("dist_cfg", {})["backend"] = "gloo"
        init_cpu_process_group()
        # mmengine's default wrapper passes device_ids=[LOCAL_RANK], which DDP rejects for CPU modules.
        cfg.setdefault("model_wrapper_cfg", dict(type="MMDistributedDataParallel", device_ids=None,
                                                 broadcast_buffers=False,
                                                 find_unused_parameters=cfg.get("find_unused_parameters", False)))
    use_reproducible_randomness(cfg)
    loader = cfg.get("train_dataloader") or cfg.get("test_dataloader")
    if loader is not None:
        _resolve_mean_sizes(cfg.model, _dataset_cfg(loader))
    return cfg
