"""3DETR head pieces against independent computations; GIoU against brute force; loss falls."""
import itertools
import math

import pytest
import torch

from voxclip.models.detectors.detr3d import ThreeDETR, scene_bounds
from voxclip.models.heads.detr3d import FourierPositionEncoding, HungarianMatcher, angle_to_bin, bin_to_angle
from voxclip.ops.giou3d import generalized_box3d_iou, paired_generalized_box3d_iou
from voxclip.structures.boxes import box_corners, points_in_boxes


# ---------------------------------------------------------------- Fourier encoding
def test_fourier_shape_determinism_and_formula():
    a, b = FourierPositionEncoding(64, seed=3), FourierPositionEncoding(64, seed=3)
    xyz = torch.rand(2, 10, 3) * 4 - 1
    lo, hi = xyz.amin(1), xyz.amax(1)
    ea = a(xyz, lo, hi)
    assert ea.shape == (2, 10, 64)
    assert torch.equal(ea, b(xyz, lo, hi)) and torch.equal(ea, a(xyz, lo, hi))
    assert not torch.allclose(ea, FourierPositionEncoding(64, seed=4)(xyz, lo, hi))
    # Hand formula for one point: normalise by the scene extent, 2 pi x B, [sin, cos].
    B = a.gauss_B
    u = (xyz[1, 7] - lo[1]) / (hi[1] - lo[1])
    proj = [2 * math.pi * sum(float(u[i]) * float(B[i, j]) for i in range(3)) for j in range(32)]
    ref = torch.tensor([math.sin(p) for p in proj] + [math.cos(p) for p in proj])
    assert torch.allclose(ea[1, 7], ref, atol=1e-4)
    # Scale invariance: the encoding sees coordinates relative to the scene extent.
    assert torch.allclose(a(xyz * 3, lo * 3, hi * 3), ea, atol=1e-4)
    assert "gauss_B" in a.state_dict()


def test_scene_bounds_per_sample():
    pts = torch.tensor([[0., 1, 2], [3, -1, 0], [5, 5, 5], [-4, 6, 1]])
    lo, hi = scene_bounds(pts, torch.tensor([0, 0, 1, 1]), 2)
    assert torch.equal(lo, torch.tensor([[0., -1, 0], [-4, 5, 1]]))
    assert torch.equal(hi, torch.tensor([[3., 1, 2], [5, 6, 5]]))


# ---------------------------------------------------------------- angle bins
def test_angle_bins_round_trip_and_bin_choice():
    ang = torch.linspace(-math.pi, math.pi - 1e-4, 97, dtype=torch.float64)
    idx, res = angle_to_bin(ang, 12)
    assert res.abs().max() <= 1 + 1e-9
    back = bin_to_angle(idx, res, 12)
    assert torch.allclose(torch.remainder(back - ang + math.pi, 2 * math.pi) - math.pi, torch.zeros_like(ang), atol=1e-9)
    # The bin is the nearest bin centre k * 30 degrees.
    for a, k in zip(ang.tolist(), idx.tolist()):
        dists = [abs((a - j * math.pi / 6 + math.pi) % (2 * math.pi) - math.pi) for j in range(12)]
        assert min(dists) == pytest.approx(dists[k], abs=1e-9)


# ---------------------------------------------------------------- GIoU
def _brute_giou(a, b, n=60):
    """Grid estimate of the intersection; C = enclosing axis-aligned box (yaw 0) or scipy convex hull of
    the bird's-eye corners x joint z extent (rotated)."""
    from scipy.spatial import ConvexHull

    corners = torch.cat([box_corners(a[None])[0], box_corners(b[None])[0]]).double()
    lo, hi = corners.amin(0), corners.amax(0)
    axes = [lo[i] + (torch.arange(n, dtype=torch.float64) + 0.5) * (hi[i] - lo[i]) / n for i in range(3)]
    grid = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    inside = points_in_boxes(grid, torch.stack([a, b]).double())
    cell = float((hi - lo).prod()) / n ** 3
    inter = float((inside[:, 0] & inside[:, 1]).sum()) * cell
    union = float(a[3] * a[4] * a[5] + b[3] * b[4] * b[5]) - inter
    if float(a[6]) == 0 and float(b[6]) == 0:  # axis-aligned: C is the enclosing axis-aligned box
        hull = float((hi - lo).prod())
    else:
        hull = ConvexHull(corners[:, :2].numpy()).volume * float(hi[2] - lo[2])
    return inter / union - (hull - union) / hull


@pytest.mark.parametrize("yaw", [False, True])
def test_giou_against_grid(yaw):
    g = torch.Generator().manual_seed(1 if yaw else 0)
    boxes1 = torch.cat([torch.rand(4, 3, generator=g) * 2, 0.5 + torch.rand(4, 3, generator=g) * 1.5,
                        (torch.rand(4, 1, generator=g) * 3 if yaw else torch.zeros(4, 1))], 1).double()
    boxes2 = torch.cat([torch.rand(3, 3, generator=g) * 2, 0.5 + torch.rand(3, 3, generator=g) * 1.5,
                        (torch.rand(3, 1, generator=g) * 3 if yaw else torch.zeros(3, 1))], 1).double()
    got = generalized_box3d_iou(boxes1, boxes2)
    for i in range(4):
        for j in range(3):
            assert float(got[i, j]) == pytest.approx(_brute_giou(boxes1[i], boxes2[j]), abs=0.03)
    assert torch.allclose(paired_generalized_box3d_iou(boxes1[:3], boxes2), got[torch.arange(3), torch.arange(3)])


def test_giou_hand_values_and_gradient_for_disjoint_boxes():
    a = torch.tensor([[0., 0, 0, 2, 2, 2, 0]], requires_grad=True)
    b = torch.tensor([[3., 0, 0, 2, 2, 2, 0]])
    g = generalized_box3d_iou(a, b)  # disjoint: IoU 0, union 16, hull 5 x 2 x 2 = 20
    assert float(g.detach()) == pytest.approx(0 - (20 - 16) / 20)
    g.sum().backward()
    # GIoU = -1 + 16 / hull, hull = (4 - (x - 1)) * 4: d/dx = -16 / 20^2 * (-4) = 0.16 (towards b: up).
    assert float(a.grad[0, 0]) == pytest.approx(0.16, abs=1e-6)
    same = torch.tensor([[1., 2, 3, 1, 2, 3, 0.3]])
    assert float(generalized_box3d_iou(same, same)) == pytest.approx(1.0, abs=1e-6)
    # quarter turn swaps extents: (2,1,1) yawed 90 deg == (1,2,1)
    q = torch.tensor([[0., 0, 0, 2, 1, 1, math.pi / 2]])
    r = torch.tensor([[0., 0, 0, 1, 2, 1, 0.0]])
    assert float(generalized_box3d_iou(q, r)) == pytest.approx(1.0, abs=1e-6)


def test_giou_rotated_gradient_finite():
    a = torch.tensor([[0.1, 0.2, 0, 2, 1, 1, 0.4]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([[0.5, 0, 0.2, 1, 1.5, 1, -0.3]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: paired_generalized_box3d_iou(x, b), (a,), atol=1e-5)


# ---------------------------------------------------------------- Hungarian matcher
def _pred(q, c, seed):
    g = torch.Generator().manual_seed(seed)
    centre = torch.rand(1, q, 3, generator=g) * 3
    size = 0.3 + torch.rand(1, q, 3, generator=g)
    return dict(sem_cls_logits=torch.randn(1, q, c + 1, generator=g), objectness_prob=torch.rand(1, q, generator=g),
                center_normalized=centre / 3, boxes=torch.cat([centre, size, torch.zeros(1, q, 1)], -1))


@pytest.mark.parametrize("q,m,seed", [(4, 3, 0), (5, 2, 1), (5, 5, 2), (3, 3, 3), (6, 4, 4)])
def test_matcher_against_permutations(q, m, seed):
    pred = _pred(q, 3, seed)
    g = torch.Generator().manual_seed(100 + seed)
    gt_c = torch.rand(m, 3, generator=g) * 3
    gt = torch.cat([gt_c, 0.3 + torch.rand(m, 3, generator=g), torch.zeros(m, 1)], -1)
    labels = torch.randint(0, 3, (m,), generator=g)
    w = dict(cls=1.0, objectness=0.7, center=2.0, giou=1.5)
    # Independent cost: explicit loops.
    prob = pred["sem_cls_logits"][0].softmax(-1)
    giou = generalized_box3d_iou(pred["boxes"][0], gt)
    cost = [[-w["cls"] * float(prob[i, labels[j]]) - w["objectness"] * float(pred["objectness_prob"][0, i])
             + w["center"] * float((pred["center_normalized"][0, i] - gt_c[j] / 3).abs().sum())
             - w["giou"] * float(giou[i, j]) for j in range(m)] for i in range(q)]
    best = min(itertools.permutations(range(q), m), key=lambda p: sum(cost[p[j]][j] for j in range(m)))
    qi, gi = HungarianMatcher(**w)(pred, [gt], [labels], [gt_c / 3])[0]
    got = {int(g_): int(q_) for q_, g_ in zip(qi, gi)}
    assert len(got) == m
    assert got == {j: best[j] for j in range(m)}


def test_matcher_empty_ground_truth():
    pred = _pred(4, 3, 0)
    qi, gi = HungarianMatcher()(pred, [torch.zeros(0, 7)], [torch.zeros(0, dtype=torch.long)], [torch.zeros(0, 3)])[0]
    assert qi.numel() == 0 and gi.numel() == 0


# ---------------------------------------------------------------- end to end
def _scene(seed, n=1500):
    """Points on the surfaces of 2-3 boxes on a floor; returns (points, boxes, labels)."""
    g = torch.Generator().manual_seed(seed)
    k = 2 + seed % 2
    centres = torch.stack([torch.tensor([0.8 + 1.6 * i, 0.8 + torch.rand(1, generator=g).item() * 1.5, 0.0])
                           for i in range(k)])
    sizes = 0.4 + torch.rand(k, 3, generator=g) * 0.6
    centres[:, 2] = sizes[:, 2] / 2
    boxes = torch.cat([centres, sizes, torch.zeros(k, 1)], 1)
    per = n // (k + 1)
    pts = [torch.cat([torch.rand(per, 2, generator=g) * 5, torch.zeros(per, 1)], 1)]
    for b in boxes:
        u = torch.rand(per, 3, generator=g) - 0.5
        face = torch.randint(0, 3, (per,), generator=g)
        u[torch.arange(per), face] = torch.sign(u[torch.arange(per), face]) * 0.5
        pts.append(b[:3] + u * b[3:6])
    return torch.cat(pts), boxes, torch.arange(k) % 3


def _batch(seeds):
    pts, pb, samples = [], [], []
    for i, s in enumerate(seeds):
        p, b, lab = _scene(s)
        pts.append(p)
        pb.append(torch.full((p.shape[0],), i))
        samples.append(dict(gt_boxes=b, gt_labels=lab, meta=dict(scene_id=f"s{s}")))
    return dict(points=torch.cat(pts), point_batch=torch.cat(pb)), samples


def _tiny_model():
    return ThreeDETR(
        tokenizer=dict(type="PointTokenizer", num_tokens=64, patch_size=16, embed_dim=32, pointnet_hidden=(16, 32)),
        encoder=dict(type="PointTransformerEncoder", embed_dim=32, depth=1, num_heads=2, drop_path_rate=0.0),
        head=dict(type="DETR3DHead", num_classes=3, in_channels=32, dim=32, num_queries=16, num_decoder_layers=2,
                  num_heads=2, ffn_dim=64, dropout=0.0, mlp_hidden=32, mlp_dropout=0.0))


def test_loss_falls_on_generated_scenes():
    torch.manual_seed(0)
    model = _tiny_model()
    inputs, samples = _batch([0, 1])
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    totals = []
    for _ in range(60):
        losses = model(inputs, samples, mode="loss")
        assert {"loss_cls", "loss_center", "loss_size", "loss_giou", "loss_aux"} <= set(losses)
        total = sum(losses.values())
        opt.zero_grad()
        total.backward()
        opt.step()
        totals.append(float(total))
    assert sum(totals[-5:]) / 5 < 0.75 * sum(totals[:5]) / 5, totals


def test_predict_contract():
    torch.manual_seed(0)
    model = _tiny_model().eval()
    inputs, samples = _batch([2, 3])
    out = model(inputs, samples, mode="predict")
    assert len(out) == 2
    for res, s in zip(out, samples):
        k = res["boxes"].shape[0]
        assert res["boxes"].shape == (k, 7) and res["labels"].shape == (k,) and res["scores"].shape == (k,)
        assert bool((res["scores"][:-1] >= res["scores"][1:]).all())
        assert bool((res["labels"] >= 0).all() and (res["labels"] < 3).all())
        assert torch.equal(res["gt_boxes"], s["gt_boxes"]) and res["meta"]["scene_id"] == s["meta"]["scene_id"]
    with pytest.raises(ValueError, match="mode"):
        model(inputs, samples, mode="bogus")
