#!/usr/bin/env python
"""Evaluate a checkpoint and print the per-class table: detection ends in `mAP@0.25: X  mAP@0.5: Y`,
segmentation in `mIoU: X  mAcc: Y  aAcc: Z`.

    python tools/test.py CONFIG CHECKPOINT [--out FILE] [--show-dir DIR] [--sparse-backend NAME]
                         [--cfg-options k=v ...] [--launcher none|pytorch]
                         [--strict true|false] [--unsafe-load]

`--out` writes the predictions (and ground truth) of every scene as a pickle; `--show-dir` writes
per scene a bird's-eye and a perspective PNG with ground-truth and predicted boxes and a .ply
(detection), or prediction-vs-ground-truth PNGs (segmentation), plus PR curves and a PR sheet
(docs/visualization.md).
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys


sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from voxclip.engine.cli import CfgOptionsAction, add_checkpoint_arguments, apply_checkpoint_arguments, run_cli  # noqa: E402
from voxclip.engine import VoxclipRunner, finish_distributed, format_expected, format_results_table, load_config, prepare_config, register_atomic_backend  # noqa: E402
from voxclip.engine.distributed import configure_visualizer  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Evaluate a voxclip checkpoint")
    p.add_argument("config")
    p.add_argument("checkpoint")
    p.add_argument("--work-dir", help="where logs go (default work_dirs/<config name>)")
    p.add_argument("--out", help="pickle file for the predictions")
    p.add_argument("--show-dir", help="directory for scene pictures, .ply files and PR curves")
    p.add_argument("--sparse-backend", help="torch | spconv | minkowski | auto (overrides the config)")
    p.add_argument("--cfg-options", nargs="+", action=CfgOptionsAction)
    p.add_argument("--launcher", choices=["none", "pytorch"], default="none")
    add_checkpoint_arguments(p)
    p.add_argument("--local_rank", "--local-rank", type=int, default=0)
    args = p.parse_args(argv)
    os.environ.setdefault("LOCAL_RANK", str(args.local_rank))
    return args


def main(argv=None):
    args = parse_args(argv)
    for path, what in ((args.config, "config file"), (args.checkpoint, "checkpoint")):
        if not osp.isfile(path):
            raise SystemExit(f"error: {path}: {what} not found")
    cfg = load_config(args.config, args.cfg_options)
    if args.sparse_backend:
        cfg.sparse_backend = args.sparse_backend
    cfg.work_dir = args.work_dir or cfg.get("work_dir") or osp.join(
        "work_dirs", osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    cfg.resume = False
    for key in ("train_dataloader", "train_cfg", "optim_wrapper", "param_scheduler"):
        cfg.pop(key, None)  # test needs none of it, and the train data may not be there
    evaluator = cfg.test_evaluator
    if args.out:
        evaluator.out_file = args.out
    if args.show_dir:
        from voxclip.visualization.hook import add_show_hook

        add_show_hook(cfg, args.show_dir)  # scene pictures + .ply per scene, PR curves for detection
    configure_visualizer(cfg)
    apply_checkpoint_arguments(cfg, args)
    prepare_config(cfg, args.launcher)
    register_atomic_backend()
    runner = VoxclipRunner.from_cfg(cfg)
    metrics = runner.test()
    if runner.rank == 0:
        class_names = runner.test_dataloader.dataset.metainfo["classes"]
        print(format_results_table(metrics, class_names), flush=True)
        if cfg.get("expected_result"):  # demo configs record the range their figures were measured in
            print(format_expected(metrics, cfg.expected_result), flush=True)
    finish_distributed()
    return metrics


if __name__ == "__main__":
    run_cli(main)
