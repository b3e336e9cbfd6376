"""PointGroup on SR-UNet: targets, clustering, ScoreNet inputs, NMS, a learning run, and the train tool."""
import itertools
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from voxclip.datasets.collate import sparse_collate
from voxclip.datasets.transforms import build_transform
from voxclip.evaluation import InstanceSegMetric
from voxclip.models.heads.pointgroup import (cluster_ious, cluster_voxels, instance_offsets, mask_nms,
                                             offset_losses, score_targets)
from voxclip.models.segmentors import PointGroup
from voxclip.ops import radius_clusters

REPO = Path(__file__).resolve().parents[1]


def test_offset_targets_hand_values():
    pts = torch.tensor([[0., 0, 0], [2, 0, 0], [5, 5, 5], [1, 1, 1], [9, 9, 9]])
    inst = torch.tensor([7, 7, 3, 7, -1])  # instance 7 centre (1, 1/3, 1/3)
    off, valid = instance_offsets(pts, inst)
    c7 = torch.tensor([1.0, 1 / 3, 1 / 3])
    torch.testing.assert_close(off[[0, 1, 3]], c7 - pts[[0, 1, 3]])
    torch.testing.assert_close(off[2], torch.zeros(3))  # a one-point instance is its own centre
    assert valid.tolist() == [True, True, True, True, False] and off[4].abs().sum() == 0


def test_offset_losses_hand_values():
    pred = torch.tensor([[1., 0, 0], [0, 2, 0], [5, 5, 5]])
    target = torch.tensor([[2., 0, 0], [0, 0, 1], [0, 0, 0]])
    valid = torch.tensor([True, True, False])
    l1, direction = offset_losses(pred, target, valid)
    assert float(l1) == pytest.approx((1 + (2 + 1)) / 2, rel=1e-5)
    assert float(direction) == pytest.approx((-1 + 0) / 2, abs=1e-5)


def _blob(centre, n, rng, spread=0.05):
    return np.asarray(centre) + rng.uniform(-spread, spread, (n, 3))


def test_radius_clusters_recover_blobs_exactly():
    rng = np.random.default_rng(0)
    pts = np.concatenate([_blob(c, 80, rng) for c in ([0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0])])
    truth = np.repeat(np.arange(4), 80)
    labels = np.array([0, 0, 1, 1])[truth]
    perm = rng.permutation(len(pts))
    cluster, cl_label = radius_clusters(pts[perm], labels[perm], radius=0.1, min_points=10)
    assert len(cl_label) == 4
    # a bijection between clusters and blobs, each cluster of one label
    pairs = set(zip(cluster.tolist(), truth[perm].tolist()))
    assert len(pairs) == 4 and len({c for c, _ in pairs}) == 4
    assert all(cl_label[c] == labels[perm][cluster == c][0] for c in range(4))


def test_radius_boundary_min_points_labels_and_ignored():
    line = np.array([[0., 0, 0], [0.1, 0, 0], [0.2, 0, 0], [0.35, 0, 0]])  # gaps 0.1, 0.1, 0.15
    c, lab = radius_clusters(line, np.zeros(4, int), radius=0.1)
    assert c.tolist() == [0, 0, 0, 1] and lab.tolist() == [0, 0]  # distance == radius links (inclusive)
    c, _ = radius_clusters(line, np.zeros(4, int), radius=0.099)
    assert c.tolist() == [0, 1, 2, 3]
    c, _ = radius_clusters(line, np.zeros(4, int), radius=0.15)  # one chain
    assert c.tolist() == [0, 0, 0, 0]
    c, lab = radius_clusters(line, np.array([0, 0, 0, 1]), radius=0.1, min_points=2)
    assert c.tolist() == [0, 0, 0, -1] and lab.tolist() == [0]  # label split + too small dropped
    c, _ = radius_clusters(line, np.array([0, 0, -1, 2]), radius=0.2, ignore_labels=[2])
    assert c.tolist() == [0, 0, -1, -1]


def test_cluster_ious_and_score_targets_against_brute_force():
    rng = np.random.default_rng(1)
    n = 60
    inst = torch.from_numpy(rng.integers(-1, 4, n))
    members = [np.flatnonzero(rng.random(n) < p) for p in (0.2, 0.5, 0.05)]
    pi = torch.from_numpy(np.concatenate(members))
    ci = torch.from_numpy(np.repeat(np.arange(3), [len(m) for m in members]))
    got = cluster_ious(pi, ci, inst, 3)
    for k, m in enumerate(members):
        cset = set(m.tolist())
        best = max(len(cset & set(np.flatnonzero(inst.numpy() == i).tolist()))
                   / len(cset | set(np.flatnonzero(inst.numpy() == i).tolist())) for i in range(4))
        assert float(got[k]) == pytest.approx(best)
    t = score_targets(torch.tensor([0.0, 0.25, 0.5, 0.75, 0.9]))
    torch.testing.assert_close(t, torch.tensor([0.0, 0.0, 0.5, 1.0, 1.0]))


def test_cluster_voxels_fit_the_full_scale():
    pts = torch.tensor([[0., 0, 0], [10, 0, 0], [0.5, 0, 0], [0, 0, 0], [0.01, 0.01, 0.01]])
    feats = torch.arange(10.0).view(5, 2)
    x = cluster_voxels(pts, feats, torch.tensor([0, 1, 2, 3, 4]), torch.tensor([0, 0, 0, 1, 1]),
                       scale=50.0, full_scale=14)
    c0 = x.coords[x.coords[:, 0] == 0]
    assert int(c0[:, 1].max()) == 13  # a 10 m cluster squeezed into 14 voxels
    c1 = x.coords[x.coords[:, 0] == 1]
    assert c1.tolist() == [[1, 0, 0, 0]]  # 1 cm apart at 50 voxels/m: one voxel, features averaged
    torch.testing.assert_close(x.feats[(x.coords[:, 0] == 1)], ((feats[3] + feats[4]) / 2)[None])


def test_mask_nms_greedy():
    # clusters: A = {0..9} 0.9, B = {0..8} 0.8 (IoU .9 with A), C = {20..29} 0.7, D = {5..14} 0.95
    sets = [range(10), range(9), range(20, 30), range(5, 15)]
    pi = torch.tensor([p for s in sets for p in s])
    ci = torch.tensor([k for k, s in enumerate(sets) for _ in s])
    keep = mask_nms(pi, ci, torch.tensor([0.9, 0.8, 0.7, 0.95]), 30, 0.3)
    # D first; A (IoU 5/15 with D) suppressed; B (4/15 with D) kept: only kept clusters suppress; C kept
    assert keep.tolist() == [3, 1, 2]
    keep = mask_nms(pi, ci, torch.tensor([0.9, 0.8, 0.7, 0.95]), 30, 0.5)
    assert keep.tolist() == [3, 0, 2]  # A kept now, so B (IoU 0.9 with A) goes


def _blob_scene(seed):
    rng = np.random.default_rng(seed)
    centres = [[0, 0, 0], [1.2, 0, 0], [0, 1.2, 0], [1.2, 1.2, 0]]
    pts = np.concatenate([rng.uniform(c, np.add(c, 0.4), (250, 3)) for c in centres]).astype(np.float32)
    sem = np.repeat([1, 2, 1, 2], 250)
    inst = np.repeat([1, 2, 3, 4], 250)
    r = dict(points=pts, point_feats=np.ones((len(pts), 3), np.float32), semantic=sem, instance=inst,
             meta=dict(scene_id=f"blobs{seed}", voxel_size=0.05))
    r = build_transform(dict(type="Voxelize", voxel_size=0.05))(r)
    return build_transform(dict(type="PackInputs"))(r)


def test_tiny_run_losses_fall_and_ap_rises():
    torch.manual_seed(0)
    batch = sparse_collate([_blob_scene(0), _blob_scene(1)])
    model = PointGroup(backbone=dict(type="SRUNet", in_channels=3, out_channels=16, arch="tiny", conv0_kernel_size=3),
                       num_classes=3, cluster=dict(radius=0.1, shift_radius=0.1, min_points=20),
                       score=dict(start_iter=5), test_cfg=dict(min_points=20, score_thr=0.05))
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    history = []
    for _ in range(30):
        losses = model(batch["inputs"], batch["data_samples"], "loss")
        opt.zero_grad()
        sum(losses.values()).backward()
        opt.step()
        history.append({k: float(v) for k, v in losses.items()})
    assert "loss_score" not in history[0] and "loss_score" in history[5]  # starts at start_iter
    for key in ("loss_semantic", "loss_offset_norm"):
        assert np.mean([h[key] for h in history[-5:]]) < 0.5 * np.mean([h[key] for h in history[:5]]), key
    model.eval()
    metric = InstanceSegMetric(benchmark="s3dis", class_names=["a", "b", "c"], min_region_size=20)
    metric.process(None, model(batch["inputs"], batch["data_samples"], "predict"))
    result = metric.compute_metrics(metric.results)
    assert result["AP@0.5"] >= 0.75 and result["mRec"] >= 0.75, result  # floor on its own training scenes


def test_ignored_classes_have_no_instances():
    model = PointGroup(backbone=dict(type="SRUNet", in_channels=3, out_channels=8, arch="tiny"), num_classes=3,
                       cluster=dict(ignore_classes=(1,)))
    sem, inst = model._targets(dict(semantic=torch.tensor([0, 1, 2, -1]), instance=torch.tensor([1, 2, 0, 4])), "cpu")
    assert inst.tolist() == [1, -1, -1, -1]
    with pytest.raises(ValueError, match="unknown cluster keys"):
        PointGroup(backbone=dict(type="SRUNet", in_channels=3, out_channels=8, arch="tiny"), num_classes=3,
                   cluster=dict(radus=0.1))
    with pytest.raises(KeyError, match="with_instance"):
        model._targets(dict(semantic=torch.zeros(3)), "cpu")


@pytest.mark.slow
def test_demo_config_trains_and_evaluates_through_the_tools(tmp_path):
    from data_prep.synthetic.s3dis import make_s3dis_demo

    sys.path.insert(0, str(REPO / "tools"))
    import prepare_s3dis
    import test as test_tool
    import train as train_tool

    raw = tmp_path / "Stanford3dDataset_v1.2_Aligned_Version"
    make_s3dis_demo(raw, 6, 0, rooms=[(a, "office_1") for a in (1, 2, 3, 4, 5, 6)])
    assert prepare_s3dis.main([str(raw), str(tmp_path / "prep")]) in (0, None)
    opts = [f"{loader}.dataset.data_root={tmp_path / 'prep'}" for loader in
            ("train_dataloader", "val_dataloader", "test_dataloader")]
    opts += ["train_cfg.max_iters=6", "train_cfg.val_interval=6", "model.score.start_iter=3",
             "default_hooks.checkpoint.interval=6", "default_hooks.logger.interval=1", "train_dataloader.num_workers=0",
             "train_dataloader.persistent_workers=False", "val_dataloader.num_workers=0",
             "val_dataloader.persistent_workers=False", "train_dataloader.batch_size=2"]
    cfg = str(REPO / "configs/demo/pointgroup_s3dis_demo.py")
    work = tmp_path / "work"
    train_tool.main([cfg, "--work-dir", str(work), "--cfg-options", *opts])
    ckpt = work / (work / "last_checkpoint").read_text().strip().split("/")[-1]
    metrics = test_tool.main([cfg, str(ckpt), "--work-dir", str(work), "--show-dir", str(work / "show"),
                              "--cfg-options", *opts[2:3],
                              "test_dataloader.num_workers=0", "test_dataloader.persistent_workers=False"])
    for key in ("AP", "AP@0.5", "AP@0.25", "mPrec", "mRec"):
        assert key in metrics and (np.isnan(metrics[key]) or 0.0 <= metrics[key] <= 1.0)
    assert sorted(p.name for p in (work / "show").glob("*_inst.png")) == ["Area_5_office_1_inst.png"]
    scalars = list(itertools.chain.from_iterable(p.read_text().splitlines() for p in work.rglob("scalars.json")))
    assert any("loss_score" in line for line in scalars) and any("loss_offset_norm" in line for line in scalars)


def test_instance_pictures(tmp_path):
    from PIL import Image
    from plyfile import PlyData

    from voxclip.visualization.instances import dense_ids, instance_ids, render_instances

    masks = np.zeros((3, 6), bool)
    masks[0, :3], masks[1, 2:5], masks[2, 5] = True, True, True
    assert instance_ids(masks, np.array([0.9, 0.5, 0.1])).tolist() == [0, 0, 0, 1, 1, 2]  # overlap: best wins
    assert instance_ids(masks, np.array([0.1, 0.5, 0.9])).tolist() == [0, 0, 1, 1, 1, 2]
    assert dense_ids(np.array([7, 7, -1, 3, 9, 3])).tolist() == [0, 0, -1, 1, 2, 1]
    pts = np.random.default_rng(0).uniform(0, 1, (6, 3))
    paths = render_instances(str(tmp_path), "room 1", pts, masks, np.array([0.9, 0.5, 0.1]),
                             np.array([1, 1, 1, 2, 2, -1]))
    png = np.asarray(Image.open(paths[0]).convert("RGB"))
    assert png.shape[0] > 300 and (png.reshape(-1, 3) != 255).any(axis=1).sum() > 100
    ply = PlyData.read(paths[1])
    assert ply["vertex"].count == 6 and paths[0].endswith("room_1_inst.png")
