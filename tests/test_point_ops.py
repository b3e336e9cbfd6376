"""Point ops (FPS, kNN, ball query, 3-NN interpolation) against brute-force Python/numpy loops."""
import numpy as np
import pytest
import torch

from voxclip.ops.ball_query import ball_query
from voxclip.ops.fps import farthest_point_sample, fps_fpsample, fps_ragged, fps_torch
from voxclip.ops.interpolate import three_nn_interpolate
from voxclip.ops.knn import knn


def brute_fps(p: np.ndarray, k: int, start: int) -> list:
    """Textbook FPS: next = argmax over points of min squared distance to the chosen set."""
    chosen = [start]
    while len(chosen) < k:
        best, best_d = None, -1.0
        for i in range(len(p)):
            d = min(float(((p[i] - p[j]) ** 2).sum()) for j in chosen)
            if d > best_d:
                best, best_d = i, d
        chosen.append(best)
    return chosen


def cloud(n, seed, d=3):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, d, generator=g, dtype=torch.float64) * torch.tensor([4.0, 3.0, 2.0][:d], dtype=torch.float64)


def test_fps_torch_matches_brute_force():
    pts = torch.stack([cloud(150, 0), cloud(150, 1)])
    out = fps_torch(pts, 20, start_idx=3)
    for b in range(2):
        assert out[b].tolist() == brute_fps(pts[b].numpy(), 20, 3)


def test_fpsample_path_is_exact_fps_from_its_start():
    # fpsample's bucket sampler picks its own start; the rest must follow the FPS rule exactly.
    pts = cloud(400, 2).float()
    out = fps_fpsample(pts, 24).tolist()
    assert len(set(out)) == 24
    assert out == brute_fps(pts.double().numpy(), 24, out[0])
    # deterministic
    assert fps_fpsample(pts, 24).tolist() == out


def test_fps_cycles_when_too_few_points():
    pts = cloud(5, 3)
    for backend in ("torch", "fpsample"):
        out = farthest_point_sample(pts, 12, backend=backend).tolist()
        assert sorted(out[:5]) == [0, 1, 2, 3, 4]
        assert out == [out[i % 5] for i in range(12)]


def test_fps_ragged_both_backends():
    a, b = cloud(60, 4), cloud(90, 5)
    points = torch.cat([a, b])
    batch = torch.cat([torch.zeros(60), torch.ones(90)]).long()
    perm = torch.randperm(150, generator=torch.Generator().manual_seed(0))
    points, batch = points[perm], batch[perm]
    torch_out = fps_ragged(points, batch, 10, backend="torch")
    cpu_out = fps_ragged(points, batch, 10, backend="fpsample")
    for out in (torch_out, cpu_out):
        assert out.shape == (2, 10)
        for e in range(2):
            assert bool((batch[out[e]] == e).all())
            local_pts = points[batch == e].numpy()
            local_idx = (batch == e).nonzero().flatten()
            pos = {int(g): i for i, g in enumerate(local_idx)}
            seq = [pos[int(g)] for g in out[e]]
            assert seq == brute_fps(local_pts, 10, seq[0])
    # the torch path starts from each element's first point in the flat order
    for e in range(2):
        assert int(torch_out[e, 0]) == int((batch == e).nonzero()[0])


def test_knn_matches_brute_force():
    q, r = cloud(37, 6), cloud(53, 7)
    dist, idx = knn(q, r, 5, chunk_size=8)
    for i in range(37):
        d = [float(((q[i] - r[j]) ** 2).sum().sqrt()) for j in range(53)]
        order = sorted(range(53), key=lambda j: (d[j], j))[:5]
        assert idx[i].tolist() == order
        assert np.allclose(dist[i].numpy(), [d[j] for j in order])
    bd, bi = knn(torch.stack([q, q]), torch.stack([r, r.flip(0)]), 3)
    assert bi[0].tolist() == idx[:, :3].tolist()
    assert (52 - bi[1]).tolist() == idx[:, :3].tolist()
    with pytest.raises(ValueError):
        knn(q, r[:2], 3)


def test_ball_query_matches_pointnet2_rule():
    q, r = cloud(30, 8), cloud(200, 9)
    radius, ns = 0.6, 6
    idx, cnt = ball_query(q[None], r[None], radius, ns, chunk_size=7, return_count=True)
    q_far = torch.tensor([[100.0, 100.0, 100.0]], dtype=torch.float64)
    idx_far = ball_query(q_far, r, radius, ns)
    assert idx_far.tolist() == [[0] * ns]
    for i in range(30):
        found = []
        for j in range(200):
            if float(((q[i] - r[j]) ** 2).sum()) < radius ** 2:
                found.append(j)
                if len(found) == ns:
                    break
        expect = found + [found[0]] * (ns - len(found)) if found else [0] * ns
        assert idx[0, i].tolist() == expect
        assert int(cnt[0, i]) == len(found)


def test_three_nn_interpolation_brute_force():
    unknown, known = cloud(20, 10), cloud(15, 11)
    feats = torch.randn(15, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    out = three_nn_interpolate(unknown, known, feats)
    for i in range(20):
        d = sorted((float(((unknown[i] - known[j]) ** 2).sum().sqrt()), j) for j in range(15))[:3]
        w = np.array([1.0 / (dd + 1e-8) for dd, _ in d])
        w /= w.sum()
        expect = sum(w[t] * feats[j].numpy() for t, (_, j) in enumerate(d))
        assert np.allclose(out[i].numpy(), expect)
    # a known point interpolates to (almost exactly) its own feature
    assert torch.allclose(three_nn_interpolate(known[:2], known, feats), feats[:2], atol=1e-6)
