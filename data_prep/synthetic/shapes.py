"""Furniture as unions of boxes, in an object-local frame.

Local frame: metres, z up from the floor (z = 0), footprint centred on the origin, the object's
front facing +y and its back at -y (wall objects put their back against a wall). Each class has
its own silhouette, size range and colours so that a detector can tell them apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np


@dataclass
class Part:
    """One axis-aligned box of an object (local frame): corners ``lo``, ``hi`` (3,), rgb 0-255."""

    lo: np.ndarray
    hi: np.ndarray
    color: np.ndarray


@dataclass
class Furniture:
    kind: str
    parts: List[Part] = field(default_factory=list)

    @property
    def lo(self) -> np.ndarray:
        return np.min([p.lo for p in self.parts], axis=0)

    @property
    def hi(self) -> np.ndarray:
        return np.max([p.hi for p in self.parts], axis=0)

    def add(self, lo: Sequence[float], hi: Sequence[float], color: np.ndarray) -> None:
        self.parts.append(Part(np.asarray(lo, float), np.asarray(hi, float), np.asarray(color)))


def _col(rng: np.random.Generator, base: Sequence[int], jitter: float = 14.0) -> np.ndarray:
    return np.clip(np.asarray(base, float) + rng.uniform(-jitter, jitter, 3), 0, 255)


def _legs(f: Furniture, sx: float, sy: float, h: float, t: float, inset: float, color) -> None:
    for x in (-sx / 2 + inset, sx / 2 - inset - t):
        for y in (-sy / 2 + inset, sy / 2 - inset - t):
            f.add((x, y, 0), (x + t, y + t, h), color)


def bed(rng):
    f = Furniture("bed")
    w, l = rng.uniform(1.0, 1.6), rng.uniform(1.95, 2.15)
    frame, head = _col(rng, (115, 75, 45)), _col(rng, (85, 55, 35))
    mat = _col(rng, (232, 230, 240), 8)
    y0 = -l / 2 + 0.08
    f.add((-w / 2, y0, 0), (w / 2, l / 2, 0.3), frame)
    f.add((-w / 2 + 0.03, y0 + 0.03, 0.3), (w / 2 - 0.03, l / 2 - 0.03, 0.55), mat)
    f.add((-w / 2, -l / 2, 0), (w / 2, y0, rng.uniform(0.95, 1.15)), head)
    return f


def chair(rng):
    f = Furniture("chair")
    w, d, h = rng.uniform(0.44, 0.52), rng.uniform(0.44, 0.52), rng.uniform(0.43, 0.48)
    seat, legs = _col(rng, (185, 45, 40), 20), _col(rng, (40, 40, 45), 8)
    _legs(f, w, d, h - 0.05, 0.04, 0.01, legs)
    f.add((-w / 2, -d / 2, h - 0.05), (w / 2, d / 2, h), seat)
    f.add((-w / 2, -d / 2, h), (w / 2, -d / 2 + 0.05, h + rng.uniform(0.4, 0.5)), seat)
    return f


def sofa(rng):
    f = Furniture("sofa")
    w, d = rng.uniform(1.7, 2.3), rng.uniform(0.85, 0.98)
    c = _col(rng, (60, 90, 155), 20)
    arm = 0.18
    f.add((-w / 2 + arm, -d / 2 + 0.2, 0), (w / 2 - arm, d / 2, 0.42), c)
    f.add((-w / 2, -d / 2, 0), (w / 2, -d / 2 + 0.2, rng.uniform(0.8, 0.9)), c)
    for x in (-w / 2, w / 2 - arm):
        f.add((x, -d / 2 + 0.2, 0), (x + arm, d / 2, 0.62), c)
    return f


def table(rng):
    f = Furniture("table")
    w, d, h = rng.uniform(1.2, 1.8), rng.uniform(0.75, 0.95), rng.uniform(0.72, 0.77)
    top, legs = _col(rng, (165, 115, 60)), _col(rng, (120, 80, 40))
    _legs(f, w, d, h - 0.04, 0.06, 0.05, legs)
    f.add((-w / 2, -d / 2, h - 0.04), (w / 2, d / 2, h), top)
    return f


def desk(rng):
    f = Furniture("desk")
    w, d, h = rng.uniform(1.1, 1.5), rng.uniform(0.6, 0.72), rng.uniform(0.72, 0.76)
    top, body = _col(rng, (215, 215, 205), 8), _col(rng, (150, 150, 160), 10)
    f.add((-w / 2, -d / 2, h - 0.03), (w / 2, d / 2, h), top)
    f.add((w / 2 - 0.42, -d / 2, 0), (w / 2, d / 2 - 0.02, h - 0.03), body)  # drawer pedestal
    f.add((-w / 2, -d / 2, 0), (-w / 2 + 0.03, d / 2 - 0.02, h - 0.03), body)  # side panel
    f.add((-w / 2 + 0.03, -d / 2, h - 0.45), (w / 2 - 0.42, -d / 2 + 0.02, h - 0.03), body)
    return f


def cabinet(rng):
    f = Furniture("cabinet")
    w, d, h = rng.uniform(0.6, 1.2), rng.uniform(0.45, 0.6), rng.uniform(0.8, 1.0)
    body, handle = _col(rng, (175, 140, 95)), _col(rng, (205, 205, 210), 5)
    f.add((-w / 2, -d / 2, 0.08), (w / 2, d / 2, h), body)
    f.add((-w / 2 + 0.04, -d / 2, 0), (w / 2 - 0.04, d / 2 - 0.05, 0.08), _col(rng, (60, 45, 35)))
    for x in (-0.08, 0.06):
        f.add((x, d / 2, h - 0.3), (x + 0.02, d / 2 + 0.03, h - 0.12), handle)
    return f


def bookshelf(rng):
    f = Furniture("bookshelf")
    w, d, h = rng.uniform(0.8, 1.2), rng.uniform(0.3, 0.4), rng.uniform(1.6, 2.0)
    wood, t = _col(rng, (100, 62, 32)), 0.03
    f.add((-w / 2, -d / 2, 0), (-w / 2 + t, d / 2, h), wood)
    f.add((w / 2 - t, -d / 2, 0), (w / 2, d / 2, h), wood)
    f.add((-w / 2 + t, -d / 2, 0), (w / 2 - t, -d / 2 + 0.02, h), wood)  # back
    n = int(h // 0.38)
    for k in range(n + 1):
        z = 0.05 + k * (h - 0.05 - t) / n
        f.add((-w / 2 + t, -d / 2 + 0.02, z), (w / 2 - t, d / 2, z + t), wood)
        if k < n:  # a row of books standing on the shelf
            x = -w / 2 + t + 0.02
            while x < w / 2 - t - 0.15 and rng.random() < 0.85:
                bw = rng.uniform(0.05, 0.12)
                top = z + t + rng.uniform(0.18, 0.28)
                f.add((x, -d / 2 + 0.04, z + t), (x + bw, d / 2 - 0.05, top),
                      rng.uniform(30, 230, 3))
                x += bw + 0.005
    f.add((-w / 2 + t, -d / 2 + 0.02, 0), (w / 2 - t, d / 2, 0.05), wood)  # plinth
    return f


def toilet(rng):
    f = Furniture("toilet")
    white = _col(rng, (242, 242, 240), 6)
    d = rng.uniform(0.62, 0.72)
    f.add((-0.13, -d / 2 + 0.18, 0), (0.13, d / 2 - 0.12, 0.3), white)  # pedestal
    f.add((-0.19, -d / 2 + 0.18, 0.3), (0.19, d / 2, 0.42), white)  # bowl and seat
    f.add((-0.22, -d / 2, 0.05), (0.22, -d / 2 + 0.18, rng.uniform(0.75, 0.82)), white)  # tank
    return f


def bathtub(rng):
    f = Furniture("bathtub")
    w, d, h, t = rng.uniform(1.5, 1.75), rng.uniform(0.7, 0.8), rng.uniform(0.5, 0.6), 0.08
    outer, inner = _col(rng, (236, 236, 230), 6), _col(rng, (215, 228, 235), 6)
    f.add((-w / 2 + t, -d / 2 + t, 0), (w / 2 - t, d / 2 - t, 0.1), inner)  # basin bottom
    f.add((-w / 2, -d / 2, 0), (w / 2, -d / 2 + t, h), outer)
    f.add((-w / 2, d / 2 - t, 0), (w / 2, d / 2, h), outer)
    f.add((-w / 2, -d / 2 + t, 0), (-w / 2 + t, d / 2 - t, h), outer)
    f.add((w / 2 - t, -d / 2 + t, 0), (w / 2, d / 2 - t, h), outer)
    return f


def garbagebin(rng):
    f = Furniture("garbagebin")
    w, d, h, t = rng.uniform(0.3, 0.4), rng.uniform(0.25, 0.35), rng.uniform(0.4, 0.6), 0.02
    c = _col(rng, (50, 125, 65), 20)
    f.add((-w / 2, -d / 2, 0), (w / 2, -d / 2 + t, h), c)
    f.add((-w / 2, d / 2 - t, 0), (w / 2, d / 2, h), c)
    f.add((-w / 2, -d / 2 + t, 0), (-w / 2 + t, d / 2 - t, h), c)
    f.add((w / 2 - t, -d / 2 + t, 0), (w / 2, d / 2 - t, h), c)
    f.add((-w / 2 + t, -d / 2 + t, 0), (w / 2 - t, d / 2 - t, 0.03), _col(rng, (30, 30, 30)))
    return f


def refrigerator(rng):
    f = Furniture("refrigerator")
    w, d, h = rng.uniform(0.65, 0.85), rng.uniform(0.62, 0.72), rng.uniform(1.7, 1.95)
    body, door = _col(rng, (208, 213, 220), 6), _col(rng, (222, 226, 232), 6)
    f.add((-w / 2, -d / 2, 0), (w / 2, d / 2 - 0.04, h), body)
    split = h * 0.65
    f.add((-w / 2, d / 2 - 0.04, 0.05), (w / 2, d / 2, split - 0.01), door)
    f.add((-w / 2, d / 2 - 0.04, split + 0.01), (w / 2, d / 2, h - 0.02), door)
    f.add((w / 2 - 0.08, d / 2, split - 0.45), (w / 2 - 0.05, d / 2 + 0.05, split - 0.1), body)
    return f


def door(rng):
    f = Furniture("door")
    w, h, dep = rng.uniform(0.85, 0.95), rng.uniform(2.0, 2.1), 0.12
    leaf, trim = _col(rng, (145, 100, 60)), _col(rng, (235, 232, 225), 6)
    f.add((-w / 2, -dep / 2, 0), (-w / 2 + 0.08, dep / 2, h + 0.08), trim)
    f.add((w / 2 - 0.08, -dep / 2, 0), (w / 2, dep / 2, h + 0.08), trim)
    f.add((-w / 2 + 0.08, -dep / 2, h), (w / 2 - 0.08, dep / 2, h + 0.08), trim)
    f.add((-w / 2 + 0.08, -dep / 2, 0), (w / 2 - 0.08, -dep / 2 + 0.05, h), leaf)
    f.add((w / 2 - 0.2, -dep / 2 + 0.05, 0.95), (w / 2 - 0.14, -dep / 2 + 0.1, 1.0), trim)
    return f


def window(rng):
    f = Furniture("window")
    w, h, z0, dep = rng.uniform(0.9, 1.6), rng.uniform(1.0, 1.3), rng.uniform(0.8, 1.0), 0.14
    frame, glass = _col(rng, (240, 240, 238), 5), _col(rng, (140, 185, 225), 12)
    f.add((-w / 2, -dep / 2, z0), (w / 2, dep / 2, z0 + 0.06), frame)  # sill
    f.add((-w / 2, -dep / 2, z0 + h - 0.06), (w / 2, dep / 2 - 0.04, z0 + h), frame)
    f.add((-w / 2, -dep / 2, z0), (-w / 2 + 0.06, dep / 2 - 0.04, z0 + h), frame)
    f.add((w / 2 - 0.06, -dep / 2, z0), (w / 2, dep / 2 - 0.04, z0 + h), frame)
    f.add((-w / 2 + 0.06, -dep / 2, z0 + 0.06), (w / 2 - 0.06, -dep / 2 + 0.02, z0 + h - 0.06),
          glass)
    return f


def picture(rng):
    f = Furniture("picture")
    w, h, z0, dep = rng.uniform(0.6, 1.1), rng.uniform(0.45, 0.8), rng.uniform(1.2, 1.45), 0.06
    frame = _col(rng, (35, 30, 28), 8)
    f.add((-w / 2, -dep / 2, z0), (w / 2, dep / 2 - 0.02, z0 + h), frame)
    f.add((-w / 2 + 0.05, dep / 2 - 0.02, z0 + 0.05), (w / 2 - 0.05, dep / 2, z0 + h - 0.05),
          rng.uniform(40, 240, 3))
    return f


def box(rng):
    f = Furniture("box")
    s = rng.uniform(0.25, 0.5, 3)
    f.add((-s[0] / 2, -s[1] / 2, 0), (s[0] / 2, s[1] / 2, s[2]), _col(rng, (185, 150, 100)))
    return f


def lamp(rng):
    f = Furniture("lamp")
    h = rng.uniform(1.3, 1.6)
    dark = _col(rng, (50, 50, 55), 6)
    f.add((-0.15, -0.15, 0), (0.15, 0.15, 0.03), dark)
    f.add((-0.015, -0.015, 0.03), (0.015, 0.015, h - 0.3), dark)
    f.add((-0.2, -0.2, h - 0.3), (0.2, 0.2, h), _col(rng, (250, 240, 205), 5))
    return f


def backpack(rng):
    f = Furniture("backpack")
    f.add((-0.16, -0.1, 0), (0.16, 0.1, rng.uniform(0.4, 0.5)), _col(rng, (40, 60, 110), 30))
    return f


# kind -> (raw categories it may be annotated as, placement, builder).
# placement: 'wall' = back against a wall, 'free' = anywhere, 'mounted' = on a wall surface.
CATALOG: Dict[str, Tuple[Tuple[str, ...], str, Callable[[np.random.Generator], Furniture]]] = {
    "bed": (("bed",), "wall", bed),
    "chair": (("chair", "office chair", "armchair"), "free", chair),
    "sofa": (("couch", "sofa"), "wall", sofa),
    "table": (("table", "coffee table"), "free", table),
    "desk": (("desk",), "wall", desk),
    "cabinet": (("cabinet", "kitchen cabinet", "file cabinet"), "wall", cabinet),
    "bookshelf": (("bookshelf", "bookshelves"), "wall", bookshelf),
    "toilet": (("toilet",), "wall", toilet),
    "bathtub": (("bathtub",), "wall", bathtub),
    "garbagebin": (("trash can", "recycling bin"), "free", garbagebin),
    "refrigerator": (("refrigerator",), "wall", refrigerator),
    "door": (("door",), "mounted", door),
    "window": (("window",), "mounted", window),
    "picture": (("picture",), "mounted", picture),
    "box": (("box",), "free", box),
    "lamp": (("lamp",), "free", lamp),
    "backpack": (("backpack",), "free", backpack),
}
FLOOR_DETECTION_KINDS = ("bed", "chair", "sofa", "table", "desk", "cabinet", "bookshelf",
                         "toilet", "bathtub", "garbagebin", "refrigerator")
MOUNTED_KINDS = ("door", "window", "picture")
CLUTTER_KINDS = ("box", "lamp", "backpack")
