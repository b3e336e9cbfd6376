#!/usr/bin/env python
"""Benchmark: streaming .sens reader vs a read-everything reader (frames/s, peak memory).

    python tools/benchmark_pairs.py [--frames 600] [--frame-skip 25] [--path X.sens]

Writes a synthetic .sens (ScanNet sizes by default: 1296x968 JPEG colour, 640x480 zlib depth;
the same encoded frame repeated so that generation is quick) unless ``--path`` is given, then
decodes colour and depth of the kept frames with each reader. Peak memory is tracemalloc's
peak of Python-side allocations (numpy arrays and bytes included) during the read.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
from pathlib import Path

import sys

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_prep.scannet.sens import SensReader, read_all_frames_naive  # noqa: E402
from data_prep.synthetic.sens import (SensHeader, encode_color_jpeg, encode_depth_zlib,  # noqa: E402
                                      intrinsic_4x4, write_sens)


def make_bench_sens(path: Path, frames: int, color_size=(1296, 968),
                    depth_size=(640, 480)) -> None:
    (cw, ch), (dw, dh) = color_size, depth_size
    yy, xx = np.mgrid[0:ch, 0:cw]
    rgb = np.stack([xx % 256, yy % 256, (xx + yy) % 256], -1).astype(np.uint8)
    dy, dx = np.mgrid[0:dh, 0:dw]
    depth = 1.0 + 0.002 * dx + 0.001 * dy
    c, d = encode_color_jpeg(rgb), encode_depth_zlib(depth)
    header = SensHeader(intrinsic_4x4(1170.2, 1170.2, 647.5, 483.5),
                        intrinsic_4x4(571.6, 571.6, 319.5, 239.5), color_size, depth_size)
    write_sens(path, header, ((np.eye(4), c, d) for _ in range(frames)))


def _measure(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    n = fn()
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return n, dt, peak


def run(path: Path, frame_skip: int) -> dict:
    def streaming():
        n = 0
        for f in SensReader(path).iter_frames(frame_skip):
            f.color(), f.depth()
            n += 1
        return n

    def naive():
        frames = read_all_frames_naive(path)
        return len(frames[::frame_skip])

    out = {"file_mb": os.path.getsize(path) / 2 ** 20,
           "num_frames": SensReader(path).header.num_frames}
    for name, fn in (("streaming", streaming), ("naive", naive)):
        n, dt, peak = _measure(fn)
        out[name] = {"kept_frames": n, "seconds": dt, "kept_frames_per_s": n / dt,
                     "sens_frames_per_s": out["num_frames"] / dt, "peak_mb": peak / 2 ** 20}
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--frames", type=int, default=600)
    p.add_argument("--frame-skip", type=int, default=25)
    p.add_argument("--path", default=None)
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(a.path) if a.path else Path(tmp) / "bench.sens"
        if not a.path:
            make_bench_sens(path, a.frames)
        res = run(path, a.frame_skip)
    print(f"file {res['file_mb']:.1f} MiB, {res['num_frames']} frames, frame_skip {a.frame_skip}")
    for name in ("streaming", "naive"):
        r = res[name]
        print(f"{name:9s}: {r['kept_frames']} kept frames in {r['seconds']:.2f} s = "
              f"{r['sens_frames_per_s']:.0f} .sens frames/s ({r['kept_frames_per_s']:.1f} kept/s), "
              f"peak {r['peak_mb']:.1f} MiB")


if __name__ == "__main__":
    main()
