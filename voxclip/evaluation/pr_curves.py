"""Per-class precision-recall curves from an `indoor_map` result, one PNG per class."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping

from voxclip.utils.atomic import atomic_open


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def save_pr_curves(result: Mapping, out_dir: str) -> list[str]:
    """Write `<out_dir>/pr_<class>.png` (one curve per IoU threshold) for every class with ground truth.

    Files are written atomically (temp file + os.replace). Returns the written paths.
    """
    # A bare Figure renders PNG through Agg without touching pyplot's global backend or any GUI.
    from matplotlib.figure import Figure

    curves = result.get("pr_curves")
    if curves is None:
        raise KeyError("save_pr_curves: result has no 'pr_curves' (pass the full dict returned by indoor_map)")
    os.makedirs(out_dir, exist_ok=True)
    ap_of = {pc["name"]: pc for pc in result.get("per_class", [])}
    names = sorted({n for per_thr in curves.values() for n in per_thr},
                   key=lambda n: list(ap_of).index(n) if n in ap_of else 0)
    written = []
    for name in names:
        fig = Figure(figsize=(4.5, 4.0), dpi=100)
        ax = fig.add_subplot(1, 1, 1)
        for tk, per_thr in curves.items():
            if name not in per_thr:
                continue
            rec, prec = per_thr[name]["recall"], per_thr[name]["precision"]
            ap = ap_of.get(name, {}).get(f"AP@{tk}")
            label = f"IoU>{tk}" + (f"  AP={ap:.3f}" if ap is not None else "")
            ax.step(rec, prec, where="post", label=label)
        ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall", ylabel="precision", title=name)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize=8)
        fig.tight_layout()
        path = os.path.join(out_dir, f"pr_{_safe(name)}.png")
        with atomic_open(path) as f:
            fig.savefig(f, format="png")
        written.append(path)
    return written
