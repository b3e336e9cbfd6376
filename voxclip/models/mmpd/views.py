"""The 2D view each stage-1 sample shows its image teachers: the colour frame or its depth map.

Teachers take [0, 1] RGB (B, 3, H, W) and apply their own normalisation and input size. A depth
view is the frame's depth on the colour pixels divided by that frame's largest valid depth, copied
to 3 channels (grey levels; 0 = no depth), as ULIP-style rendered depth images are single-channel
grey images fed to an RGB encoder.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from voxclip.models.clip import CLIP_MEAN, CLIP_STD

__all__ = ["unnormalize_clip", "depth_to_rgb", "choose_views", "resize_normalize", "IMAGENET_MEAN", "IMAGENET_STD"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # DINOv2's preprocessing (timm pretrained_cfg)
IMAGENET_STD = (0.229, 0.224, 0.225)


def unnormalize_clip(images: torch.Tensor) -> torch.Tensor:
    """RGBDPairs images (normalised with CLIP's mean/std) -> [0, 1] RGB."""
    mean = images.new_tensor(CLIP_MEAN).view(1, 3, 1, 1)
    std = images.new_tensor(CLIP_STD).view(1, 3, 1, 1)
    return (images * std + mean).clamp(0.0, 1.0)


def depth_to_rgb(depth: torch.Tensor) -> torch.Tensor:
    """(B, H, W) metres (0 = invalid) -> (B, 3, H, W) in [0, 1]: depth / per-frame max, 3 channels."""
    top = depth.flatten(1).amax(dim=1).clamp_min(1e-6).view(-1, 1, 1)
    return (depth / top).clamp(0.0, 1.0)[:, None].expand(-1, 3, -1, -1)


def choose_views(images: torch.Tensor, depth: torch.Tensor | None, view: str,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """[0, 1] RGB views (B, 3, H, W) and the (B,) bool 'is depth' choice.

    view: 'color' | 'depth' | 'random' (colour or depth with probability 1/2 per sample: the
    paper's 'a randomly sampled 2D rendered image or associated depth').
    """
    rgb = unnormalize_clip(images)
    bsz = rgb.shape[0]
    if view == "color":
        is_depth = torch.zeros(bsz, dtype=torch.bool, device=rgb.device)
    elif view == "depth":
        is_depth = torch.ones(bsz, dtype=torch.bool, device=rgb.device)
    elif view == "random":
        is_depth = torch.rand(bsz, generator=generator).to(rgb.device) < 0.5
    else:
        raise ValueError(f"choose_views: view must be 'color', 'depth' or 'random', got {view!r}")
    if not bool(is_depth.any()):
        return rgb, is_depth
    if depth is None:
        raise KeyError("choose_views: a depth view needs inputs['depth_image']")
    if depth.shape[-2:] != rgb.shape[-2:]:
        raise ValueError(f"choose_views: depth_image {tuple(depth.shape)} is not on the colour pixels {tuple(rgb.shape)}")
    return torch.where(is_depth.view(-1, 1, 1, 1), depth_to_rgb(depth), rgb), is_depth


def resize_normalize(rgb: torch.Tensor, size: int | tuple[int, int], mean, std) -> torch.Tensor:
    """[0, 1] RGB -> the teacher's square (or (h, w)) input, normalised with its mean/std."""
    size = (size, size) if isinstance(size, int) else tuple(size)
    if tuple(rgb.shape[-2:]) != size:
        rgb = F.interpolate(rgb, size=size, mode="bilinear", align_corners=False, antialias=True)
    m = rgb.new_tensor(mean).view(1, 3, 1, 1)
    s = rgb.new_tensor(std).view(1, 3, 1, 1)
    return (rgb - m) / s
