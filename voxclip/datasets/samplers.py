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

__all__ = ["SampleIndex", "EpochSeededSampler", "SeededInfiniteSampler", "generator_for_index"]


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
