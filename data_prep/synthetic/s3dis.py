"""Synthetic S3DIS: rooms written in the Stanford3dDataset_v1.2_Aligned_Version layout.

``make_s3dis_demo`` writes, under ``out_root``::

    Area_<N>/<room>/<room>.txt                   whole room: every object's lines, concatenated
    Area_<N>/<room>/Annotations/<class>_<k>.txt  one file per object, lines `x y z r g b`

Rooms are boxes (ceiling, floor, four walls with a door and a window cut out) with a beam, a
column, tables, chairs, a sofa, a bookcase, a board, clutter and, in hallways, stairs (the
annotation class the benchmark maps to clutter), each sampled on its surfaces every `spacing`
metres with a class colour. Rooms sit at a random offset in their area's frame (coordinates not
starting at 0, some negative). ``Area_5/hallway_6/Annotations/ceiling_1.txt`` carries the
release's quirk: one line with a stray 0x10 byte inside a number. A hidden ``.DS_Store`` file
in Area_1 and in one Annotations/ folder stands for the macOS debris of real copies.

Room (area, name) of seed ``s`` is a pure function of (s, area, name): ``generate_room`` rebuilds
its ground truth (objects in file order, coordinates exactly as written) without the disk.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from voxclip.classes import S3DIS_SEG_CLASSES
from voxclip.utils.atomic import PathLike, atomic_write_bytes

NUM_AREAS = 6
ROOM_TYPES = ("office", "conferenceRoom", "hallway", "storage", "pantry", "lounge")
QUIRK_AREA, QUIRK_ROOM, QUIRK_FILE = 5, "hallway_6", "ceiling_1.txt"
QUIRK_BYTE = b"\x10"
DEFAULT_SPACING = 0.05

# base rgb per annotation class (stairs its own colour; labelled clutter)
_COLORS: Dict[str, Tuple[int, int, int]] = {
    "ceiling": (225, 225, 215), "floor": (120, 100, 80), "wall": (190, 185, 170),
    "beam": (160, 160, 175), "column": (175, 160, 140), "window": (120, 170, 210),
    "door": (140, 90, 50), "table": (200, 150, 90), "chair": (40, 40, 60), "sofa": (150, 40, 40),
    "bookcase": (100, 70, 40), "board": (245, 245, 250), "clutter": (90, 140, 90),
    "stairs": (110, 110, 110),
}
_LINE = "%.3f %.3f %.3f %d %d %d\n"


@dataclass
class SyntheticObject:
    """One annotation file: `<annotation_class>_<k>.txt`; xyz float64 exactly as written (whole
    millimetres, area frame), rgb uint8."""

    annotation_class: str
    k: int
    xyz: np.ndarray
    rgb: np.ndarray

    @property
    def file_name(self) -> str:
        return f"{self.annotation_class}_{self.k}.txt"

    @property
    def label(self) -> int:
        name = "clutter" if self.annotation_class == "stairs" else self.annotation_class
        return S3DIS_SEG_CLASSES.index(name)


@dataclass
class SyntheticRoom:
    """Ground truth of one room; `objects` in the prepare tool's order (class, then number)."""

    area: int
    room: str
    objects: List[SyntheticObject]
    quirk_line: Optional[int] = None  # 1-based line of QUIRK_FILE holding the stray byte

    @property
    def room_id(self) -> str:
        return f"Area_{self.area}_{self.room}"

    @property
    def xyz(self) -> np.ndarray:
        return np.concatenate([o.xyz for o in self.objects])

    @property
    def rgb(self) -> np.ndarray:
        return np.concatenate([o.rgb for o in self.objects])

    @property
    def segment(self) -> np.ndarray:
        return np.concatenate([np.full(len(o.xyz), o.label, np.int16) for o in self.objects])

    @property
    def instance(self) -> np.ndarray:
        return np.concatenate([np.full(len(o.xyz), i, np.int32)
                               for i, o in enumerate(self.objects, start=1)])


def room_names(num_rooms: int) -> List[Tuple[int, str]]:
    """(area, room name) of `num_rooms` rooms spread round-robin over Area_1..Area_6; Area_5's
    first room is hallway_6 (the quirk room)."""
    if num_rooms < 1:
        raise ValueError(f"num_rooms must be >= 1, got {num_rooms}")
    out: List[Tuple[int, str]] = []
    counts: Dict[Tuple[int, str], int] = {}
    for i in range(num_rooms):
        area, j = i % NUM_AREAS + 1, i // NUM_AREAS
        if area == QUIRK_AREA and j == 0:
            out.append((area, QUIRK_ROOM))
            continue
        kind = ROOM_TYPES[(i + j) % len(ROOM_TYPES)]
        counts[(area, kind)] = counts.get((area, kind), 0) + 1
        out.append((area, f"{kind}_{counts[(area, kind)]}"))
    return out


# ---- geometry ------------------------------------------------------------------------------
def _rect(rng, p0, u, v, spacing: float, holes=()) -> np.ndarray:
    """Points on the parallelogram p0 + a u + b v (a, b in [0, 1]) every ~`spacing` metres, with
    in-plane jitter; `holes` are (a0, a1, b0, b1) ranges left empty."""
    p0, u, v = (np.asarray(x, np.float64) for x in (p0, u, v))
    na = max(int(np.ceil(np.linalg.norm(u) / spacing)), 1)
    nb = max(int(np.ceil(np.linalg.norm(v) / spacing)), 1)
    a, b = np.meshgrid((np.arange(na) + 0.5) / na, (np.arange(nb) + 0.5) / nb, indexing="ij")
    a = np.clip(a.ravel() + rng.uniform(-0.3, 0.3, a.size) / na, 0, 1)
    b = np.clip(b.ravel() + rng.uniform(-0.3, 0.3, b.size) / nb, 0, 1)
    keep = np.ones(a.size, bool)
    for a0, a1, b0, b1 in holes:
        keep &= ~((a >= a0) & (a <= a1) & (b >= b0) & (b <= b1))
    return p0 + a[keep, None] * u + b[keep, None] * v


def _box(rng, lo, size, spacing: float, bottom: bool = False, top: bool = True) -> np.ndarray:
    """Points on the faces of the axis-aligned box [lo, lo + size]."""
    lo = np.asarray(lo, np.float64)
    ex, ey, ez = np.array([size[0], 0, 0]), np.array([0, size[1], 0]), np.array([0, 0, size[2]])
    faces = [_rect(rng, lo, ex, ez, spacing), _rect(rng, lo + ey, ex, ez, spacing),
             _rect(rng, lo, ey, ez, spacing), _rect(rng, lo + ex, ey, ez, spacing)]
    if top:
        faces.append(_rect(rng, lo + ez, ex, ey, spacing))
    if bottom:
        faces.append(_rect(rng, lo, ex, ey, spacing))
    return np.concatenate(faces)


def _room_geometry(rng: np.random.Generator, kind: str, spacing: float
                   ) -> List[Tuple[str, np.ndarray]]:
    """(annotation class, points in the room frame) of every object of one room."""
    L, W, H = rng.uniform(4.0, 7.0), rng.uniform(3.5, 6.0), rng.uniform(2.8, 3.2)
    if kind == "hallway":
        L, W = rng.uniform(8.0, 11.0), rng.uniform(2.0, 2.6)
    s = spacing
    objs: List[Tuple[str, np.ndarray]] = [
        ("ceiling", _rect(rng, (0, 0, H), (L, 0, 0), (0, W, 0), s)),
        ("floor", _rect(rng, (0, 0, 0), (L, 0, 0), (0, W, 0), s)),
    ]
    # door in the wall y=0, window in the wall y=W (holes cut out of the walls)
    dw, dh = 0.9, 2.1
    d0 = rng.uniform(0.3, L - dw - 0.3)
    ww, wz0, wz1 = min(1.4, L - 1.0), 0.9, 2.1
    w0 = rng.uniform(0.3, L - ww - 0.3)
    objs += [
        ("wall", _rect(rng, (0, 0, 0), (L, 0, 0), (0, 0, H), s,
                       holes=[(d0 / L, (d0 + dw) / L, 0, dh / H)])),
        ("wall", _rect(rng, (0, W, 0), (L, 0, 0), (0, 0, H), s,
                       holes=[(w0 / L, (w0 + ww) / L, wz0 / H, wz1 / H)])),
        ("wall", _rect(rng, (0, 0, 0), (0, W, 0), (0, 0, H), s)),
        ("wall", _rect(rng, (L, 0, 0), (0, W, 0), (0, 0, H), s)),
        ("door", _rect(rng, (d0, 0.03, 0), (dw, 0, 0), (0, 0, dh), s)),
        ("window", _rect(rng, (w0, W + 0.05, wz0), (ww, 0, 0), (0, 0, wz1 - wz0), s)),
    ]
    if rng.random() < 0.7:  # beam across the room under the ceiling
        y = rng.uniform(0.5, W - 0.8)
        objs.append(("beam", _box(rng, (0, y, H - 0.4), (L, 0.3, 0.4), s, bottom=True, top=False)))
    if rng.random() < 0.7:  # column in the corner x=L, y=W
        objs.append(("column", _box(rng, (L - 0.45, W - 0.45, 0), (0.45, 0.45, H), s, top=False)))
    if kind == "hallway":
        if rng.random() < 0.8:  # a flight of stairs at the far end
            steps = [_box(rng, (L - 1.6 + 0.3 * i, 0.3, 0), (0.3, 1.2, 0.18 * (i + 1)), s)
                     for i in range(4)]
            objs.append(("stairs", np.concatenate(steps)))
        for _ in range(int(rng.integers(1, 3))):
            objs.append(("clutter", _box(rng, (rng.uniform(0.5, L - 2.5), rng.uniform(0.2, W - 0.6), 0),
                                         rng.uniform(0.2, 0.5, 3), s)))
        return objs
    # furniture
    tx, ty = rng.uniform(1.0, L - 2.6), rng.uniform(1.0, max(W - 2.0, 1.05))
    tl, td = rng.uniform(1.2, 1.6), rng.uniform(0.7, 0.9)
    if kind in ("office", "conferenceRoom", "pantry", "lounge") or rng.random() < 0.5:
        legs = [_box(rng, (tx + dx, ty + dy, 0), (0.05, 0.05, 0.72), s, top=False)
                for dx in (0.05, tl - 0.1) for dy in (0.05, td - 0.1)]
        objs.append(("table", np.concatenate([_box(rng, (tx, ty, 0.72), (tl, td, 0.04), s, bottom=True)]
                                             + legs)))
        for _ in range(int(rng.integers(1, 4))):  # clutter on the table
            objs.append(("clutter", _box(rng, (tx + rng.uniform(0.1, tl - 0.4), ty + rng.uniform(0.1, td - 0.3),
                                               0.76), rng.uniform(0.1, 0.25, 3), s)))
        n_chairs = int(rng.integers(1, 5 if kind == "conferenceRoom" else 3))
        for c in range(n_chairs):
            cx, cy = tx + 0.1 + c * 0.55, ty - 0.55
            seat = _box(rng, (cx, cy, 0.42), (0.45, 0.45, 0.05), s, bottom=True)
            back = _rect(rng, (cx, cy, 0.47), (0.45, 0, 0), (0, 0, 0.45), s)
            leg = _box(rng, (cx + 0.2, cy + 0.2, 0), (0.05, 0.05, 0.42), s, top=False)
            objs.append(("chair", np.concatenate([seat, back, leg])))
    if kind in ("lounge", "conferenceRoom") or rng.random() < 0.3:
        sx = rng.uniform(0.3, L - 2.3)
        objs.append(("sofa", np.concatenate([
            _box(rng, (sx, W - 1.0, 0), (2.0, 0.9, 0.45), s),
            _box(rng, (sx, W - 0.3, 0.45), (2.0, 0.2, 0.4), s)])))
    if kind in ("office", "storage") or rng.random() < 0.4:
        by = rng.uniform(0.2, W - 1.2)
        shelves = [_rect(rng, (0.02, by, z), (0.33, 0, 0), (0, 0.9, 0), s) for z in (0.5, 1.0, 1.5)]
        objs.append(("bookcase", np.concatenate([_box(rng, (0.0, by, 0), (0.35, 0.9, 2.0), s)] + shelves)))
    if kind in ("office", "conferenceRoom") or rng.random() < 0.3:
        objs.append(("board", _rect(rng, (L - 0.02, rng.uniform(0.3, W - 1.8), 0.9), (0, 1.5, 0),
                                    (0, 0, 1.1), s)))
    if rng.random() < 0.6:
        objs.append(("clutter", _box(rng, (rng.uniform(0.5, L - 1.0), rng.uniform(0.5, W - 1.0), 0),
                                     rng.uniform(0.2, 0.6, 3), s)))
    return objs


def _room_rng(seed: int, area: int, room: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(area),
                                                         zlib.crc32(room.encode())]))


def generate_room(area: int, room: str, seed: int = 0, spacing: float = DEFAULT_SPACING
                  ) -> SyntheticRoom:
    """Ground truth of room `room` of Area_`area` as ``make_s3dis_demo(..., seed)`` writes it."""
    if not spacing > 0:
        raise ValueError(f"spacing must be > 0, got {spacing}")
    rng = _room_rng(seed, area, room)
    kind = room.rsplit("_", 1)[0]
    geometry = _room_geometry(rng, kind, spacing)
    offset = np.array([rng.uniform(-20, 20), rng.uniform(-20, 20), rng.uniform(-0.5, 1.0)])
    counts: Dict[str, int] = {}
    objects = []
    for cls, pts in geometry:
        counts[cls] = counts.get(cls, 0) + 1
        pts = pts + offset + rng.normal(0, 0.003, pts.shape)  # scanner noise
        xyz = np.round(pts * 1000.0) / 1000.0  # whole millimetres: "%.3f" writes them exactly
        base = np.asarray(_COLORS[cls], np.float64)
        rgb = np.clip(np.round(base + rng.normal(0, 8, (len(pts), 3))), 0, 255).astype(np.uint8)
        objects.append(SyntheticObject(cls, counts[cls], xyz, rgb))
    objects.sort(key=lambda o: (o.annotation_class, o.k))
    quirk = None
    if (area, room) == (QUIRK_AREA, QUIRK_ROOM):
        ceiling = next(o for o in objects if o.file_name == QUIRK_FILE)
        quirk = int(rng.integers(1, len(ceiling.xyz) + 1))
    return SyntheticRoom(area, room, objects, quirk)


def format_lines(xyz: np.ndarray, rgb: np.ndarray) -> bytes:
    """`x y z r g b` lines (xyz "%.3f", rgb integers), as in the release."""
    rows = np.concatenate([xyz, rgb.astype(np.float64)], axis=1)
    return ((_LINE * len(rows)) % tuple(rows.ravel().tolist())).encode("ascii")


def _with_quirk(text: bytes, line: int) -> bytes:
    """Put QUIRK_BYTE inside the first number of 1-based `line` (after its first digit)."""
    lines = text.split(b"\n")
    target = lines[line - 1]
    i = next(j for j, c in enumerate(target) if chr(c).isdigit()) + 1
    lines[line - 1] = target[:i] + QUIRK_BYTE + target[i:]
    return b"\n".join(lines)


def write_room(out_root: PathLike, room: SyntheticRoom) -> Path:
    """Write one room's folder (annotation files, then the whole-room text)."""
    rdir = Path(out_root) / f"Area_{room.area}" / room.room
    whole = []
    for obj in room.objects:
        text = format_lines(obj.xyz, obj.rgb)
        whole.append(text)
        if room.quirk_line is not None and obj.file_name == QUIRK_FILE:
            text = _with_quirk(text, room.quirk_line)
        atomic_write_bytes(rdir / "Annotations" / obj.file_name, text)
    atomic_write_bytes(rdir / f"{room.room}.txt", b"".join(whole))
    return rdir


def make_s3dis_demo(out_root: PathLike, num_rooms: int = 12, seed: int = 0,
                    spacing: float = DEFAULT_SPACING, rooms: Optional[Sequence[Tuple[int, str]]] = None,
                    progress: bool = False) -> List[str]:
    """Write `num_rooms` synthetic rooms (or the given (area, name) `rooms`) under `out_root`;
    returns their ids `Area_<N>_<room>`. Same seed, same bytes."""
    out_root = Path(out_root)
    chosen = list(rooms) if rooms is not None else room_names(num_rooms)
    ids = []
    for i, (area, name) in enumerate(chosen):
        room = generate_room(area, name, seed, spacing)
        rdir = write_room(out_root, room)
        if i == 0:  # macOS debris the readers must ignore
            atomic_write_bytes(rdir / "Annotations" / ".DS_Store", b"\x00\x00\x00\x01Bud1")
        ids.append(room.room_id)
        if progress:
            print(f"[s3dis] {room.room_id}: {len(room.xyz)} points, {len(room.objects)} objects")
    if (out_root / "Area_1").is_dir():
        atomic_write_bytes(out_root / "Area_1" / ".DS_Store", b"\x00\x00\x00\x01Bud1")
    return ids
