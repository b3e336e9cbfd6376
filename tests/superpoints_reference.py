"""REFERENCE ONLY (tests/test_superpoints.py): voxclip/utils/superpoints.py as it was before the
speed-up (commit 0b8e3d9), kept verbatim so the fast path can be checked to give the same labels.
"""
from __future__ import annotations

"""Superpoints: Felzenszwalb-Huttenlocher graph over-segmentation of a mesh or a bare point cloud.

numpy + scipy only (no torch), so tools/prepare_scannet.py can import it standalone; models use it
through voxclip.ops.superpoints.

The graph is the mesh's edges, or (bare clouds) each point's k nearest neighbours from a scipy
KD-tree with normals estimated by local PCA. Edge weights follow ScanNet's segmentator
(`segmentator.cpp`, the tool that wrote the `segs.json` files): ``w = 1 - n_a . n_b``, squared when
the edge is convex (``n_b . (p_b - p_a) > 0``), plus ``color_weight * |c_a - c_b| / sqrt(3)``
(colours in [0, 1]; 0 = ScanNet's normals-only weight). Two components A, B merge over an edge of
weight w when ``w <= min(Int(A) + k/|A|, Int(B) + k/|B|)`` (Int = largest edge inside the
component's spanning tree), then components smaller than ``min_size`` join their neighbour over the
lightest edge (ScanNet's segMinVerts pass).

Vectorised form (a design choice; the sequential original is one Python-speed loop over sorted
edges): Boruvka rounds. In each round every component proposes its lightest outgoing edge, the
proposals that pass the predicate are merged at once with scipy's connected components (the
"union-find" step), the edge list is contracted (parallel edges keep their lightest weight) and
the next round starts. Because a round can merge a chain A-B-C whose predicates were each checked
against the pre-round components, the result can differ slightly from the sequential order; it is
the same family (minimum-spanning-forest segmentation with the same predicate).
"""

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

# unchanged by the speed-up, so shared rather than kept twice
from voxclip.utils.superpoints import _sorted_unique, mesh_edges, relabel_consecutive  # noqa: F401

__all__ = ["mesh_edges", "knn_edges", "estimate_normals", "edge_weights", "felzenszwalb_segment",
           "mesh_superpoints", "point_superpoints", "relabel_consecutive"]


def knn_edges(points: np.ndarray, k: int = 10, tree: cKDTree | None = None) -> np.ndarray:
    """(N, 3) points -> (E, 2) unique undirected edges (a < b) of the k-nearest-neighbour graph."""
    n = len(points)
    k = min(int(k), n - 1)
    if k < 1:
        return np.zeros((0, 2), np.int64)
    tree = tree if tree is not None else cKDTree(points)
    _, idx = tree.query(points, k=k + 1)
    a = np.repeat(np.arange(n), k)
    b = idx[:, 1:].reshape(-1)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo != hi
    key = _sorted_unique(lo[keep] * n + hi[keep])
    return np.stack([key // n, key % n], 1)


def estimate_normals(points: np.ndarray, k: int = 16, tree: cKDTree | None = None) -> np.ndarray:
    """Unit normals (N, 3) by PCA of each point's k nearest neighbours (smallest-eigenvalue axis),
    oriented towards +z where ambiguous only by sign convention (n_z >= 0)."""
    n = len(points)
    k = max(3, min(int(k), n))
    tree = tree if tree is not None else cKDTree(points)
    _, idx = tree.query(points, k=k)
    nb = points.astype(np.float32)[idx]  # (N, k, 3)
    nb -= nb.mean(1, keepdims=True)
    cov = np.einsum("nki,nkj->nij", nb, nb).astype(np.float64)
    _, vec = np.linalg.eigh(cov)
    normal = vec[:, :, 0]
    normal *= np.where(normal[:, 2:3] < 0, -1.0, 1.0)
    return normal.astype(np.float64)


def edge_weights(points: np.ndarray, normals: np.ndarray, edges: np.ndarray,
                 colors: np.ndarray | None = None, color_weight: float = 0.0) -> np.ndarray:
    """ScanNet segmentator weight per edge (module docstring), float64 (E,)."""
    a, b = edges[:, 0], edges[:, 1]
    na, nb = normals[a], normals[b]
    w = 1.0 - np.einsum("ij,ij->i", na, nb)
    convex = np.einsum("ij,ij->i", nb, points[b] - points[a]) > 0
    w = np.where(convex, w * w, w)
    if colors is not None and color_weight > 0:
        c = np.asarray(colors, np.float64)
        c = c / 255.0 if c.max(initial=0) > 1.0 else c
        w = w + color_weight * np.linalg.norm(c[a] - c[b], axis=1) / np.sqrt(3.0)
    return np.maximum(w, 0.0)


def _merge(edges, accept, n_comp):
    """Connected components of the accepted edges: (number of new components, old -> new map)."""
    ea = edges[accept]
    g = coo_matrix((np.ones(len(ea)), (ea[:, 0], ea[:, 1])), shape=(n_comp, n_comp))
    n_new, comp_map = connected_components(g, directed=False)
    return n_new, comp_map


def _contract(edges, weights, comp_map):
    """Edges between old components -> edges between new ones; internal dropped, parallel edges keep the lightest."""
    a, b = comp_map[edges[:, 0]], comp_map[edges[:, 1]]
    keep = np.nonzero(a != b)[0]  # input is sorted by weight, so `keep` is too
    if not len(keep):
        return np.zeros((0, 2), np.int64), weights[:0]
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    key = lo * (int(hi.max()) + 1) + hi
    order = np.argsort(key, kind="stable")  # by pair; within a pair lightest first (stable)
    ks = key[order]
    first = np.sort(order[np.r_[True, ks[1:] != ks[:-1]]])  # back in weight order
    return np.stack([lo[first], hi[first]], 1), weights[keep][first]


def _lightest_out(edges, n_comp):
    """Index of each component's lightest incident edge (edges sorted by weight), -1 if none."""
    e_idx = np.arange(len(edges))
    best = np.full(n_comp, len(edges), np.int64)
    np.minimum.at(best, edges[:, 0], e_idx)
    np.minimum.at(best, edges[:, 1], e_idx)
    best[best == len(edges)] = -1
    return best


def felzenszwalb_segment(num_points: int, edges: np.ndarray, weights: np.ndarray, k_thresh: float = 0.01,
                         min_size: int = 20, max_rounds: int = 200) -> np.ndarray:
    """Segment ids (N,) int64, consecutive from 0, of the graph (edges (E, 2), weights (E,))."""
    edges = np.asarray(edges, np.int64).reshape(-1, 2)
    weights = np.asarray(weights, np.float64).reshape(-1)
    if len(edges) != len(weights):
        raise ValueError(f"felzenszwalb_segment: {len(edges)} edges but {len(weights)} weights")
    labels = np.arange(num_points)
    size = np.ones(num_points, np.int64)
    internal = np.zeros(num_points, np.float64)
    order = np.argsort(weights, kind="stable")
    e, w = edges[order], weights[order]
    n_comp = num_points
    for phase in ("predicate", "min_size"):
        for _ in range(max_rounds):
            if not len(e):
                break
            best = _lightest_out(e, n_comp)
            mark = np.zeros(len(e), bool)
            mark[best[best >= 0]] = True
            cand = np.nonzero(mark)[0]
            ca, cb, cw = e[cand, 0], e[cand, 1], w[cand]
            if phase == "predicate":
                ok = cw <= np.minimum(internal[ca] + k_thresh / size[ca], internal[cb] + k_thresh / size[cb])
            else:
                ok = (size[ca] < min_size) | (size[cb] < min_size)
            if not ok.any():
                break
            accept = np.zeros(len(e), bool)
            accept[cand[ok]] = True
            n_new, comp_map = _merge(e, accept, n_comp)
            new_size = np.bincount(comp_map, weights=size, minlength=n_new).astype(np.int64)
            new_int = np.zeros(n_new)
            np.maximum.at(new_int, comp_map, internal)
            np.maximum.at(new_int, comp_map[e[accept, 0]], w[accept])
            labels, size, internal, n_comp = comp_map[labels], new_size, new_int, n_new
            e, w = _contract(e, w, comp_map)
    return labels.astype(np.int64)  # connected-component ids: already consecutive from 0


def mesh_superpoints(vertices: np.ndarray, faces: np.ndarray, normals: np.ndarray,
                     colors: np.ndarray | None = None, k_thresh: float = 0.01, min_size: int = 20,
                     color_weight: float = 0.0) -> np.ndarray:
    """Superpoint id (V,) of each mesh vertex (ScanNet segmentator defaults: kThresh 0.01, segMinVerts 20).

    normals: (V, 3) unit vertex normals (data_prep.scannet.normals.vertex_normals)."""
    v = np.asarray(vertices, np.float64)
    edges = mesh_edges(faces, len(v))
    w = edge_weights(v, np.asarray(normals, np.float64), edges, colors, color_weight)
    return felzenszwalb_segment(len(v), edges, w, k_thresh, min_size)


def point_superpoints(points: np.ndarray, colors: np.ndarray | None = None, normals: np.ndarray | None = None,
                      k: int = 10, normal_k: int = 16, k_thresh: float = 0.01, min_size: int = 20,
                      color_weight: float = 0.5) -> np.ndarray:
    """Superpoint id (N,) of each point of a bare cloud: kNN graph (k), PCA normals when none are given."""
    p = np.asarray(points, np.float64)
    if p.ndim != 2 or p.shape[1] != 3:
        raise ValueError(f"point_superpoints: points must be (N, 3), got {p.shape}")
    if len(p) == 0:
        return np.zeros(0, np.int64)
    tree = cKDTree(p)
    if normals is None:
        normals = estimate_normals(p, normal_k, tree)
    edges = knn_edges(p, k, tree)
    w = edge_weights(p, np.asarray(normals, np.float64), edges, colors, color_weight)
    return felzenszwalb_segment(len(p), edges, w, k_thresh, min_size)
