"""Frozen CLIP towers: no gradients, always in eval mode, weights kept out of checkpoints.

A frozen tower's weights always come from the CLIP file named in the config, so saving them in
every training checkpoint (hundreds of MB for RN50) only costs disk. ``FrozenTower`` leaves its
parameters and buffers out of ``state_dict()`` and fills them back in from itself on
``load_state_dict``, so strict loading, mmengine's resume and tools/test.py work unchanged; any
parent (prompt learner, detector, pretrainer) gets small checkpoints without doing anything.
"""
from __future__ import annotations

from torch import nn

__all__ = ["FrozenTower"]


class FrozenTower(nn.Module):
    """Base class. Subclasses build their layers, then call ``self.freeze_()``.

    Args:
        save_weights: keep the weights in ``state_dict()`` after all (e.g. to export a checkpoint
            that does not need the CLIP file).
    """

    def __init__(self, save_weights: bool = False):
        super().__init__()
        self.save_weights = bool(save_weights)
        self._register_state_dict_hook(FrozenTower._drop_own)
        self._register_load_state_dict_pre_hook(self._fill_own)

    def freeze_(self) -> "FrozenTower":
        for p in self.parameters():
            p.requires_grad_(False)
        return super().train(False)

    def train(self, mode: bool = True):
        # BatchNorm keeps using (and never updates) CLIP's statistics; no dropout inside CLIP.
        return super().train(False)

    @staticmethod
    def _drop_own(module, state_dict, prefix, local_metadata):
        if not module.save_weights:
            for key in [k for k in state_dict if k.startswith(prefix)]:
                del state_dict[key]
        return state_dict

    def _fill_own(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        keep, self.save_weights = self.save_weights, True
        try:
            own = self.state_dict(prefix=prefix, keep_vars=True)
        finally:
            self.save_weights = keep
        for key, value in own.items():
            state_dict.setdefault(key, value.detach())
