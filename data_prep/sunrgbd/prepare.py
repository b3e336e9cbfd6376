"""Plan and run the SUN RGB-D conversion: layout detection, ids, splits, sharding, workers."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

from data_prep.batch import ItemLockedError, die_with_parent, item_lock
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SunrgbdError
from .export import discover_export_ids, find_export_root, read_export_sample, read_export_split
from .output import build_index, is_done, write_sample
from .raw import (META_CANDIDATES, SPLIT_CANDIDATES, discover_raw_folders, find_first,
                  find_sunrgbd_dir, read_meta_order, read_raw_sample, read_raw_split)


@dataclass(frozen=True)
class Task:
    sample_id: str
    layout: str  # "raw" | "export"
    source: str  # raw: image folder; export: sunrgbd_trainval root
    split: str | None


@dataclass
class Plan:
    layout: str
    tasks: list[Task]
    split_source: list[str]
    warnings: list[str] = field(default_factory=list)


@dataclass
class Result:
    sample_id: str
    status: str  # "done" | "skipped" | "failed"
    message: str = ""


def detect_layout(root: str | os.PathLike, layout: str = "auto") -> str:
    """'export' when ``depth/ calib/ label/`` exist (in root or root/sunrgbd_trainval), else 'raw'
    when image folders (with intrinsics.txt) exist; otherwise a clear error."""
    if layout in ("raw", "export"):
        return layout
    if layout != "auto":
        raise ValueError(f"unknown layout {layout!r} (auto, raw, export)")
    if find_export_root(root) is not None:
        return "export"
    sun = find_sunrgbd_dir(root)
    if sun.is_dir() and any(True for _ in sun.rglob("intrinsics.txt")):
        return "raw"
    raise SunrgbdError(root, "neither an export (depth/, calib/, label/) nor raw SUN RGB-D "
                             "image folders (with intrinsics.txt) found")


def plan_raw(root: str | os.PathLike, split_file: str | None = None) -> Plan:
    """Tasks for every raw image folder. Ids are the export's ``%06d`` numbers when
    ``SUNRGBDMeta3DBB_v2.mat`` is found (its order), else the folder path with '/' -> '__'."""
    root = Path(root)
    sun = find_sunrgbd_dir(root)
    if not sun.is_dir():
        raise SunrgbdError(sun, "raw SUN RGB-D folder not found")
    keys = discover_raw_folders(sun)
    warnings, sources = [], []
    split_path = Path(split_file) if split_file else (find_first(root, SPLIT_CANDIDATES)
                                                       or find_first(sun, SPLIT_CANDIDATES))
    split = {}
    if split_path is not None:
        split = read_raw_split(split_path)
        sources.append(str(split_path))
        missing = sorted(set(split) - set(keys))
        if missing:
            warnings.append(f"{len(missing)} folders listed in {split_path} are not on disk "
                            f"(first: {missing[0]})")
    else:
        warnings.append(f"no allsplit.mat found under {root}: samples get no train/val split")
    meta_path = find_first(root, META_CANDIDATES) or find_first(sun, META_CANDIDATES)
    numbering = {}
    if meta_path is not None:
        numbering = {key: f"{i + 1:06d}" for i, key in enumerate(read_meta_order(meta_path))}
        sources.append(str(meta_path))
    unnumbered = 0
    tasks = []
    for key in keys:
        sid = numbering.get(key)
        if sid is None:
            unnumbered += bool(numbering)
            sid = key.replace("/", "__")
        tasks.append(Task(sid, "raw", str(sun / key), split.get(key)))
    if unnumbered:
        warnings.append(f"{unnumbered} folders are not in {meta_path}: ids are their paths")
    if split:
        unsplit = sum(t.split is None for t in tasks)
        if unsplit:
            warnings.append(f"{unsplit} folders are in no split of {split_path}")
    return Plan("raw", sorted(tasks, key=lambda t: t.sample_id), sources, warnings)


def plan_export(root: str | os.PathLike) -> Plan:
    export_root = find_export_root(root)
    if export_root is None:
        raise SunrgbdError(root, "no export layout (depth/, calib/, label/) found")
    ids = discover_export_ids(export_root)
    split, used = read_export_split(export_root)
    warnings = []
    if not used:
        warnings.append(f"no train_data_idx.txt / val_data_idx.txt in {export_root}: "
                        "samples get no train/val split")
    missing = sorted(set(split) - set(ids))
    if missing:
        warnings.append(f"{len(missing)} ids listed in {', '.join(used)} are not on disk (first: {missing[0]})")
    tasks = [Task(i, "export", str(export_root), split.get(i)) for i in ids]
    return Plan("export", tasks, used, warnings)


def make_plan(root: str | os.PathLike, layout: str = "auto", split_file: str | None = None) -> Plan:
    layout = detect_layout(root, layout)
    return plan_raw(root, split_file) if layout == "raw" else plan_export(root)


def shard_tasks(tasks: list[Task], shard: tuple[int, int] | None) -> list[Task]:
    """Every N-th task starting at I (tasks are sorted by id, so shards are disjoint and stable)."""
    if shard is None:
        return tasks
    i, n = shard
    if not (n >= 1 and 0 <= i < n):
        raise ValueError(f"bad shard {i}/{n}: need 0 <= I < N")
    return tasks[i::n]


def process_task(task: Task, out_root: str, num_points: int, overwrite: bool) -> Result:
    """Convert one sample; never raises (failures come back as a Result with the reason)."""
    if not overwrite and is_done(out_root, task.sample_id):
        return Result(task.sample_id, "skipped")
    try:
        if task.layout == "raw":
            sample = read_raw_sample(task.source, task.sample_id)
        else:
            sample = read_export_sample(task.source, task.sample_id)
        with item_lock(out_root, task.sample_id):
            write_sample(out_root, sample, task.split, num_points)
    except (SunrgbdError, ItemLockedError) as exc:
        return Result(task.sample_id, "failed", str(exc))
    except Exception as exc:  # unexpected: still one line, still naming the input
        return Result(task.sample_id, "failed", f"{task.source} [{task.sample_id}]: "
                                                f"{type(exc).__name__}: {exc}")
    return Result(task.sample_id, "done")


def _run_one(args) -> Result:
    return process_task(*args)


def run(root: str | os.PathLike, out_root: str | os.PathLike, layout: str = "auto",
        workers: int = 1, num_points: int = 50000, overwrite: bool = False,
        shard: tuple[int, int] | None = None, split_file: str | None = None,
        progress: bool = True) -> tuple[Plan, list[Result], dict]:
    """Convert everything (of this shard), then rebuild the index from all complete samples."""
    from tqdm import tqdm

    plan = make_plan(root, layout, split_file)
    tasks = shard_tasks(plan.tasks, shard)
    out_root = str(out_root)
    Path(out_root, "samples").mkdir(parents=True, exist_ok=True)
    jobs = [(t, out_root, num_points, overwrite) for t in tasks]
    bar = tqdm(total=len(jobs), desc=f"sunrgbd[{plan.layout}]", disable=not progress, unit="img")
    results: list[Result] = []
    if workers <= 1:
        for job in jobs:
            results.append(_run_one(job))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            for res in pool.map(_run_one, jobs, chunksize=4):
                results.append(res)
                bar.update()
    bar.close()
    failed = [{"id": r.sample_id, "reason": r.message} for r in results if r.status == "failed"]
    index = build_index(out_root, {"layout": plan.layout, "split_source": plan.split_source,
                                   "last_run": {"shard": list(shard) if shard else None,
                                                "failed": failed}})
    return plan, results, index
