"""mmengine's Runner with checkpoints that must fit: strict key/shape checks and a real ``--resume``.

mmengine 0.10 loads ``load_from`` / resume checkpoints with ``strict=False`` and only logs what did not
fit, so evaluating another model's checkpoint prints the mAP of random weights; ``resume=True`` in an
empty work dir silently trains from scratch. Here both are errors that name the file. The config's
``strict_load=False`` (``--strict false``) keeps mmengine's partial loading for deliberate cases;
``load_ignore_prefixes=(...)`` in a config leaves out checkpoint keys under the stated prefixes
(an evaluation config reading a pretraining checkpoint) while every other mismatch stays an error.
"""
from __future__ import annotations

import glob
import os
import re
from typing import Optional

from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint, _load_checkpoint_to_model, find_latest_checkpoint

from .checkpoint_io import CheckpointError

__all__ = ["VoxclipRunner", "checkpoint_fit_report", "latest_checkpoint"]


def _shape(value) -> tuple:
    return tuple(getattr(value, "shape", ()))


def checkpoint_fit_report(model_state: dict, ckpt_state: dict) -> dict:
    """Keys of the model missing from the checkpoint, keys the model does not have, and shared keys
    whose shapes differ (``name: checkpoint shape vs model shape``)."""
    missing = sorted(k for k in model_state if k not in ckpt_state)
    unexpected = sorted(k for k in ckpt_state if k not in model_state)
    mismatched = sorted(f"{k}: {_shape(ckpt_state[k])} vs {_shape(model_state[k])}" for k in model_state
                        if k in ckpt_state and _shape(ckpt_state[k]) != _shape(model_state[k]))
    return dict(missing=missing, unexpected=unexpected, mismatched=mismatched)


def _few(names: list, n: int = 4) -> str:
    return ", ".join(names[:n]) + (f", ... {len(names) - n} more" if len(names) > n else "")


def format_fit_error(filename: str, model_name: str, report: dict) -> str:
    """First line: counts and the first few names of each kind; then every name, one per line."""
    parts = []
    if report["missing"]:
        parts.append(f"{len(report['missing'])} model keys missing ({_few(report['missing'])})")
    if report["unexpected"]:
        parts.append(f"{len(report['unexpected'])} unexpected keys ({_few(report['unexpected'])})")
    if report["mismatched"]:
        parts.append(f"{len(report['mismatched'])} of another shape ({_few(report['mismatched'], 2)}; checkpoint vs model)")
    lines = [f"{filename}: checkpoint does not fit {model_name}: " + "; ".join(parts)
             + " (is it a checkpoint of this config? --strict false loads only the matching part)"]
    for kind in ("missing", "unexpected", "mismatched"):
        lines += [f"  {kind}: {name}" for name in report[kind]]
    return "\n".join(lines)


def _revised(state: dict, revise_keys) -> dict:
    for pattern, repl in revise_keys:
        state = {re.sub(pattern, repl, k): v for k, v in state.items()}
    return state


def latest_checkpoint(work_dir: str) -> Optional[str]:
    """mmengine's ``last_checkpoint`` pointer, else the newest ``epoch_N.pth`` / ``iter_N.pth`` (a run
    killed between writing a checkpoint and updating the pointer)."""
    found = find_latest_checkpoint(work_dir)
    if found:
        return found
    best, best_n = None, -1
    for path in glob.glob(os.path.join(glob.escape(work_dir), "*.pth")):
        m = re.fullmatch(r"(epoch|iter)_(\d+)\.pth", os.path.basename(path))
        if m and int(m.group(2)) > best_n:
            best, best_n = path, int(m.group(2))
    return best


class VoxclipRunner(Runner):
    """Runner whose checkpoint loads are strict unless the config says ``strict_load=False``."""

    @property
    def strict_load(self) -> bool:
        return bool(self.cfg.get("strict_load", True))

    def load_or_resume(self) -> None:
        if self._has_loaded:
            return None
        if self._resume and self._load_from is None:
            resume_from = latest_checkpoint(self.work_dir)
            if resume_from is None:
                raise FileNotFoundError(
                    f"{self.work_dir}: nothing to resume from (no last_checkpoint and no epoch_N.pth/iter_N.pth); "
                    f"train without --resume to start from scratch, or pass --resume CHECKPOINT")
            self.logger.info(f"Auto resumed from the latest checkpoint {resume_from}.")
            self.resume(resume_from)
            self._has_loaded = True
            return None
        return super().load_or_resume()

    def load_checkpoint(self, filename: str, map_location="cpu", strict: Optional[bool] = None,
                        revise_keys: list = [(r"^module.", "")]):  # noqa: B006 - mmengine's signature
        strict = self.strict_load if strict is None else strict
        checkpoint = _load_checkpoint(filename, map_location=map_location)
        if not isinstance(checkpoint, dict):
            raise CheckpointError(f"{filename}: not a checkpoint (a {type(checkpoint).__name__}, not a dict)")
        self.call_hook("after_load_checkpoint", checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        state = checkpoint.get("state_dict", checkpoint)
        if not isinstance(state, dict):
            raise CheckpointError(f"{filename}: 'state_dict' is a {type(state).__name__}, not a dict")
        report = checkpoint_fit_report(model.state_dict(), _revised(state, revise_keys))
        ignore = tuple(self.cfg.get("load_ignore_prefixes", ()) or ())
        if ignore:  # the config states which checkpoint parts it leaves out (e.g. a pretrainer's heads)
            dropped = [k for k in report["unexpected"] if k.startswith(ignore)]
            report["unexpected"] = [k for k in report["unexpected"] if not k.startswith(ignore)]
            if dropped:
                self.logger.info(f"{filename}: left out {len(dropped)} checkpoint keys under the config's "
                                 f"load_ignore_prefixes {list(ignore)}")
        if any(report.values()):
            message = format_fit_error(filename, type(model).__name__, report)
            if strict:
                self.logger.error(message)
                raise CheckpointError(message)
            self.logger.warning(message.replace("checkpoint does not fit", "partial load (strict_load=False)", 1))
        # shapes were checked above; mmengine's partial loader skips nothing that fits
        checkpoint = _load_checkpoint_to_model(model, checkpoint, False, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f"Load checkpoint from {filename}")
        return checkpoint

    def resume(self, filename: str, *args, **kwargs) -> None:
        try:
            return super().resume(filename, *args, **kwargs)
        except KeyError as exc:  # a weights-only file (no meta/epoch): cannot continue a run from it
            raise CheckpointError(f"{filename}: cannot resume from it: no {exc} (a training checkpoint written "
                                  f"by tools/train.py has meta, optimizer and schedulers; use load_from for "
                                  f"weights only)") from None
