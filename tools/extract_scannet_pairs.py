#!/usr/bin/env python
"""Extract Text4Point 2D-3D pairs from ScanNet .sens files.

    tools/extract_scannet_pairs.py RAW_ROOT OUT_ROOT [--scenes ...] [--frame-skip 25]
        [--workers N] [--overwrite] [--shard I/N]

Writes OUT_ROOT/pairs/<scene>/<frame:06d>.npz + meta.json and OUT_ROOT/pairs/index.json
(layout: data_prep/scannet/pairs.py). Every scene is attempted; failures are listed at the end
and the exit status is 1 if any scene failed.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from data_prep.scannet.errors import ScanNetError  # noqa: E402
from data_prep.scannet.pairs import extract_all  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("raw_root")
    p.add_argument("out_root")
    p.add_argument("--scenes", nargs="+", default=None)
    p.add_argument("--frame-skip", type=int, default=25)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--shard", default=None, help="I/N: process every N-th scene from I")
    p.add_argument("--no-progress", action="store_true")
    a = p.parse_args(argv)
    if a.frame_skip < 1:
        p.error("--frame-skip must be >= 1")
    try:
        index, failures = extract_all(a.raw_root, a.out_root, a.scenes, a.frame_skip,
                                      max(1, a.workers), a.overwrite, a.shard,
                                      not a.no_progress)
    except (ScanNetError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{len(index['scenes'])} scenes, {index['num_pairs']} pairs in "
          f"{os.path.join(a.out_root, 'pairs')}")
    for sid, msg in failures:
        print(f"FAILED {sid}: {msg}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} scene(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
