"""Batch conversion of a raw ScanNet v2 tree (the engine behind tools/prepare_scannet.py)."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from voxclip.utils.atomic import OutputWriteError
from data_prep.batch import ItemLockedError, item_lock, note_kept_outputs, parse_shard, run_batch  # noqa: F401  (parse_shard: re-exported)

from .errors import ScanNetError
from .index import rebuild_index
from .label_map import read_label_map
from .layout import LABELS_TSV, SceneSource, discover_scenes
from .scene import process_scene
from .writer import clean_stale_staging, write_scene

_LABEL_MAP: Optional[Dict[str, int]] = None  # per worker process, set by the pool initializer


@dataclass
class PrepareResult:
    """Outcome of one run; `failed` holds (scene_id, one-line reason)."""

    prepared: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    failed: List[Tuple[str, str]] = field(default_factory=list)
    index: Dict = field(default_factory=dict)
    note: Optional[str] = None
    seconds: float = 0.0
    warnings: List[str] = field(default_factory=list)


def select_scenes(sources: Sequence[SceneSource], scenes: Optional[Sequence[str]] = None,
                  split: Optional[str] = None, shard: Tuple[int, int] = (0, 1)
                  ) -> List[SceneSource]:
    """Filter by ids and split, then keep every N-th scene of the id-sorted list (shard I/N).

    Requested ids that do not exist become error entries, so they are reported like the rest.
    """
    by_id = {s.scene_id: s for s in sources}
    if scenes is not None:
        chosen = [by_id.get(sid) or SceneSource(sid, None, None, error=f"{sid}: no such scene in "
                                                "scans/ or scans_test/ (or the split lists)")
                  for sid in dict.fromkeys(scenes)]
    else:
        chosen = list(sources)
    if split is not None:  # keep broken entries of unknown split: they may belong to it
        chosen = [s for s in chosen if s.split == split or (s.split is None and s.error)]
    chosen.sort(key=lambda s: s.scene_id)
    i, n = shard
    return chosen[i::n]


def _init_worker(label_map: Optional[Dict[str, int]]) -> None:
    global _LABEL_MAP
    _LABEL_MAP = label_map


def _prepare_one(src: SceneSource, scans_out: str) -> Tuple[str, Optional[str]]:
    """Process and write one scene; returns (scene_id, None) or (scene_id, reason)."""
    try:
        with item_lock(Path(scans_out).parent, src.scene_id):
            clean_stale_staging(scans_out, src.scene_id)
            scene = process_scene(src.scene_dir, src.scene_id, _LABEL_MAP, annotated=src.annotated,
                                  split=src.split)
            write_scene(scans_out, scene)
        return src.scene_id, None
    except (ScanNetError, OutputWriteError, ItemLockedError) as err:  # messages name the file already
        return src.scene_id, str(err)
    except Exception as err:  # a batch run reports everything and carries on
        return src.scene_id, f"{type(err).__name__}: {' '.join(str(err).split())}"


def unaligned_warnings(scans_out: Path, prepared: Sequence[str]) -> List[str]:
    """One counted warning for annotated scenes whose `<id>.txt` has no axisAlignment (ScanNet gives one
    for every train/val scene): they were kept in their scan frame, which tilts their boxes."""
    unaligned = []
    for sid in prepared:
        meta = json.loads((scans_out / sid / "meta.json").read_text())
        if meta.get("annotated") and not meta.get("axis_alignment_in_file"):
            unaligned.append(sid)
    if not unaligned:
        return []
    shown = ", ".join(unaligned[:5]) + (f", ... {len(unaligned) - 5} more" if len(unaligned) > 5 else "")
    return [f"{len(unaligned)} annotated scene(s) have no axisAlignment in <id>.txt and were prepared "
            f"unaligned (scan frame): {shown}"]


def prepare(raw_root: Union[str, Path], out_root: Union[str, Path],
            scenes: Optional[Sequence[str]] = None, split: Optional[str] = None,
            workers: int = 1, labels_tsv: Optional[Union[str, Path]] = None,
            overwrite: bool = False, shard: Tuple[int, int] = (0, 1), progress: bool = True,
            log: Callable[[str], None] = print) -> PrepareResult:
    """Convert the selected scenes of RAW_ROOT into OUT_ROOT and rebuild the index.

    Finished scenes (meta.json present) are skipped unless `overwrite`. Scene failures are
    collected in the result, never raised; a missing/bad label tsv raises (it is needed by every
    annotated scene) before anything is written.
    """
    t0 = time.perf_counter()
    raw_root, out_root = Path(raw_root), Path(out_root)
    if not raw_root.is_dir():
        raise FileNotFoundError(f"{raw_root}: RAW_ROOT is not a directory")
    sources, note = discover_scenes(raw_root)
    res = PrepareResult(note=note)
    if note:
        log(f"note: {note}")
    chosen = select_scenes(sources, scenes, split, shard)
    scans_out = out_root / "scans"
    todo: List[SceneSource] = []
    for s in chosen:
        if s.error:
            res.failed.append((s.scene_id, s.error))
        elif not overwrite and (scans_out / s.scene_id / "meta.json").is_file():
            res.skipped.append(s.scene_id)
        else:
            todo.append(s)
    label_map = None
    if any(s.annotated for s in todo):
        label_map = read_label_map(Path(labels_tsv) if labels_tsv else raw_root / LABELS_TSV)
    log(f"{len(chosen)} scenes selected (shard {shard[0]}/{shard[1]}): {len(todo)} to prepare, "
        f"{len(res.skipped)} already finished, {len(res.failed)} broken in the layout")
    jobs = [(s, str(scans_out)) for s in todo]
    for (src, _), out, crash in run_batch(_prepare_one, jobs, workers, progress, "prepare_scannet", "scene",
                                          _init_worker, (label_map,)):
        sid, reason = out if crash is None else (src.scene_id, crash)
        (res.prepared.append(sid) if reason is None else res.failed.append((sid, reason)))
    res.failed = note_kept_outputs(res.failed, scans_out)
    res.warnings = unaligned_warnings(scans_out, res.prepared)
    res.index, problems = rebuild_index(out_root)
    res.failed.extend(problems)
    res.failed.sort()
    res.prepared.sort()
    res.seconds = time.perf_counter() - t0
    return res
