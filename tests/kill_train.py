"""Run tools/train.py and SIGKILL the process itself at a given point (tests/test_resume_exact.py).

    python tests/kill_train.py iter:N|epoch:N  TRAIN_ARGS...

`iter:N` dies right after training iteration N (1-based, before any later hook work of the next
iteration); `epoch:N` dies right after epoch N's checkpoint has been written (the hook runs after
CheckpointHook, before validation). A real `kill -9`: no cleanup, no atexit, workers orphaned.
"""
import os
import signal
import sys
from pathlib import Path

from mmengine.hooks import Hook

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO))

import train  # noqa: E402


class KillHook(Hook):
    priority = "LOWEST"  # after CheckpointHook

    def __init__(self, when: str):
        kind, n = when.split(":")
        self.kind, self.n = kind, int(n)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if self.kind == "iter" and runner.iter + 1 == self.n:  # runner.iter: 0-based, still the current one
            os.kill(os.getpid(), signal.SIGKILL)

    def after_train_epoch(self, runner):
        if self.kind == "epoch" and runner.epoch + 1 == self.n:  # 0-based here too
            os.kill(os.getpid(), signal.SIGKILL)


def main():
    when, argv = sys.argv[1], sys.argv[2:]
    args = train.parse_args(argv)
    runner = train.build_runner(args)
    runner.register_hook(KillHook(when))
    runner.train()
    sys.exit(3)  # not killed: the test fails on this code


if __name__ == "__main__":
    main()
