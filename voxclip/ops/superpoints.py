"""Superpoint graph segmentation (implemented torch-free in voxclip.utils.superpoints, re-exported here
next to the other point operations)."""
from voxclip.utils.superpoints import (edge_weights, estimate_normals, felzenszwalb_segment, knn_edges, knn_indices,  # noqa: F401,E501
                                       mesh_edges, mesh_superpoints, point_superpoints, relabel_consecutive)

__all__ = ["mesh_edges", "knn_indices", "knn_edges", "estimate_normals", "edge_weights", "felzenszwalb_segment",
           "mesh_superpoints", "point_superpoints", "relabel_consecutive"]
