"""Colours: one per class (matplotlib's tab20, then hsv for more), grey for ignored labels."""
from __future__ import annotations

import numpy as np

IGNORE_GREY = np.array([0.6, 0.6, 0.6])


def class_colors(num_classes: int) -> np.ndarray:
    """(K, 3) float RGB in [0, 1]; stable per class id."""
    from matplotlib import colormaps

    k = max(int(num_classes), 1)
    if k <= 20:
        return np.asarray(colormaps["tab20"](np.arange(k) % 20))[:, :3]
    return np.asarray(colormaps["hsv"](np.linspace(0, 1, k, endpoint=False)))[:, :3]


def label_colors(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(N, 3) float RGB for per-point labels; labels outside [0, K) (e.g. -1 ignore) are grey."""
    labels = np.asarray(labels, np.int64).reshape(-1)
    table = class_colors(num_classes)
    ok = (labels >= 0) & (labels < len(table))
    out = np.tile(IGNORE_GREY, (len(labels), 1))
    out[ok] = table[labels[ok]]
    return out


def rgb01(colors: np.ndarray | None, n: int) -> np.ndarray:
    """Point colours as (N, 3) float in [0, 1]: uint8 / 0..255 floats are scaled; None gives grey."""
    if colors is None:
        return np.tile(IGNORE_GREY, (n, 1))
    c = np.asarray(colors, np.float64).reshape(n, -1)[:, :3]
    if c.size and c.max() > 1.0:
        c = c / 255.0
    return np.clip(c, 0.0, 1.0)
