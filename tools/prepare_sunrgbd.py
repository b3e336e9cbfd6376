#!/usr/bin/env python
"""Convert SUN RGB-D (raw release or MATLAB export) to voxclip's processed format, without MATLAB.

    python tools/prepare_sunrgbd.py RAW OUT [--layout auto|raw|export] [--workers N]
        [--num-points 50000] [--overwrite] [--shard I/N] [--split-file allsplit.mat] [--quiet]

RAW is either the folder holding ``SUNRGBD/`` (+ ``allsplit.mat`` / ``SUNRGBDtoolbox/traintestSUNRGBD/
allsplit.mat`` and optionally ``SUNRGBDMeta3DBB_v2.mat``), or an export ``sunrgbd_trainval/``
(or its parent). Resumable: finished samples (meta.json present) are skipped unless --overwrite.
Every failure is listed at the end and the exit status is 1 when any sample failed.
See docs/sunrgbd.md for the output format and every axis convention.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout too

from data_prep.sunrgbd import SunrgbdError, run  # noqa: E402


def parse_shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard wants I/N, got {text!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise argparse.ArgumentTypeError(f"--shard {text}: need 0 <= I < N")
    return i, n


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Prepare SUN RGB-D for voxclip (no MATLAB)")
    p.add_argument("raw", help="raw release root (holding SUNRGBD/) or sunrgbd_trainval export")
    p.add_argument("out", help="output root")
    p.add_argument("--layout", choices=("auto", "raw", "export"), default="auto")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--num-points", type=int, default=50000,
                   help="keep at most this many points per image (deterministic subsample; 0 = all)")
    p.add_argument("--overwrite", action="store_true", help="redo samples that are already complete")
    p.add_argument("--shard", type=parse_shard, default=None,
                   help="process only every N-th sample starting at I (0-based), e.g. 0/4")
    p.add_argument("--split-file", default=None, help="raw layout: path to allsplit.mat")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        plan, results, index = run(args.raw, args.out, layout=args.layout, workers=args.workers,
                                   num_points=args.num_points, overwrite=args.overwrite,
                                   shard=args.shard, split_file=args.split_file,
                                   progress=not args.quiet)
    except (SunrgbdError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for w in plan.warnings:
        print(f"warning: {w}", file=sys.stderr)
    counts = {s: sum(r.status == s for r in results) for s in ("done", "skipped", "failed")}
    print(f"sunrgbd [{plan.layout}]: {counts['done']} converted, {counts['skipped']} already done, "
          f"{counts['failed']} failed; index: {index['num_samples']} samples "
          f"(train {index['splits']['train']}, val {index['splits']['val']})")
    if index["dropped_objects"]:
        top = ", ".join(f"{k} {v}" for k, v in list(index["dropped_objects"].items())[:10])
        print(f"objects of other classes dropped (top 10): {top}")
    failed = [r for r in results if r.status == "failed"]
    if failed:
        print(f"FAILED {len(failed)} sample(s):", file=sys.stderr)
        for r in failed:
            print(f"  {r.sample_id}: {r.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
