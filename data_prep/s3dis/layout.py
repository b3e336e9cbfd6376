"""The Stanford3dDataset_v1.2(_Aligned_Version) raw layout: RAW/Area_N/<room>/Annotations/*.txt."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

RELEASE_DIRS = ("Stanford3dDataset_v1.2_Aligned_Version", "Stanford3dDataset_v1.2")
_AREA_RE = re.compile(r"^Area_(\d+)$")


@dataclass
class RoomSource:
    """One room to prepare: id `Area_<N>_<room>`. `error` is set when the layout itself is wrong
    (then `room_dir` may be None and `area`/`room` partial)."""

    room_id: str
    area: int
    room: str
    room_dir: Optional[Path]
    error: Optional[str] = None


def room_id(area: int, room: str) -> str:
    return f"Area_{area}_{room}"


def _area_dirs(root: Path) -> dict:
    out = {}
    if root.is_dir():
        for p in root.iterdir():
            m = _AREA_RE.match(p.name)
            if m and p.is_dir():
                out[int(m.group(1))] = p
    return out


def find_release_root(raw_root: Union[str, Path]) -> Tuple[Path, Optional[str]]:
    """RAW itself when it holds Area_N folders, else the release folder inside it (with a note)."""
    raw_root = Path(raw_root)
    if _area_dirs(raw_root):
        return raw_root, None
    for name in RELEASE_DIRS:
        if _area_dirs(raw_root / name):
            return raw_root / name, f"using {raw_root / name} (the release folder inside RAW)"
    return raw_root, None


def discover_rooms(raw_root: Union[str, Path], areas: Optional[Sequence[int]] = None
                   ) -> Tuple[List[RoomSource], Optional[str]]:
    """Every room of the selected areas (default: all Area_N folders), sorted by id, and a note.

    Problems become error entries (reported, never dropped): a requested area without folder, an
    area folder without rooms, a room folder without `Annotations/`. Hidden entries are ignored.
    """
    root, note = find_release_root(raw_root)
    found = _area_dirs(root)
    if not found:
        raise FileNotFoundError(f"{raw_root}: no Area_<N> folders (expected the "
                                f"Stanford3dDataset_v1.2_Aligned_Version layout, docs/s3dis.md)")
    wanted = sorted(set(int(a) for a in areas)) if areas else sorted(found)
    out: List[RoomSource] = []
    for area in wanted:
        adir = found.get(area)
        if adir is None:
            out.append(RoomSource(f"Area_{area}", area, "", None,
                                  error=f"{root / f'Area_{area}'}: no such area folder"))
            continue
        rooms = sorted(p for p in adir.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not rooms:
            out.append(RoomSource(f"Area_{area}", area, "", adir, error=f"{adir}: no room folders"))
        for rdir in rooms:
            err = None if (rdir / "Annotations").is_dir() else f"{rdir}: no Annotations/ folder"
            out.append(RoomSource(room_id(area, rdir.name), area, rdir.name, rdir, error=err))
    out.sort(key=lambda s: (s.area, s.room_id))
    return out, note
