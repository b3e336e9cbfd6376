"""Scene pictures (matplotlib Agg, no display): bird's-eye and perspective views of points with
ground-truth and predicted oriented boxes, and segmentation prediction vs ground truth.

Ground truth is drawn dashed, predictions solid with their score; both in their class colour.
Figures are bare `matplotlib.figure.Figure`s (no pyplot state, no GUI backend).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from voxclip.structures.boxes import box_corners
from voxclip.utils.atomic import atomic_open

from .colors import class_colors, label_colors, rgb01

# corner index pairs of the 12 edges (box_corners: bottom face 0-3, top face 4-7)
BOX_EDGES = ((0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7))
MAX_DRAWN_POINTS = 60000


def marker_size(n: int) -> float:
    """Scatter size (pt^2) so that n points spread over an ~360 pt wide axes about touch."""
    return float(np.clip((360.0 / max(np.sqrt(n), 1.0)) ** 2, 0.4, 30.0))


@dataclass
class BoxSet:
    """Boxes (M, 7) in the project convention, labels (M,), scores (M,) or None (ground truth)."""
    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray | None = None

    def __post_init__(self):
        self.boxes = np.asarray(self.boxes, np.float64).reshape(-1, 7)
        self.labels = np.asarray(self.labels, np.int64).reshape(-1)
        if self.scores is not None:
            self.scores = np.asarray(self.scores, np.float64).reshape(-1)
        if len(self.labels) != len(self.boxes) or (self.scores is not None and len(self.scores) != len(self.boxes)):
            raise ValueError(f"BoxSet: {len(self.boxes)} boxes, {len(self.labels)} labels, "
                             f"{None if self.scores is None else len(self.scores)} scores")

    def above(self, score_thr: float, max_boxes: int | None = None) -> "BoxSet":
        """Boxes scoring at least `score_thr`, the `max_boxes` best of them (pictures stay readable)."""
        if self.scores is None:
            return self
        keep = np.flatnonzero(self.scores >= score_thr)
        keep = keep[np.argsort(-self.scores[keep], kind="stable")][:max_boxes]
        return BoxSet(self.boxes[keep], self.labels[keep], self.scores[keep])

    @property
    def corners(self) -> np.ndarray:
        return box_corners(self.boxes) if len(self.boxes) else np.zeros((0, 8, 3))


@dataclass
class SceneView:
    """What one picture shows: points (N, 3), colours (N, 3) (uint8 or [0, 1]), box sets."""
    points: np.ndarray
    colors: np.ndarray | None = None
    gt: BoxSet | None = None
    pred: BoxSet | None = None
    class_names: Sequence[str] = field(default_factory=tuple)
    title: str = ""

    def drawn_points(self) -> tuple[np.ndarray, np.ndarray]:
        """At most MAX_DRAWN_POINTS points (a fixed subsample: pictures are reproducible)."""
        pts = np.asarray(self.points, np.float64).reshape(-1, 3)
        col = rgb01(self.colors, len(pts))
        if len(pts) > MAX_DRAWN_POINTS:
            idx = np.random.default_rng(0).choice(len(pts), MAX_DRAWN_POINTS, replace=False)
            pts, col = pts[idx], col[idx]
        return pts, col


def _num_classes(view: SceneView) -> int:
    labels = [b.labels for b in (view.gt, view.pred) if b is not None and len(b.labels)]
    top = max([int(lab.max()) + 1 for lab in labels], default=0)
    return max(len(view.class_names), top, 1)


def _name(view: SceneView, label: int) -> str:
    return view.class_names[label] if 0 <= label < len(view.class_names) else str(label)


def _draw_boxes_bev(ax, view: SceneView, palette: np.ndarray) -> None:
    for boxes, solid in ((view.gt, False), (view.pred, True)):
        if boxes is None:
            continue
        for i, corners in enumerate(boxes.corners):
            poly = corners[[0, 1, 2, 3, 0], :2]
            color = palette[boxes.labels[i] % len(palette)]
            ax.plot(poly[:, 0], poly[:, 1], color=color, lw=1.6 if solid else 1.2, ls="-" if solid else "--")
            # heading tick: centre -> front face midpoint (oriented boxes read as such)
            front = corners[[1, 2], :2].mean(0)
            ax.plot([boxes.boxes[i, 0], front[0]], [boxes.boxes[i, 1], front[1]], color=color,
                    lw=0.8, ls="-" if solid else "--")
            if solid:
                text = _name(view, boxes.labels[i]) + (f" {boxes.scores[i]:.2f}" if boxes.scores is not None else "")
                ax.text(poly[:, 0].min(), poly[:, 1].max(), text, color=color, fontsize=6, va="bottom")


def _legend(ax, view: SceneView, palette: np.ndarray) -> None:
    from matplotlib.lines import Line2D

    used = sorted({int(v) for b in (view.gt, view.pred) if b is not None for v in b.labels})
    handles = [Line2D([], [], color=palette[c % len(palette)], lw=2, label=_name(view, c)) for c in used]
    handles += [Line2D([], [], color="k", ls="--", label="ground truth"), Line2D([], [], color="k", label="prediction")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)


def _extent(view: SceneView, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    allp = [pts] + [b.corners.reshape(-1, 3) for b in (view.gt, view.pred) if b is not None]
    allp = np.concatenate([p for p in allp if len(p)]) if any(len(p) for p in allp) else np.zeros((1, 3))
    lo, hi = allp.min(0), allp.max(0)
    pad = 0.05 * max(float((hi - lo)[:2].max()), 1e-3)
    return lo - pad, hi + pad


def figure_bev(view: SceneView, dpi: int = 110):
    """Bird's-eye view (x right, y up, metres): points coloured as given, boxes as oriented polygons."""
    from matplotlib.figure import Figure

    pts, col = view.drawn_points()
    palette = class_colors(_num_classes(view))
    fig = Figure(figsize=(7.5, 6.0), dpi=dpi)
    ax = fig.add_axes([0.08, 0.08, 0.68, 0.84])
    if len(pts):
        order = np.argsort(pts[:, 2])  # higher points on top, as seen from above
        ax.scatter(pts[order, 0], pts[order, 1], c=col[order], s=marker_size(len(pts)), linewidths=0, rasterized=True)
    _draw_boxes_bev(ax, view, palette)
    lo, hi = _extent(view, pts)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal", adjustable="box")
    ax.set(xlabel="x (m)", ylabel="y (m)", title=(view.title + "  bird's-eye view").strip())
    _legend(ax, view, palette)
    return fig


def figure_perspective(view: SceneView, elev: float = 35.0, azim: float = -60.0, dpi: int = 110):
    """Perspective 3D view (mplot3d, z up) of the same points and box wireframes."""
    from matplotlib.figure import Figure

    pts, col = view.drawn_points()
    palette = class_colors(_num_classes(view))
    fig = Figure(figsize=(7.5, 6.0), dpi=dpi)
    ax = fig.add_axes([0.0, 0.0, 0.78, 0.95], projection="3d")
    if len(pts):
        ax.scatter(pts[:, 0], pts[:, 1], pts[:, 2], c=col, s=0.5 * marker_size(len(pts)), linewidths=0, depthshade=False)
    for boxes, solid in ((view.gt, False), (view.pred, True)):
        if boxes is None:
            continue
        for i, corners in enumerate(boxes.corners):
            color = palette[boxes.labels[i] % len(palette)]
            for a, b in BOX_EDGES:
                ax.plot(*corners[[a, b]].T, color=color, lw=1.4 if solid else 1.0, ls="-" if solid else "--")
            if solid and boxes.scores is not None:
                top = corners[4:].mean(0)
                ax.text(top[0], top[1], top[2], f"{_name(view, boxes.labels[i])} {boxes.scores[i]:.2f}",
                        color=color, fontsize=6)
    lo, hi = _extent(view, pts)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_zlim(lo[2], hi[2])
    ax.set_box_aspect(np.maximum(hi - lo, 1e-3))
    ax.view_init(elev=elev, azim=azim)
    ax.set(xlabel="x", ylabel="y", zlabel="z")
    ax.set_title((view.title + "  perspective").strip())
    _legend(ax, view, palette)
    return fig


def figure_segmentation(points: np.ndarray, pred: np.ndarray, gt: np.ndarray | None,
                        class_names: Sequence[str], title: str = "", dpi: int = 110):
    """Bird's-eye views side by side: prediction | ground truth (ignored points grey)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    pts = np.asarray(points, np.float64).reshape(-1, 3)
    if len(pts) > MAX_DRAWN_POINTS:  # the same fixed subsample for both panels
        idx = np.random.default_rng(0).choice(len(pts), MAX_DRAWN_POINTS, replace=False)
        pts, pred, gt = pts[idx], np.asarray(pred)[idx], None if gt is None else np.asarray(gt)[idx]
    k = max(len(class_names), int(np.max(pred, initial=-1)) + 1, 1)
    panels = [("prediction", pred)] + ([("ground truth", gt)] if gt is not None else [])
    fig = Figure(figsize=(5.5 * len(panels) + 2.0, 5.5), dpi=dpi)
    order = np.argsort(pts[:, 2])
    width = 0.8 / len(panels)
    for i, (name, labels) in enumerate(panels):
        ax = fig.add_axes([0.05 + i * width, 0.08, width - 0.03, 0.82])
        ax.scatter(pts[order, 0], pts[order, 1], c=label_colors(np.asarray(labels)[order], k), s=marker_size(len(pts)),
                   linewidths=0, rasterized=True)
        ax.set_aspect("equal", adjustable="box")
        ax.set_title(f"{title}  {name}".strip(), fontsize=9)
    present = sorted({int(v) for lab in (pred, gt) if lab is not None for v in np.unique(lab) if 0 <= v < k})
    palette = class_colors(k)
    fig.legend(handles=[Patch(color=palette[c], label=class_names[c] if c < len(class_names) else str(c))
                        for c in present], loc="upper right", fontsize=7, frameon=False)
    return fig


def save_figure(fig, path: str) -> str:
    """PNG through a temp file + rename (a killed run leaves no half-written picture)."""
    with atomic_open(path) as f:
        fig.savefig(f, format="png")
    return str(path)


def save_scene_views(view: SceneView, prefix: str) -> list[str]:
    """`<prefix>_bev.png` and `<prefix>_persp.png`; returns both paths."""
    return [save_figure(figure_bev(view), f"{prefix}_bev.png"),
            save_figure(figure_perspective(view), f"{prefix}_persp.png")]
