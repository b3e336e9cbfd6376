"""The batch-run machinery shared by the preparation engines (data_prep/scannet/prepare.py,
data_prep/s3dis/prepare.py): worker count, shards, the process pool with its progress bar, and the
note on failures that left an earlier output in place."""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

from tqdm import tqdm

from voxclip.utils.cores import usable_cores

try:
    import fcntl
except ImportError:  # not POSIX: no locking
    fcntl = None

__all__ = ["default_workers", "parse_shard", "run_batch", "note_kept_outputs", "die_with_parent",
           "item_lock", "ItemLockedError"]


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            os._exit(1)


def die_with_parent(parent_pid: int) -> None:
    """Pool-worker initializer: end this process when the parent dies (``kill -9`` included), so no
    orphan goes on writing (or hangs) and races with a rerun. Linux's PR_SET_PDEATHSIG where it
    works, and a watchdog thread noticing the re-parenting everywhere."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the parent died before the call above
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _worker_init(parent_pid: int, initializer: Optional[Callable], initargs: tuple) -> None:
    die_with_parent(parent_pid)
    if initializer is not None:
        initializer(*initargs)


class ItemLockedError(RuntimeError):
    """Another run holds the lock of this item (scene, room, sample)."""


@contextlib.contextmanager
def item_lock(out_root, item_id: str) -> Iterator[None]:
    """Exclusive, non-blocking lock ``OUT_ROOT/.locks/<id>.lock`` while one item is written: two runs
    (or shards by mistake overlapping) on one output root never work on the same item. The kernel
    drops the lock when its holder dies; the file (and the folder, once empty) is removed on release,
    so a finished run leaves nothing behind."""
    if fcntl is None:
        yield
        return
    lock_dir = Path(out_root) / ".locks"
    path = lock_dir / f"{item_id}.lock"
    busy = ItemLockedError(f"{path}: another run is writing {item_id} into {out_root} right now; "
                           f"wait for it (or stop it) and rerun")
    fd = None
    for _ in range(5):  # the folder may vanish between mkdir and open (another run's release)
        lock_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            break
        except FileNotFoundError:
            continue
    if fd is None:
        raise busy
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        try:  # the holder we waited on may have removed the file: then ours is a stale inode
            current = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if not current:
            raise busy
        try:
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)  # while still holding the lock
            fcntl.flock(fd, fcntl.LOCK_UN)
            with contextlib.suppress(OSError):
                os.rmdir(lock_dir)
    finally:
        os.close(fd)


def default_workers() -> int:
    return usable_cores()


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
        with ProcessPoolExecutor(workers, initializer=_worker_init,
                                 initargs=(os.getpid(), initializer, initargs)) as ex:
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
