"""Radius grouping of same-label points (PointGroup's clustering step), vectorised.

Two points of the same label are linked when their distance is at most ``radius`` (scipy's
``cKDTree.query_pairs``, inclusive); clusters are the connected components of that graph
(``scipy.sparse.csgraph``), so a chain of close points is one cluster however long it is. Clusters
with fewer than ``min_points`` points are dropped.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

__all__ = ["radius_clusters"]


def radius_clusters(points: np.ndarray, labels: np.ndarray, radius: float, min_points: int = 1,
                    ignore_labels: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
    """points (N, 3), labels (N,) int (negative = not clustered) -> (cluster (N,) int64 with -1 for
    points in no kept cluster, cluster_label (C,) int64). Cluster ids are 0..C-1, ordered by label
    then by the lowest point index in the cluster."""
    points = np.asarray(points, np.float64).reshape(-1, 3)
    labels = np.asarray(labels, np.int64).reshape(-1)
    if len(points) != len(labels):
        raise ValueError(f"radius_clusters: {len(points)} points but {len(labels)} labels")
    if not radius > 0:
        raise ValueError(f"radius_clusters: radius must be positive, got {radius}")
    cluster = np.full(len(points), -1, np.int64)
    cluster_label: list[int] = []
    for lab in np.unique(labels):
        if lab < 0 or lab in set(int(i) for i in ignore_labels):
            continue
        idx = np.flatnonzero(labels == lab)
        pairs = cKDTree(points[idx]).query_pairs(float(radius), output_type="ndarray")
        graph = coo_matrix((np.ones(len(pairs), np.int8), (pairs[:, 0], pairs[:, 1])), shape=(len(idx), len(idx)))
        _, comp = connected_components(graph, directed=False)
        sizes = np.bincount(comp)
        keep = np.flatnonzero(sizes >= int(min_points))
        if not len(keep):
            continue
        # renumber kept components by their first point, so ids do not depend on scipy's numbering
        first = np.full(comp.max() + 1, len(idx))
        np.minimum.at(first, comp, np.arange(len(idx)))
        keep = keep[np.argsort(first[keep])]
        new = np.full(comp.max() + 1, -1, np.int64)
        new[keep] = len(cluster_label) + np.arange(len(keep))
        cluster[idx] = new[comp]
        cluster_label += [int(lab)] * len(keep)
    return cluster, np.asarray(cluster_label, np.int64)
