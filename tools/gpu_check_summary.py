#!/usr/bin/env python
"""Summarise a tools/gpu_check.sh run: OUT/gpu_check.json (everything) and OUT/gpu_check.txt (the
lines for docs/benchmarks.md), from the pytest junit XML, the benchmark JSON and nvidia-smi.

    python tools/gpu_check_summary.py --out OUT --test-rc N --bench-rc N [--seconds S]

Targets (issue 15): spconv-backend SR-UNet34C forward at ~160k voxels <= 0.04 s on an H200
(MinkowskiEngine publishes 0.080 s for MinkUNet34 at 161,890 voxels on an A100); torch backend
forward <= 3x spconv's on the same GPU. Exit 1 when the inputs are missing or unreadable.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from voxclip.utils.atomic import atomic_open  # noqa: E402

SPCONV_FWD_TARGET_S = 0.04
TORCH_OVER_SPCONV_TARGET = 3.0


def read_tests(path: str) -> dict:
    if not os.path.isfile(path):
        return dict(error=f"{path}: no junit XML (pytest did not finish)")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        return dict(error=f"{path}: unreadable junit XML ({exc})")
    cases = []
    for case in root.iter("testcase"):
        state = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                state = "failed"
            elif child.tag == "skipped":
                state = "skipped"
        cases.append(dict(name=f"{case.get('classname')}::{case.get('name')}", state=state,
                          seconds=float(case.get("time") or 0)))
    counts = {s: sum(c["state"] == s for c in cases) for s in ("passed", "failed", "skipped")}
    return dict(counts=counts, cases=cases)


def read_benchmark(path: str) -> dict:
    if not os.path.isfile(path):
        return dict(error=f"{path}: no benchmark JSON (the benchmark did not finish)")
    with open(path) as f:
        bench = json.load(f)
    med = bench["median"]
    targets = {}
    if "spconv" in med:
        fwd = med["spconv"]["fwd"]
        targets["spconv_fwd_s"] = dict(value=fwd, target=SPCONV_FWD_TARGET_S, met=fwd <= SPCONV_FWD_TARGET_S)
        if "torch" in med:
            ratio = med["torch"]["fwd"] / fwd
            targets["torch_over_spconv_fwd"] = dict(value=ratio, target=TORCH_OVER_SPCONV_TARGET,
                                                    met=ratio <= TORCH_OVER_SPCONV_TARGET)
    return dict(bench, targets=targets)


def text_summary(report: dict) -> str:
    lines = [f"GPU: {report['gpu']}", f"wall time of the check: {report['seconds']} s"]
    tests = report["tests"]
    if "error" in tests:
        lines.append(f"gpu tests: {tests['error']}")
    else:
        c = tests["counts"]
        lines.append(f"gpu tests: {c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped")
        lines += [f"  {t['state'].upper()}: {t['name']}" for t in tests["cases"] if t["state"] != "passed"]
    bench = report["benchmark"]
    if "error" in bench:
        lines.append(f"benchmark: {bench['error']}")
    else:
        lines.append(f"benchmark: {bench['voxels']} voxels, SRUNet{bench['arch']}, {bench['device']} "
                     f"({bench.get('gpu')}), torch {bench.get('torch')}, medians of the repeats")
        lines.append("| backend | forward (s) | forward + backward (s) | peak memory (GiB) |")
        lines.append("|---|---|---|---|")
        for name, m in bench["median"].items():
            peak = bench.get("peak_memory_bytes", {}).get(name)
            train = f"{m['train']:.4f}" if m.get("train") is not None else "n/a"
            lines.append(f"| {name} | {m['fwd']:.4f} | {train} | {peak / 2 ** 30:.2f} |" if peak is not None
                         else f"| {name} | {m['fwd']:.4f} | {train} | - |")
        for name, t in bench["targets"].items():
            lines.append(f"target {name}: {t['value']:.4f} vs {t['target']} -> {'met' if t['met'] else 'MISSED'}")
        if not bench["targets"]:
            lines.append("targets: not measurable (spconv did not run on the GPU)")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--test-rc", type=int, required=True)
    ap.add_argument("--bench-rc", type=int, required=True)
    ap.add_argument("--seconds", type=int, default=None)
    args = ap.parse_args(argv)
    smi = os.path.join(args.out, "nvidia_smi.txt")
    gpu = open(smi).read().strip() if os.path.isfile(smi) else "unknown (no nvidia_smi.txt)"
    missing = os.path.join(args.out, "missing_modules.txt")
    report = dict(gpu=gpu, seconds=args.seconds, test_rc=args.test_rc, bench_rc=args.bench_rc,
                  missing_modules=open(missing).read().split() if os.path.isfile(missing) else None,
                  tests=read_tests(os.path.join(args.out, "gpu_tests.xml")),
                  benchmark=read_benchmark(os.path.join(args.out, "benchmark_sparse_gpu.json")))
    text = text_summary(report)
    with atomic_open(os.path.join(args.out, "gpu_check.json")) as f:
        f.write(json.dumps(report, indent=1).encode())
    with atomic_open(os.path.join(args.out, "gpu_check.txt")) as f:
        f.write(text.encode())
    print(text, end="")
    return 0 if "error" not in report["tests"] and "error" not in report["benchmark"] else 1


if __name__ == "__main__":
    sys.exit(main())
