#!/usr/bin/env python
"""Benchmark: superpoint graph segmentation (voxclip.ops.superpoints) on a ~150k-point synthetic scan.

    python tools/benchmark_superpoints.py [--spacing 0.033] [--repeats 5]

Generates one synthetic ScanNet-style mesh (data_prep.synthetic; --spacing metres between vertices,
0.033 gives ~150k vertices) and times, best and median of --repeats runs, single process:
mesh_superpoints (mesh edges, ScanNet segmentator weights, Boruvka-style Felzenszwalb, min-size
merge) with the mesh's vertex normals; point_superpoints on the bare vertices with those normals
(kNN graph, k=10) and with PCA normals estimated from 16 neighbours. Purity against the generator's
object labels is printed with each, the wall and the CPU time of the process (single-threaded: the
CPU time is the figure that the machine's other load disturbs least), the load average, and the
stages of the bare-cloud path (one 16-neighbour KD-tree query, normals, edges, weights, segmentation).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402


def purity(sp: np.ndarray, labels: np.ndarray) -> float:
    lab = labels - labels.min()
    key = sp * (lab.max() + 1) + lab
    cnt = np.bincount(key, minlength=(sp.max() + 1) * (lab.max() + 1)).reshape(sp.max() + 1, -1)
    return float(cnt.max(1).sum() / len(sp))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--spacing", type=float, default=0.033)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--workers", type=int, default=-1, help="KD-tree query threads of the kNN cases (-1: all cores)")
    args = p.parse_args(argv)
    from data_prep.scannet.normals import vertex_normals
    from data_prep.synthetic.scannet import generate_scene
    from voxclip.ops.superpoints import mesh_superpoints, point_superpoints
    from voxclip.utils.superpoints import edge_weights, estimate_normals, felzenszwalb_segment, knn_edges, knn_indices

    scene = generate_scene("scene0000_00", 0, vertex_spacing=args.spacing)
    v, f, c, obj = scene.vertices, scene.faces, scene.colors, scene.object_ids
    n = vertex_normals(v, f)
    print(f"scene: {len(v)} vertices, {len(f)} faces, {len(np.unique(obj))} objects; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; load average "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    cases = [("mesh graph (segs.json-style)", lambda: mesh_superpoints(v, f, n)),
             ("kNN graph, mesh normals", lambda: point_superpoints(v, c, normals=n, workers=args.workers)),
             ("kNN graph, PCA normals", lambda: point_superpoints(v, c, workers=args.workers)),
             ("kNN graph, PCA normals, 1 query thread", lambda: point_superpoints(v, c, workers=1))]
    for name, fn in cases:
        times, cpu = [], []
        for _ in range(args.repeats):
            t, c0 = time.perf_counter(), time.process_time()
            sp = fn()
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c0)
        print(f"{name:30s} best {min(times):.3f} s  median {statistics.median(times):.3f} s  "
              f"CPU best {min(cpu):.3f} s  {sp.max() + 1} superpoints  purity {purity(sp, obj):.4f}")
    stages = {}
    for _ in range(args.repeats):
        c0 = time.process_time()
        idx = knn_indices(v, 16)
        c1 = time.process_time()
        normals = estimate_normals(v, 16, idx=idx)
        c2 = time.process_time()
        edges = knn_edges(v, 10, idx=idx)
        c3 = time.process_time()
        w = edge_weights(v, normals, edges, c, 0.5)
        c4 = time.process_time()
        felzenszwalb_segment(len(v), edges, w)
        c5 = time.process_time()
        for key, dt in zip(("kNN query", "normals", "edges", "weights", "segmentation"),
                           (c1 - c0, c2 - c1, c3 - c2, c4 - c3, c5 - c4)):
            stages[key] = min(stages.get(key, dt), dt)
    print("bare cloud, PCA normals, CPU best per stage: " + ", ".join(f"{k} {t:.3f} s" for k, t in stages.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
