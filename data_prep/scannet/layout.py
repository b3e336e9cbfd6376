"""The official ScanNet v2 raw layout: scene folders, their files, and split membership."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

SPLITS = ("train", "val", "test")
LABELS_TSV = "scannetv2-labels.combined.tsv"


@dataclass
class SceneSource:
    """One scene to prepare. `error` is set (and `scene_dir` may be None) when the layout itself is
    wrong for this scene; `annotated` is True for `scans/` (test scenes in `scans_test/` have no
    segs/aggregation)."""

    scene_id: str
    split: Optional[str]
    scene_dir: Optional[Path]
    annotated: bool = True
    error: Optional[str] = None


def scene_files(scene_dir: Union[str, Path], scene_id: str) -> Dict[str, Path]:
    """Paths of a scene's raw files (`mesh`, `segs`, `aggregation`, `info`)."""
    d = Path(scene_dir)
    return {
        "mesh": d / f"{scene_id}_vh_clean_2.ply",
        "segs": d / f"{scene_id}_vh_clean_2.0.010000.segs.json",
        "aggregation": d / f"{scene_id}.aggregation.json",
        "info": d / f"{scene_id}.txt",
    }


def read_split_list(path: Union[str, Path]) -> List[str]:
    """Scene ids of a `scannetv2_<split>.txt` (one per line, any line ending, BOM or not; an id with an
    invisible character is an error showing it)."""
    from voxclip.utils.idlist import read_id_list

    return read_id_list(path)


def _folders(raw_root: Path, sub: str) -> Dict[str, Path]:
    d = raw_root / sub
    if not d.is_dir():
        return {}
    return {p.name: p for p in sorted(d.iterdir()) if p.is_dir() and not p.name.startswith(".")}


def discover_scenes(raw_root: Union[str, Path]) -> Tuple[List[SceneSource], Optional[str]]:
    """All scenes of RAW_ROOT with their split, sorted by id, and a note on how splits were chosen.

    With `RAW_ROOT/scannetv2_{train,val,test}.txt` present, splits come from those lists; a scene
    folder in no list, a scene in two lists, or a listed scene without folder becomes a
    `SceneSource` with `error` set (reported, never dropped). `scans_test/` scenes unlisted while
    no test list exists are test. Without any list: `scans/` -> train, `scans_test/` -> test.
    """
    raw_root = Path(raw_root)
    scans, scans_test = _folders(raw_root, "scans"), _folders(raw_root, "scans_test")
    lists = {s: raw_root / f"scannetv2_{s}.txt" for s in SPLITS}
    lists = {s: p for s, p in lists.items() if p.is_file()}
    out: Dict[str, SceneSource] = {}
    for sid in sorted(set(scans) & set(scans_test)):
        out[sid] = SceneSource(sid, None, None, error=f"{raw_root}: scene folder in both scans/ "
                                                     "and scans_test/")
    if not lists:
        note = (f"no scannetv2_{{train,val,test}}.txt in {raw_root}: "
                "scans/ -> train, scans_test/ -> test")
        for sid, d in scans.items():
            out.setdefault(sid, SceneSource(sid, "train", d, annotated=True))
        for sid, d in scans_test.items():
            out.setdefault(sid, SceneSource(sid, "test", d, annotated=False))
        return [out[k] for k in sorted(out)], note
    note = "splits from " + ", ".join(p.name for p in lists.values())
    member: Dict[str, List[str]] = {}
    for split, path in lists.items():
        for sid in read_split_list(path):
            member.setdefault(sid, [])
            if split not in member[sid]:
                member[sid].append(split)
    for sid in sorted(set(member) | set(scans) | set(scans_test)):
        if sid in out:
            continue
        splits = member.get(sid, [])
        d = scans.get(sid) or scans_test.get(sid)
        annotated = sid in scans
        if len(splits) > 1:
            err = f"{raw_root}: scene listed in several split files ({', '.join(splits)})"
            out[sid] = SceneSource(sid, None, d, annotated, error=err)
        elif d is None:
            err = (f"{lists[splits[0]]}: listed scene has no folder scans/{sid} or "
                   f"scans_test/{sid}")
            out[sid] = SceneSource(sid, splits[0], None, error=err)
        elif splits:
            out[sid] = SceneSource(sid, splits[0], d, annotated)
        elif not annotated and "test" not in lists:
            out[sid] = SceneSource(sid, "test", d, annotated=False)
        else:
            names = ", ".join(p.name for p in lists.values())
            err = f"{d}: scene folder is in no split list ({names})"
            out[sid] = SceneSource(sid, None, d, annotated, error=err)
    return [out[k] for k in sorted(out)], note
