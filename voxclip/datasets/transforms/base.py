"""Transform plumbing: the per-point key list, the RNG choice and the registry-driven Compose.

A sample travels through the pipeline as a dict of numpy arrays (see docs/architecture.md):
`points` (N,3) float32, `colors` (N,3), optional `normals` (N,3), `instance` (N,), `semantic` (N,),
`height` (N,1), `point_feats` (N,C); `gt_boxes` (M,7) float32, `gt_labels` (M,) int64; `meta` dict.
`PackInputs` turns the end result into the torch-tensor item of the contract.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from voxclip.registry import TRANSFORMS

# Keys holding one row per point: point sampling must index all of them together.
PER_POINT_KEYS = ("points", "colors", "normals", "instance", "semantic", "height", "point_feats", "superpoint")


def per_point_keys(results: dict) -> list[str]:
    """The per-point keys present in `results`, plus any listed in `results['extra_point_keys']`."""
    keys = [k for k in PER_POINT_KEYS if k in results]
    keys += [k for k in results.get("extra_point_keys", ()) if k in results and k not in keys]
    return keys


# The generator of the sample being prepared (set by the dataset around its pipeline), per process.
_SAMPLE_RNG: list = [None]


def sample_generator(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The generator of sample `index` in `epoch` of a run seeded `seed`: the same numbers whatever
    the worker count, the worker that draws them, or where a run was resumed (docs/reliability.md)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(epoch), int(index)]))


@contextlib.contextmanager
def use_sample_rng(rng: np.random.Generator | None) -> Iterator[None]:
    """Random transforms without their own `rng` draw from `rng` inside the block."""
    previous, _SAMPLE_RNG[0] = _SAMPLE_RNG[0], rng
    try:
        yield
    finally:
        _SAMPLE_RNG[0] = previous


def current_rng() -> Any:
    """The current sample's generator, else numpy's global RNG (direct calls outside a training loader)."""
    return _SAMPLE_RNG[0] if _SAMPLE_RNG[0] is not None else np.random


class RandomTransform:
    """Base of random transforms: draws from `rng` when given, else from the current sample's generator
    (`use_sample_rng`, set by the datasets from the seed, epoch and sample index that
    `EpochSeededSampler` attaches), else from numpy's global RNG.

    Tests pass a `np.random.Generator` for reproducibility. Stored as None (not the np.random module)
    so that transforms pickle for spawned workers.
    """

    def __init__(self, rng: np.random.Generator | None = None):
        self._rng = rng

    @property
    def rng(self) -> Any:
        return self._rng if self._rng is not None else current_rng()

    def __call__(self, results: dict) -> dict:
        return self.transform(results)

    def transform(self, results: dict) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError


def build_transform(cfg: dict | Callable) -> Callable:
    """A transform from a config dict (`type` names a registered class) or an existing callable."""
    if callable(cfg):
        return cfg
    if not isinstance(cfg, dict) or "type" not in cfg:
        raise TypeError(f"a transform must be a callable or a dict with 'type', got {cfg!r}")
    transform = TRANSFORMS.build(cfg)
    if not callable(transform):
        raise TypeError(f"transform {cfg['type']!r} built a non-callable {type(transform).__name__}")
    return transform


@TRANSFORMS.register_module()
class Compose:
    """Apply transforms in order; each takes and returns the sample dict.

    Args:
        transforms: config dicts (built from voxclip's TRANSFORMS registry) or callables.
    """

    def __init__(self, transforms: Sequence[dict | Callable] | None = None):
        self.transforms = [build_transform(t) for t in (transforms or [])]

    def __call__(self, results: dict) -> dict | None:
        for t in self.transforms:
            results = t(results)
            if results is None:  # a transform may reject a sample; BaseDataset then refetches
                return None
        return results

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(t) for t in self.transforms)
        return f"Compose(\n    {inner}\n)"
