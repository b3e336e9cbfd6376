"""One sparse-convolution API over the torch, spconv and MinkowskiEngine backends."""
from .tensor import SparseTensor
from .voxelize import devoxelize, voxel_coords, voxelize

__all__ = ["SparseTensor", "voxelize", "voxel_coords", "devoxelize"]
