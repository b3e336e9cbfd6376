#!/usr/bin/env python
"""Export voxclip prepared ScanNet scenes (tools/prepare_scannet.py output) to Pointcept's layout.

    python tools/export_pointcept.py PREPARED_ROOT OUT_ROOT [--splits train val test]

OUT_ROOT/<split>/<scene>/{coord,color,normal,segment20,instance}.npy (instance -1 = none). The
coordinates stay axis-aligned as voxclip prepares them; segment200 is not written (voxclip keeps
nyu40 labels, not ScanNet200 ids). Read back with `type='PointceptScanNetSegmentation'`.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from voxclip.engine.cli import run_cli  # noqa: E402


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description="voxclip prepared ScanNet -> Pointcept preprocessed layout")
    p.add_argument("prepared_root")
    p.add_argument("out_root")
    p.add_argument("--splits", nargs="+", default=["train", "val", "test"])
    args = p.parse_args(argv)
    from voxclip.interop.pointcept_data import export_root

    done = export_root(args.prepared_root, args.out_root, args.splits)
    print(f"exported {', '.join(f'{n} {s}' for s, n in done.items())} scenes to {args.out_root}")
    return done


if __name__ == "__main__":
    run_cli(main)
