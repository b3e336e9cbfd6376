#!/usr/bin/env python
"""Validate and index an object dataset and write its FPS-resampled cache (docs/objects.md).

    python tools/prepare_objects.py DATASET RAW OUT [--num-points N] [--splits train test]
        [--variant PB_T50_RS] [--normals] [--workers N] [--overwrite] [--no-progress]

DATASET: modelnet40 (modelnet40_normal_resampled/), modelnet40_h5 (modelnet40_ply_hdf5_2048/),
scanobjectnn (h5_files/, one --variant per cache), shapenet55 (shapenet_pc/ + ShapeNet-55/), shapenetpart
(shapenetcore_partanno_segmentation_benchmark_v0_normal/: splits train val test, every point kept, ragged
<split>_{points,parts,offsets}.npy; --normals keeps the normals).
OUT gets index.json and <split>_{points.npy,labels.npy,ids.json}. --num-points: FPS size (default
8192 for modelnet40, as Point-MAE's cache; the others keep their clouds as stored); 0 keeps them. Every bad file is listed; then nothing is written.
Exit status: 0 fine, 1 bad files (listed), 2 bad arguments or RAW.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a fresh clone

from data_prep.batch import default_workers  # noqa: E402
from data_prep.batch_cli import report_problems  # noqa: E402
from data_prep.objects import DATASETS, DEFAULT_POINTS, prepare_objects  # noqa: E402
from voxclip.datasets.objects.readers import SCANOBJECTNN_VARIANTS  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dataset", choices=sorted(DATASETS))
    p.add_argument("raw_root", type=Path)
    p.add_argument("out_root", type=Path)
    p.add_argument("--num-points", type=int, default=None, help="FPS to this many points (0: keep as stored)")
    p.add_argument("--splits", nargs="+", help="default: train test")
    p.add_argument("--variant", default="PB_T50_RS", choices=sorted(SCANOBJECTNN_VARIANTS))
    p.add_argument("--normals", action="store_true", help="keep normals (ModelNet40, ShapeNetPart): 6 channels")
    p.add_argument("--workers", type=int, default=default_workers())
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.num_points is None:
        args.num_points = DEFAULT_POINTS[args.dataset] or 0
    if args.num_points < 0 or args.workers < 1:
        print("error: --num-points must be >= 0 and --workers >= 1", file=sys.stderr)
        return 2
    try:
        res = prepare_objects(args.dataset, args.raw_root, args.out_root, args.num_points or None, args.splits,
                              args.variant, args.normals, args.workers, args.overwrite, not args.no_progress)
    except (FileNotFoundError, FileExistsError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if res.failed:
        print(f"nothing written to {args.out_root}", file=sys.stderr)
    else:
        print(f"prepared {res.counts} in {res.seconds:.1f}s -> {args.out_root / 'index.json'}")
    return report_problems(res.failed, "BAD files")


if __name__ == "__main__":
    sys.exit(main())
