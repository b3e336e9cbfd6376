"""The batch-run machinery shared by the preparation engines (data_prep/scannet/prepare.py,
data_prep/s3dis/prepare.py): worker count, shards, the process pool with its progress bar, and the
note on failures that left an earlier output in place."""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

from tqdm import tqdm

__all__ = ["default_workers", "parse_shard", "run_batch", "note_kept_outputs"]


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parse_shard(text: str) -> Tuple[int, int]:
    """'I/N' with 0 <= I < N -> (I, N)."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard {text!r}: expected I/N, e.g. 0/4")
    if n < 1 or not 0 <= i < n:
        raise ValueError(f"--shard {text!r}: need 0 <= I < N")
    return i, n


def run_batch(fn: Callable, jobs: Sequence[tuple], workers: int = 1, progress: bool = True,
              desc: Optional[str] = None, unit: str = "it", initializer: Optional[Callable] = None,
              initargs: tuple = ()) -> Iterator[Tuple[tuple, object, Optional[str]]]:
    """``fn(*job)`` for every job, yielding ``(job, result, crash)`` as jobs finish.

    One worker (or one job) runs in-process (simpler to debug, no pickling). ``crash`` is None, or a
    one-line reason when a pool worker died (e.g. killed by the OOM killer); then ``result`` is None.
    ``fn`` itself should turn ordinary failures into results, so one bad item never stops the batch.
    """
    workers = max(1, min(workers, len(jobs)))
    with tqdm(total=len(jobs), unit=unit, desc=desc, disable=not progress) as bar:
        if workers == 1:
            if initializer is not None:
                initializer(*initargs)
            for job in jobs:
                result = fn(*job)
                bar.update(1)
                yield job, result, None
            return
        with ProcessPoolExecutor(workers, initializer=initializer, initargs=initargs) as ex:
            futures = {ex.submit(fn, *job): job for job in jobs}
            for fut in as_completed(futures):
                try:
                    result, crash = fut.result(), None
                except Exception as err:
                    result, crash = None, f"worker failed ({type(err).__name__}: {err})"
                bar.update(1)
                yield futures[fut], result, crash


def note_kept_outputs(failed: List[Tuple[str, str]], out_dir: Path) -> List[Tuple[str, str]]:
    """A failed --overwrite leaves the previous complete output (``out_dir/<id>/meta.json``) in place
    and the index still lists it: say so in the failure reason."""
    return [(i, r + " (previous output kept)" if (out_dir / i / "meta.json").is_file() else r) for i, r in failed]
