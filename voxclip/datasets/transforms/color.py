"""Colour augmentation on raw uint8 rgb (before NormalizeColor), as in the PointContrast /
Text4Point segmentation recipe: one random offset for the whole scene, then per-point noise."""
from __future__ import annotations

import numpy as np

from voxclip.registry import TRANSFORMS

from .base import RandomTransform


@TRANSFORMS.register_module()
class RandomColorJitter(RandomTransform):
    """colors <- clip(colors + t + n_i, 0, 255), uint8.

    With probability ``prob_translate`` a scene-wide offset t ~ U(-1, 1) * translate_ratio * 255 per
    channel; with probability ``prob_noise`` per-point noise n_i ~ N(0, noise_std * 255).
    """

    def __init__(self, translate_ratio: float = 0.1, noise_std: float = 0.05, prob_translate: float = 0.95,
                 prob_noise: float = 0.95, rng: np.random.Generator | None = None):
        super().__init__(rng)
        if translate_ratio < 0 or noise_std < 0:
            raise ValueError("RandomColorJitter: translate_ratio and noise_std must be >= 0")
        self.translate_ratio, self.noise_std = float(translate_ratio), float(noise_std)
        self.prob_translate, self.prob_noise = float(prob_translate), float(prob_noise)

    def transform(self, results: dict) -> dict:
        if results.get("meta", {}).get("color_normalized"):
            raise RuntimeError("RandomColorJitter works on uint8 rgb: place it before NormalizeColor")
        rgb = np.asarray(results["colors"], dtype=np.float32)
        if self.rng.random() < self.prob_translate:
            rgb = rgb + (self.rng.random(3) * 2 - 1).astype(np.float32) * self.translate_ratio * 255
        if self.rng.random() < self.prob_noise:
            rgb = rgb + self.rng.normal(0.0, self.noise_std * 255, rgb.shape).astype(np.float32)
        results["colors"] = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
        return results

    def __repr__(self) -> str:
        return (f"RandomColorJitter(translate_ratio={self.translate_ratio}, noise_std={self.noise_std}, "
                f"prob_translate={self.prob_translate}, prob_noise={self.prob_noise})")
