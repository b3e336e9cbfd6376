#!/usr/bin/env python
"""Write synthetic objects in the distributed layouts of the object datasets (docs/objects.md).

    python tools/make_object_demo.py OUT [--formats modelnet40_txt modelnet40_h5 scanobjectnn shapenet55 shapenetpart]
        [--train-per-class 24] [--test-per-class 8] [--seed 0] [--num-points N]

OUT gets modelnet40_normal_resampled/, modelnet40_ply_hdf5_2048/, scanobjectnn/h5_files/,
shapenet55/ (with captions.json and meshes/) and shapenetcore_partanno_segmentation_benchmark_v0_normal/.
The objects are the scene generator's furniture (unions of boxes; ShapeNetPart: boxes labelled by part)
sampled on their surfaces: a demo, not a benchmark.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a fresh clone

from data_prep.synthetic.object_writers import FORMATS, make_objects_demo  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out_root", type=Path)
    p.add_argument("--formats", nargs="+", default=list(FORMATS), choices=FORMATS)
    p.add_argument("--train-per-class", type=int, default=24)
    p.add_argument("--test-per-class", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num-points", type=int, default=None, help="points per object (default: the format's usual)")
    p.add_argument("--noise", type=float, default=0.0, help="Gaussian jitter of the ModelNet40 txt points (std)")
    p.add_argument("--random-yaw", action="store_true", help="turn each ModelNet40 txt object about the up axis")
    a = p.parse_args(argv)
    done = make_objects_demo(a.out_root, a.formats, a.train_per_class, a.test_per_class, a.seed, a.num_points,
                             a.noise, a.random_yaw)
    for fmt, folder in done.items():
        print(f"{fmt}: {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
