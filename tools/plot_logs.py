#!/usr/bin/env python
"""Training curves of a work dir: loss terms and validation metrics from mmengine's scalars.json.

    python tools/plot_logs.py WORK_DIR [--out PNG]      # default WORK_DIR/training_curves.png
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from voxclip.engine.cli import run_cli  # noqa: E402


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description="Plot training losses and validation metrics of a work dir")
    p.add_argument("work_dir")
    p.add_argument("--out", help="PNG path (default WORK_DIR/training_curves.png)")
    args = p.parse_args(argv)
    from voxclip.visualization.training_curves import save_training_curves

    path = save_training_curves(args.work_dir, args.out)
    print(f"training curves: {path}", flush=True)
    return path


if __name__ == "__main__":
    run_cli(main)
