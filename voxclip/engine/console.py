"""What `make demo` shows of a training log: one progress bar over the whole run, the losses now
and then, validation headlines, warnings, errors; the full log (config dump, environment, every
iteration) stays in the work dir. Used as a filter on tools/train.py's output (tools/demo_console.py).
"""
from __future__ import annotations

import re
import sys
from typing import Iterable, TextIO

_RECORD = re.compile(r"^(?:\d{4}/)?\d\d/\d\d \d\d:\d\d:\d\d - \S+ - (\w+) - (.*)$")
_EPOCH = re.compile(r"Epoch\(train\)\s*\[(\d+)\]\[\s*(\d+)/(\d+)\]")
_ITER = re.compile(r"Iter\(train\)\s*\[\s*(\d+)/(\d+)\]")
_VAL = re.compile(r"(Epoch|Iter)\((val|test)\)")
_PAIR = re.compile(r"([\w@./-]+): (-?[\d.]+(?:e[-+]?\d+)?)")
# mmengine notices that say nothing to a demo user (they stay in the log file)
_NOISE = ("The prefix is not set in metric class", '"FileClient" will be deprecated', '"HardDiskBackend" is the alias')
_KEEP_INFO = (re.compile(r"^loaded \d+ '"),)
_SKIP_METRIC = {"time", "data_time", "eta", "lr", "memory", "grad_norm", "base_lr"}


class TrainConsole:
    """Feed it log lines (`feed`), then `close()`; writes the readable view to `out`, the bar to `bar_file`."""

    def __init__(self, out: TextIO = sys.stdout, bar_file: TextIO = sys.stderr, loss_lines: int = 10):
        self.out, self.bar_file, self.loss_lines = out, bar_file, loss_lines
        self.total = None  # iterations of the whole run
        self.max_epochs = None
        self._cfg_block: list[str] | None = None
        self._level = "INFO"
        self._traceback = False
        self._shown_lines = 5
        self._bar = None
        self._done = 0
        self._next_loss = 0.0

    # -- output -----------------------------------------------------------------------------------
    def _print(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=self.out)
        else:
            print(text, file=self.out, flush=True)

    def _progress(self, done: int) -> None:
        if self.total is None:
            return
        if self._bar is None:
            from tqdm import tqdm

            start = max(0, min(done, self.total))  # the bar starts where the log first reports (no burst rate)
            self._bar = tqdm(total=self.total, initial=start, file=self.bar_file, unit="it", desc="training",
                             mininterval=2.0, dynamic_ncols=True, leave=True)
            self._done = start
        self._bar.update(max(0, min(done, self.total) - self._done))
        self._done = max(self._done, min(done, self.total))

    # -- parsing ----------------------------------------------------------------------------------
    def _config_line(self, line: str) -> None:
        """Collect `train_cfg = dict(...)` from the config dump: the run's length (after --cfg-options)."""
        if line.startswith("train_cfg = dict("):
            self._cfg_block = []
        if self._cfg_block is not None:
            self._cfg_block.append(line)
            text = " ".join(self._cfg_block)
            if text.count("(") <= text.count(")"):
                m = re.search(r"max_epochs=(\d+)", text)
                if m:
                    self.max_epochs = int(m.group(1))
                m = re.search(r"max_iters=(\d+)", text)
                if m:
                    self.total = int(m.group(1))
                self._cfg_block = None

    def _train(self, msg: str) -> None:
        m = _EPOCH.search(msg)
        if m:
            epoch, i, per_epoch = (int(g) for g in m.groups())
            if self.total is None and self.max_epochs is not None:
                self.total = self.max_epochs * per_epoch
            done, where = (epoch - 1) * per_epoch + i, f"epoch {epoch}" + (f"/{self.max_epochs}" if self.max_epochs else "")
        else:
            m = _ITER.search(msg)
            done, where = int(m.group(1)), f"iter {m.group(1)}/{m.group(2)}"
            self.total = self.total or int(m.group(2))
        self._progress(done)
        if self.total and done >= self._next_loss:
            losses = [(k, v) for k, v in _PAIR.findall(msg) if k.startswith("loss")]
            if losses:
                head = dict(losses).get("loss")
                parts = ", ".join(f"{k[5:] or k} {float(v):.3f}" for k, v in losses if k != "loss" and float(v) != 0.0)
                self._print(f"{where}: loss {float(head):.3f}" + (f" ({parts})" if parts else "") if head else f"{where}: {parts}")
            self._next_loss = done + self.total / max(self.loss_lines, 1)

    def feed(self, line: str) -> None:
        line = line.rstrip("\n")
        if self._traceback:
            self._print(line)
            return
        if line.startswith("Traceback (most recent call last)"):
            self._traceback = True
            self._print(line)
            return
        rec = _RECORD.match(line)
        if rec is None:  # continuation of a multi-line record (config dump, environment, tables)
            self._config_line(line)
            if self._shown_lines < 5 or line.startswith("error:"):  # a few lines of a shown warning
                self._shown_lines += 1
                self._print(line)
            return
        self._level, msg = rec.group(1), rec.group(2)
        self._shown_lines = 5  # continuation lines are shown only after a shown warning
        if "(train)" in msg and (_EPOCH.search(msg) or _ITER.search(msg)):
            self._train(msg)
        elif _VAL.search(msg):
            heads = [(k, v) for k, v in _PAIR.findall(msg) if "/" not in k and k not in _SKIP_METRIC]
            if heads:
                tag = msg.split(")")[0] + ")" + (msg.split(")")[1].split("]")[0] + "]" if "[" in msg else "")
                self._print(f"{tag.strip()}  " + "  ".join(f"{k}: {float(v):.4f}" for k, v in heads))
        elif self._level in ("WARNING", "ERROR", "CRITICAL"):
            if not any(n in msg for n in _NOISE):
                self._print(f"{self._level.lower()}: {msg}")
                self._shown_lines = 0
        elif any(p.match(msg) for p in _KEEP_INFO):
            self._print(msg)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def filter_stream(lines: Iterable[str], out: TextIO = sys.stdout, bar_file: TextIO = sys.stderr) -> None:
    console = TrainConsole(out, bar_file)
    try:
        for line in lines:
            console.feed(line)
    finally:
        console.close()
