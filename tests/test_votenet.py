"""VoteNet head and detector: box coder, targets vs brute force, inference rules, a short training run."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from torch import nn

from voxclip.models.heads.votenet.box_coder import VoteBoxCoder
from voxclip.models.heads.votenet.postprocess import count_points_in_boxes, postprocess_sample
from voxclip.models.heads.votenet.proposal import ProposalModule
from voxclip.models.heads.votenet.targets import proposal_targets, vote_distance, vote_targets
from voxclip.registry import MODELS
from voxclip.sparse import SparseTensor

MEAN_SIZES = [[0.6, 0.6, 0.9], [1.6, 0.9, 0.7], [0.4, 0.4, 0.4]]
VOXEL = 0.1


# ---------------------------------------------------------------- box coder
def test_heading_encoding_hand_worked():
    coder = VoteBoxCoder(12, MEAN_SIZES)
    w = 2 * math.pi / 12
    bins, res = coder.encode_heading(torch.tensor([0.3, -3.0, 0.0, math.pi - 0.01], dtype=torch.float64))
    # 0.3 + w/2 = 0.5618 -> bin 1, residual 0.3 - w; -3.0 -> 3.2832 (+w/2 = 3.545) -> bin 6, residual 3.2832 - pi;
    # pi - 0.01 (+w/2 = 3.393) -> bin 6, residual -0.01
    assert bins.tolist() == [1, 6, 0, 6]
    assert np.allclose(res.numpy(), [0.3 - w, 2 * math.pi - 3.0 - math.pi, 0.0, -0.01])


def test_box_coder_round_trip_scannet_mode():
    coder = VoteBoxCoder(1, MEAN_SIZES)
    g = torch.Generator().manual_seed(0)
    labels = torch.tensor([0, 1, 2, 1])
    boxes = torch.cat([torch.randn(4, 3, generator=g), torch.rand(4, 3, generator=g) + 0.2, torch.zeros(4, 1)], 1)
    enc = coder.encode(boxes, labels)
    assert enc["size_class"].tolist() == labels.tolist()
    assert enc["heading_class"].tolist() == [0] * 4 and enc["heading_residual"].abs().max() == 0
    # size residual relative to the class template, by hand
    expect = boxes[:, 3:6] / torch.tensor(MEAN_SIZES)[labels] - 1
    assert torch.allclose(enc["size_residual"], expect)
    dec = coder.decode(enc["center"], enc["heading_class"], enc["heading_residual"], enc["size_class"],
                       enc["size_residual"])
    assert torch.allclose(dec, boxes, atol=1e-6)
    # yaw is not represented: a yawed input decodes to yaw 0
    yawed = boxes.clone()
    yawed[:, 6] = 0.7
    e2 = coder.encode(yawed, labels)
    assert coder.decode(e2["center"], e2["heading_class"], e2["heading_residual"], e2["size_class"],
                        e2["size_residual"])[:, 6].abs().max() == 0


def test_box_coder_round_trip_12_bins_through_proposal_decode():
    coder = VoteBoxCoder(12, MEAN_SIZES)
    g = torch.Generator().manual_seed(1)
    m = 50
    labels = torch.randint(0, 3, (m,), generator=g)
    yaw = torch.rand(m, generator=g, dtype=torch.float64) * 2 * math.pi - math.pi
    boxes = torch.cat([torch.randn(m, 3, generator=g, dtype=torch.float64),
                       torch.rand(m, 3, generator=g, dtype=torch.float64) + 0.2, yaw[:, None]], 1)
    enc = coder.encode(boxes, labels)
    w = 2 * math.pi / 12
    assert bool((enc["heading_residual"].abs() <= w / 2 + 1e-9).all())
    # predictions that put the right bin/cluster first must decode back to the boxes
    preds = dict(
        center=boxes[None, :, :3],
        heading_logits=F.one_hot(enc["heading_class"], 12).double()[None] * 5,
        heading_residual_norm=(enc["heading_residual"] / (w / 2))[None, :, None].repeat(1, 1, 12),
        size_logits=F.one_hot(labels, 3).double()[None] * 5,
        size_residual_norm=enc["size_residual"][None, :, None, :].repeat(1, 1, 3, 1),
    )
    pm = ProposalModule(8, 3, coder)
    dec = pm.decode_boxes(preds)[0]
    assert torch.allclose(dec[:, :6], boxes[:, :6], atol=1e-9)
    dyaw = torch.remainder(dec[:, 6] - boxes[:, 6] + math.pi, 2 * math.pi) - math.pi
    assert dyaw.abs().max() < 1e-9
    assert bool(((dec[:, 6] >= -math.pi) & (dec[:, 6] < math.pi)).all())


def test_box_coder_rejects_bad_sizes():
    with pytest.raises(ValueError, match="class"):
        VoteBoxCoder(1, [[1, 1, 1], None])
    with pytest.raises(ValueError):
        VoteBoxCoder(1, [[1, 1]])


# ---------------------------------------------------------------- targets
def brute_inside(p, box):
    dx, dy = p[0] - box[0], p[1] - box[1]
    c, s = math.cos(box[6]), math.sin(box[6])
    lx, ly, lz = c * dx + s * dy, -s * dx + c * dy, p[2] - box[2]
    return abs(lx) <= box[3] / 2 and abs(ly) <= box[4] / 2 and abs(lz) <= box[5] / 2


def test_vote_targets_match_brute_force():
    g = torch.Generator().manual_seed(2)
    boxes = torch.tensor([[1.0, 1.0, 0.5, 1.2, 0.6, 1.0, 0.6],
                          [1.3, 1.1, 0.5, 0.8, 0.8, 0.8, -1.2],
                          [3.0, 2.0, 0.4, 0.5, 0.5, 0.8, 0.0]], dtype=torch.float64)
    seeds = torch.rand(300, 3, generator=g, dtype=torch.float64) * torch.tensor([4.0, 3.0, 1.0], dtype=torch.float64)
    votes = seeds + 0.3 * torch.randn(300, 3, generator=g, dtype=torch.float64)
    inside, centres = vote_targets(seeds, boxes)
    dist, mask = vote_distance(votes, inside, centres)
    n_multi = 0
    for i in range(300):
        owners = [j for j in range(3) if brute_inside(seeds[i].tolist(), boxes[j].tolist())]
        n_multi += len(owners) > 1
        assert bool(mask[i]) == bool(owners)
        if owners:
            best = min(sum(abs(float(votes[i, a] - boxes[j, a])) for a in range(3)) for j in owners)
            assert abs(float(dist[i]) - best) < 1e-9
        else:
            assert float(dist[i]) == 0.0
    assert n_multi > 0 and mask.sum() > 10  # the case of overlapping boxes is exercised


def test_count_points_in_rotated_boxes_brute_force():
    g = torch.Generator().manual_seed(5)
    boxes = torch.tensor([[1.0, 1.0, 0.5, 1.2, 0.6, 1.0, 0.6], [1.3, 1.1, 0.5, 0.8, 0.8, 0.8, -2.5],
                          [3.0, 2.0, 0.4, 0.5, 0.5, 0.8, 0.0]], dtype=torch.float64)
    pts = torch.rand(700, 3, generator=g, dtype=torch.float64) * torch.tensor([4.0, 3.0, 1.0], dtype=torch.float64)
    counts = count_points_in_boxes(pts, boxes, chunk=128)
    expect = [sum(brute_inside(p, b) for p in pts.tolist()) for b in boxes.tolist()]
    assert counts.tolist() == expect and min(expect) > 0


def test_proposal_targets_near_far():
    gt = torch.tensor([[0.0, 0.0, 0.0], [5.0, 0.0, 0.0]])
    centres = torch.tensor([[0.1, 0.0, 0.0], [0.0, 0.45, 0.0], [0.0, 0.0, 0.8], [4.8, 0.1, 0.0]])
    label, mask, assign = proposal_targets(centres, gt, 0.3, 0.6)
    assert label.tolist() == [1, 0, 0, 1]
    assert mask.tolist() == [1.0, 0.0, 1.0, 1.0]
    assert assign.tolist() == [0, 0, 0, 1]
    label, mask, _ = proposal_targets(centres, gt[:0])
    assert label.tolist() == [0] * 4 and mask.tolist() == [1.0] * 4


# ---------------------------------------------------------------- inference
def test_postprocess_nms_threshold_and_per_class_scores():
    boxes = torch.tensor([[0.0, 0, 0, 1, 1, 1, 0], [0.05, 0, 0, 1, 1, 1, 0],  # B overlaps A (IoU 0.905)
                          [3.0, 0, 0, 1, 1, 1, 0], [6.0, 0, 0, 1, 1, 1, 0],
                          [0.1, 0, 0, 1, 1, 1, 0]])
    obj_p = torch.tensor([0.9, 0.8, 0.6, 0.04, 0.7])  # D below the 0.05 threshold
    sem_p = torch.tensor([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4],
                          [0.1, 0.8, 0.1]])  # E overlaps A but has another argmax class -> kept
    obj_logits = torch.stack([torch.zeros(5), torch.log(obj_p / (1 - obj_p))], 1)
    res = postprocess_sample(boxes, obj_logits, sem_p.log(), None, dict(remove_empty_box=False))
    kept = [0, 4, 2]  # by objectness: A 0.9, E 0.7, C 0.6
    expect_boxes = boxes[kept].repeat_interleave(3, 0)
    expect_scores = (obj_p[kept, None] * sem_p[kept]).reshape(-1)
    order = torch.argsort(res["boxes"][:, 0] * 10 + res["labels"])
    eorder = torch.argsort(expect_boxes[:, 0] * 10 + torch.arange(3).repeat(3))
    assert torch.allclose(res["boxes"][order], expect_boxes[eorder])
    assert torch.allclose(res["scores"][order], expect_scores[eorder], atol=1e-6)
    assert res["labels"][order].tolist() == torch.arange(3).repeat(3)[eorder].tolist()
    # argmax mode: one output per kept box
    res1 = postprocess_sample(boxes, obj_logits, sem_p.log(), None,
                              dict(remove_empty_box=False, per_class_proposal=False))
    assert sorted(zip(res1["labels"].tolist(), [round(s, 4) for s in res1["scores"].tolist()])) == \
        sorted([(0, 0.63), (1, 0.56), (2, 0.48)])
    # empty-box removal: only box C holds points
    pts = torch.tensor([[3.0, 0.0, 0.0]]).repeat(6, 1)
    res2 = postprocess_sample(boxes, obj_logits, sem_p.log(), pts, dict(per_class_proposal=False))
    assert res2["boxes"].tolist() == [boxes[2].tolist()]


# ---------------------------------------------------------------- detector
class DenseStandIn(nn.Module):
    """Stand-in backbone with the SR-UNet interface: dense conv3d on a scattered grid, read back at
    the input voxels. forward(SparseTensor) -> object with .features (SparseTensor on input coords)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv3d(in_channels, 16, 3, padding=1), nn.ReLU(),
            nn.Conv3d(16, 16, 3, padding=2, dilation=2), nn.ReLU(),
            nn.Conv3d(16, out_channels, 3, padding=4, dilation=4))

    def forward(self, x: SparseTensor):
        c = x.coords.long()
        lo = c[:, 1:].min(0).values
        ext = (c[:, 1:].max(0).values - lo + 1).tolist()
        grid = x.feats.new_zeros(x.batch_size, x.feats.shape[1], *ext)
        b, i, j, k = c[:, 0], *(c[:, 1:] - lo).T
        grid[b, :, i, j, k] = x.feats
        out = self.net(grid)[b, :, i, j, k]

        class Out:
            features = x.replace_feats(out)
        return Out()


MODELS.register_module(name="DenseStandIn", module=DenseStandIn, force=True)


def make_scene(g: torch.Generator, yawed: bool):
    """A 3 m x 3 m floor with 3 boxes (class-coloured points on their surfaces and inside)."""
    pts, cols, boxes, labels = [], [], [], []
    floor = torch.rand(500, 3, generator=g) * torch.tensor([3.0, 3.0, 0.0])
    pts.append(floor)
    cols.append(torch.full((500, 3), 0.5))
    centres = [(0.7, 0.7), (2.2, 0.8), (1.4, 2.2)]
    for n, (cx, cy) in enumerate(centres):
        lab = int(torch.randint(0, 3, (1,), generator=g))
        size = torch.tensor(MEAN_SIZES[lab]) * (0.9 + 0.2 * torch.rand(3, generator=g))
        yaw = float(torch.rand(1, generator=g) * 2 * math.pi - math.pi) if yawed else 0.0
        local = (torch.rand(250, 3, generator=g) - 0.5) * size
        c, s = math.cos(yaw), math.sin(yaw)
        world = torch.stack([c * local[:, 0] - s * local[:, 1] + cx, s * local[:, 0] + c * local[:, 1] + cy,
                             local[:, 2] + size[2] / 2], 1)
        pts.append(world)
        cols.append(torch.eye(3)[lab].expand(250, 3))
        boxes.append(torch.tensor([cx, cy, float(size[2]) / 2, *size.tolist(), yaw]))
        labels.append(lab)
    points = torch.cat(pts)
    feats = torch.cat([torch.cat(cols), points[:, 2:3]], 1)  # rgb + height
    grid = torch.floor(points / VOXEL).long()
    vcoords, inverse = torch.unique(grid, dim=0, return_inverse=True)
    vfeats = torch.zeros(len(vcoords), 4).index_add_(0, inverse, feats)
    vfeats /= torch.bincount(inverse).clamp_min(1)[:, None]
    return dict(points=points, point_feats=feats, voxel_coords=vcoords.int(), voxel_feats=vfeats, inverse=inverse,
                gt_boxes=torch.stack(boxes), gt_labels=torch.tensor(labels), meta=dict(voxel_size=VOXEL))


def collate(items):
    """The batch contract of docs/architecture.md, built independently of voxclip.datasets."""
    coords, inverse, pbatch, off = [], [], [], 0
    for b, it in enumerate(items):
        coords.append(torch.cat([torch.full((len(it["voxel_coords"]), 1), b, dtype=torch.int32), it["voxel_coords"]], 1))
        inverse.append(it["inverse"] + off)
        pbatch.append(torch.full((len(it["points"]),), b, dtype=torch.long))
        off += len(it["voxel_coords"])
    inputs = dict(coords=torch.cat(coords), feats=torch.cat([it["voxel_feats"] for it in items]),
                  points=torch.cat([it["points"] for it in items]),
                  point_feats=torch.cat([it["point_feats"] for it in items]),
                  point_batch=torch.cat(pbatch), inverse=torch.cat(inverse), voxel_size=torch.tensor(VOXEL))
    samples = [dict(gt_boxes=it["gt_boxes"], gt_labels=it["gt_labels"], meta=it["meta"]) for it in items]
    return dict(inputs=inputs, data_samples=samples)


def build_model(num_heading_bins: int, fps_backend: str = "auto"):
    return MODELS.build(dict(
        type="VoteNetDetector",
        backbone=dict(type="DenseStandIn", in_channels=4, out_channels=32),
        head=dict(type="VoteHead", num_classes=3, in_channels=32, mean_sizes=MEAN_SIZES,
                  num_heading_bins=num_heading_bins, num_seeds=256, num_proposals=32, agg_radius=0.3,
                  agg_nsample=8, agg_mlp=(32, 32), proposal_hidden=(32, 32), fps_backend=fps_backend)))


def test_training_loss_falls_and_predict_format():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(3)
    data = collate([make_scene(g, yawed=True), make_scene(g, yawed=True)])
    model = build_model(12)
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=3e-3))
    model.train()
    totals, parts = [], []
    for _ in range(30):
        log = model.train_step(data, optim)
        totals.append(float(log["loss"].detach()))
        parts.append({k: float(v.detach()) for k, v in log.items()})
    assert {"loss_vote", "loss_objectness", "loss_center", "loss_heading_cls", "loss_heading_reg",
            "loss_size_cls", "loss_size_reg", "loss_semantic"} <= set(parts[0])
    # VoteNet losses are noisy step to step (positives come and go), so compare window means.
    first, last = np.mean(totals[:3]), np.mean(totals[-5:])
    assert last < 0.7 * first, f"loss did not fall clearly: {first:.3f} -> {last:.3f}"
    assert np.mean([p["loss_vote"] for p in parts[-5:]]) < 0.85 * parts[0]["loss_vote"]

    model.eval()
    out = model.val_step(data)
    assert len(out) == 2
    for res, sample in zip(out, data["data_samples"]):
        k = res["boxes"].shape[0]
        assert res["boxes"].shape == (k, 7) and res["labels"].shape == (k,) and res["scores"].shape == (k,)
        assert k % 3 == 0  # per-class proposals: every kept box once per class
        assert res["labels"].dtype == torch.int64 and bool(((res["labels"] >= 0) & (res["labels"] < 3)).all())
        assert bool(((res["scores"] > 0) & (res["scores"] <= 1)).all())
        assert bool(((res["boxes"][:, 6] >= -math.pi) & (res["boxes"][:, 6] < math.pi)).all())
        assert torch.equal(res["gt_boxes"], sample["gt_boxes"]) and torch.equal(res["gt_labels"], sample["gt_labels"])


def test_scannet_mode_forward_and_bad_batch():
    g = torch.Generator().manual_seed(4)
    data = collate([make_scene(g, yawed=False), make_scene(g, yawed=False)])
    model = build_model(1, fps_backend="torch")  # the GPU sampling path, run on CPU
    losses = model(**data, mode="loss")
    assert "loss_heading_cls" not in losses and torch.isfinite(sum(losses.values()))
    model.eval()
    with torch.no_grad():
        preds = model(**data, mode="tensor")
        res = model(**data, mode="predict")[0]
    assert res["boxes"].shape[0] == 0 or res["boxes"][:, 6].abs().max() == 0
    # seeds: 256 per sample, each from its own sample, distinct (every scene has > 256 points)
    seed_inds = preds["seed_inds"]
    assert seed_inds.shape == (2, 256)
    for b in range(2):
        assert bool((data["inputs"]["point_batch"][seed_inds[b]] == b).all()) and len(set(seed_inds[b].tolist())) == 256
    bad = dict(data["inputs"])
    del bad["inverse"]
    with pytest.raises(KeyError, match="inverse"):
        model(bad, data["data_samples"], mode="loss")


def test_vote_targets_by_instance_match_brute_force():
    from voxclip.models.heads.votenet.targets import vote_targets

    g = torch.Generator().manual_seed(0)
    seeds = torch.rand(40, 3, generator=g) * 4
    seed_inst = torch.randint(0, 4, (40,), generator=g)  # 0 = no instance (floor, wall)
    boxes = torch.tensor([[1.0, 1, 1, 4, 4, 4, 0], [2.0, 2, 2, 4, 4, 4, 0], [3.0, 3, 1, 1, 1, 1, 0]])
    box_inst = torch.tensor([3, 1, 0])  # the last box has no instance: nobody votes for it
    inside, centres = vote_targets(seeds, boxes, seed_inst, box_inst)
    for s in range(40):
        for m in range(3):
            want = bool(seed_inst[s] == box_inst[m] and box_inst[m] > 0)
            assert bool(inside[s, m]) == want
    assert torch.equal(centres, boxes[:, :3])
