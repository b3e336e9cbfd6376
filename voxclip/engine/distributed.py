"""Launch options of tools/train.py: SyncBN, linear LR scaling, the TensorBoard logging switch.

mmengine does the work (`cfg.sync_bn` converts every BatchNorm when the run is distributed,
`cfg.auto_scale_lr` scales the optimizer's lr by world_size * batch_size / base_batch_size,
`TensorboardVisBackend` writes event files); this module only turns the flags into those keys and
refuses combinations that would otherwise fail deep inside a run or be silently ignored.
"""
from __future__ import annotations

import importlib.util

import torch
from mmengine.config import Config

TENSORBOARD_BACKEND = dict(type="TensorboardVisBackend")


def enable_sync_bn(cfg: Config, launcher: str) -> None:
    """Convert every BatchNorm (incl. voxclip.sparse.BatchNorm's inner one) to torch SyncBatchNorm."""
    if launcher == "none":
        # mmengine converts only distributed runs: the flag would be dropped without a word.
        raise ValueError("--sync-bn: synchronises BatchNorm across processes; launch with torchrun and "
                         "--launcher pytorch (tools/dist_train.sh)")
    if not torch.cuda.is_available():
        raise ValueError("--sync-bn: torch.nn.SyncBatchNorm trains on CUDA tensors only; train without "
                         "--sync-bn on CPU")
    cfg.sync_bn = "torch"


def enable_auto_scale_lr(cfg: Config, config_path: str) -> None:
    """Scale the lr linearly with the total batch (mmengine Runner.scale_lr)."""
    scale = cfg.get("auto_scale_lr") or {}
    if not scale.get("base_batch_size"):
        raise ValueError(f"{config_path}: --auto-scale-lr needs auto_scale_lr = dict(base_batch_size=N) in the "
                         "config (the total batch its lr was tuned for)")
    cfg.auto_scale_lr = dict(scale, enable=True)


def configure_visualizer(cfg: Config) -> None:
    """`tensorboard = True` in a config (or --cfg-options tensorboard=True) adds TensorBoard event files
    next to mmengine's scalars.json; a TensorboardVisBackend needs the tensorboard package."""
    vis = cfg.get("visualizer") or dict(type="Visualizer", vis_backends=[dict(type="LocalVisBackend")])
    backends = list(vis.get("vis_backends") or [])
    if cfg.get("tensorboard", False) and not any(b.get("type") == "TensorboardVisBackend" for b in backends):
        backends.append(dict(TENSORBOARD_BACKEND))
    if any(b.get("type") == "TensorboardVisBackend" for b in backends):
        if importlib.util.find_spec("tensorboard") is None:
            raise ValueError("tensorboard = True (TensorboardVisBackend) needs the tensorboard package: "
                             "pip install 'voxclip[tensorboard]', or set tensorboard=False")
        vis = dict(vis, vis_backends=backends)
        cfg.visualizer = vis


def apply_launch_options(cfg: Config, args) -> Config:
    """The launch flags of tools/train.py (`--sync-bn`, `--auto-scale-lr`) and the logging switch."""
    if getattr(args, "sync_bn", False):
        enable_sync_bn(cfg, args.launcher)
    if getattr(args, "auto_scale_lr", False):
        enable_auto_scale_lr(cfg, args.config)
    configure_visualizer(cfg)
    return cfg
