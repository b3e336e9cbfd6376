"""A train sampler whose indices carry the run's seed and the epoch, for per-sample generators.

``EpochSeededSampler`` yields exactly mmengine's ``DefaultSampler`` order; each index is a
``SampleIndex`` (an int) that also carries ``seed`` and ``epoch``, so the dataset, in whatever worker
process, draws its augmentation from ``sample_generator(seed, epoch, index)``. Augmentation then does not
depend on the number of workers, on which worker drew a sample, or on where a run was resumed.
``prepare_config`` puts it in place of a train loader's ``DefaultSampler`` (and
``SeededInfiniteSampler`` in place of an ``InfiniteSampler``).
"""
from __future__ import annotations

from typing import Iterator, Optional

import numpy as np
from mmengine.dataset import DefaultSampler, InfiniteSampler
from mmengine.registry import DATA_SAMPLERS

from .transforms.base import sample_generator

__all__ = ["SampleIndex", "EpochSeededSampler", "SeededInfiniteSampler", "SeededRefetch", "generator_for_index",
           "refetch_index"]


class SampleIndex(int):
    """An int index with the ``seed`` and ``epoch`` it was drawn in."""

    def __new__(cls, value: int, seed: int, epoch: int):
        obj = super().__new__(cls, value)
        obj.seed, obj.epoch = int(seed), int(epoch)
        return obj

    def __reduce__(self):  # workers receive indices through a pickling queue
        return SampleIndex, (int(self), self.seed, self.epoch)


def generator_for_index(idx) -> Optional[np.random.Generator]:
    """The sample's generator for a ``SampleIndex``; None for a plain int (evaluation, direct access)."""
    if isinstance(idx, SampleIndex):
        return sample_generator(idx.seed, idx.epoch, int(idx))
    return None


def refetch_index(idx: "SampleIndex", attempt: int, size: int) -> "SampleIndex":
    """The replacement for a training sample whose pipeline returned None: drawn from (seed, epoch,
    index, attempt), not from the worker's global RNG, so a refetch is as reproducible as the rest."""
    rng = np.random.default_rng(np.random.SeedSequence([idx.seed, idx.epoch, int(idx), int(attempt) + 1]))
    return SampleIndex(int(rng.integers(0, size)), idx.seed, idx.epoch)


class SeededRefetch:
    """Mixin for an mmengine ``BaseDataset``: in training, a ``SampleIndex`` whose pipeline returns None
    is replaced by ``refetch_index`` (mmengine's own loop uses ``np.random.randint``); plain int
    indices and test mode keep mmengine's behaviour."""

    def __getitem__(self, idx):
        if self.test_mode or not isinstance(idx, SampleIndex):
            return super().__getitem__(idx)
        if not self._fully_initialized:
            self.full_init()
        for attempt in range(self.max_refetch + 1):
            data = self.prepare_data(idx)
            if data is not None:
                return data
            idx = refetch_index(idx, attempt, len(self))
        raise RuntimeError(f"{type(self).__name__}: no valid sample after {self.max_refetch} refetches "
                           "(every pipeline call returned None)")


@DATA_SAMPLERS.register_module()
class EpochSeededSampler(DefaultSampler):
    """``DefaultSampler`` (same order, same arguments) yielding ``SampleIndex`` items."""

    def __iter__(self) -> Iterator[int]:
        for index in super().__iter__():
            yield SampleIndex(index, self.seed, self.epoch)


@DATA_SAMPLERS.register_module()
class SeededInfiniteSampler(InfiniteSampler):
    """``InfiniteSampler`` (same stream) whose indices carry the seed and the pass over the dataset
    (the "epoch" of an iteration-based run)."""

    def _indices_of_rank(self) -> Iterator[int]:
        for position, index in enumerate(super()._indices_of_rank()):
            yield SampleIndex(index, self.seed, (position * self.world_size + self.rank) // self.size)
