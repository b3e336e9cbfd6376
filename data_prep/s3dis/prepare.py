"""Batch conversion of a raw S3DIS tree (the engine behind tools/prepare_s3dis.py)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from voxclip.utils.atomic import OutputWriteError
from data_prep.batch import ItemLockedError, default_workers, item_lock, note_kept_outputs, parse_shard, run_batch
from data_prep.scannet.writer import clean_stale_staging, write_scene

from .errors import S3DISError
from .index import ROOMS_DIR, rebuild_index
from .layout import RoomSource, discover_rooms
from .room import process_room

__all__ = ["PrepareResult", "default_workers", "parse_shard", "prepare", "select_rooms"]


@dataclass
class PrepareResult:
    """Outcome of one run: `failed` (room_id, one-line reason); `repairs` (room_id, what was
    repaired in its text files, e.g. the stray 0x10 of Area_5/hallway_6)."""

    prepared: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    failed: List[Tuple[str, str]] = field(default_factory=list)
    repairs: List[Tuple[str, str]] = field(default_factory=list)
    index: Dict = field(default_factory=dict)
    note: Optional[str] = None
    num_points: int = 0
    seconds: float = 0.0


def select_rooms(sources: Sequence[RoomSource], shard: Tuple[int, int] = (0, 1)) -> List[RoomSource]:
    """Every N-th room of the id-sorted list, from the I-th (shard I/N)."""
    chosen = sorted(sources, key=lambda s: s.room_id)
    i, n = shard
    return chosen[i::n]


def _prepare_one(src: RoomSource, rooms_out: str) -> Tuple[str, Optional[str], List[str], int]:
    """Process and write one room: (room_id, None or reason, repairs, num_points)."""
    try:
        with item_lock(Path(rooms_out).parent, src.room_id):
            clean_stale_staging(rooms_out, src.room_id)
            room = process_room(src.room_dir, src.area, src.room)
            write_scene(rooms_out, room)
        return src.room_id, None, room.meta["repaired_lines"], room.meta["num_points"]
    except (S3DISError, OutputWriteError, ItemLockedError) as err:  # messages name the file already
        return src.room_id, str(err), [], 0
    except Exception as err:  # a batch run reports everything and carries on
        return src.room_id, f"{type(err).__name__}: {' '.join(str(err).split())}", [], 0


def prepare(raw_root: Union[str, Path], out_root: Union[str, Path],
            areas: Optional[Sequence[int]] = None, workers: int = 1, overwrite: bool = False,
            shard: Tuple[int, int] = (0, 1), progress: bool = True,
            log: Callable[[str], None] = print) -> PrepareResult:
    """Convert the rooms of the selected areas of RAW into OUT and rebuild the index.

    Finished rooms (meta.json present) are skipped unless `overwrite`. Room failures are
    collected in the result, never raised; a RAW without Area_N folders raises FileNotFoundError.
    """
    t0 = time.perf_counter()
    raw_root, out_root = Path(raw_root), Path(out_root)
    if not raw_root.is_dir():
        raise FileNotFoundError(f"{raw_root}: RAW is not a directory")
    sources, note = discover_rooms(raw_root, areas)
    res = PrepareResult(note=note)
    if note:
        log(f"note: {note}")
    chosen = select_rooms(sources, shard)
    rooms_out = out_root / ROOMS_DIR
    todo: List[RoomSource] = []
    for s in chosen:
        if s.error:
            res.failed.append((s.room_id, s.error))
        elif not overwrite and (rooms_out / s.room_id / "meta.json").is_file():
            res.skipped.append(s.room_id)
        else:
            todo.append(s)
    log(f"{len(chosen)} rooms selected (shard {shard[0]}/{shard[1]}): {len(todo)} to prepare, "
        f"{len(res.skipped)} already finished, {len(res.failed)} broken in the layout")
    jobs = [(s, str(rooms_out)) for s in todo]
    for (src, _), out, crash in run_batch(_prepare_one, jobs, workers, progress, "prepare_s3dis", "room"):
        rid, reason, repairs, n = out if crash is None else (src.room_id, crash, [], 0)
        if reason is None:
            res.prepared.append(rid)
            res.num_points += n
        else:
            res.failed.append((rid, reason))
        res.repairs += [(rid, r) for r in repairs]
    res.failed = note_kept_outputs(res.failed, rooms_out)
    res.index, problems = rebuild_index(out_root)
    res.failed.extend(problems)
    res.failed.sort()
    res.prepared.sort()
    res.repairs.sort()
    res.seconds = time.perf_counter() - t0
    return res
