"""MMPD: InfoNCE (hand-worked, symmetric, gathered over a 2-process gloo group), token shuffling,
views and text, the DINOv2 file, frozen teachers, falling losses, and the checkpoint chain
stage 1 -> stage 2 -> 3DETR through tools/train.py."""
import json
import math
import os
import socket
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

import voxclip.models  # noqa: F401
from voxclip.datasets import ScenePointPairs, point_pairs_collate
from voxclip.datasets.point_pairs import class_sentence
from voxclip.models.clip import TINY_RN_CLIP_CFG
from voxclip.models.mmpd import (DINOv2Teacher, invert_permutation, negative_cosine, permute_tokens,
                                 random_permutation, symmetric_infonce)
from voxclip.models.mmpd.views import choose_views, depth_to_rgb
from voxclip.registry import MODELS

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import train as train_tool  # noqa: E402
from make_random_dinov2 import TINY_DINOV2_KWARGS  # noqa: E402

TOK = dict(type="PointTokenizer", num_tokens=32, patch_size=16, embed_dim=32, pointnet_hidden=(16, 32))
ENC = dict(type="PointTransformerEncoder", embed_dim=32, depth=2, num_heads=2, mlp_ratio=2.0, drop_path_rate=0.0)


# ---- Eq. 1-2 -------------------------------------------------------------------------------
def test_infonce_matches_hand_computation():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    b = torch.tensor([[2.0, 0.0], [0.6, 0.8]])  # normalised: [1, 0], [0.6, 0.8]
    s = 2.0
    # logits s * a @ b^T = [[2, 1.2], [0, 1.6]]; rows: a -> b, columns: b -> a
    row = (-math.log(math.e ** 2 / (math.e ** 2 + math.e ** 1.2)) - math.log(math.e ** 1.6 / (1 + math.e ** 1.6))) / 2
    col = (-math.log(math.e ** 2 / (math.e ** 2 + 1)) - math.log(math.e ** 1.6 / (math.e ** 1.2 + math.e ** 1.6))) / 2
    assert symmetric_infonce(a, b, torch.tensor(s)).item() == pytest.approx((row + col) / 2, rel=1e-6)


def test_infonce_is_symmetric_and_scale_free():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(6, 8, generator=g), torch.randn(6, 8, generator=g)
    s = torch.tensor(10.0)
    assert symmetric_infonce(a, b, s).item() == pytest.approx(symmetric_infonce(b, a, s).item(), rel=1e-6)
    assert symmetric_infonce(3 * a, b, s).item() == pytest.approx(symmetric_infonce(a, b, s).item(), rel=1e-5)
    assert symmetric_infonce(a, a, s).item() < symmetric_infonce(a, b, s).item()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gather_worker(rank, world, port, out_dir):
    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        g = torch.Generator().manual_seed(0)
        a, b = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
        rows = [slice(0, 3), slice(3, 5)][rank]  # uneven shards: 3 + 2 rows
        la, lb = a[rows].clone().requires_grad_(), b[rows].clone().requires_grad_()
        loss = symmetric_infonce(la, lb, torch.tensor(5.0))
        loss.backward()
        torch.save(dict(loss=loss.detach(), ga=la.grad, gb=lb.grad), os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def test_infonce_gathers_negatives_across_two_processes(tmp_path):
    # spawn, not fork: a fork of a process whose OpenMP / torch threads are running (as in the full
    # suite) can deadlock in the child. Bounded wait, so a hang fails instead of stalling CI.
    ctx = mp.start_processes(_gather_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=False,
                             start_method="spawn")
    deadline = time.monotonic() + 180
    while not ctx.join(timeout=5):
        if time.monotonic() > deadline:
            for proc in ctx.processes:
                proc.kill()
            pytest.fail("2-process gloo gather: workers did not finish within 180 s")
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 4, generator=g).requires_grad_(), torch.randn(5, 4, generator=g).requires_grad_()
    full = symmetric_infonce(a, b, torch.tensor(5.0))
    full.backward()
    for rank, rows in enumerate([slice(0, 3), slice(3, 5)]):
        got = torch.load(tmp_path / f"rank{rank}.pt", weights_only=True)
        assert got["loss"].item() == pytest.approx(full.item(), rel=1e-6)  # every row's negatives: all 5
        assert torch.allclose(got["ga"], a.grad[rows], atol=1e-6) and torch.allclose(got["gb"], b.grad[rows], atol=1e-6)
    # without the other process's rows the loss would be another number
    assert symmetric_infonce(a[:3], b[:3], torch.tensor(5.0)).item() != pytest.approx(full.item(), rel=1e-3)


def test_negative_cosine():
    a = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    b = torch.tensor([[0.0, 2.0], [2.0, 2.0]])
    assert negative_cosine(a, b).item() == pytest.approx(0.5)  # (1 - 0 + 1 - 1) / 2


# ---- shuffle -------------------------------------------------------------------------------
def _stage2(ckpt, **kw):
    return MODELS.build(dict(type="MMPDStage2", tokenizer=TOK, encoder=ENC, decoder=dict(ENC, depth=2),
                             teacher=dict(type="Stage1Teacher", tokenizer=TOK, encoder=ENC, global_dim=16,
                                          checkpoint=str(ckpt)), pretrained=dict(checkpoint=str(ckpt)), **kw))


@pytest.fixture(scope="module")
def stage1_ckpt(tmp_path_factory):
    torch.manual_seed(0)
    s1 = MODELS.build(dict(type="MMPDStage1", tokenizer=TOK, encoder=ENC, global_dim=16, use_teachers=("text",),
                           teachers=dict(text=dict(type="CLIPTextEncoder", model_cfg=TINY_RN_CLIP_CFG))))
    path = tmp_path_factory.mktemp("s1") / "stage1.pth"
    torch.save({"state_dict": s1.state_dict()}, path)
    return path


def test_shuffle_is_a_permutation_and_positions_follow_it(stage1_ckpt):
    perm = random_permutation(3, 12, generator=torch.Generator().manual_seed(2))
    assert all(sorted(r.tolist()) == list(range(12)) for r in perm)
    assert not torch.equal(perm, torch.arange(12).expand(3, 12))
    x = torch.arange(36.0).view(3, 12, 1)
    assert torch.equal(permute_tokens(permute_tokens(x, perm), invert_permutation(perm)), x)
    assert permute_tokens(x, perm)[1, 4, 0].item() == x[1, perm[1, 4], 0].item()

    model = _stage2(stage1_ckpt).eval()
    tokens, centres = torch.randn(3, 12, 32), torch.rand(3, 12, 3)
    plain = model.decode_local(tokens, centres)
    shuffled = model.decode_local(permute_tokens(tokens, perm), permute_tokens(centres, perm))
    # the output for a token does not depend on where the shuffle put it
    assert torch.allclose(permute_tokens(shuffled, invert_permutation(perm)), plain, atol=1e-5)
    # ... because its positional embedding moved with it: positions left in place give other outputs
    wrong = model.decode_local(permute_tokens(tokens, perm), centres)
    assert not torch.allclose(permute_tokens(wrong, invert_permutation(perm)), plain, atol=1e-3)


# ---- views, text, DINOv2 -------------------------------------------------------------------
def test_depth_view_and_colour_view():
    depth = torch.tensor([[[0.0, 1.0], [2.0, 4.0]]])
    rgb = depth_to_rgb(depth)
    assert rgb.shape == (1, 3, 2, 2) and rgb[0, 1].tolist() == [[0.0, 0.25], [0.5, 1.0]]
    from voxclip.models.clip import CLIP_MEAN, CLIP_STD

    img01 = torch.rand(2, 3, 2, 2)
    normed = (img01 - torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)) / torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    views, is_depth = choose_views(normed, depth.expand(2, -1, -1), "color")
    assert torch.allclose(views, img01, atol=1e-6) and not is_depth.any()
    views, is_depth = choose_views(normed, depth.expand(2, -1, -1), "depth")
    assert is_depth.all() and torch.equal(views[1], rgb[0])


def test_class_templates_and_captions(mmpd_root, tmp_path):
    assert class_sentence(["chair", "table", "sofa"], "a point cloud of {}.", "x") == \
        "a point cloud of chair, table and sofa."
    assert class_sentence([], "{}", "empty") == "empty"
    ds = ScenePointPairs(str(mmpd_root), split="train", voxel_size=0.05, num_points=256, templates=("{}",))
    item = ds[0]
    import numpy as np

    labels = np.load(mmpd_root / "scans" / item["meta"]["scene_id"] / "box_labels.npy")
    assert set(item["text"].replace(" and ", ", ").split(", ")) <= {ds.class_names[i] for i in labels}
    assert item["points"].shape == (256, 3)
    key = f"{item['meta']['scene_id']}/{item['meta']['frame']:06d}"
    caps = tmp_path / "pairs"
    caps.mkdir()
    (caps / "captions.json").write_text(json.dumps({key: ["a blue sofa by the window"]}))
    for sub in ("pairs", "splits", "scans"):  # same data, a captions file beside it
        target = caps if sub == "pairs" else tmp_path / sub
        if sub == "pairs":
            for p in (mmpd_root / "pairs").iterdir():
                (caps / p.name).symlink_to(p)
        else:
            target.symlink_to(mmpd_root / sub)
    ds2 = ScenePointPairs(str(tmp_path), split="train", voxel_size=0.05, num_points=256)
    assert ds2[0]["text"] == "a blue sofa by the window"
    (caps / "captions.json").unlink()
    (caps / "captions.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="captions.json: cannot read captions"):
        ScenePointPairs(str(tmp_path), split="train", voxel_size=0.05, num_points=256)


def test_dinov2_file_round_trip_and_messages(tiny_dinov2, tmp_path):
    import timm
    from safetensors.torch import load_file

    teacher = DINOv2Teacher("vit_small_patch14_dinov2", weights=tiny_dinov2, model_kwargs=TINY_DINOV2_KWARGS)
    saved = load_file(tiny_dinov2)
    assert any(k.endswith("ls1.gamma") for k in saved) and "cls_token" in saved  # timm's DINOv2 layout
    own = teacher.vit.state_dict()
    assert saved.keys() == own.keys() and all(torch.equal(own[k], v) for k, v in saved.items())
    assert teacher.state_dict() == {}  # frozen weights stay out of checkpoints
    out = teacher(torch.rand(2, 3, 30, 40))
    ref = timm.create_model("vit_small_patch14_dinov2", num_classes=0, **TINY_DINOV2_KWARGS).eval()
    ref.load_state_dict(saved)
    assert out.shape == (2, 48) and not torch.allclose(out, ref(torch.zeros(2, 3, 56, 56)))
    with pytest.raises(FileNotFoundError, match="make_random_dinov2.py"):
        DINOv2Teacher(weights=str(tmp_path / "none.safetensors"))
    with pytest.raises(RuntimeError, match="tiny_dinov2.safetensors: does not fit"):
        DINOv2Teacher("vit_small_patch14_dinov2", weights=tiny_dinov2)  # full-size architecture


# ---- training: frozen teachers, falling losses -----------------------------------------------
def _batch(root, n=4):
    ds = ScenePointPairs(str(root), split="train", voxel_size=0.05, num_points=512)
    return point_pairs_collate([ds[i] for i in range(n)])["inputs"]


def _frozen_state(module):
    return {k: v.detach().clone() for k, v in list(module.named_parameters()) + list(module.named_buffers())}


def _steps(model, inputs, n, lr):
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    losses = []
    for _ in range(n):
        out = model(inputs, mode="loss")
        loss = sum(v for k, v in out.items() if k.startswith("loss"))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_stage1_towers_stay_frozen_and_loss_falls(mmpd_root, tiny_clip, tiny_dinov2):
    torch.manual_seed(0)
    inputs = _batch(mmpd_root)
    model = MODELS.build(dict(
        type="MMPDStage1", tokenizer=TOK, encoder=ENC, global_dim=16, teachers=dict(
            text=dict(type="CLIPTextEncoder", model_cfg=TINY_RN_CLIP_CFG, weights=tiny_clip),
            clip_image=dict(type="CLIPImageTeacher", model_cfg=TINY_RN_CLIP_CFG, weights=tiny_clip),
            dinov2=dict(type="DINOv2Teacher", weights=tiny_dinov2, model_kwargs=TINY_DINOV2_KWARGS))))
    model.train()
    before = _frozen_state(model.teachers)
    student = _frozen_state(model.encoder)
    losses = _steps(model, inputs, 20, 3e-3)
    after = _frozen_state(model.teachers)
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert not all(torch.equal(student[k], v) for k, v in _frozen_state(model.encoder).items())
    assert sum(losses[-4:]) < 0.8 * sum(losses[:4]), losses
    assert {k for k in model.state_dict()} and not any(k.startswith("teachers.") for k in model.state_dict())


def test_stage2_teacher_stays_frozen_and_loss_falls(mmpd_root, stage1_ckpt):
    torch.manual_seed(0)
    inputs = _batch(mmpd_root)
    model = _stage2(stage1_ckpt)
    model.init_weights()
    saved = torch.load(stage1_ckpt, weights_only=False)["state_dict"]
    assert all(torch.equal(model.state_dict()[k], v) for k, v in saved.items() if k.startswith("encoder."))
    model.train()
    before = _frozen_state(model.teacher)
    losses = _steps(model, inputs, 20, 3e-3)
    after = _frozen_state(model.teacher)
    assert all(torch.equal(before[k], after[k]) for k in before) and not model.teacher.training
    assert sum(losses[-4:]) < 0.8 * sum(losses[:4]), losses
    # shuffling does not change the local loss (the decoder is permutation-equivariant; docs/mmpd.md)
    plain = _stage2(stage1_ckpt, shuffle=False).eval()
    plain.load_state_dict(model.state_dict())
    model.eval()
    torch.manual_seed(5)
    a = model(inputs, mode="loss")["loss_local"]
    torch.manual_seed(5)
    b = plain(inputs, mode="loss")["loss_local"]
    assert a.item() == pytest.approx(b.item(), rel=1e-4)


# ---- the checkpoint chain ------------------------------------------------------------------
def test_chain_stage1_stage2_3detr_through_train_tool(mmpd_root, tiny_clip, tiny_dinov2, tmp_path):
    from mmengine.config import Config

    common = [f"train_dataloader.dataset.data_root={mmpd_root}", "train_dataloader.num_workers=0",
              "train_dataloader.persistent_workers=False", "train_dataloader.batch_size=4",
              "train_dataloader.dataset.num_points=512", "train_cfg.max_epochs=1",
              "default_hooks.checkpoint.interval=1", "randomness.seed=0"]
    s1, s2, det = tmp_path / "s1", tmp_path / "s2", tmp_path / "det"
    train_tool.main([str(REPO / "configs/demo/mmpd_stage1_demo.py"), "--work-dir", str(s1), "--cfg-options", *common,
                     f"model.teachers.text.weights={tiny_clip}", f"model.teachers.clip_image.weights={tiny_clip}",
                     f"model.teachers.dinov2.weights={tiny_dinov2}"])
    c1 = s1 / "epoch_1.pth"
    train_tool.main([str(REPO / "configs/demo/mmpd_stage2_demo.py"), "--work-dir", str(s2), "--cfg-options", *common,
                     f"model.teacher.checkpoint={c1}", f"model.pretrained.checkpoint={c1}"])
    c2 = s2 / "epoch_1.pth"
    st1 = torch.load(c1, map_location="cpu", weights_only=False)["state_dict"]
    st2 = torch.load(c2, map_location="cpu", weights_only=False)["state_dict"]
    assert not any(k.startswith(("teacher.", "teachers.")) for k in list(st1) + list(st2))
    assert st1.keys() >= {k for k in st2 if k.startswith(("tokenizer.", "encoder."))}
    assert any(not torch.equal(st1[k], st2[k]) for k in st2 if k.startswith("encoder."))  # stage 2 trained

    det_cfg = str(REPO / "configs/demo/mmpd_3detr_demo.py")
    roots = [f"{loader}.dataset.data_root={mmpd_root}" for loader in ("train_dataloader", "val_dataloader",
                                                                        "test_dataloader")]
    train_tool.main([det_cfg, "--work-dir", str(det), "--cfg-options", *roots, f"model.pretrained.checkpoint={c2}",
                     "train_dataloader.num_workers=0", "train_dataloader.persistent_workers=False",
                     "val_dataloader.num_workers=0", "val_dataloader.persistent_workers=False",
                     "train_cfg.max_epochs=1", "train_cfg.val_interval=1", "default_hooks.checkpoint.interval=1"])
    assert (det / "epoch_1.pth").is_file()
    cfg = Config.fromfile(det_cfg)
    cfg.model.pretrained.checkpoint = str(c2)
    model = MODELS.build(cfg.model)
    model.init_weights()
    own = model.state_dict()
    for k, v in st2.items():
        if k.startswith(("tokenizer.", "encoder.")):
            assert torch.equal(own[k], v), k


def test_demo_dinov2_config_matches_the_tool():
    from mmengine.config import Config

    cfg = Config.fromfile(str(REPO / "configs/_base_/models/tiny_random_dinov2.py"))
    assert cfg.tiny_dinov2_kwargs == TINY_DINOV2_KWARGS
    demo = Config.fromfile(str(REPO / "configs/demo/mmpd_stage1_demo.py"))
    assert demo.model.teachers.dinov2.model_kwargs == TINY_DINOV2_KWARGS
