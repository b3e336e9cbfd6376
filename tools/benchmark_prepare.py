#!/usr/bin/env python
"""Throughput of the ScanNet 3D preparation (mesh/labels -> processed scene), scenes/s per core.

    python tools/benchmark_prepare.py [--raw RAW_ROOT] [--scenes 4]
        [--repeats 3] [--workers N] [--seed 0]

Without --raw, scenes of realistic size are generated in a temp folder with the synthetic
ScanNet generator (data_prep.synthetic.scannet, ~80k vertices, no RGB-D frames).
Per-stage timings come from one process (= one core); --workers N additionally times the full
tool (tools/prepare_scannet.py engine) with N processes.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_prep.scannet import (apply_transform, instance_boxes, map_raw_labels,  # noqa: E402
                               read_aggregation, read_axis_alignment, read_label_map,
                               read_mesh, read_seg_indices, scene_files, vertex_labels,
                               vertex_normals, write_scene)
from data_prep.scannet.layout import LABELS_TSV, discover_scenes  # noqa: E402
from data_prep.scannet.prepare import prepare  # noqa: E402
from data_prep.scannet.scene import process_scene  # noqa: E402

def make_scenes(root: Path, n: int, seed: int) -> str:
    from data_prep.synthetic.scannet import make_scannet_demo

    make_scannet_demo(root, n, seed, num_test_scenes=0, frames=0, realistic=True, progress=False)
    return "data_prep.synthetic.scannet.make_scannet_demo(realistic=True, frames=0)"


def time_stages(scene_dir: Path, sid: str, label_map: Dict[str, int],
                out: Path) -> Dict[str, float]:
    """One scene, stage by stage, in this process."""
    t = {}
    f = scene_files(scene_dir, sid)
    t0 = time.perf_counter()
    mesh = read_mesh(f["mesh"])
    t["read ply"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    seg = read_seg_indices(f["segs"], len(mesh.vertices))
    groups = read_aggregation(f["aggregation"])
    m, _ = read_axis_alignment(f["info"])
    t["read json/txt"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    coord = apply_transform(mesh.vertices, m)
    t["align"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    vertex_normals(coord, mesh.faces)
    t["normals"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    lab = vertex_labels(seg, groups, map_raw_labels(groups, label_map, f["aggregation"]),
                        f["aggregation"])
    instance_boxes(coord, lab.instance, lab.instance_nyu40)
    t["labels+boxes"] = time.perf_counter() - t0
    scene = process_scene(scene_dir, sid, label_map)
    t0 = time.perf_counter()
    write_scene(out, scene)
    t["write (fsync)"] = time.perf_counter() - t0
    return t


def main(argv: List[str] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--raw", type=Path, help="existing raw ScanNet root (default: generate)")
    p.add_argument("--scenes", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--workers", type=int, default=0, help="also time the tool with N processes")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench_prepare_"))
    try:
        raw = args.raw
        if raw is None:
            raw = tmp / "raw"
            t0 = time.perf_counter()
            how = make_scenes(raw, args.scenes, args.seed)
            print(f"generated {args.scenes} scenes with {how} in {time.perf_counter() - t0:.1f}s")
        sources = [s for s in discover_scenes(raw)[0] if s.annotated and not s.error]
        sources = sources[:args.scenes]
        label_map = read_label_map(raw / LABELS_TSV)
        nv = [len(read_mesh(scene_files(s.scene_dir, s.scene_id)["mesh"]).vertices)
              for s in sources]
        print(f"{len(sources)} scenes, vertices mean {np.mean(nv):.0f} (min {min(nv)}, "
              f"max {max(nv)})")
        stages: Dict[str, List[float]] = {}
        for _ in range(args.repeats):
            for s in sources:
                for k, v in time_stages(s.scene_dir, s.scene_id, label_map, tmp / "out").items():
                    stages.setdefault(k, []).append(v)
        total = sum(np.median(v) for v in stages.values())
        print(f"per scene, one core (median of {args.repeats} x {len(sources)}):")
        for k, v in stages.items():
            print(f"  {k:<14} {1000 * np.median(v):8.1f} ms")
        compute = total - np.median(stages["write (fsync)"])
        print(f"  {'read+compute':<14} {1000 * compute:8.1f} ms  -> {1 / compute:.2f} "
              "scenes/s per core")
        print(f"  {'total':<14} {1000 * total:8.1f} ms  -> {1 / total:.2f} scenes/s per core")
        if args.workers:
            out = tmp / "out_tool"
            res = prepare(raw, out, scenes=[s.scene_id for s in sources], workers=args.workers,
                          progress=False, log=lambda *_: None)
            rate = len(res.prepared) / res.seconds
            print(f"tool, {args.workers} workers: {len(res.prepared)} scenes in {res.seconds:.2f}s "
                  f"-> {rate:.2f} scenes/s ({rate / args.workers:.2f} per worker; "
                  f"{os.cpu_count()} cpus, includes pool start-up and index)")
            if res.failed:
                print(f"FAILED: {res.failed}")
                return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
