#!/usr/bin/env python
"""Train a model from a config with mmengine's Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                                 [--cfg-options k=v ...] [--launcher none|pytorch]
                                 [--strict true|false] [--unsafe-load]

Multi-process: `torchrun --nproc_per_node N tools/train.py CONFIG --launcher pytorch`
(gloo on CPU, nccl on GPU); multi-node: tools/dist_train.sh, tools/slurm_train.sh (docs/gpu.md).
`--sync-bn` (SyncBatchNorm, CUDA), `--auto-scale-lr` (lr x total batch / auto_scale_lr.base_batch_size).
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys


sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout too

from voxclip.engine.distributed import apply_launch_options  # noqa: E402
from voxclip.engine.cli import CfgOptionsAction, add_checkpoint_arguments, apply_checkpoint_arguments, run_cli  # noqa: E402
from voxclip.engine import VoxclipRunner, finish_distributed, load_config, prepare_config, register_atomic_backend  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Train a voxclip model")
    p.add_argument("config", help="config file path")
    p.add_argument("--work-dir", help="where logs and checkpoints go (default work_dirs/<config name>)")
    p.add_argument("--resume", nargs="?", const="auto", default=None,
                   help="resume from CKPT, or from the latest checkpoint in the work dir when no path is given")
    p.add_argument("--amp", action="store_true", help="automatic mixed precision")
    p.add_argument("--cfg-options", nargs="+", action=CfgOptionsAction, help="override config keys, k=v")
    p.add_argument("--launcher", choices=["none", "pytorch"], default="none")
    p.add_argument("--sync-bn", action="store_true", help="SyncBatchNorm across processes (CUDA, distributed runs)")
    p.add_argument("--auto-scale-lr", action="store_true",
                   help="scale the lr by total batch / the config's auto_scale_lr.base_batch_size")
    add_checkpoint_arguments(p)
    p.add_argument("--local_rank", "--local-rank", type=int, default=0)
    args = p.parse_args(argv)
    os.environ.setdefault("LOCAL_RANK", str(args.local_rank))
    return args


def build_runner(args) -> VoxclipRunner:
    cfg = load_config(args.config, args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get("work_dir") or osp.join(
        "work_dirs", osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        import torch

        if not torch.cuda.is_available():
            raise SystemExit("error: --amp needs a CUDA device (mmengine's AmpOptimWrapper); train without it on CPU")
        cfg.optim_wrapper.type = "AmpOptimWrapper"
        cfg.optim_wrapper.setdefault("loss_scale", "dynamic")
    if args.resume == "auto":
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise SystemExit(f"error: {args.resume}: checkpoint to resume from not found")
        cfg.resume, cfg.load_from = True, args.resume
    apply_launch_options(cfg, args)
    apply_checkpoint_arguments(cfg, args)
    prepare_config(cfg, args.launcher)
    register_atomic_backend()
    return VoxclipRunner.from_cfg(cfg)


def main(argv=None):
    args = parse_args(argv)
    runner = build_runner(args)
    runner.train()
    finish_distributed()


if __name__ == "__main__":
    run_cli(main)
