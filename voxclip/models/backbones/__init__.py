"""Sparse backbones; importing registers them in voxclip.registry.MODELS."""
from .srunet import ARCHS, SRUNet, SRUNetOutput

__all__ = ["SRUNet", "SRUNetOutput", "ARCHS"]
