"""Text4Point core: correspondences (Eq. 2), losses (Eq. 14-16, depth), TQM (Eq. 5-12)."""
import math

import numpy as np
import pytest
import torch

from voxclip.models.text4point import (TextQueryingModule, depth_l1_loss, neighbour_mode_labels,
                                       pixel_voxel_contrastive_loss, text_auxiliary_loss,
                                       voxel_pixel_correspondences)
from voxclip.sparse import SparseTensor


def _pose(rng):
    a, b, c = rng.uniform(-np.pi, np.pi, 3)
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    rz = np.array([[np.cos(b), -np.sin(b), 0], [np.sin(b), np.cos(b), 0], [0, 0, 1]])
    ry = np.array([[np.cos(c), 0, np.sin(c)], [0, 1, 0], [-np.sin(c), 0, np.cos(c)]])
    t = np.eye(4)
    t[:3, :3], t[:3, 3] = rz @ rx @ ry, rng.uniform(-2, 2, 3)
    return t


# -- correspondences ---------------------------------------------------------------------------
def _brute(centres, pose, k, hw, depth, tol):
    """Per-voxel loop written from Eq. 2 with a general matrix inverse."""
    w2c = np.linalg.inv(pose)
    out_v, out_p = [], []
    for i, x in enumerate(centres):
        c = w2c @ np.append(x, 1.0)
        if c[2] <= 0:
            continue
        u = k[0, 0] * c[0] / c[2] + k[0, 1] * c[1] / c[2] + k[0, 2]
        v = k[1, 1] * c[1] / c[2] + k[1, 2]
        iu, iv = math.floor(u + 0.5), math.floor(v + 0.5)
        if not (0 <= iu < hw[1] and 0 <= iv < hw[0]):
            continue
        d = depth[iv, iu]
        if d > 0 and abs(d - c[2]) <= tol:
            out_v.append(i)
            out_p.append(iv * hw[1] + iu)
    return out_v, out_p


def test_correspondences_match_brute_force():
    rng = np.random.default_rng(0)
    h, w = 12, 16
    k = np.array([[14.0, 0, 7.5], [0, 13.0, 5.5], [0, 0, 1]])
    pose = _pose(rng)
    depth = rng.uniform(0.5, 3.0, (h, w))
    depth[rng.random((h, w)) < 0.2] = 0
    # half the voxels on the depth surface (+ noise around the 2 cm limit), half anywhere
    u, v = rng.uniform(-2, w + 1, 300), rng.uniform(-2, h + 1, 300)
    iu = np.clip(np.floor(u + 0.5).astype(int), 0, w - 1)
    iv = np.clip(np.floor(v + 0.5).astype(int), 0, h - 1)
    z = depth[iv, iu] + rng.uniform(-0.04, 0.04, 300)
    cam = np.stack([(u - k[0, 2]) * z / k[0, 0], (v - k[1, 2]) * z / k[1, 1], z], 1)
    cam = np.concatenate([cam, rng.uniform(-3, 3, (300, 3))])
    centres = cam @ pose[:3, :3].T + pose[:3, 3]
    vi, pi = voxel_pixel_correspondences(torch.tensor(centres), torch.tensor(pose),
                                         torch.tensor(k), (h, w), torch.tensor(depth), tol=0.02)
    bv, bp = _brute(centres, pose, k, (h, w), depth, 0.02)
    assert 50 < len(bv) < 300
    assert vi.tolist() == bv and pi.tolist() == bp


def test_correspondences_on_generated_frame(tmp_path):
    """Every back-projected point of a generated frame maps back to its own pixel; 1 cm voxel
    centres of the cloud almost all agree; points pushed 5 cm along the ray are rejected."""
    from data_prep.scannet.pairs_geometry import backproject_depth
    from data_prep.scannet.sens import SensReader
    from data_prep.synthetic.scannet import make_scannet_demo

    make_scannet_demo(tmp_path, 1, 5, num_test_scenes=0, frames=1, color_size=(80, 60),
                      depth_size=(80, 60), progress=False)
    r = SensReader(tmp_path / "scans/scene0000_00/scene0000_00.sens")
    f = next(r.iter_frames())
    depth = f.depth()
    k = r.header.depth_intrinsic[:3, :3]
    pts, pix = backproject_depth(depth, k, f.pose)
    t = lambda a: torch.tensor(np.asarray(a, np.float64))  # noqa: E731
    vi, pi = voxel_pixel_correspondences(t(pts), t(f.pose), t(k), depth.shape, t(depth))
    assert len(pts) > 1000 and vi.tolist() == list(range(len(pts)))
    assert torch.equal(pi, torch.as_tensor(pix))
    ray = pts - f.pose[:3, 3]
    far = pts + 0.05 * ray / np.linalg.norm(ray, axis=1, keepdims=True)
    assert len(voxel_pixel_correspondences(t(far), t(f.pose), t(k), depth.shape, t(depth))[0]) == 0
    vox = np.unique(np.floor(pts / 0.01), axis=0)
    centres = (vox + 0.5) * 0.01
    vi, _ = voxel_pixel_correspondences(t(centres), t(f.pose), t(k), depth.shape, t(depth))
    assert len(vi) > 0.9 * len(centres)
    # depth at another resolution through its own intrinsic gives the same pairs
    k_img = k.copy()
    k_img[:2] *= 2
    k_img[:2, 2] = k[:2, 2] * 2 + 0.5
    vi2, _ = voxel_pixel_correspondences(t(centres), t(f.pose), t(k_img), (120, 160), t(depth),
                                         depth_intrinsic=t(k))
    assert vi2.tolist() == vi.tolist()


# -- losses -------------------------------------------------------------------------------------
def test_contrastive_matches_hand_computation():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    tau = 0.4
    cos = np.array([[x @ y / np.linalg.norm(x) / np.linalg.norm(y) for y in b] for x in a])
    total = 0.0
    for i in range(5):  # Eq. 14, literally
        total -= math.log(math.exp(cos[i, i] / tau) / sum(math.exp(cos[i, p] / tau)
                                                           for p in range(5)))
        total -= math.log(math.exp(cos[i, i] / tau) / sum(math.exp(cos[q, i] / tau)
                                                           for q in range(5)))
    got = pixel_voxel_contrastive_loss(torch.tensor(a), torch.tensor(b), tau)
    assert got.item() == pytest.approx(total / 5, rel=1e-9)
    # two perfectly aligned orthogonal pairs: hand value 2 * log(1 + exp(-1/tau))
    e = torch.eye(2)
    assert pixel_voxel_contrastive_loss(e, 3 * e, tau).item() == pytest.approx(
        2 * math.log(1 + math.exp(-1 / tau)), rel=1e-6)


def test_neighbour_mode_labels_and_aux_loss_vs_loop():
    rng = np.random.default_rng(2)
    centres = rng.uniform(0, 1, (40, 3))
    points = rng.uniform(0, 1, (300, 3))
    labels = rng.integers(-1, 4, 300)
    got = neighbour_mode_labels(centres, points, labels, 0.15, 4)
    for i, c in enumerate(centres):  # loop: count labels of points within the radius
        counts = np.zeros(4, int)
        for p, l in zip(points, labels):
            if l >= 0 and np.linalg.norm(p - c) <= 0.15:
                counts[l] += 1
        want = -1 if counts.sum() == 0 else int(np.flatnonzero(counts == counts.max())[0])
        assert got[i] == want
    assert (got == -1).any() and (got >= 0).sum() > 10
    feats, text = rng.normal(size=(40, 6)), rng.normal(size=(4, 6))
    tau, total, n = 0.07, 0.0, 0
    for i in range(40):  # Eq. 15-16 per voxel
        if got[i] < 0:
            continue
        s = [feats[i] @ t / np.linalg.norm(feats[i]) / np.linalg.norm(t) / tau for t in text]
        total += -s[got[i]] + math.log(sum(math.exp(x) for x in s))
        n += 1
    loss = text_auxiliary_loss(torch.tensor(feats), torch.tensor(text), torch.tensor(got), tau)
    assert loss.item() == pytest.approx(total / n, rel=1e-9)
    none = text_auxiliary_loss(torch.tensor(feats, requires_grad=True), torch.tensor(text),
                               torch.full((40,), -1))
    assert none.item() == 0.0 and none.requires_grad


def test_depth_l1_loss():
    pred = torch.tensor([[1.0, 2.0], [3.0, 4.0]])[None]
    target = torch.tensor([[1.5, 0.0], [2.0, 4.0]])[None]
    assert depth_l1_loss(pred, target).item() == pytest.approx((0.5 + 1.0 + 0.0) / 3)


# -- TQM ------------------------------------------------------------------------------------------
def _bn(x, eps=1e-5):
    return (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps)


def test_tqm_identity_at_init_and_shapes():
    torch.manual_seed(0)
    m = TextQueryingModule(8, 16, num_heads=2)
    h, text = torch.randn(30, 8), torch.randn(5, 16)
    out, ex = m(h, text)
    assert torch.equal(out, h)  # alpha=1, beta=0
    assert ex["expanded"].shape == (30, 16) and ex["text_feat"].shape == (30, 8)
    assert ex["attn"].shape == (2, 30, 5)
    coords = torch.randint(0, 10, (30, 4), dtype=torch.int32)
    sp, _ = m(SparseTensor(h, coords, stride=8), text)
    assert isinstance(sp, SparseTensor) and sp.stride == 8 and torch.equal(sp.coords, coords)


def test_tqm_attention_vs_explicit_softmax():
    torch.manual_seed(1)
    m = TextQueryingModule(8, 12, num_heads=1, beta_init=0.5).double()
    h, text = torch.randn(20, 8).double(), torch.randn(4, 12).double()
    out, ex = m(h, text)
    h_hat = h @ m.fc_expand.weight.T + m.fc_expand.bias
    q = _bn(h_hat) @ m.w_q.weight.T
    kk, vv = _bn(text) @ m.w_k.weight.T, _bn(text) @ m.w_v.weight.T
    logits = q @ kk.T / math.sqrt(12)
    w = torch.exp(logits) / torch.exp(logits).sum(1, keepdim=True)
    assert torch.allclose(ex["attn"][0], w, atol=1e-12)
    attn = (w @ vv) @ m.w_o.weight.T
    mlp = m.mlp[2](torch.relu(m.mlp[0](_bn(attn))))
    red = mlp @ m.fc_reduce.weight.T + m.fc_reduce.bias
    assert torch.allclose(out, h + 0.5 * red, atol=1e-10)


def test_tqm_gradients_reach_alpha_beta_and_they_train():
    torch.manual_seed(2)
    m = TextQueryingModule(8, 16)
    h, text = torch.randn(25, 8), torch.randn(6, 16)
    g = torch.randn(25, 8)
    out, ex = m(h, text)
    (out * g).sum().backward()
    # d/d alpha = sum(g * h); d/d beta = sum(g * reduced text feature)
    assert m.alpha.grad.item() == pytest.approx((g * h).sum().item(), rel=1e-4)
    assert m.beta.grad.item() == pytest.approx((g * ex["text_feat"]).sum().item(), rel=1e-4)
    a0, b0 = m.alpha.item(), m.beta.item()
    torch.optim.SGD(m.parameters(), lr=0.1).step()
    assert m.alpha.item() != a0 and m.beta.item() != b0
    # once beta != 0 the attention path receives gradient too
    m.zero_grad()
    out, _ = m(h, text)
    (out * g).sum().backward()
    assert m.w_q.weight.grad.abs().sum() > 0 and m.fc_expand.weight.grad.abs().sum() > 0
