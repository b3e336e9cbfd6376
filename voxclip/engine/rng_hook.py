"""Random state that survives kill + ``--resume``: every epoch (every iteration of an iteration-based
loop) starts from a state derived from (seed, epoch or iteration), and checkpoints carry every RNG state.

mmengine seeds Python, numpy and torch once when the Runner is built, so a resumed run continues
from the seed while the uninterrupted run continued from wherever epoch N left the generators (and
validation draws from them too). Re-seeding all three at the start of each training epoch makes
epoch N+1 identical in both runs; the data side is handled by ``EpochSeededSampler`` (per-sample
generators). The states saved in ``meta['rng_state']`` are restored on resume for loops without epochs.
"""
from __future__ import annotations

import random

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop

from voxclip.registry import HOOKS

__all__ = ["RNGStateHook", "epoch_seed", "get_rng_state", "set_rng_state", "seed_everything"]


def epoch_seed(seed: int, epoch: int) -> int:
    """A 32-bit seed for the main process's generators at the start of `epoch`."""
    return int(np.random.SeedSequence([int(seed), int(epoch), 0x5EED]).generate_state(1)[0])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # CPU and every CUDA device


def get_rng_state() -> dict:
    state = dict(python=random.getstate(), numpy=np.random.get_state(), torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    python = state["python"]
    random.setstate((python[0], tuple(python[1]), python[2]))
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Added to every run by ``prepare_config``."""

    priority = "VERY_HIGH"

    def before_train_epoch(self, runner) -> None:
        if isinstance(runner.train_loop, EpochBasedTrainLoop):
            seed_everything(epoch_seed(runner.seed, runner.epoch))

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        # iteration-based loops: every step from a state of its own (validation draws in between)
        if not isinstance(runner.train_loop, EpochBasedTrainLoop):
            seed_everything(epoch_seed(runner.seed, runner.iter) ^ 0x17E5)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault("meta", {})["rng_state"] = get_rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get("meta", {}).get("rng_state")
        if state is not None and getattr(runner, "_resume", False):
            set_rng_state(state)
