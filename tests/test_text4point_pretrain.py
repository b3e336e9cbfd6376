"""Text4Point pre-training: RGB-D pair dataset (consistent augmentation, errors), fine -> coarse
voxel parents, 2D decoder, frozen CLIP, depth-loss masking, and a short run of tools/train.py."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from voxclip import sparse as sp
from voxclip.datasets.rgbd_pairs import (PairFileError, RGBDPairs, depth_on_image, load_pair_npz, project,
                                         rgbd_pairs_collate)
from voxclip.models.clip import TINY_RN_CLIP_CFG
from voxclip.models.text4point import voxel_pixel_correspondences
from voxclip.models.text4point.decoder2d import Text4PointDecoder2D, Text4PointDepthHead
from voxclip.models.text4point.pretrain import (Text4PointPretrainer, lookup_rows, parent_rows, pixel_to_cell,
                                                unique_pairs)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
DEMO_CFG = str(REPO / "configs/demo/text4point_pretrain_demo.py")
FULL_CFG = str(REPO / "configs/text4point/pretrain_srunet34c_scannet_pairs.py")


def tiny_model(clip_path, **kw):
    from voxclip.classes import SCANNET_SEG_CLASSES
    from voxclip.models.clip import TINY_RN_CLIP_CFG

    enc = dict(model_cfg=TINY_RN_CLIP_CFG, weights=clip_path)
    cfg = dict(backbone=dict(type="Text4PointSRUNet", in_channels=4, out_channels=16, arch="tiny", embed_dim=32),
               image_encoder=dict(type="CLIPDenseImageEncoder", **enc),
               text=dict(type="FixedPrompts", class_names=SCANNET_SEG_CLASSES,
                         text_encoder=dict(type="CLIPTextEncoder", **enc)),
               decoder2d=dict(channels=(16, 16, 8, 8, 8, 8)), depth_head=dict(type="Text4PointDepthHead", hidden=8),
               corr_tol=0.04, max_pairs=512)
    cfg.update(kw)
    return Text4PointPretrainer(**cfg)


# ---- dataset ---------------------------------------------------------------------------------
def test_augmentation_keeps_correspondences(pairs_root):
    """Voxel-pixel matching on the augmented points with the returned pose / depth_scale gives the
    same (point, pixel) pairs as on the raw points with the raw pose; a plain A @ pose does not."""
    base = RGBDPairs(pairs_root, split=None, voxel_size=0.05)
    info = base.get_data_info(0)
    raw = load_pair_npz(info["path"])
    pts = torch.from_numpy(raw["points"]).double()
    depth = torch.from_numpy(raw["depth"].astype(np.float64) / float(raw["depth_shift"]))
    ck, dk = torch.from_numpy(raw["color_intrinsic"]).double(), torch.from_numpy(raw["depth_intrinsic"]).double()
    pose = torch.from_numpy(raw["pose"]).double()
    ref_v, ref_p = voxel_pixel_correspondences(pts, pose, ck, (240, 320), depth, dk, tol=0.01)
    assert len(ref_v) > 0.9 * len(pts)  # the points came from this depth frame
    flips_seen = set()
    for seed in range(4):
        ds = RGBDPairs(pairs_root, split=None, voxel_size=0.05, rotate_z=180, flip_x=0.5, flip_y=0.5,
                       scale_range=(0.8, 1.25), rng=np.random.default_rng(seed))
        item = ds[0]
        a = item["aug_matrix"].double()
        s = float(item["depth_scale"])
        assert abs(abs(torch.det(a[:3, :3])) ** (1 / 3) - s) < 1e-5
        flips_seen.add(bool(torch.det(a[:3, :3]) < 0))
        moved = pts @ a[:3, :3].T
        v, p = voxel_pixel_correspondences(moved, item["pose"].double(), item["color_intrinsic"].double(),
                                           (240, 320), depth * s, item["depth_intrinsic"].double(), tol=0.01 * s)
        assert torch.equal(v, ref_v) and torch.equal(p, ref_p), seed
        # the voxel centres are voxelised from exactly these moved points
        vs = item["meta"]["voxel_size"]
        assert torch.allclose(item["voxel_centres"], (item["voxel_coords"].double() + 0.5).float() * vs)
        grid = torch.floor(moved / vs).long()
        assert torch.equal(torch.unique(grid, dim=0), item["voxel_coords"].long())
        if abs(s - 1) > 0.05:  # control: the naive similarity pose breaks the projection
            naive = a @ pose
            v2, _ = voxel_pixel_correspondences(moved, naive, ck, (240, 320), depth * s, dk, tol=0.01 * s)
            assert len(v2) < 0.5 * len(ref_v)
    assert flips_seen == {False, True}


def test_point_colour_and_features(pairs_root):
    ds = RGBDPairs(pairs_root, split=None, voxel_size=0.05, point_features=("color", "ones"),
                   color_mean=0.0, color_std=1.0)
    item = ds[0]
    raw = load_pair_npz(ds.get_data_info(0)["path"])
    assert item["voxel_feats"].shape[1] == 4 and torch.allclose(item["voxel_feats"][:, 3], torch.ones(1))
    # a voxel's colour is the mean of its points' pixels; every point projects inside the image
    uv, z = project(raw["points"], raw["pose"], raw["color_intrinsic"])
    assert (z > 0).all() and (uv > -0.5).all() and (uv[:, 0] < 319.5).all() and (uv[:, 1] < 239.5).all()
    assert item["voxel_feats"][:, :3].min() >= 0 and item["voxel_feats"][:, :3].max() <= 255
    img = item["image"]
    mean, std = torch.tensor([0.48145466, 0.4578275, 0.40821073]), torch.tensor([0.26862954, 0.26130258, 0.27577711])
    back = (img * std[:, None, None] + mean[:, None, None]) * 255
    assert torch.allclose(back.permute(1, 2, 0), torch.from_numpy(raw["color"]).float(), atol=1e-3)


def test_depth_on_image_nearest_and_masked():
    depth = np.arange(1, 13, dtype=np.float32).reshape(3, 4)
    depth[1, 2] = 0.0
    k = np.array([[2.0, 0, 1.5], [0, 2.0, 1.0], [0, 0, 1]])
    assert np.array_equal(depth_on_image(depth, k, k, (3, 4)), depth)
    k2 = np.array([[4.0, 0, 3.5], [0, 4.0, 2.5], [0, 0, 1]])  # colour at twice the depth size
    out = depth_on_image(depth, k, k2, (6, 8))
    assert out.shape == (6, 8) and np.array_equal(out[::2, ::2], depth) and (out[2:4, 4:6] == 0).all()


def test_scene_selection_and_bad_files(pairs_root, tmp_path):
    index = json.loads((pairs_root / "pairs" / "index.json").read_text())
    total = index["num_pairs"]
    assert len(RGBDPairs(pairs_root, split=None)) == total
    with pytest.raises(FileNotFoundError, match="splits/train.txt: scene list missing"):
        RGBDPairs(pairs_root, split="train")
    one = sorted(index["scenes"])[0]
    lst = tmp_path / "list.txt"
    lst.write_text(one + "\n")
    assert len(RGBDPairs(pairs_root, split_file=str(lst))) == len(index["scenes"][one]["frames"])
    with pytest.raises(FileNotFoundError, match="have no pairs"):
        RGBDPairs(pairs_root, scenes=[one, "scene0999_00"])
    assert len(RGBDPairs(pairs_root, scenes=[one, "scene0999_00"], skip_missing_scenes=True)) == len(
        index["scenes"][one]["frames"])
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(PairFileError) as err:
        load_pair_npz(str(bad))
    msg = str(err.value)
    assert msg.startswith(str(bad)) and "\n" not in msg
    np.savez(tmp_path / "short.npz", color=np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(PairFileError, match="short.npz: pair lacks"):
        load_pair_npz(str(tmp_path / "short.npz"))


def test_collate(pairs_root):
    ds = RGBDPairs(pairs_root, split=None, voxel_size=0.05)
    items = [ds[0], ds[1]]
    batch = rgbd_pairs_collate(items)
    inp = batch["inputs"]
    n0 = len(items[0]["voxel_coords"])
    assert inp["coords"].dtype == torch.int32 and inp["coords"].shape == (n0 + len(items[1]["voxel_coords"]), 4)
    assert (inp["coords"][:n0, 0] == 0).all() and (inp["coords"][n0:, 0] == 1).all()
    assert inp["images"].shape == (2, 3, 240, 320) and inp["depth"].shape == (2, 60, 80)
    assert inp["depth_image"].shape == (2, 240, 320) and inp["pose"].shape == (2, 4, 4)
    assert inp["centres"].shape == (len(inp["coords"]), 3) and abs(float(inp["voxel_size"]) - 0.05) < 1e-7
    assert [s["scene_id"] for s in batch["data_samples"]] == [it["meta"]["scene_id"] for it in items]


# ---- model parts -----------------------------------------------------------------------------
def test_parent_rows_match_brute_force_and_sparse_conv():
    g = torch.Generator().manual_seed(0)
    xyz = torch.randint(-40, 40, (3000, 3), generator=g)
    b = torch.randint(0, 2, (3000, 1), generator=g)
    coords = torch.unique(torch.cat([b, xyz], 1), dim=0).to(torch.int32)
    net = sp.SparseConv3d(1, 1, 2, 2)
    x = sp.SparseTensor(torch.ones(len(coords), 1), coords)
    for _ in range(4):  # the SR-UNet encoder's four stride-2 steps -> stride 16
        x = net(x)
    assert x.stride == 16
    rows = parent_rows(coords, x)
    table = {tuple(c): i for i, c in enumerate(x.coords.tolist())}
    for c, r in zip(coords.tolist(), rows.tolist()):
        parent = (c[0],) + tuple((v // 16) * 16 for v in c[1:])  # python floor division
        assert table[parent] == r
    assert (coords[:, 1:] < 0).any()  # negative coordinates were exercised (floor, not truncation)
    assert lookup_rows(torch.tensor([[5, 0, 0, 0]]), x.coords).item() == -1


def test_pixel_to_cell_and_unique_pairs():
    w = 320
    pix = torch.tensor([0, 31, 32, 319, 223 * w, 224 * w + 5, 239 * w + 319])
    cells = pixel_to_cell(pix, w, (7, 10), stride=32)
    assert cells.tolist() == [0, 0, 1, 9, 6 * 10, 6 * 10, 6 * 10 + 9]
    prop = pixel_to_cell(pix, w, (7, 10), stride=None, image_h=240)
    assert prop.max() < 70 and prop[0] == 0
    a, c = unique_pairs(torch.tensor([3, 3, 1, 3]), torch.tensor([5, 5, 2, 0]))
    assert sorted(zip(a.tolist(), c.tolist())) == [(1, 2), (3, 0), (3, 5)]


def test_decoder_shapes():
    dec = Text4PointDecoder2D(32, 24, channels=(16, 16, 8, 8, 8, 8))
    z = dec(torch.randn(2, 32, 7, 10), (240, 320))
    assert z.shape == (2, 24, 240, 320)
    assert dec.stage_sizes((240, 320)) == [(15, 20), (30, 40), (60, 80), (120, 160), (240, 320)]
    assert Text4PointDecoder2D(32, 24, channels=(8,))(torch.randn(1, 32, 2, 2), (64, 48)).shape == (1, 24, 64, 48)
    d = Text4PointDepthHead(24, hidden=8)(z)
    assert d.shape == (2, 240, 320) and (d > 0).all()


def test_depth_loss_masks_zero_depth(pairs_root, tiny_clip):
    torch.manual_seed(0)
    model = tiny_model(tiny_clip).eval()
    ds = RGBDPairs(pairs_root, split=None, voxel_size=0.05)
    batch = rgbd_pairs_collate([ds[0], ds[1]])
    target = batch["inputs"]["depth_image"].clone()
    target[:, :100] = 0.0  # invalid rows
    batch["inputs"]["depth_image"] = target
    res = model._run(batch["inputs"])
    loss = model.loss(batch["inputs"], res)["loss_depth"]
    valid = target > 0
    assert torch.allclose(loss, (res["depth"][valid] - target[valid]).abs().mean())
    res["depth"] = res["depth"].detach().clone()
    res["depth"][:, :100] += 100.0  # predictions where the depth is 0 do not count
    assert torch.allclose(model.loss(batch["inputs"], res)["loss_depth"], loss)


def _tensors(module):
    """Every parameter and buffer by name (state_dict leaves a frozen CLIP tower out)."""
    return list(module.named_parameters()) + list(module.named_buffers())


def test_clip_frozen_backbone_learns_and_checkpoint_keys(pairs_root, tiny_clip):
    torch.manual_seed(0)
    model = tiny_model(tiny_clip)
    model.train()
    assert not model.image_encoder.training and model.backbone.training
    clip_before = {k: v.clone() for k, v in _tensors(model.image_encoder)}
    text_before = model.text().clone()
    bb_before = {k: v.clone() for k, v in model.backbone.named_parameters()}
    dec_before = {k: v.clone() for k, v in model.decoder2d.named_parameters()}
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1, momentum=0.9)
    ds = RGBDPairs(pairs_root, split=None, voxel_size=0.05)
    batch = rgbd_pairs_collate([ds[0], ds[1]])
    losses = model(**batch, mode="loss")
    assert set(losses) == {"loss_enc", "loss_dec", "loss_depth", "num_pairs_enc", "num_pairs_dec"}
    assert 0 < losses["num_pairs_enc"] <= 512 and losses["num_pairs_dec"] == 512
    sum(v for k, v in losses.items() if k.startswith("loss")).backward()
    opt.step()
    assert len(clip_before) > 10
    for k, v in _tensors(model.image_encoder):  # weights and BN running statistics
        assert torch.equal(v, clip_before[k]), k
    assert torch.equal(model.text(), text_before)
    assert all(not p.requires_grad for p in model.image_encoder.parameters())
    changed = [k for k, p in model.backbone.named_parameters() if not torch.equal(p, bb_before[k])]
    assert any(k.startswith("stem") for k in changed) and any(k.startswith("tqm") for k in changed)
    assert any(k.startswith("final") for k in changed)
    assert any(not torch.equal(p, dec_before[k]) for k, p in model.decoder2d.named_parameters())
    # checkpoints: no frozen CLIP weights; strict loading still works (they are filled back in)
    sd = model.state_dict()
    assert not any(k.startswith("image_encoder.") for k in sd) and any(k.startswith("backbone.tqm.") for k in sd)
    fresh = tiny_model(tiny_clip)
    fresh.load_state_dict(sd, strict=True)
    assert all(torch.equal(v, sd[k]) for k, v in fresh.state_dict().items())
    kept = tiny_model(tiny_clip, image_encoder=dict(type="CLIPDenseImageEncoder", model_cfg=TINY_RN_CLIP_CFG,
                                                   weights=tiny_clip, save_weights=True))
    assert any(k.startswith("image_encoder.") for k in kept.state_dict())


# ---- configs and the training tool -----------------------------------------------------------
def test_configs_agree_with_library():
    from mmengine.config import Config

    from voxclip.classes import SCANNET_SEG_CLASSES
    from voxclip.models.clip import TINY_RN_CLIP_CFG

    full = Config.fromfile(FULL_CFG)
    names = [n.replace(" ", "") for n in full.model.text.class_names]
    assert names == [n.replace("showercurtrain", "showercurtain") for n in SCANNET_SEG_CLASSES]
    assert full.model.backbone.arch == "34C" and full.train_dataloader.dataset.voxel_size == 0.025
    assert full.model.tau == 0.4 and full.optim_wrapper.optimizer.lr == 0.1
    demo = Config.fromfile(DEMO_CFG)
    cfg = demo.tiny_clip_cfg.to_dict()
    norm = (lambda d: json.loads(json.dumps(d)))  # tuples vs lists
    assert norm(cfg) == norm(TINY_RN_CLIP_CFG)


def test_train_tool_loss_falls_and_checkpoint_has_backbone(pairs_root, tiny_clip, tmp_path):
    import train as train_tool

    epochs = 8
    opts = [f"train_dataloader.dataset.data_root={pairs_root}", "train_dataloader.dataset.split=None",
            "train_dataloader.num_workers=0",
            "train_dataloader.persistent_workers=False", "train_dataloader.batch_size=2",
            "train_dataloader.dataset.rotate_z=0.0", "train_dataloader.dataset.scale_range=None",
            "train_dataloader.dataset.flip_x=0.0", "train_dataloader.dataset.flip_y=0.0",
            f"model.image_encoder.weights={tiny_clip}", f"model.text.text_encoder.weights={tiny_clip}",
            "model.backbone.out_channels=16", "model.decoder2d.channels=[16,16,8,8,8,8]", "model.max_pairs=256",
            "optim_wrapper.optimizer.lr=0.02", f"train_cfg.max_epochs={epochs}",
            f"default_hooks.checkpoint.interval={epochs}", "default_hooks.logger.interval=1", "randomness.seed=0"]
    train_tool.main([DEMO_CFG, "--work-dir", str(tmp_path), "--cfg-options", *opts])
    rows = [json.loads(x) for f in sorted(tmp_path.glob("*/vis_data/scalars.json"))
            for x in f.read_text().splitlines() if x.strip()]
    rows = [r for r in rows if "loss" in r]
    assert len(rows) == epochs * 3  # 5 pairs, batch 2
    first = sum(r["loss"] for r in rows[:3]) / 3
    last = sum(r["loss"] for r in rows[-3:]) / 3
    assert last < 0.9 * first, (first, last)
    for key in ("loss_enc", "loss_dec", "loss_depth"):  # each term learns, not only the depth head
        assert rows[-1][key] < rows[0][key] - 0.3, (key, rows[0][key], rows[-1][key])
    assert all(r["num_pairs_enc"] > 0 for r in rows)
    ckpt = torch.load(tmp_path / f"epoch_{epochs}.pth", map_location="cpu", weights_only=False)
    keys = list(ckpt["state_dict"])
    assert any(k.startswith("backbone.stem.") for k in keys) and any(k.startswith("backbone.tqm.") for k in keys)
    assert not any(k.startswith("image_encoder.") for k in keys)
    # the fine-tuning side: a Text4PointSRUNet initialised from the `backbone.` prefix, key for key
    from voxclip.models.text4point import Text4PointSRUNet

    bb = Text4PointSRUNet(4, 16, arch="tiny", embed_dim=32)
    sub = {k[len("backbone."):]: v for k, v in ckpt["state_dict"].items() if k.startswith("backbone.")}
    bb.load_state_dict(sub, strict=True)


def test_model_correspondences_follow_scale_augmentation(pairs_root, tiny_clip):
    """The model compares voxel depths with depth * depth_scale: a scaled scene matches as well
    as the original one (without the scale almost nothing would)."""
    model = tiny_model(tiny_clip, max_pairs=None)
    plain = RGBDPairs(pairs_root, split=None, voxel_size=0.05)
    scaled = RGBDPairs(pairs_root, split=None, voxel_size=0.05, scale_range=(1.25, 1.25), rotate_z=90.0,
                       rng=np.random.default_rng(0))
    fractions = []
    for ds in (plain, scaled):
        inputs = rgbd_pairs_collate([ds[0]])["inputs"]
        x = sp.SparseTensor(inputs["feats"], inputs["coords"])
        bottleneck, _ = model.backbone.encode(x)
        dec_v, dec_p, enc_v, enc_c = model.correspondences(inputs, bottleneck, (7, 10))
        assert len(torch.unique(dec_v)) == len(dec_v) and int(dec_p.max()) < 240 * 320
        assert int(enc_v.max()) < len(bottleneck) and int(enc_c.max()) < 70
        fractions.append(len(dec_v) / len(inputs["coords"]))
    assert fractions[0] > 0.3 and abs(fractions[1] - fractions[0]) < 0.15, fractions
    inputs["depth_scale"] = torch.ones(1)  # control: ignoring the scale loses the matches
    dec_v = model.correspondences(inputs, bottleneck, (7, 10))[0]
    assert len(dec_v) / len(inputs["coords"]) < 0.3 * fractions[1]
