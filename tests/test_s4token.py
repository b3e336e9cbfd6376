"""S4Token parts against independent computations: WFPS, superpoint grouping, scale invariance,
Sinkhorn marginals, the EMA rule, propagation, the dense CLIP ViT features, a tiny self-supervised
run, zero-shot classification and tools/query.py outputs."""
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.hooks import Hook
from torch import nn

from voxclip.models.clip import TINY_VIT_CLIP_CFG, CLIPTextEncoder
from voxclip.models.s4token import (CLIPViTDenseEncoder, S4Tokenizer, S4TokenOpenVocab, cosine_momentum, ema_update_,
                                    prompt_embeddings, propagate_features, sinkhorn_knopp, superpoint_weights,
                                    weighted_fps, weighted_fps_torch)
from voxclip.models.s4token.grouping import superpoint_groups
from voxclip.ops.fps import farthest_point_sample, fps_torch
from voxclip.ops.knn import knn

REPO = Path(__file__).resolve().parents[1]


def cloud_with_segments(seed=0):
    """A 2 x 2 m floor (one big superpoint of 1600 points) with 8 small 20-point clusters on it."""
    rng = np.random.default_rng(seed)
    floor = np.c_[rng.random((1600, 2)) * 2, np.zeros(1600)]
    small = [c + rng.normal(0, 0.02, (20, 3)) for c in np.c_[rng.random((8, 2)) * 2, np.full(8, 0.05)]]
    pts = np.concatenate([floor, *small]).astype(np.float32)
    sp = np.r_[np.zeros(1600, int), np.repeat(np.arange(1, 9), 20)]
    return torch.from_numpy(pts), torch.from_numpy(sp)


# ---- WFPS ------------------------------------------------------------------------------------------
def test_wfps_gamma_zero_is_fps():
    pts, sp = cloud_with_segments()
    ref = fps_torch(pts[None], 64)[0]
    torch.testing.assert_close(weighted_fps_torch(pts, torch.ones(len(pts)), 64), ref)  # the weighted loop itself
    torch.testing.assert_close(weighted_fps_torch(pts, superpoint_weights(sp, 0.0), 64), ref)
    torch.testing.assert_close(weighted_fps(pts, sp, 64, gamma=0.0, fps_backend="torch"), ref)
    torch.testing.assert_close(weighted_fps(pts, sp, 64, gamma=0.0), farthest_point_sample(pts, 64))


def test_wfps_rule_by_brute_force():
    pts, sp = cloud_with_segments(1)
    pts, sp = pts[::10], sp[::10]
    gamma = 0.5
    n = len(pts)
    size = {int(s): int((sp == s).sum()) for s in sp.unique()}
    w = [(size[int(s)] / n) ** (-gamma) for s in sp]
    chosen = [0]
    for _ in range(19):
        score = [w[i] * min(math.dist(pts[i].tolist(), pts[j].tolist()) for j in chosen) for i in range(n)]
        chosen.append(int(np.argmax(score)))
    assert weighted_fps(pts, sp, 20, gamma).tolist() == chosen


def test_wfps_favours_small_superpoints_as_gamma_grows():
    pts, sp = cloud_with_segments()
    frac = [float((sp[weighted_fps(pts, sp, 32, g)] > 0).float().mean()) for g in (0.0, 0.3, 0.6, 1.0)]
    assert frac == sorted(frac) and frac[-1] > frac[0] + 0.3, frac
    # small superpoints hold 160 / 1760 = 9% of the points; plain FPS samples about that share
    assert frac[0] < 0.2


# ---- grouping and scale invariance --------------------------------------------------------------------
def test_grouping_penalty_one_is_knn_and_inf_stays_inside():
    pts, sp = cloud_with_segments()
    anchors = torch.tensor([0, 1600, 1620])
    _, ref = knn(pts[anchors], pts, 16)
    torch.testing.assert_close(superpoint_groups(pts, anchors, 16, sp, outside_penalty=1.0), ref)
    inside = superpoint_groups(pts, anchors, 16, sp, outside_penalty=float("inf"))
    assert (sp[inside] == sp[anchors][:, None]).all()  # 20-point clusters fill a 16-point patch alone
    big = superpoint_groups(pts, anchors[1:], 32, sp, outside_penalty=float("inf"))
    assert (sp[big[:, :20]] == sp[anchors[1:]][:, None]).all() and (sp[big[:, 20:]] == 0).all()


@pytest.mark.parametrize("scale", [0.01, 37.0])
def test_tokens_are_scale_invariant(scale):
    torch.manual_seed(0)
    pts, sp = cloud_with_segments(2)
    colour = torch.rand(len(pts), 3)
    tok = S4Tokenizer(num_tokens=32, patch_size=16, embed_dim=24, gamma=0.4, in_feat_channels=3,
                      pointnet_hidden=(16, 32), pos_hidden=16).eval()
    a = tok(pts, None, colour, sp)
    b = tok(pts * scale, None, colour, sp)
    torch.testing.assert_close(b.patch_idx, a.patch_idx)
    torch.testing.assert_close(b.tokens, a.tokens, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(b.pos, a.pos, atol=1e-4, rtol=1e-4)
    # Point-MAE-style metric offsets are not: the same tokenizer with patch_norm='none' changes
    d_norm = (b.tokens - a.tokens).abs().max()
    tok.patch_norm = "none"
    d_none = (tok(pts * scale, None, colour, sp).tokens - tok(pts, None, colour, sp).tokens).abs().max()
    assert d_none > 100 * max(float(d_norm), 1e-6)


# ---- Sinkhorn, EMA -------------------------------------------------------------------------------------
def test_sinkhorn_marginals_and_form():
    torch.manual_seed(0)
    scores = torch.randn(64, 8).double()
    q = sinkhorn_knopp(scores, eps=0.5, n_iters=200)
    torch.testing.assert_close(q.sum(1), torch.ones(64, dtype=q.dtype))
    torch.testing.assert_close(q.sum(0), torch.full((8,), 64 / 8, dtype=q.dtype), atol=1e-6, rtol=0)
    # Q = diag(u) exp(S / eps) diag(v): log Q - S / eps is a row term plus a column term
    r = torch.log(q) - scores / 0.5
    centred = r - r.mean(1, keepdim=True) - r.mean(0, keepdim=True) + r.mean()
    assert centred.abs().max() < 1e-8
    q3 = sinkhorn_knopp(scores, eps=0.5, n_iters=3)  # few iterations: rows exact, columns close
    torch.testing.assert_close(q3.sum(1), torch.ones(64, dtype=q.dtype))
    assert (q3.sum(0) - 8).abs().max() < (F.softmax(scores / 0.5, 1).sum(0) - 8).abs().max()


def test_ema_rule_by_hand():
    teacher, student = nn.Sequential(nn.Linear(1, 1), nn.BatchNorm1d(1)), nn.Sequential(nn.Linear(1, 1), nn.BatchNorm1d(1))
    with torch.no_grad():
        teacher[0].weight.fill_(1.0)
        student[0].weight.fill_(3.0)
        student[1].running_mean.fill_(5.0)
    ema_update_(teacher, student, 0.9)
    assert teacher[0].weight.item() == pytest.approx(0.9 * 1.0 + 0.1 * 3.0)
    assert teacher[1].running_mean.item() == 5.0
    ema_update_(teacher, student, 0.9)
    assert teacher[0].weight.item() == pytest.approx(0.9 * 1.2 + 0.1 * 3.0)
    assert cosine_momentum(0, 100, 0.996, 1.0) == 0.996
    assert cosine_momentum(100, 100, 0.996, 1.0) == 1.0
    assert cosine_momentum(50, 100, 0.996, 1.0) == pytest.approx(0.998)


# ---- propagation ---------------------------------------------------------------------------------------
def test_propagation_against_brute_force():
    rng = np.random.default_rng(3)
    points, anchors = rng.random((60, 3)), rng.random((7, 3))
    feats, sp = rng.normal(size=(7, 5)), rng.integers(0, 6, 60)
    interp = np.zeros((60, 5))
    for i in range(60):
        d = np.array([math.dist(points[i], a) for a in anchors])
        near = np.argsort(d)[:3]
        w = 1 / (d[near] + 1e-8)
        interp[i] = (w[:, None] * feats[near]).sum(0) / w.sum()
    means = {s: interp[sp == s].mean(0) for s in np.unique(sp)}
    sp_mean = np.stack([means[s] for s in sp])
    t = lambda x: torch.from_numpy(x)  # noqa: E731
    for alpha, want in ((0.0, interp), (1.0, sp_mean), (0.25, 0.75 * interp + 0.25 * sp_mean)):
        got = propagate_features(t(points), t(anchors), t(feats), t(sp), alpha=alpha, normalise=False)
        np.testing.assert_allclose(got.numpy(), want, atol=1e-10)


# ---- CLIP ViT -------------------------------------------------------------------------------------------
def test_dense_tokens_are_open_clips_own_tokens(tiny_vit_clip):
    enc = CLIPViTDenseEncoder(model_cfg=TINY_VIT_CLIP_CFG, weights=tiny_vit_clip, dense="tokens")
    img = torch.randn(2, 3, 64, 64)
    visual = enc.visual
    visual.output_tokens = True
    _, tokens = visual(img)
    want = (tokens @ visual.proj).transpose(1, 2).reshape(2, -1, 8, 8)
    torch.testing.assert_close(enc(img), want, atol=1e-5, rtol=1e-5)
    value = CLIPViTDenseEncoder(model_cfg=TINY_VIT_CLIP_CFG, weights=tiny_vit_clip, dense="value")(img)
    assert value.shape == want.shape and not torch.allclose(value, want)


# ---- training, inference, query ------------------------------------------------------------------------
def _pretrain_cfg(pairs_root, clip, work_dir, iters):
    from mmengine.config import Config

    cfg = Config.fromfile(str(REPO / "configs/demo/s4token_pretrain_demo.py"))
    cfg.work_dir = str(work_dir)
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.update(data_root=str(pairs_root), split=None)
    cfg.model.encoder.weights = cfg.model.image_encoder.weights = clip
    cfg.train_cfg = dict(type="IterBasedTrainLoop", max_iters=iters)
    cfg.default_hooks.checkpoint = dict(type="CheckpointHook", interval=iters, by_epoch=False)
    cfg.default_hooks.logger = dict(type="LoggerHook", interval=1)
    cfg.log_processor = dict(by_epoch=False, window_size=1)
    cfg.train_dataloader.sampler = dict(type="InfiniteSampler", shuffle=True)
    return cfg


@pytest.fixture(scope="module")
def pretrained(pairs_root, tiny_vit_clip, tmp_path_factory):
    """A 12-iteration S4Token pre-training run through tools/train.py's build_runner: (checkpoint, losses)."""
    sys.path.insert(0, str(REPO / "tools"))
    from mmengine.runner import Runner

    from voxclip.engine.setup import prepare_config

    work = tmp_path_factory.mktemp("s4token_pretrain")
    torch.manual_seed(0)
    cfg = prepare_config(_pretrain_cfg(pairs_root, tiny_vit_clip, work, 12))
    runner = Runner.from_cfg(cfg)
    losses = []
    runner.register_hook(_LossRecorder(losses), priority="LOWEST")
    runner.train()
    return work / "iter_12.pth", losses


class _LossRecorder(Hook):
    def __init__(self, out):
        self.out = out

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.out.append({k: float(v) for k, v in outputs.items()})


def test_tiny_self_supervised_run_losses_fall(pretrained):
    ckpt, losses = pretrained
    assert ckpt.is_file() and len(losses) == 12
    first, last = losses[:3], losses[-3:]
    for key in ("loss_assign", "loss_rec", "loss_distill", "loss"):
        assert np.mean([x[key] for x in last]) < np.mean([x[key] for x in first]), (key, losses)
    state = torch.load(ckpt, map_location="cpu", weights_only=False)["state_dict"]
    assert any(k.startswith("tokenizer.") for k in state) and any(k.startswith("teacher_tokenizer.") for k in state)
    assert not any(k.startswith(("encoder.", "image_encoder.")) for k in state)  # frozen CLIP: not saved
    # the teacher moved from the student (EMA every iteration) but is not equal to it
    t, s = state["teacher_tokenizer.pos_embed.0.weight"], state["tokenizer.pos_embed.0.weight"]
    assert not torch.equal(t, s) and int(state["ema_step"]) == 12


def _openvocab(clip, **kw):
    return S4TokenOpenVocab(
        tokenizer=dict(num_tokens=64, patch_size=16, embed_dim=64, in_feat_channels=3, pointnet_hidden=(32, 64)),
        encoder=dict(model_cfg=TINY_VIT_CLIP_CFG, weights=clip),
        text_encoder=dict(type="CLIPTextEncoder", model_cfg=TINY_VIT_CLIP_CFG, weights=clip),
        class_names=("chair", "table", "floor"), **kw).eval()


def test_openvocab_loads_pretrainer_checkpoint_and_classifies(pretrained, tiny_vit_clip):
    ckpt, _ = pretrained
    model = _openvocab(tiny_vit_clip)
    state = torch.load(ckpt, map_location="cpu", weights_only=False)["state_dict"]
    model.load_state_dict(state, strict=True)  # pretrainer-only keys dropped, tokenizer all there
    torch.testing.assert_close(model.tokenizer.pos_embed[0].weight, state["tokenizer.pos_embed.0.weight"])
    wrong = S4TokenOpenVocab(
        tokenizer=dict(num_tokens=64, patch_size=16, embed_dim=64, in_feat_channels=3, pointnet_hidden=(16, 64)),
        encoder=dict(model_cfg=TINY_VIT_CLIP_CFG, weights=tiny_vit_clip),
        text_encoder=dict(type="CLIPTextEncoder", model_cfg=TINY_VIT_CLIP_CFG, weights=tiny_vit_clip),
        class_names=("chair",))
    with pytest.raises(RuntimeError, match="does not match"):
        wrong.load_state_dict(dict(state), strict=False)
    # zero-shot classification = argmax of cos(global embedding, prompt-averaged text embeddings)
    pts, sp = cloud_with_segments()
    colour = torch.rand(len(pts), 3)
    idx, scores = model.classify(pts, colour, ("chair", "lamp", "sofa"), sp)
    text = CLIPTextEncoder(model_cfg=TINY_VIT_CLIP_CFG, weights=tiny_vit_clip)
    emb = torch.stack([F.normalize(torch.stack([F.normalize(text.encode_texts([t.format(n)])[0], dim=0)
                                                for t in model.templates]).mean(0), dim=0)
                       for n in ("chair", "lamp", "sofa")])
    torch.testing.assert_close(prompt_embeddings(text, ("chair", "lamp", "sofa"), model.templates), emb)
    _, glob = model.point_features(pts, colour, sp)
    torch.testing.assert_close(scores, emb @ glob, atol=1e-5, rtol=1e-5)
    assert idx == int(scores.argmax())
    # per-point similarities follow superpoints (alpha=1): one value per superpoint
    sim = model.point_text_similarity(pts, colour, sp, ["a chair"])[:, 0]
    assert all(len(torch.unique(sim[sp == s])) == 1 for s in range(9))


def test_query_writes_different_files_per_prompt(pretrained, tiny_vit_clip, prepared_scannet, tmp_path):
    sys.path.insert(0, str(REPO / "tools"))
    import query

    ckpt, _ = pretrained
    scene = sorted((prepared_scannet / "scans").iterdir())[0]
    opts = {"model.encoder.weights": tiny_vit_clip, "model.text_encoder.weights": tiny_vit_clip,
            "model.tokenizer.num_tokens": 64}
    args = ["configs/demo/s4token_openvocab_demo.py", str(ckpt), str(scene), "a sofa", "a window",
            "--out-dir", str(tmp_path)]
    assert query.main(args + ["--cfg-options", *[f"{k}={v}" for k, v in opts.items()]]) == 0
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == sorted(["a_sofa.png", "a_sofa.ply", "a_window.png", "a_window.ply"])
    from plyfile import PlyData

    a, b = (PlyData.read(str(tmp_path / f))["vertex"] for f in ("a_sofa.ply", "a_window.ply"))
    assert len(a["x"]) == len(np.load(scene / "coord.npy"))
    assert not np.allclose(a["similarity"], b["similarity"])
    assert (tmp_path / "a_sofa.png").read_bytes() != (tmp_path / "a_window.png").read_bytes()
    assert query.main([args[0], str(tmp_path / "missing.pth"), str(scene), "a sofa", "--out-dir", str(tmp_path / "x"),
                       "--cfg-options", *[f"{k}={v}" for k, v in opts.items()]]) == 1
    assert not (tmp_path / "x").exists() or not list((tmp_path / "x").iterdir())


def test_configs_agree_with_library():
    import json

    from mmengine.config import Config

    from voxclip.classes import SCANNET_SEG_CLASSES

    norm = (lambda d: json.loads(json.dumps(d)))  # tuples vs lists
    for name in ("s4token_pretrain_demo.py", "s4token_openvocab_demo.py"):
        demo = Config.fromfile(str(REPO / "configs/demo" / name))
        assert norm(demo.tiny_clip_cfg.to_dict()) == norm(TINY_VIT_CLIP_CFG)
    full = Config.fromfile(str(REPO / "configs/s4token/openvocab_seg_scannet.py"))
    assert [n.replace(" ", "") for n in full.model.class_names] == \
        [n.replace("showercurtrain", "showercurtain") for n in SCANNET_SEG_CLASSES]
    pre = Config.fromfile(str(REPO / "configs/s4token/pretrain_scannet_pairs.py"))
    assert 0.2 <= pre.model.tokenizer.gamma <= 0.6 and pre.model.tokenizer.embed_dim == 768
    assert pre.model.tokenizer.to_dict() == {**full.model.tokenizer.to_dict(), "num_tokens": 512}
