"""3DETR as released: centre decoding, parse_predictions, set-abstraction pre-encoder, pre-norm ReLU
encoder without final norm, conv-BN projection, random cuboid. Checked against hand computations
and brute-force re-implementations of the released rules (facebookresearch/3detr)."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from voxclip.datasets.transforms import RandomCuboid
from voxclip.models.heads.detr3d import decode_boxes
from voxclip.models.heads.detr3d.head import DETR3DHead, memory_projection
from voxclip.models.heads.detr3d.postprocess import parse_predictions
from voxclip.models.tokenizers import SetAbstractionTokenizer
from voxclip.models.transformers import PointTransformerEncoder


def _logit(p):
    return math.log(p / (1 - p))


# ---------------------------------------------------------------- item 1: centre in metres
def test_centre_is_query_plus_metric_offset():
    q = torch.tensor([[[2.0, 3.0, 1.0]]])
    lo, hi = torch.tensor([[0.0, 0.0, 0.0]]), torch.tensor([[10.0, 8.0, 4.0]])
    raw = dict(center=torch.tensor([[[_logit(0.75), _logit(0.1), 0.0]]]), size=torch.zeros(1, 1, 3),
               angle_cls=torch.zeros(1, 1, 1), angle_res=torch.zeros(1, 1, 1), sem_cls=torch.zeros(1, 1, 3))
    out = decode_boxes(raw, q, lo, hi, 1)
    # hand: offsets 0.25, -0.4, 0 metres
    assert torch.allclose(out["center"], torch.tensor([[[2.25, 2.6, 1.0]]]), atol=1e-6)
    assert torch.allclose(out["center_normalized"], torch.tensor([[[0.225, 2.6 / 8, 0.25]]]), atol=1e-6)
    # size = sigmoid(0) * extent
    assert torch.allclose(out["size"], torch.tensor([[[5.0, 4.0, 2.0]]]))
    # the earlier rule put the centre 0.25 * 10 m = 2.5 m away: still selectable, and different
    old = decode_boxes(raw, q, lo, hi, 1, center_offset="normalized")
    assert torch.allclose(old["center"][0, 0, 0], torch.tensor(4.5))
    # the offset never exceeds 0.5 m whatever the scene size
    big = decode_boxes(dict(raw, center=torch.full((1, 1, 3), 30.0)), q, lo * 100, hi * 100, 1)
    assert float((big["center"] - q).abs().max()) <= 0.5


def test_size_extent_clamped_to_a_decimetre():
    q = torch.zeros(1, 1, 3)
    lo, hi = torch.zeros(1, 3), torch.tensor([[0.02, 1.0, 1.0]])
    raw = dict(center=torch.zeros(1, 1, 3), size=torch.zeros(1, 1, 3), angle_cls=torch.zeros(1, 1, 1),
               angle_res=torch.zeros(1, 1, 1), sem_cls=torch.zeros(1, 1, 2))
    out = decode_boxes(raw, q, lo, hi, 1)
    assert torch.allclose(out["size"][0, 0], torch.tensor([0.05, 0.5, 0.5]))  # 0.5 * max(0.02, 0.1)


# ---------------------------------------------------------------- item 2: parse_predictions
def _brute_parse(boxes, obj, sem, points, thr=0.05, nms_iou=0.25, min_pts=5):
    """Loop re-implementation of 3DETR's parse_predictions (exact_eval, use_3d_nms, cls_nms)."""
    boxes, obj, sem, points = (np.asarray(x, dtype=np.float64) for x in (boxes, obj, sem, points))
    k = len(boxes)
    nonempty = np.ones(k, bool)
    for j in range(k):
        c, s = math.cos(boxes[j, 6]), math.sin(boxes[j, 6])
        cnt = 0
        for p in points:
            d = p - boxes[j, :3]
            lx, ly = c * d[0] + s * d[1], -s * d[0] + c * d[1]
            cnt += abs(lx) <= boxes[j, 3] / 2 and abs(ly) <= boxes[j, 4] / 2 and abs(d[2]) <= boxes[j, 5] / 2
        nonempty[j] = cnt >= min_pts
    if not nonempty.any():
        nonempty[obj.argmax()] = True
    # axis-aligned extents of the corners
    ext = []
    for j in range(k):
        c, s = math.cos(boxes[j, 6]), math.sin(boxes[j, 6])
        hx = abs(c) * boxes[j, 3] / 2 + abs(s) * boxes[j, 4] / 2
        hy = abs(s) * boxes[j, 3] / 2 + abs(c) * boxes[j, 4] / 2
        h = np.array([hx, hy, boxes[j, 5] / 2])
        ext.append((boxes[j, :3] - h, boxes[j, :3] + h))
    cls = sem.argmax(1)
    order = sorted([j for j in range(k) if nonempty[j]], key=lambda j: -obj[j])
    picked = []
    while order:
        i = order.pop(0)
        picked.append(i)
        rest = []
        for j in order:
            lo = np.maximum(ext[i][0], ext[j][0])
            hi = np.minimum(ext[i][1], ext[j][1])
            inter = np.prod(np.clip(hi - lo, 0, None))
            vi, vj = np.prod(ext[i][1] - ext[i][0]), np.prod(ext[j][1] - ext[j][0])
            iou = inter / (vi + vj - inter)
            if not (cls[i] == cls[j] and iou > nms_iou):
                rest.append(j)
        order = rest
    out = []
    for j in picked:
        if obj[j] > thr:
            out += [(c, j, sem[j, c] * obj[j]) for c in range(sem.shape[1])]
    return out


def _case(seed):
    g = np.random.default_rng(seed)
    points = g.uniform(0, 4, (300, 3))
    centres = g.uniform(0.5, 3.5, (9, 3))
    boxes = np.concatenate([centres, g.uniform(0.3, 1.6, (9, 3)), g.uniform(-1, 1, (9, 1)) * (seed % 2)], 1)
    boxes[7] = boxes[6] + [0.05, 0, 0, 0, 0, 0, 0]  # a near-duplicate
    boxes[8, 3:6] = 0.05  # (almost surely) empty
    obj = g.uniform(0, 1, 9)
    obj[2] = 0.04  # below the objectness threshold
    sem = g.dirichlet(np.ones(3), 9)
    sem[2] = [0.98, 0.01, 0.01]  # class-confident but not an object: dropped (old code kept 0.98 * 0.04? no, 0.039)
    return boxes, obj, sem, points


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_parse_predictions_against_brute_force(seed):
    boxes, obj, sem, points = _case(seed)
    ref = _brute_parse(boxes, obj, sem, points)
    got = parse_predictions(torch.tensor(boxes), torch.tensor(obj), torch.tensor(sem), torch.tensor(points))
    assert got["boxes"].shape[0] == len(ref) and len(ref) % 3 == 0
    want = sorted((c, round(float(s), 6), tuple(np.round(boxes[j], 4))) for c, j, s in ref)
    have = sorted((int(c), round(float(s), 6), tuple(np.round(b.double().numpy(), 4)))
                  for c, s, b in zip(got["labels"], got["scores"], got["boxes"]))
    assert [w[:2] for w in want] == [h[:2] for h in have]
    assert all(np.allclose(w[2], h[2], atol=1e-4) for w, h in zip(want, have))
    assert bool((got["scores"][:-1] >= got["scores"][1:]).all())


def test_parse_predictions_hand_case():
    # Two heavily overlapping boxes of different argmax classes both survive (same-class NMS);
    # a third of the same class as the first is suppressed; an empty box is removed; every
    # kept box is emitted for each class with P(class) * objectness; no cap.
    pts = torch.cat([torch.rand(50, 3) * 0.8 + 0.1, torch.rand(50, 3) * 0.8 + 3.1])
    boxes = torch.tensor([[0.5, 0.5, 0.5, 1, 1, 1, 0.0], [0.5, 0.5, 0.5, 1, 1, 1, 0.0], [0.55, 0.5, 0.5, 1, 1, 1, 0.0],
                          [3.5, 3.5, 3.5, 1, 1, 1, 0.0], [2.0, 2.0, 2.0, 0.5, 0.5, 0.5, 0.0]])
    obj = torch.tensor([0.9, 0.8, 0.7, 0.6, 0.95])
    sem = torch.tensor([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.5, 0.5], [0.9, 0.1]])
    out = parse_predictions(boxes, obj, sem, pts)
    assert out["boxes"].shape[0] == 3 * 2  # boxes 0, 1, 3 kept; 2 suppressed by 0; 4 empty
    scores = sorted(out["scores"].tolist(), reverse=True)
    assert scores == pytest.approx(sorted([0.63, 0.27, 0.16, 0.64, 0.3, 0.3], reverse=True))
    # without points the empty box stays
    assert parse_predictions(boxes, obj, sem, None)["boxes"].shape[0] == 4 * 2
    # every box empty: the most confident one is kept
    far = parse_predictions(boxes + torch.tensor([50.0, 0, 0, 0, 0, 0, 0]), obj, sem, pts)
    assert far["boxes"].shape[0] == 2 and float(far["boxes"][0, 0]) == pytest.approx(52.0)


def test_head_predict_uses_parse_predictions():
    head = DETR3DHead(num_classes=2, in_channels=8, dim=16, num_queries=4, num_decoder_layers=1, num_heads=2,
                      ffn_dim=16, mlp_hidden=16).eval()
    assert head.test_cfg["max_per_scene"] is None and head.test_cfg["remove_empty_box"]
    with pytest.raises(KeyError, match="unknown test_cfg"):
        DETR3DHead(num_classes=2, in_channels=8, test_cfg=dict(bogus=1))


# ---------------------------------------------------------------- item 3: architecture
def _brute_ball(centre, pts, r, k):
    inside = [i for i in range(len(pts)) if float(((pts[i] - centre) ** 2).sum()) < r * r]
    inside = inside[:k]
    return inside + [inside[0]] * (k - len(inside)) if inside else [0] * k


def test_set_abstraction_against_brute_force():
    torch.manual_seed(0)
    pts = torch.rand(400, 3)
    feats = torch.rand(400, 2)
    sa = SetAbstractionTokenizer(num_tokens=16, radius=0.2, num_samples=8, mlp=(6, 10), embed_dim=12,
                                 in_feat_channels=2, fps_backend="torch").eval()
    for m in sa.modules():  # non-trivial BN statistics
        if isinstance(m, nn.BatchNorm1d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    out = sa(pts, torch.zeros(400, dtype=torch.long), feats)
    assert out.tokens.shape == (1, 16, 12) and out.patch_idx.shape == (1, 16, 8)
    assert torch.equal(out.pos, torch.zeros_like(out.tokens))
    convs = [m for m in sa.mlp if isinstance(m, nn.Conv1d)]
    bns = [m for m in sa.mlp if isinstance(m, nn.BatchNorm1d)]
    for m in range(16):
        c = out.centers[0, m]
        idx = _brute_ball(c, pts, 0.2, 8)
        assert out.patch_idx[0, m].tolist() == idx
        x = torch.cat([(pts[idx] - c) / 0.2, feats[idx]], 1)  # (K, 5)
        for conv, bn in zip(convs, bns):
            x = x @ conv.weight[:, :, 0].T
            x = (x - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
            x = x.clamp(min=0)
        assert torch.allclose(out.tokens[0, m], x.max(0).values, atol=1e-5)


def test_3detr_encoder_is_prenorm_relu_without_final_norm():
    torch.manual_seed(0)
    enc = PointTransformerEncoder(embed_dim=16, depth=1, num_heads=4, mlp_ratio=0.5, qkv_bias=True, drop_rate=0.1,
                                  attn_drop_rate=0.1, drop_path_rate=0.0, final_norm=False, act="relu",
                                  init="xavier_uniform").eval()
    ref = nn.TransformerEncoderLayer(16, 4, dim_feedforward=8, dropout=0.0, activation="relu", batch_first=True,
                                     norm_first=True).eval()
    blk = enc.blocks[0]
    with torch.no_grad():
        ref.self_attn.in_proj_weight.copy_(blk.attn.qkv.weight)
        ref.self_attn.in_proj_bias.copy_(blk.attn.qkv.bias)
        ref.self_attn.out_proj.weight.copy_(blk.attn.proj.weight)
        ref.self_attn.out_proj.bias.copy_(blk.attn.proj.bias)
        ref.linear1.weight.copy_(blk.mlp.net[0].weight)
        ref.linear1.bias.copy_(blk.mlp.net[0].bias)
        ref.linear2.weight.copy_(blk.mlp.net[3].weight)
        ref.linear2.bias.copy_(blk.mlp.net[3].bias)
        for a, b in ((ref.norm1, blk.norm1), (ref.norm2, blk.norm2)):
            a.weight.copy_(b.weight)
            a.bias.copy_(b.bias)
    x = torch.randn(2, 7, 16)
    assert torch.allclose(enc(x), ref(x), atol=1e-5)
    # defaults keep Point-MAE's encoder: final LayerNorm, GELU
    default = PointTransformerEncoder(embed_dim=16, depth=1, num_heads=4)
    assert isinstance(default.norm, nn.LayerNorm) and isinstance(default.blocks[0].mlp.net[1], nn.GELU)
    assert isinstance(enc.norm, nn.Identity) and isinstance(blk.mlp.net[1], nn.ReLU)
    assert blk.attn.attn_drop == 0.1


def test_memory_projection_conv_bn_relu():
    torch.manual_seed(0)
    proj = memory_projection("conv_bn", 6, 5, (4, 3)).train()
    x = torch.randn(2, 9, 6)
    lin = [m for m in proj if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features, m.bias) for m in lin] == [(6, 4, None), (4, 3, None), (3, 5, None)]
    ref = x.transpose(1, 2)  # (B, C, M), as 3DETR's Conv1d GenericMLP
    for m in lin:
        ref = torch.nn.functional.conv1d(ref, m.weight[:, :, None])
        mean, var = ref.mean((0, 2), keepdim=True), ref.var((0, 2), unbiased=False, keepdim=True)
        ref = ((ref - mean) / torch.sqrt(var + 1e-5)).clamp(min=0)
    assert torch.allclose(proj(x), ref.transpose(1, 2), atol=1e-5)
    old = memory_projection("mlp", 6, 5)
    assert not any(isinstance(m, nn.BatchNorm1d) for m in old.modules())


# ---------------------------------------------------------------- random cuboid
def test_random_cuboid_crops_points_and_boxes():
    g = np.random.default_rng(0)
    pts = g.uniform(0, 10, (5000, 3)).astype(np.float32)
    boxes = np.array([[1, 1, 1, 1, 1, 1, 0], [9, 9, 9, 1, 1, 1, 0], [5, 5, 5, 1, 1, 1, 0]], np.float32)
    res = dict(points=pts.copy(), colors=pts.copy() * 2, gt_boxes=boxes, gt_labels=np.array([0, 1, 2]))
    t = RandomCuboid(min_points=500, aspect=0.8, min_crop=0.5, max_crop=0.6, rng=np.random.default_rng(3))
    out = t(res)
    lo, hi = np.array(out["meta"]["aug"]["cuboid"][:3]), np.array(out["meta"]["aug"]["cuboid"][3:])
    inside = np.all((pts >= lo) & (pts <= hi), 1)
    assert len(out["points"]) == inside.sum() >= 500 and np.allclose(out["colors"], out["points"] * 2)
    assert np.array_equal(np.sort(out["points"], 0), np.sort(pts[inside], 0))
    plo, phi = out["points"].min(0), out["points"].max(0)
    keep = np.all((boxes[:, :3] >= plo) & (boxes[:, :3] <= phi), 1)
    assert keep.any() and np.array_equal(out["gt_labels"], np.array([0, 1, 2])[keep])
    assert np.all((hi - lo) <= 10 * 0.6 + 1e-5) and np.all((hi - lo) >= 0.5 * (pts.max(0) - pts.min(0)) - 1e-4)
    # impossible minimum: sample unchanged
    same = RandomCuboid(min_points=10 ** 6, rng=np.random.default_rng(0))(dict(points=pts.copy(), gt_boxes=boxes))
    assert len(same["points"]) == 5000 and len(same["gt_boxes"]) == 3


def test_threedetr_with_set_abstraction_learns_and_predicts():
    from test_detr3d import _batch
    from voxclip.models.detectors.detr3d import ThreeDETR

    torch.manual_seed(0)
    model = ThreeDETR(
        tokenizer=dict(type="SetAbstractionTokenizer", num_tokens=64, radius=0.4, num_samples=16, mlp=(16, 32),
                       embed_dim=32, fps_backend="torch"),
        encoder=dict(type="PointTransformerEncoder", embed_dim=32, depth=1, num_heads=2, mlp_ratio=0.5, qkv_bias=True,
                     drop_rate=0.0, drop_path_rate=0.0, final_norm=False, act="relu", init="xavier_uniform"),
        head=dict(type="DETR3DHead", num_classes=3, in_channels=32, dim=32, num_queries=16, num_decoder_layers=2,
                  num_heads=2, ffn_dim=64, dropout=0.0, mlp_hidden=32, mlp_dropout=0.0, memory_proj_hidden=(32, 32)),
        encoder_pos=False)
    inputs, samples = _batch([0, 1])
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    totals = []
    for _ in range(40):
        total = sum(model(inputs, samples, mode="loss").values())
        opt.zero_grad()
        total.backward()
        opt.step()
        totals.append(float(total.detach()))
    assert sum(totals[-5:]) / 5 < 0.8 * sum(totals[:5]) / 5, totals
    out = model.eval()(inputs, samples, mode="predict")
    for res in out:
        assert res["boxes"].shape[0] % 3 == 0  # every kept box once per class


# ---------------------------------------------------------------- item 7: published augmentation / NMS
def test_votenet_sunrgbd_nms_on_enclosing_axis_aligned_boxes():
    from voxclip.models.heads.votenet.postprocess import postprocess_sample
    from voxclip.ops.iou3d import boxes_iou3d

    # two 2 x 0.4 boxes crossing at 45 / -45 deg: small rotated IoU, identical enclosing boxes
    boxes = torch.tensor([[0.0, 0, 0, 2, 0.4, 1, math.pi / 4], [0.0, 0, 0, 2, 0.4, 1, -math.pi / 4]])
    assert float(boxes_iou3d(boxes, boxes)[0, 1]) < 0.25
    obj = torch.tensor([[0.0, 3.0], [0.0, 2.0]])
    sem = torch.tensor([[2.0, 0.0], [2.0, 0.0]])
    cfg = dict(remove_empty_box=False, per_class_proposal=False)
    assert postprocess_sample(boxes, obj, sem, None, cfg)["boxes"].shape[0] == 2  # rotated IoU: both kept
    kept = postprocess_sample(boxes, obj, sem, None, dict(cfg, nms_axis_aligned=True))["boxes"]
    assert kept.shape[0] == 1 and float(kept[0, 6]) == pytest.approx(math.pi / 4)


def test_published_augmentation_in_configs():
    from mmengine.config import Config

    for path in ("configs/votenet/votenet_srunet34c_scannet.py", "configs/text4point/votenet_srunet34c_scannet.py",
                 "configs/3detr/3detr_scannet.py"):
        names = [t["type"] for t in Config.fromfile(path).train_dataloader.dataset.pipeline]
        assert "RandomScale" not in names and {"RandomFlip", "RandomRotateZ"} <= set(names), (path, names)
    c = Config.fromfile("configs/votenet/votenet_srunet34c_sunrgbd.py")
    assert c.model.head.test_cfg.nms_axis_aligned
    for path in ("configs/votenet/votenet_srunet34c_scannet.py", "configs/text4point/votenet_srunet34c_scannet.py",
                 "configs/text4point/pretrain_srunet34c_scannet_pairs.py"):
        assert Config.fromfile(path).model.backbone.conv0_kernel_size == 3, path


def test_rotated_giou_enclosing_axis_aligned_box_as_3detr():
    from voxclip.ops.giou3d import generalized_box3d_iou
    from voxclip.ops.iou3d import boxes_iou3d
    from voxclip.structures.boxes import box_corners

    g = torch.Generator().manual_seed(7)
    a = torch.cat([torch.rand(3, 3, generator=g) * 2, 0.5 + torch.rand(3, 3, generator=g), torch.rand(3, 1, generator=g) * 3], 1)
    b = torch.cat([torch.rand(2, 3, generator=g) * 2, 0.5 + torch.rand(2, 3, generator=g), torch.rand(2, 1, generator=g) * 3], 1)
    got = generalized_box3d_iou(a.double(), b.double(), enclosing="aabb")
    iou = boxes_iou3d(a.double(), b.double())
    for i in range(3):
        for j in range(2):
            c = torch.cat([box_corners(a[i:i + 1].double())[0], box_corners(b[j:j + 1].double())[0]])
            hull = float((c.amax(0) - c.amin(0)).prod())  # 3DETR enclosing_box3d_vol
            va, vb = float(a[i, 3:6].prod()), float(b[j, 3:6].prod())
            inter = float(iou[i, j]) * (va + vb) / (1 + float(iou[i, j]))
            union = va + vb - inter
            assert float(got[i, j]) == pytest.approx(inter / union - (hull - union) / hull, abs=1e-6)
    assert not torch.allclose(got, generalized_box3d_iou(a.double(), b.double(), enclosing="hull"))
    assert DETR3DHead(num_classes=2, in_channels=8).criterion.matcher.weights["giou_enclosing"] == "aabb"
