#!/usr/bin/env python
"""Write the embedded synthetic demo dataset in its raw on-disk format.

    python tools/make_demo_data.py data/demo_raw [--scenes 48] [--seed 0] [--frames 10]
        [--test-scenes 1] [--realistic] [--dataset scannet|sunrgbd|s3dis] [--spacing 0.05]

ScanNet (default): OUT/scans/<id>/ (mesh ply, segs.json, aggregation.json, <id>.txt with
axisAlignment, .sens RGB-D stream), OUT/scans_test/<id>/, the label tsv and split files; then
`python tools/prepare_scannet.py OUT PROCESSED`. SUN RGB-D: `--scenes` is the number of images.
S3DIS: `--scenes` rooms (default 12) over Area_1..Area_6 in the Stanford3dDataset_v1.2 layout,
surfaces sampled every `--spacing` metres; then `python tools/prepare_s3dis.py OUT PROCESSED`.
Same seed, same bytes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="output root (created)")
    p.add_argument("--dataset", choices=("scannet", "sunrgbd", "s3dis"), default="scannet")
    p.add_argument("--scenes", type=int, default=None,
                   help="train+val scenes (ScanNet, default 48), images (SUN RGB-D, default 48) "
                        "or rooms (S3DIS, default 12)")
    p.add_argument("--spacing", type=float, default=0.05, help="S3DIS: metres between points")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--frames", type=int, default=10, help="RGB-D frames per .sens (0: none)")
    p.add_argument("--test-scenes", type=int, default=1, help="unannotated scenes in scans_test/")
    p.add_argument("--val-fraction", type=float, default=0.25)
    p.add_argument("--realistic", action="store_true",
                   help="denser meshes (~80k vertices per scene), as used by benchmarks")
    p.add_argument("--vertex-spacing", type=float, default=None,
                   help="metres between mesh vertices (overrides --realistic)")
    args = p.parse_args(argv)
    if args.scenes is None:
        args.scenes = 12 if args.dataset == "s3dis" else 48
    if args.spacing <= 0:
        p.error("--spacing must be > 0")
    for name in ("scenes", "frames", "test_scenes"):
        if getattr(args, name) < 0:
            p.error(f"--{name.replace('_', '-')} must be >= 0")
    if args.vertex_spacing is not None and args.vertex_spacing <= 0:
        p.error("--vertex-spacing must be > 0")
    if not 0 <= args.val_fraction < 1:
        p.error("--val-fraction must be in [0, 1)")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    t0 = time.time()
    try:
        if args.dataset == "s3dis":
            from data_prep.synthetic.s3dis import make_s3dis_demo

            if args.scenes < 1:
                raise ValueError("--scenes must be >= 1 for S3DIS")
            ids = make_s3dis_demo(args.out, args.scenes, args.seed, spacing=args.spacing)
            print(f"[make_demo_data] wrote {len(ids)} synthetic S3DIS rooms to {args.out} "
                  f"in {time.time() - t0:.1f}s")
            return 0
        if args.dataset == "sunrgbd":
            from data_prep.synthetic.sunrgbd import make_sunrgbd_demo

            make_sunrgbd_demo(args.out, args.scenes, args.seed)
            print(f"[make_demo_data] wrote {args.scenes} synthetic SUN RGB-D images to {args.out} "
                  f"in {time.time() - t0:.1f}s")
            return 0
        from data_prep.synthetic.scannet import make_scannet_demo

        ids = make_scannet_demo(args.out, args.scenes, args.seed,
                                num_test_scenes=args.test_scenes, frames=args.frames,
                                val_fraction=args.val_fraction, realistic=args.realistic,
                                vertex_spacing=args.vertex_spacing)
    except (OSError, ValueError, RuntimeError) as e:
        print(f"[make_demo_data] error: {e}", file=sys.stderr)
        return 1
    dt = time.time() - t0
    print(f"[make_demo_data] wrote {len(ids)} synthetic ScanNet scenes to {args.out} in {dt:.1f}s "
          f"({dt / max(len(ids), 1):.2f}s per scene)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
