"""Training curves from mmengine's `WORK_DIR/<timestamp>/vis_data/scalars.json` files: loss terms
against iteration and validation metrics against the iteration they were computed at, in one PNG.

Every run directory of a work dir is read in time order (a resumed run continues the curve); a
run without training lines (tools/test.py with --work-dir) adds its metrics as 'test' markers.
"""
from __future__ import annotations

import glob
import json
import os

import numpy as np

from .scene import save_figure

_NOT_METRICS = {"data_time", "time", "step", "epoch", "iter", "lr", "memory", "grad_norm"}


def read_scalars(work_dir: str) -> tuple[list[dict], list[dict], list[dict]]:
    """(train rows, val rows, test rows) with an 'iteration' key each, from every run of `work_dir`."""
    files = sorted(glob.glob(os.path.join(work_dir, "*", "vis_data", "scalars.json")))
    # tools/test.py runs write their metrics to <timestamp>/<timestamp>.json instead
    runs = {os.path.dirname(os.path.dirname(f)) for f in files}
    files += [f for f in glob.glob(os.path.join(work_dir, "*", "*.json"))
              if os.path.basename(f)[:-5] == os.path.basename(os.path.dirname(f)) and os.path.dirname(f) not in runs]
    files.sort(key=lambda f: os.path.relpath(f, work_dir))
    if not files:
        raise FileNotFoundError(f"{work_dir}: no */vis_data/scalars.json (not an mmengine work dir, or no "
                                f"logged iteration yet)")
    train, val, test = [], [], []
    for path in files:
        rows = []
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise ValueError(f"{path}: line {n} is not JSON ({exc.msg})") from None
        run_train = [r for r in rows if any(k.startswith("loss") for k in r)]
        others = [r for r in rows if not any(k.startswith("loss") for k in r)]
        if not run_train:  # an evaluation-only run
            last = train[-1]["iteration"] if train else 0
            test += [dict(r, iteration=last) for r in others]
            continue
        by_epoch = "epoch" in run_train[0]
        end_of_epoch = {}
        for r in run_train:
            r = dict(r, iteration=int(r.get("iter", r["step"])))
            train.append(r)
            if by_epoch:
                end_of_epoch[int(r["epoch"])] = r["iteration"]
        for r in others:  # validation: step is the epoch (by-epoch loops) or the iteration
            step = int(r.get("step", 0))
            it = end_of_epoch.get(step, step * _iters_per_epoch(run_train)) if by_epoch else step
            val.append(dict(r, iteration=it))
    # a resumed run repeats iterations after its checkpoint: the later run's rows win
    train = sorted({r["iteration"]: r for r in train}.values(), key=lambda r: r["iteration"])
    val = sorted({r["iteration"]: r for r in val}.values(), key=lambda r: r["iteration"])
    return train, val, test


def _iters_per_epoch(rows: list[dict]) -> int:
    first = [r for r in rows if int(r.get("epoch", 1)) == int(rows[0].get("epoch", 1))]
    return max(int(r.get("iter", r["step"])) for r in first) - int(rows[0].get("iter", rows[0]["step"])) + 1


def headline_metrics(rows: list[dict]) -> list[str]:
    """Metric names worth a line: no per-class keys (`AP@0.5/chair`), no timing."""
    names = []
    for r in rows:
        for k, v in r.items():
            if k not in _NOT_METRICS and "/" not in k and k != "iteration" and isinstance(v, (int, float)) and k not in names:
                names.append(k)
    return names


def figure_training_curves(work_dir: str, title: str | None = None):
    from matplotlib.figure import Figure

    train, val, test = read_scalars(work_dir)
    losses = [k for k in train[0] if k.startswith("loss")] if train else []
    for r in train:
        losses += [k for k in r if k.startswith("loss") and k not in losses]
    fig = Figure(figsize=(12, 4.6), dpi=100)
    ax_l, ax_m = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for k in losses:
        pts = np.array([(r["iteration"], r[k]) for r in train if k in r], float)
        if len(pts) and np.isfinite(pts[:, 1]).any() and np.abs(pts[:, 1]).max() > 0:
            ax_l.plot(pts[:, 0], pts[:, 1], lw=2.0 if k == "loss" else 1.0, label=k)
    if losses and all(r.get(k, 1) > 0 for r in train for k in losses if k in r and r[k] != 0):
        ax_l.set_yscale("log")
    ax_l.set(xlabel="iteration", ylabel="loss", title="training losses")
    ax_l.grid(alpha=0.3)
    ax_l.legend(fontsize=7)
    metrics = headline_metrics(val + test)
    for i, k in enumerate(metrics):
        color = f"C{i % 10}"
        pts = np.array([(r["iteration"], r[k]) for r in val if k in r], float)
        if len(pts):
            ax_m.plot(pts[:, 0], pts[:, 1], "o-", color=color, ms=3, label=k)
        tpts = np.array([(r["iteration"], r[k]) for r in test if k in r], float)
        if len(tpts):
            ax_m.plot(tpts[:, 0], tpts[:, 1], "*", color=color, ms=11, label=f"{k} (test)")
    ax_m.set(xlabel="iteration", ylabel="metric", title="validation metrics")
    ax_m.grid(alpha=0.3)
    if metrics:
        ax_m.legend(fontsize=7)
    else:
        ax_m.text(0.5, 0.5, "no validation yet", ha="center", va="center", transform=ax_m.transAxes)
    fig.suptitle(title or os.path.basename(os.path.normpath(work_dir)), fontsize=10)
    fig.tight_layout()
    return fig


def save_training_curves(work_dir: str, out: str | None = None) -> str:
    """Write the curves PNG (default `WORK_DIR/training_curves.png`); returns its path."""
    return save_figure(figure_training_curves(work_dir), out or os.path.join(work_dir, "training_curves.png"))
