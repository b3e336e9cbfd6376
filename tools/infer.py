#!/usr/bin/env python
"""Run a trained detector or segmentor on your own point clouds.

    python tools/infer.py CONFIG CHECKPOINT INPUT [INPUT ...] [--out DIR] [--up z|y] [--scale S]
                          [--score-thr T] [--sparse-backend NAME] [--device cpu|cuda] [--no-ply]

INPUT: .ply / .pcd / .npy / .npz / .txt / .xyz / .pts files (xyz, optional rgb), or folders of them
(a batch: every file is tried and all failures are listed at the end, exit status 1).
Features are built by the config's test pipeline, as in evaluation. Models expect z up and metres:
a cloud whose extent looks like millimetres or y-up gets a warning; `--scale 0.001` / `--up y` fix it.
Per input, under --out (default infer_out/): detection `<name>.json` (boxes in the project convention
plus corners), `<name>_bev.png`, `<name>_persp.png`, `<name>.ply`; segmentation `<name>.json`,
`<name>_labels.npy` (one label per input point), `<name>_seg.png`, `<name>_seg.ply`.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from voxclip.engine.cli import run_cli  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Detection / segmentation on your own point clouds")
    p.add_argument("config")
    p.add_argument("checkpoint")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="point-cloud files or folders of them")
    p.add_argument("--out", default="infer_out", help="output folder (default infer_out)")
    p.add_argument("--up", choices=["z", "y"], default="z", help="up axis of the input (y: rotated to z up)")
    p.add_argument("--scale", type=float, default=1.0, help="multiply coordinates (0.001: millimetres -> metres)")
    p.add_argument("--score-thr", type=float, default=0.1, help="lowest score of a drawn / exported box")
    p.add_argument("--sparse-backend", help="torch | spconv | minkowski | auto (default: the config's)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--no-ply", action="store_true", help="skip the .ply files")
    return p.parse_args(argv)


def expand_inputs(inputs) -> list[str]:
    """Files as given; folders as their point-cloud files (sorted). Missing paths stay in the list
    (they fail with a clear line in the batch report)."""
    from voxclip.inference.io import SUFFIXES

    files = []
    for path in inputs:
        if osp.isdir(path):
            found = sorted(osp.join(path, f) for f in os.listdir(path) if f.lower().endswith(SUFFIXES))
            if not found:
                files.append(path)  # reported: a folder without point clouds
            files += found
        else:
            files.append(path)
    return files


def run_one(predictor, path: str, stem: str, args) -> list[str]:
    import numpy as np
    from scipy.spatial import cKDTree

    from voxclip.inference import frame_warnings, read_point_cloud, to_z_up
    from voxclip.inference.export import boxes_json, write_boxes_json, write_segmentation
    from voxclip.visualization import BoxSet, render_detection, render_segmentation

    if osp.isdir(path):
        raise ValueError(f"{path}: folder holds no point-cloud files")
    points, colors = read_point_cloud(path)
    points = to_z_up(points, args.up, args.scale)
    for line in frame_warnings(points, path):
        print(f"warning: {line}", file=sys.stderr, flush=True)
    if colors is None:
        print(f"warning: {path}: no colours; the model gets mid grey for every point", file=sys.stderr)
    transform = dict(up=args.up, scale=args.scale, note="coordinates below are after this transform")
    pred = predictor(points, colors, name=stem)
    if pred.task == "segmentation":
        # the model labels the points its test pipeline sampled; each input point takes its nearest one's label
        _, nearest = cKDTree(pred.points).query(points, k=1)
        labels = pred.point_labels[nearest]
        written = write_segmentation(args.out, stem, labels, predictor.class_names, path, transform)
        written += render_segmentation(args.out, stem, points, labels, None, predictor.class_names, ply=not args.no_ply)
        return written
    keep = pred.scores >= args.score_thr
    payload = boxes_json(pred.boxes[keep], pred.labels[keep], pred.scores[keep], predictor.class_names, path, transform)
    payload["score_thr"] = args.score_thr
    written = [write_boxes_json(args.out, stem, payload)]
    boxes = BoxSet(pred.boxes[keep], pred.labels[keep], pred.scores[keep])
    written += render_detection(args.out, stem, points, colors, predictor.class_names, None, boxes, ply=not args.no_ply)
    return written


def main(argv=None) -> int:
    args = parse_args(argv)
    from voxclip.inference import Predictor

    files = expand_inputs(args.inputs)
    predictor = Predictor(args.config, args.checkpoint, args.sparse_backend, args.device)
    os.makedirs(args.out, exist_ok=True)
    failures, stems = [], set()
    for i, path in enumerate(files):
        stem = osp.splitext(osp.basename(path.rstrip("/")))[0]
        if stem in stems:  # same name from two folders / formats
            stem = f"{stem}_{i}"
        stems.add(stem)
        try:
            written = run_one(predictor, path, stem, args)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            msg = msg[len(path) + 2:] if msg.startswith(path + ": ") else msg
            failures.append((path, msg))
            print(f"[{i + 1}/{len(files)}] FAILED {path}: {msg}", file=sys.stderr, flush=True)
            continue
        print(f"[{i + 1}/{len(files)}] {path} -> {', '.join(written)}", flush=True)
    if failures:
        print(f"infer: {len(failures)} of {len(files)} input(s) failed:", file=sys.stderr)
        for path, msg in failures:
            print(f"  {path}: {msg}", file=sys.stderr)
        return 1
    print(f"infer: {len(files)} input(s) done; results in {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    run_cli(lambda: sys.exit(main()))
