"""One sparse-convolution API over the torch, spconv and MinkowskiEngine backends."""
from .backends import (BackendUnavailableError, available_backends, current_backend, get_backend,
                       resolve_backend, set_backend, use_backend)
from .conv import SparseConv3d, SparseInverseConv3d, SubMConv3d
from .kernel_map import kernel_offsets
from .nn import BatchNorm, ReLU, cat, global_avg_pool, global_max_pool
from .tensor import SparseTensor
from .voxelize import devoxelize, voxel_coords, voxelize

__all__ = [
    "SparseTensor", "voxelize", "voxel_coords", "devoxelize",
    "SubMConv3d", "SparseConv3d", "SparseInverseConv3d", "BatchNorm", "ReLU",
    "global_avg_pool", "global_max_pool", "cat", "kernel_offsets",
    "available_backends", "use_backend", "set_backend", "get_backend", "current_backend", "resolve_backend",
    "BackendUnavailableError",
]
