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

Speed (docs/benchmarks.md, tools/benchmark_superpoints.py): a bare cloud costs one KD-tree query of
max(k + 1, normal_k) neighbours shared by the normals and the edges (about half of the time),
closed-form 3x3 eigenvectors for the normals, column-wise edge weights and a packed integer sort for
the stable weight order. tests/superpoints_reference.py keeps the previous implementation; the
labels are equal on clouds without kNN distance ties (tests/test_superpoints.py).
"""
from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

__all__ = ["mesh_edges", "knn_indices", "knn_edges", "estimate_normals", "edge_weights", "felzenszwalb_segment",
           "mesh_superpoints", "point_superpoints", "relabel_consecutive"]


def relabel_consecutive(labels: np.ndarray) -> np.ndarray:
    """Any integer labels (N,) -> 0..S-1 in order of first appearance of each sorted value (np.unique)."""
    return np.unique(np.asarray(labels), return_inverse=True)[1].reshape(-1).astype(np.int64)


def _sorted_unique(key: np.ndarray) -> np.ndarray:
    """np.unique by one in-place sort (numpy's hash-based unique is slower for int64 keys)."""
    key = np.sort(key)
    return key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key


def mesh_edges(faces: np.ndarray, num_vertices: int) -> np.ndarray:
    """(F, 3) triangles -> (E, 2) unique undirected vertex edges (a < b), int64."""
    f = np.asarray(faces, np.int64)
    if f.ndim != 2 or f.shape[1] != 3:
        raise ValueError(f"mesh_edges: faces must be (F, 3), got {f.shape}")
    if f.size and (f.min() < 0 or f.max() >= num_vertices):
        raise ValueError(f"mesh_edges: face indices outside [0, {num_vertices})")
    a = np.concatenate([f[:, 0], f[:, 1], f[:, 2]])
    b = np.concatenate([f[:, 1], f[:, 2], f[:, 0]])
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo != hi
    key = _sorted_unique(lo[keep] * num_vertices + hi[keep])
    return np.stack([key // num_vertices, key % num_vertices], 1)


def knn_indices(points: np.ndarray, k: int, tree: cKDTree | None = None, workers: int = 1) -> np.ndarray:
    """(N, min(k, N)) indices of each point's k nearest points (itself included, nearest first): ONE
    KD-tree query that knn_edges and estimate_normals share (the query is most of a bare cloud's cost)."""
    k = max(1, min(int(k), len(points)))
    tree = tree if tree is not None else cKDTree(points)
    idx = tree.query(points, k=k, workers=workers)[1]
    return idx.reshape(len(points), k)


def knn_edges(points: np.ndarray, k: int = 10, tree: cKDTree | None = None, idx: np.ndarray | None = None
              ) -> np.ndarray:
    """(N, 3) points -> (E, 2) unique undirected edges (a < b) of the k-nearest-neighbour graph.

    idx: precomputed knn_indices with at least k + 1 columns (self first), e.g. shared with the normals."""
    n = len(points)
    k = min(int(k), n - 1)
    if k < 1:
        return np.zeros((0, 2), np.int64)
    idx = knn_indices(points, k + 1, tree) if idx is None else idx
    a = np.repeat(np.arange(n, dtype=np.int64), k)
    b = np.asarray(idx[:, 1:k + 1], np.int64).reshape(-1)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo != hi
    key = _sorted_unique(lo[keep] * n + hi[keep])
    return np.stack([key // n, key % n], 1)


def _smallest_eigvec_sym3(xx, yy, zz, xy, xz, yz) -> np.ndarray:
    """Unit eigenvector (N, 3) of the smallest eigenvalue of symmetric 3x3 matrices given by their six
    entries (closed form: trigonometric eigenvalues, then the largest of the three cross products of
    two rows of A - lambda I; ~10x faster than a batched np.linalg.eigh)."""
    q = (xx + yy + zz) / 3.0
    a, b, c = xx - q, yy - q, zz - q
    p = np.sqrt((a * a + b * b + c * c + 2.0 * (xy * xy + xz * xz + yz * yz)) / 6.0)
    ps = np.where(p > 0, p, 1.0)
    det = (a * (b * c - yz * yz) - xy * (xy * c - yz * xz) + xz * (xy * yz - b * xz)) / (ps * ps * ps)
    lam = q + 2.0 * p * np.cos(np.arccos(np.clip(det / 2.0, -1.0, 1.0)) / 3.0 + 2.0 * np.pi / 3.0)  # smallest
    a, b, c = xx - lam, yy - lam, zz - lam  # rows r0 = (a, xy, xz), r1 = (xy, b, yz), r2 = (xz, yz, c)
    crosses = ((xy * yz - xz * b, xz * xy - a * yz, a * b - xy * xy),   # r0 x r1
               (xy * c - xz * yz, xz * xz - a * c, a * yz - xy * xz),   # r0 x r2
               (b * c - yz * yz, yz * xz - xy * c, xy * yz - b * xz))   # r1 x r2
    norm2 = [u * u + v * v + w * w for u, v, w in crosses]
    best = np.where(norm2[1] > norm2[0], 1, 0)
    best = np.where(norm2[2] > np.where(best == 1, norm2[1], norm2[0]), 2, best)
    v = np.empty((len(xx), 3))
    size2 = np.choose(best, norm2)
    for j in range(3):
        v[:, j] = np.choose(best, [cr[j] for cr in crosses])
    size = np.sqrt(size2)
    ok = size > 0
    v[ok] /= size[ok, None]
    v[~ok] = (0.0, 0.0, 1.0)  # isotropic / single-point neighbourhoods: no preferred axis
    return v


def estimate_normals(points: np.ndarray, k: int = 16, tree: cKDTree | None = None, idx: np.ndarray | None = None
                     ) -> np.ndarray:
    """Unit normals (N, 3) by PCA of each point's k nearest neighbours (smallest-eigenvalue axis),
    oriented towards +z where ambiguous only by sign convention (n_z >= 0).

    idx: precomputed knn_indices (its first k columns are used). The covariance is accumulated from
    the six distinct products of coordinates centred on the patch mean (float64)."""
    n = len(points)
    k = max(3, min(int(k), n))
    idx = knn_indices(points, k, tree) if idx is None else idx[:, :k]
    x, y, z = (col[idx] for col in _columns(points))  # (N, k) each
    x -= x.mean(1, keepdims=True)
    y -= y.mean(1, keepdims=True)
    z -= z.mean(1, keepdims=True)
    normal = _smallest_eigvec_sym3(*(np.einsum("nk,nk->n", u, v) for u, v in
                                     ((x, x), (y, y), (z, z), (x, y), (x, z), (y, z))))
    normal *= np.where(normal[:, 2:3] < 0, -1.0, 1.0)
    return normal


def _columns(x) -> list:
    """The three coordinate columns of an (N, 3) array, each contiguous float64 (fast 1-D gathers)."""
    x = np.asarray(x, np.float64)
    return [np.ascontiguousarray(x[:, j]) for j in range(3)]


def edge_weights(points: np.ndarray, normals: np.ndarray, edges: np.ndarray,
                 colors: np.ndarray | None = None, color_weight: float = 0.0) -> np.ndarray:
    """ScanNet segmentator weight per edge (module docstring), float64 (E,); column by column (1-D
    gathers are ~2x faster than gathering (E, 3) rows and reducing them)."""
    a, b = edges[:, 0], edges[:, 1]
    (px, py, pz), (nx, ny, nz) = _columns(points), _columns(normals)
    nbx, nby, nbz = nx[b], ny[b], nz[b]
    w = 1.0 - (nx[a] * nbx + ny[a] * nby + nz[a] * nbz)
    convex = nbx * (px[b] - px[a]) + nby * (py[b] - py[a]) + nbz * (pz[b] - pz[a]) > 0
    w = np.where(convex, w * w, w)
    if colors is not None and color_weight > 0:
        c = np.asarray(colors, np.float64)
        dc = [ch[a] - ch[b] for ch in _columns(c / 255.0 if c.max(initial=0) > 1.0 else c)]
        w = w + color_weight * np.sqrt(dc[0] * dc[0] + dc[1] * dc[1] + dc[2] * dc[2]) / np.sqrt(3.0)
    return np.maximum(w, 0.0)


def _stable_argsort_float(w: np.ndarray) -> np.ndarray:
    """np.argsort(w, kind='stable') of finite floats, ~2x faster: numpy's vectorised (unstable) argsort,
    then equal values put back in index order by one integer np.sort of (rank << b | position)."""
    if len(w) == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(w)
    ws = w[order]
    rank = np.cumsum(np.r_[False, ws[1:] != ws[:-1]], dtype=np.int64)  # equal values share a rank
    bits = max(1, int(len(w) - 1).bit_length())
    if int(rank[-1]).bit_length() + bits > 63:
        return np.argsort(w, kind="stable")
    packed = (rank << bits) | order
    packed.sort()
    return packed & ((1 << bits) - 1)


def _merge(ea, eb, n_comp):
    """Connected components of the accepted edges (ea, eb): (number of new components, old -> new map)."""
    g = coo_matrix((np.ones(len(ea), np.int8), (ea, eb)), shape=(n_comp, n_comp))
    n_new, comp_map = connected_components(g, directed=False)
    return n_new, comp_map


def _contract(ea, eb, weights, comp_map):
    """Edges between old components -> edges between new ones; internal edges dropped. Parallel edges
    are kept: the lightest of them comes first in the weight order, so _lightest_out picks it as a
    deduplicated list would, and the others turn internal with it (removing them would cost a sort
    per round, more than carrying them)."""
    a, b = comp_map[ea], comp_map[eb]
    keep = np.flatnonzero(a != b)  # input is sorted by weight, so `keep` is too
    return a[keep], b[keep], weights[keep]


def _lightest_out(ea, eb, n_comp):
    """Index of each component's lightest incident edge (edges sorted by weight), -1 if none."""
    e_idx = np.arange(len(ea))
    best = np.full(n_comp, len(ea), np.int64)
    np.minimum.at(best, ea, e_idx)
    np.minimum.at(best, eb, e_idx)
    best[best == len(ea)] = -1
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
    order = _stable_argsort_float(weights + 0.0)  # + 0.0: -0.0 -> 0.0
    ea, eb, w = edges[order, 0], edges[order, 1], weights[order]
    n_comp = num_points
    for phase in ("predicate", "min_size"):
        for _ in range(max_rounds):
            if not len(ea):
                break
            best = _lightest_out(ea, eb, n_comp)
            cand = _sorted_unique(best[best >= 0])  # sorted edge indices, each once
            ca, cb, cw = ea[cand], eb[cand], w[cand]
            if phase == "predicate":
                ok = cw <= np.minimum(internal[ca] + k_thresh / size[ca], internal[cb] + k_thresh / size[cb])
            else:
                ok = (size[ca] < min_size) | (size[cb] < min_size)
            if not ok.any():
                break
            acc = cand[ok]
            n_new, comp_map = _merge(ea[acc], eb[acc], n_comp)
            new_size = np.bincount(comp_map, weights=size, minlength=n_new).astype(np.int64)
            new_int = np.zeros(n_new)
            np.maximum.at(new_int, comp_map, internal)
            np.maximum.at(new_int, comp_map[ea[acc]], w[acc])
            labels, size, internal, n_comp = comp_map[labels], new_size, new_int, n_new
            ea, eb, w = _contract(ea, eb, w, comp_map)
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
                      color_weight: float = 0.5, workers: int = -1) -> np.ndarray:
    """Superpoint id (N,) of each point of a bare cloud: kNN graph (k), PCA normals when none are given.

    One KD-tree query of max(k + 1, normal_k) neighbours serves both (workers: its threads, -1 all cores;
    each point's neighbours are found independently, so the result does not depend on it)."""
    p = np.asarray(points, np.float64)
    if p.ndim != 2 or p.shape[1] != 3:
        raise ValueError(f"point_superpoints: points must be (N, 3), got {p.shape}")
    if len(p) == 0:
        return np.zeros(0, np.int64)
    idx = knn_indices(p, max(int(k) + 1, int(normal_k) if normals is None else 0), workers=workers)
    if normals is None:
        normals = estimate_normals(p, min(normal_k, idx.shape[1]), idx=idx)
    edges = knn_edges(p, k, idx=idx)
    w = edge_weights(p, np.asarray(normals, np.float64), edges, colors, color_weight)
    return felzenszwalb_segment(len(p), edges, w, k_thresh, min_size)
