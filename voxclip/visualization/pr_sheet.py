"""All classes' precision-recall curves on one sheet (a grid of small plots)."""
from __future__ import annotations

import math
from collections.abc import Mapping

from .scene import save_figure


def figure_pr_sheet(result: Mapping, cols: int = 6):
    """Grid of per-class PR curves (one line per IoU threshold, AP in the legend) from `indoor_map`."""
    from matplotlib.figure import Figure

    curves = result.get("pr_curves")
    if curves is None:
        raise KeyError("figure_pr_sheet: result has no 'pr_curves' (pass the full dict returned by indoor_map)")
    per_class = {pc["name"]: pc for pc in result.get("per_class", [])}
    names = [n for n in per_class if any(n in per_thr for per_thr in curves.values())]
    names += sorted({n for per_thr in curves.values() for n in per_thr} - set(names))
    cols = max(1, min(cols, len(names) or 1))
    rows = max(1, math.ceil(len(names) / cols))
    fig = Figure(figsize=(2.6 * cols, 2.4 * rows + 0.5), dpi=100)
    tks = list(curves)
    head = "  ".join(f"mAP@{t}={result[f'mAP@{t}']:.3f}" for t in tks if f"mAP@{t}" in result)
    fig.suptitle(f"precision-recall per class   {head}", fontsize=10)
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        for tk in tks:
            if name in curves[tk]:
                ap = per_class.get(name, {}).get(f"AP@{tk}")
                ax.step(curves[tk][name]["recall"], curves[tk][name]["precision"], where="post",
                        label=f">{tk}" + (f" {ap:.2f}" if ap is not None else ""))
        ax.set(xlim=(0, 1), ylim=(0, 1.02))
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=6)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="lower left")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def save_pr_sheet(result: Mapping, path: str) -> str:
    return save_figure(figure_pr_sheet(result), path)
