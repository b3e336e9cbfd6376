"""Transformers over point tokens; importing registers them."""
from .blocks import Attention, Block, DropPath, Mlp
from .point_transformer import PointTransformerEncoder

__all__ = ["PointTransformerEncoder", "Block", "Attention", "Mlp", "DropPath"]
