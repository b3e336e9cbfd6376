"""Benchmark SR-UNet forward / forward+backward on a synthetic room for every sparse backend.

The scene is a room-like surface point cloud (floor, walls with a door and windows, tables, chairs,
shelves, a sofa, 1 cm scanner noise) voxelised at 2.5 cm to about --voxels voxels. Every backend runs
the same model and checkpoint at the same torch thread count; each repetition starts from a fresh
SparseTensor, so kernel-map/index building is part of the measured time, as it is for a new batch.

    python tools/benchmark_sparse.py --threads 1 --repeats 3
    python tools/benchmark_sparse.py --device cuda --voxels 160000 --precision fp32,amp --json gpu.json

`--precision amp` runs under torch.autocast (float16 on CUDA with a GradScaler'd backward, bfloat16 on
CPU); every (backend, precision) pair is timed in the same interleaved loop.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import voxclip.sparse as sp  # noqa: E402
from voxclip.models.backbones import SRUNet  # noqa: E402
from voxclip.sparse.backends import torch_backend  # noqa: E402


def _plane(g, origin, u, v, density):
    """Points on the parallelogram origin + a*u + b*v, a, b in [0, 1]."""
    area = torch.linalg.cross(torch.tensor(u), torch.tensor(v)).norm().item()
    n = max(1, int(area * density))
    ab = torch.rand(n, 2, generator=g)
    return torch.tensor(origin) + ab[:, :1] * torch.tensor(u) + ab[:, 1:] * torch.tensor(v)


def _box(g, lo, size, density, bottom=False):
    x, y, z = lo
    dx, dy, dz = size
    faces = [((x, y, z + dz), (dx, 0, 0), (0, dy, 0)),
             ((x, y, z), (dx, 0, 0), (0, 0, dz)), ((x, y + dy, z), (dx, 0, 0), (0, 0, dz)),
             ((x, y, z), (0, dy, 0), (0, 0, dz)), ((x + dx, y, z), (0, dy, 0), (0, 0, dz))]
    if bottom:
        faces.append(((x, y, z), (dx, 0, 0), (0, dy, 0)))
    return [_plane(g, *f, density) for f in faces]


def room_scene(target_voxels: int = 100_000, voxel_size: float = 0.025, seed: int = 0, noise: float = 0.005):
    """Surface points of a furnished room scaled so that voxelisation gives ~target_voxels."""
    scale = 1.0
    for _ in range(4):  # surface area grows roughly with the square of the footprint scale
        x = _room(scale, voxel_size, seed, noise)
        if abs(len(x) / target_voxels - 1) < 0.05:
            break
        scale *= math.sqrt(target_voxels / len(x))
    return x


def _room(scale: float, voxel_size: float, seed: int, noise: float):
    g = torch.Generator().manual_seed(seed)
    L, W, H = 5.6 * scale, 4.6 * scale, 2.6
    density = 4.0 / voxel_size ** 2  # ~4 points per voxel face: nearly every surface voxel is hit
    parts = [_plane(g, (0, 0, 0), (L, 0, 0), (0, W, 0), density)]
    for origin, u in [((0, 0, 0), (L, 0, 0)), ((0, W, 0), (L, 0, 0)), ((0, 0, 0), (0, W, 0)), ((L, 0, 0), (0, W, 0))]:
        parts.append(_plane(g, origin, u, (0, 0, H), density))
    pts = torch.cat(parts)
    # A door and two windows: holes in the walls.
    holes = [((0.8, 1.7), (-0.1, 0.1), (0.0, 2.1)), ((2.5, 3.7), (W - 0.1, W + 0.1), (0.9, 2.0)),
             ((L - 0.1, L + 0.1), (1.0, 2.2), (0.9, 2.0))]
    keep = torch.ones(len(pts), dtype=torch.bool)
    for (x0, x1), (y0, y1), (z0, z1) in holes:
        keep &= ~((pts[:, 0] > x0) & (pts[:, 0] < x1) & (pts[:, 1] > y0) & (pts[:, 1] < y1) & (pts[:, 2] > z0) & (pts[:, 2] < z1))
    parts = [pts[keep]]
    furniture = []
    for i in range(int(3 * scale ** 2) + 1):  # tables with four legs
        x0, y0 = 0.6 + (i * 1.9) % (L - 2.0), 0.8 + (i * 1.3) % (W - 2.0)
        furniture += _box(g, (x0, y0, 0.72), (1.2, 0.8, 0.04), density, bottom=True)
        for lx, ly in [(0, 0), (1.15, 0), (0, 0.75), (1.15, 0.75)]:
            furniture += _box(g, (x0 + lx, y0 + ly, 0), (0.05, 0.05, 0.72), density)
        for cx in (0.1, 0.7):  # two chairs: seat and back
            furniture += _box(g, (x0 + cx, y0 - 0.5, 0.45), (0.42, 0.42, 0.04), density, bottom=True)
            furniture += _box(g, (x0 + cx, y0 - 0.55, 0.45), (0.42, 0.04, 0.45), density)
    furniture += _box(g, (0.05, W - 0.45, 0), (1.8, 0.4, 2.0), density)  # shelf
    furniture += _box(g, (L - 2.3, 0.1, 0), (2.0, 0.9, 0.45), density)  # sofa seat
    furniture += _box(g, (L - 2.3, 0.1, 0.45), (2.0, 0.2, 0.45), density)  # sofa back
    pts = torch.cat(parts + furniture)
    pts = pts + torch.randn(pts.shape, generator=g) * noise  # scanner noise
    colors = torch.rand(len(pts), 3, generator=g)
    x, _ = sp.voxelize(pts, voxel_size, feats=colors)
    return x


class MapTimer:
    """Wraps the torch backend's kernel-map builders to sum their time."""

    def __init__(self):
        self.seconds = 0.0
        self._orig = {}

    def __enter__(self):
        for name in ("build_subm_map", "build_down_map"):
            fn = getattr(torch_backend, name)
            self._orig[name] = fn

            def timed(*a, _fn=fn, **k):
                t = time.perf_counter()
                try:
                    return _fn(*a, **k)
                finally:
                    self.seconds += time.perf_counter() - t
            setattr(torch_backend, name, timed)
        return self

    def __exit__(self, *exc):
        for name, fn in self._orig.items():
            setattr(torch_backend, name, fn)


def _time(fn, device):
    if device.type == "cuda":
        torch.cuda.synchronize()
    w, c = time.perf_counter(), time.process_time()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - w, time.process_time() - c


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--voxels", type=int, default=100_000, help="approximate voxel count of the room")
    ap.add_argument("--arch", default="34C")
    ap.add_argument("--threads", type=int, default=1, help="torch threads for every backend")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--backends", default=",".join(sp.available_backends()))
    ap.add_argument("--precision", default="fp32", help="comma list of fp32, amp")
    ap.add_argument("--json", help="also write the results here (atomically)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    backends = [b for b in args.backends.split(",") if b]
    precisions = [p for p in args.precision.split(",") if p]
    if not precisions or set(precisions) - {"fp32", "amp"}:
        print(f"error: --precision takes fp32 and/or amp, got {args.precision!r}", file=sys.stderr)
        return 2
    amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    missing = [b for b in backends if b not in sp.available_backends()]
    if missing:
        print(f"error: backends not available: {missing} (available: {sp.available_backends()})", file=sys.stderr)
        return 2
    torch.manual_seed(0)
    scene = room_scene(args.voxels).to(device)
    model = SRUNet(3, 20, arch=args.arch).to(device)
    print(f"scene: {len(scene)} voxels at 2.5 cm; SRUNet{args.arch}; threads={args.threads}; device={device}; "
          f"torch {torch.__version__}")

    def fresh():
        return sp.SparseTensor(scene.feats, scene.coords)

    scaler = torch.amp.GradScaler(device.type, enabled=device.type == "cuda")

    def autocast(prec):
        return torch.autocast(device.type, dtype=amp_dtype, enabled=prec == "amp")

    def forward(name, prec="fp32"):
        model.eval()
        with torch.no_grad(), sp.use_backend(name), autocast(prec):
            model(fresh())

    def train_step(name, prec="fp32"):
        model.train()
        with sp.use_backend(name):
            with autocast(prec):
                loss = model(fresh()).features.feats.float().square().mean()
            (scaler.scale(loss) if prec == "amp" else loss).backward()
        model.zero_grad(set_to_none=True)

    can_train = {b: not (b == "spconv" and device.type == "cpu") for b in backends}
    # spconv has no bfloat16 kernels, and CPU autocast is bfloat16: no spconv/amp pair on CPU.
    runs = [(b, p) for b in backends for p in precisions if not (b == "spconv" and p == "amp" and device.type == "cpu")]
    key = {(b, p): b if p == "fp32" else f"{b}/amp" for b, p in runs}  # fp32 keys as before
    results = {key[r]: {"fwd": [], "fwd_cpu": [], "train": [], "train_cpu": []} for r in runs}
    peak = {}
    for b, p in runs:  # warm-up (allocator, lazy module creation, spconv's kernel selection)
        forward(b, p)
        if can_train[b] and device.type == "cuda":
            train_step(b, p)
    for _ in range(args.repeats):  # interleaved, so load on a shared machine hits every backend alike
        for b, p in runs:
            r = results[key[b, p]]
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            w, c = _time(lambda: forward(b, p), device)
            r["fwd"].append(w)
            r["fwd_cpu"].append(c)
            if can_train[b]:
                w, c = _time(lambda: train_step(b, p), device)
                r["train"].append(w)
                r["train_cpu"].append(c)
            if device.type == "cuda":
                peak[key[b, p]] = max(peak.get(key[b, p], 0), torch.cuda.max_memory_allocated(device))
    map_share = None
    if "torch" in backends:
        with MapTimer() as mt:
            w, _ = _time(lambda: forward("torch"), device)
        map_share = {"kernel_map_s": mt.seconds, "forward_s": w, "share": mt.seconds / w}

    # Voxelisation (every data-loader sample): 4 points per voxel of the room, voxel_coords (one 1-D unique
    # over linear keys) against the row-wise torch.unique(dim=0) it replaced; the same output is checked.
    pts = ((scene.coords[:, 1:].double().repeat(4, 1) + torch.rand(4 * len(scene), 3, dtype=torch.float64))
           * 0.025).to(device)
    grid = torch.floor(pts / 0.025).long()
    rows = torch.cat([torch.zeros(len(grid), 1, dtype=torch.long, device=device), grid], 1)
    ref_c, ref_i = torch.unique(rows, dim=0, return_inverse=True)
    new_c, new_i = sp.voxel_coords(pts, 0.025)
    assert torch.equal(new_c.long(), ref_c) and torch.equal(new_i, ref_i)
    vox = {"rows": statistics.median(_time(lambda: torch.unique(rows, dim=0, return_inverse=True), device)[0]
                                     for _ in range(args.repeats)),
           "keys": statistics.median(_time(lambda: sp.voxel_coords(pts, 0.025), device)[0]
                                     for _ in range(args.repeats))}

    med = {b: {k: (statistics.median(v) if v else None) for k, v in r.items()} for b, r in results.items()}
    print(f"{'backend':<14} {'fwd wall s':>10} {'fwd cpu s':>10} {'fwd/spconv':>10} {'fwd+bwd s':>10} {'peak GiB':>9}")
    for b, p in runs:
        m, ref = med[key[b, p]], med.get(key["spconv", p]) if ("spconv", p) in key else None
        ratio = f"{m['fwd'] / ref['fwd']:.2f}" if ref else "-"
        train = f"{m['train']:.3f}" if m["train"] is not None else "n/a"
        mem = f"{peak[key[b, p]] / 2 ** 30:.2f}" if key[b, p] in peak else "-"
        print(f"{key[b, p]:<14} {m['fwd']:>10.3f} {m['fwd_cpu']:>10.3f} {ratio:>10} {train:>10} {mem:>9}")
    if "spconv" in backends and device.type == "cpu":
        print("spconv fwd+bwd: n/a (spconv 2.3.8 CPU cannot run backward); spconv always runs 1 thread on CPU")
    if map_share:
        print(f"torch kernel-map build: {map_share['kernel_map_s']:.3f} s of a {map_share['forward_s']:.3f} s forward "
              f"({100 * map_share['share']:.1f}%)")
    print(f"voxelise {len(pts)} points: voxel_coords {vox['keys']:.3f} s, torch.unique(dim=0) {vox['rows']:.3f} s "
          f"({vox['rows'] / vox['keys']:.1f}x)")
    if args.json:
        gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
        payload = dict(voxels=len(scene), arch=args.arch, threads=args.threads, device=str(device), gpu=gpu,
                       torch=torch.__version__, precisions=precisions, median=med, raw=results,
                       peak_memory_bytes=peak, kernel_map=map_share, voxelise=vox)
        d = os.path.dirname(os.path.abspath(args.json))
        with tempfile.NamedTemporaryFile("w", dir=d, delete=False, suffix=".tmp") as f:
            json.dump(payload, f, indent=1)
        os.replace(f.name, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
