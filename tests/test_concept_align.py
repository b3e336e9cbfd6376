"""Concept-alignment distillation: concept cross-attention vs a hand computation, ClipCap-format files
(both mapping types) vs an independent numpy computation, frozen teacher, prefix cache round trip,
samples, falling loss, and the pretrain -> 3DETR chain through tools/train.py."""
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import voxclip.datasets  # noqa: F401  (registers)
import voxclip.models  # noqa: F401
from voxclip.datasets.concept_pairs import ConceptAlignPairs, clip_preprocess, concept_pairs_collate
from voxclip.models.clip import TINY_RN_CLIP_CFG
from voxclip.models.concept_align import (ClipCapMapper, ConceptBlock, ConceptExtractor, PrefixCache,
                                          concept_alignment_loss)
from voxclip.registry import MODELS

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import cache_clipcap_prefixes as cache_tool  # noqa: E402
import train as train_tool  # noqa: E402
from make_random_clipcap import make_random_clipcap  # noqa: E402

PRETRAIN_DEMO = str(REPO / "configs/demo/concept_align_pretrain_demo.py")
DETR_DEMO = str(REPO / "configs/demo/concept_align_3detr_demo.py")


def _np(t):
    return t.detach().double().numpy()


def _ln(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _gelu(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


# -- concept cross-attention -------------------------------------------------------------------
def test_concept_block_matches_hand_computation():
    torch.manual_seed(0)
    d, heads = 4, 2
    blk = ConceptBlock(d, heads, mlp_ratio=1.5, qkv_bias=True)
    for p in blk.parameters():
        p.data.uniform_(-0.8, 0.8)
    c = torch.randn(1, 2, d)
    f = torch.randn(1, 3, d)
    got = _np(blk(c, f))[0]

    C, Fm = _np(c)[0], _np(f)[0]
    P = {k: _np(v) for k, v in blk.state_dict().items()}
    q_in = _ln(C, P["norm_q.weight"], P["norm_q.bias"])
    kv_in = _ln(Fm, P["norm_kv.weight"], P["norm_kv.bias"])
    q = q_in @ P["attn.q.weight"].T + P["attn.q.bias"]
    kv = kv_in @ P["attn.kv.weight"].T + P["attn.kv.bias"]
    k, v = kv[:, :d], kv[:, d:]
    hd = d // heads
    out = np.zeros((2, d))
    for h in range(heads):  # per head: softmax(q k^T / sqrt(hd)) v over the 3 point tokens
        s = slice(h * hd, (h + 1) * hd)
        for i in range(2):
            w = _softmax(np.array([q[i, s] @ k[j, s] / math.sqrt(hd) for j in range(3)]))
            out[i, s] = sum(w[j] * v[j, s] for j in range(3))
    c1 = C + out @ P["attn.proj.weight"].T + P["attn.proj.bias"]
    h1 = _gelu(_ln(c1, P["norm2.weight"], P["norm2.bias"]) @ P["mlp.net.0.weight"].T + P["mlp.net.0.bias"])
    expect = c1 + h1 @ P["mlp.net.3.weight"].T + P["mlp.net.3.bias"]
    np.testing.assert_allclose(got, expect, rtol=1e-5, atol=1e-5)


def test_concept_extractor_carries_concepts_through_layers():
    torch.manual_seed(1)
    ext = ConceptExtractor(dim=8, num_concepts=3, depth=3, num_heads=2, share_blocks=False)
    feats = [torch.randn(2, 5, 8) for _ in range(3)]
    c = ext.queries[None].expand(2, -1, -1)
    for blk, f in zip(ext.blocks, feats):  # layer i: block i on layer i's tokens, concepts carried
        c = blk(c, f)
    torch.testing.assert_close(ext(feats), ext.norm(c))
    shared = ConceptExtractor(dim=8, num_concepts=3, depth=3, num_heads=2, share_blocks=True)
    assert len(shared.blocks) == 1 and shared(feats).shape == (2, 3, 8)
    with pytest.raises(ValueError, match="2 token sets for 3 layers"):
        shared(feats[:2])


def test_encoder_forward_layers_agrees_with_forward():
    enc = MODELS.build(dict(type="PointTransformerEncoder", embed_dim=8, depth=3, num_heads=2, drop_path_rate=0.0))
    x, pos = torch.randn(2, 5, 8), torch.randn(2, 5, 8)
    final, ins, outs = enc.forward_layers(x, pos)
    torch.testing.assert_close(final, enc(x, pos))
    torch.testing.assert_close(ins[0], x + pos)
    torch.testing.assert_close(ins[1], outs[0] + pos)
    torch.testing.assert_close(outs[2], enc.blocks[2](ins[2]))


# -- ClipCap files -----------------------------------------------------------------------------
def _numpy_clipcap(state: dict, mapping: str, emb: np.ndarray, prefix_len: int, clip_len: int, heads: int = 8):
    """ClipCap's mapping networks written out from the raw clip_project.* tensors (float64)."""
    s = {k[len("clip_project."):]: v.double().numpy() for k, v in state.items() if k.startswith("clip_project.")}
    if mapping == "mlp":
        h = np.tanh(emb @ s["model.0.weight"].T + s["model.0.bias"])
        out = h @ s["model.2.weight"].T + s["model.2.bias"]
        return out.reshape(len(emb), prefix_len, -1)
    d = s["prefix_const"].shape[1]
    x = (emb @ s["linear.weight"].T + s["linear.bias"]).reshape(len(emb), clip_len, d)
    x = np.concatenate([x, np.broadcast_to(s["prefix_const"], (len(emb), prefix_len, d))], 1)
    n_layers = len({k.split(".")[2] for k in s if k.startswith("transformer.layers.")})
    for i in range(n_layers):
        p = lambda name: s[f"transformer.layers.{i}.{name}"]  # noqa: E731
        y = _ln(x, p("norm1.weight"), p("norm1.bias"))
        q = (y @ p("attn.to_queries.weight").T).reshape(*y.shape[:2], heads, -1)
        kv = (y @ p("attn.to_keys_values.weight").T).reshape(*y.shape[:2], 2, heads, -1)
        k, v = kv[:, :, 0], kv[:, :, 1]
        att = np.einsum("bnhd,bmhd->bnmh", q, k) * (q.shape[-1] ** -0.5)
        att = np.exp(att - att.max(2, keepdims=True))
        att = att / att.sum(2, keepdims=True)
        o = np.einsum("bnmh,bmhd->bnhd", att, v).reshape(y.shape)
        x = x + o @ p("attn.project.weight").T + p("attn.project.bias")
        y = _ln(x, p("norm2.weight"), p("norm2.bias"))
        x = x + np.maximum(y @ p("mlp.fc1.weight").T + p("mlp.fc1.bias"), 0) @ p("mlp.fc2.weight").T + p("mlp.fc2.bias")
    return x[:, clip_len:]


@pytest.mark.parametrize("mapping", ["mlp", "transformer"])
def test_clipcap_file_gives_independent_prefixes(tmp_path, mapping):
    path = str(tmp_path / f"{mapping}.pt")
    make_random_clipcap(path, mapping, clip_dim=12, prefix_dim=16, prefix_length=3, clip_length=5, num_layers=2)
    state = torch.load(path, weights_only=True)
    expected_keys = {"mlp": {"clip_project.model.0.weight", "clip_project.model.2.bias"},
                     "transformer": {"clip_project.prefix_const", "clip_project.linear.weight",
                                     "clip_project.transformer.layers.1.attn.to_keys_values.weight",
                                     "clip_project.transformer.layers.0.mlp.fc2.bias"}}[mapping]
    assert expected_keys <= set(state) and all(k.startswith("clip_project.") for k in state)
    if mapping == "transformer":  # ClipCap: no bias on the query / key-value projections
        assert "clip_project.transformer.layers.0.attn.to_queries.bias" not in state
    # a real file also holds GPT-2: those keys are ignored
    state_gpt = dict(state, **{"gpt.transformer.wte.weight": torch.zeros(5, 16)})
    torch.save(state_gpt, path)
    m = ClipCapMapper(path, mapping, clip_dim=12, prefix_dim=16, prefix_length=3, clip_length=5, num_layers=2)
    emb = torch.randn(4, 12)
    np.testing.assert_allclose(_np(m(emb)), _numpy_clipcap(state, mapping, emb.double().numpy(), 3, 5),
                               rtol=1e-4, atol=1e-5)
    assert m.state_dict() == {} and not any(p.requires_grad for p in m.parameters())
    # wrong shapes / keys: one line naming the file and the first mismatch
    with pytest.raises(ValueError, match=rf"{path}: ClipCap key 'clip_project\..*' has shape"):
        ClipCapMapper(path, mapping, clip_dim=12, prefix_dim=16, prefix_length=4, clip_length=5, num_layers=2)
    other = "transformer" if mapping == "mlp" else "mlp"
    with pytest.raises(KeyError, match=rf"missing for mapping='{other}'"):
        ClipCapMapper(path, other, clip_dim=12, prefix_dim=16, prefix_length=3, clip_length=5, num_layers=2)
    with pytest.raises(FileNotFoundError, match="make_random_clipcap"):
        ClipCapMapper(str(tmp_path / "nope.pt"), mapping)
    torch.save({"gpt.x": torch.zeros(1)}, tmp_path / "gpt_only.pt")
    with pytest.raises(KeyError, match="no 'clip_project.\\*' keys"):
        ClipCapMapper(str(tmp_path / "gpt_only.pt"), mapping)


# -- pretrainer --------------------------------------------------------------------------------
def _pretrainer(tiny_clip, clipcap, **kw):
    cfg = dict(type="ConceptAlignPretrainer",
               tokenizer=dict(type="PointTokenizer", num_tokens=16, patch_size=8, embed_dim=32, pointnet_hidden=(16, 32)),
               encoder=dict(type="PointTransformerEncoder", embed_dim=32, depth=3, num_heads=4, drop_path_rate=0.0),
               teacher=dict(image_encoder=dict(type="CLIPImageEmbedder", model_name="RN50", model_cfg=TINY_RN_CLIP_CFG,
                                               weights=tiny_clip),
                            mapper=dict(type="ClipCapMapper", checkpoint=clipcap, clip_dim=32, prefix_dim=16,
                                        prefix_length=4)),
               concept=dict(num_concepts=6))
    cfg.update(kw)
    return MODELS.build(cfg)


def test_teacher_bit_identical_after_optimiser_steps(tmp_path, tiny_clip):
    clipcap = make_random_clipcap(str(tmp_path / "cc.pt"))
    torch.manual_seed(0)
    model = _pretrainer(tiny_clip, clipcap).train()
    teacher = {k: v.clone() for k, v in [*model.teacher.named_parameters(), *model.teacher.named_buffers()]}
    student = {k: v.clone() for k, v in model.named_parameters() if not k.startswith("teacher.")}
    assert len(teacher) > 20 and not any(k.startswith("teacher.") for k in model.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.05)  # all params: decay must not touch the teacher
    batch = dict(points=torch.randn(2, 256, 3), images=torch.randn(2, 3, 64, 64))
    for _ in range(3):
        opt.zero_grad()
        model(batch, mode="loss")["loss_align"].backward()
        opt.step()
    for k, v in [*model.teacher.named_parameters(), *model.teacher.named_buffers()]:
        assert torch.equal(v, teacher[k]), k
    assert not model.teacher.image_encoder.training
    changed = [k for k, v in model.named_parameters() if k in student and not torch.equal(v, student[k])]
    assert any(k.startswith("encoder.") for k in changed) and any(k.startswith("concept.") for k in changed)
    # the MSE of Eq. 12 on the model's own output vs the teacher computed apart
    out = model(batch, mode="tensor")
    ref = model.teacher.mapper(model.teacher.image_encoder.visual(batch["images"]))
    torch.testing.assert_close(out["target"], ref)
    assert concept_alignment_loss(out["pred"], out["target"]).item() == pytest.approx(
        float(((out["pred"].detach() - ref) ** 2).mean()), rel=1e-6)


def test_ablation_switches_build_and_run(tmp_path, tiny_clip):
    clipcap = make_random_clipcap(str(tmp_path / "cc.pt"))
    batch = dict(points=torch.randn(2, 128, 3), images=torch.randn(2, 3, 64, 64))
    no_ca = _pretrainer(tiny_clip, clipcap, concept_cross_attention=False)
    assert no_ca.concept is None and no_ca.projector.in_tokens == 16
    no_cap = _pretrainer(tiny_clip, clipcap, teacher=dict(
        image_encoder=dict(type="CLIPImageEmbedder", model_name="RN50", model_cfg=TINY_RN_CLIP_CFG, weights=tiny_clip),
        target="clip"))
    last = _pretrainer(tiny_clip, clipcap, concept=dict(num_concepts=2, layers="last"))
    for m, shape in ((no_ca, (4, 16)), (no_cap, (1, 32)), (last, (4, 16))):
        out = m(batch, mode="tensor")
        assert out["pred"].shape == out["target"].shape == (2, *shape)
    # concept_source: 'output' trains every encoder weight; 'input' (Eq. 6-7 literally) leaves block 12 and the norm out
    for source, untouched in (("output", set()), ("input", {"blocks.2", "norm"})):
        m = _pretrainer(tiny_clip, clipcap, concept_source=source)
        m(batch, mode="loss")["loss_align"].backward()
        no_grad = {".".join(k.split(".")[:2]) if k.startswith("blocks") else k.split(".")[0]
                   for k, p in m.encoder.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0}
        assert no_grad == untouched, (source, no_grad)


# -- samples and cache -------------------------------------------------------------------------
def test_samples_and_prefix_cache_round_trip(pairs_root, tiny_clip, tmp_path):
    from mmengine.config import Config

    ds = ConceptAlignPairs(pairs_root, split=None, frame_stride=4, num_points=300, image_size=64)
    frames = sorted({ds.get_data_info(i)["frame"] for i in range(len(ds))})
    assert frames and all(f % 4 == 0 for f in frames)  # pairs are every 2nd frame; every 4th kept
    item = ds[0]
    assert item["points"].shape == (300, 3) and item["image"].shape == (3, 64, 64) and "target" not in item
    # no augmentation: the points are a subset of the pair's points
    plain = ConceptAlignPairs(pairs_root, split=None, frame_stride=4, num_points=50, image_size=64,
                              scale_range=None, translate=0.0)
    raw = np.load(plain.get_data_info(0)["path"])["points"].astype(np.float32)
    pts = plain[0]["points"].numpy()
    assert np.abs(pts[:, None] - raw[None]).sum(-1).min(1).max() < 1e-6

    cc = make_random_clipcap(str(tmp_path / "cc.pt"))
    cfg = Config.fromfile(PRETRAIN_DEMO)
    cfg.merge_from_dict({"train_dataloader.dataset.data_root": str(pairs_root), "train_dataloader.dataset.split": None,
                         "train_dataloader.dataset.frame_stride": 2, "model.teacher.image_encoder.weights": tiny_clip,
                         "model.teacher.mapper.checkpoint": cc})
    cache_dir = tmp_path / "cache"
    res = cache_tool.cache_prefixes(cfg, str(cache_dir), batch_size=2, log=lambda m: None)
    assert res["written"] == res["total"] > 0
    assert cache_tool.cache_prefixes(cfg, str(cache_dir), log=lambda m: None)["written"] == 0  # resumable
    # the cached prefix of a pair = the teacher run apart on that pair's preprocessed image
    teacher = _pretrainer(tiny_clip, cc).teacher
    cached = ConceptAlignPairs(pairs_root, split=None, frame_stride=2, num_points=64, image_size=64,
                               cache_dir=str(cache_dir), target_shape=(4, 16))
    info = cached.get_data_info(1)
    image = clip_preprocess(np.load(info["path"])["color"], 64)
    sample = cached[1]
    assert "image" not in sample
    torch.testing.assert_close(sample["target"], teacher(image[None])[0], rtol=1e-5, atol=1e-6)
    batch = concept_pairs_collate([cached[0], cached[1]])
    assert batch["inputs"]["targets"].shape == (2, 4, 16) and "images" not in batch["inputs"]
    # a model without a teacher trains from the cache
    student = _pretrainer(tiny_clip, cc, teacher=None, target_shape=(4, 16))
    assert torch.isfinite(student(batch["inputs"], mode="loss")["loss_align"])
    # another teacher may not write into this cache; a missing entry is an error naming the tool
    other = cfg.copy()
    other.merge_from_dict({"model.teacher.mapper.checkpoint": make_random_clipcap(str(tmp_path / "cc2.pt"), seed=1)})
    with pytest.raises(ValueError, match="written by another teacher"):
        cache_tool.cache_prefixes(other, str(cache_dir), log=lambda m: None)
    Path(PrefixCache(str(cache_dir)).path(info["scene_id"], info["frame"])).unlink()
    with pytest.raises(FileNotFoundError, match="cache_clipcap_prefixes"):
        ConceptAlignPairs(pairs_root, split=None, frame_stride=2, cache_dir=str(cache_dir), require_cache=True)
    partial = ConceptAlignPairs(pairs_root, split=None, frame_stride=2, image_size=64, cache_dir=str(cache_dir))
    assert "image" in partial[0] and "target" not in partial[0]  # incomplete cache: the teacher runs instead


# -- training through tools/train.py -----------------------------------------------------------
def test_pretrain_loss_falls_then_3detr_fine_tunes_from_it(pairs_root, prepared_scannet, tiny_clip, tmp_path):
    cc = make_random_clipcap(str(tmp_path / "cc.pt"))
    pre = tmp_path / "pre"
    no_workers = ["train_dataloader.num_workers=0", "train_dataloader.persistent_workers=False"]
    train_tool.main([PRETRAIN_DEMO, "--work-dir", str(pre), "--cfg-options", f"train_dataloader.dataset.data_root={pairs_root}",
                     "train_dataloader.dataset.split=None", "train_dataloader.dataset.frame_stride=2",
                     "train_dataloader.batch_size=6", f"model.teacher.image_encoder.weights={tiny_clip}",
                     f"model.teacher.mapper.checkpoint={cc}", "train_cfg.max_epochs=12",
                     "default_hooks.logger.interval=1", *no_workers])
    logs = sorted(pre.rglob("scalars.json"))
    losses = [json.loads(line)["loss_align"] for line in logs[-1].read_text().splitlines() if "loss_align" in line]
    assert len(losses) == 12 and np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3]), losses
    ckpt = pre / "epoch_12.pth"
    state = torch.load(ckpt, map_location="cpu", weights_only=False)["state_dict"]
    assert not any(k.startswith("teacher.") for k in state) and any(k.startswith("concept.") for k in state)

    ft = tmp_path / "ft"
    opts = [f"{k}.dataset.data_root={prepared_scannet}" for k in ("train_dataloader", "val_dataloader", "test_dataloader")]
    opts += [f"{k}.{o}" for k in ("train_dataloader", "val_dataloader", "test_dataloader")
             for o in ("num_workers=0", "persistent_workers=False")]
    argv = [DETR_DEMO, "--work-dir", str(ft), "--cfg-options", *opts, f"model.pretrained.checkpoint={ckpt}",
            "train_cfg.max_epochs=1", "train_dataloader.batch_size=2"]
    runner = train_tool.build_runner(train_tool.parse_args(argv))
    infos = runner.model.load_pretrained_parts()
    assert not infos["encoder"]["missing"] and not infos["encoder"]["mismatched"]
    assert not infos["tokenizer"]["missing"] and len(infos["encoder"]["loaded"]) > 20
    for k, v in runner.model.encoder.state_dict().items():
        assert torch.equal(v, state[f"encoder.{k}"]), k
    train_tool.main(argv)
    assert (ft / "epoch_1.pth").is_file()


# -- paper configs -----------------------------------------------------------------------------
def test_paper_configs_build_with_published_shapes():
    from mmengine.config import Config

    from voxclip.models.concept_align import MLPMapper

    pre_cfg = Config.fromfile(str(REPO / "configs/concept_align/pretrain_scannet_pairs.py"))
    assert pre_cfg.optim_wrapper.optimizer.type == "AdamW" and pre_cfg.optim_wrapper.optimizer.lr == 1e-3
    assert pre_cfg.optim_wrapper.optimizer.weight_decay == 0.05 and pre_cfg.train_cfg.max_epochs == 250
    assert pre_cfg.train_dataloader.dataset.frame_stride == 25 and pre_cfg.train_dataloader.dataset.num_points == 4096
    pre_cfg.model.teacher = None  # the published CLIP / ClipCap files are not here; shapes come from target_shape
    pre = MODELS.build(pre_cfg.model)
    assert (pre.tokenizer.num_tokens, pre.tokenizer.patch_size, pre.tokenizer.embed_dim) == (64, 32, 384)
    assert pre.encoder.depth == 12 and pre.encoder.blocks[0].attn.num_heads == 6
    assert pre.concept.queries.shape == (32, 384) and len(pre.concept.blocks) == 1 and pre.concept.num_steps == 12
    assert (pre.projector.out_tokens, pre.projector.out_dim) == (10, 768)
    mlp = {k: tuple(v.shape) for k, v in MLPMapper(512, 768, 10).state_dict().items()}  # ClipCap COCO / CC model
    assert mlp == {"model.0.weight": (3840, 512), "model.0.bias": (3840,), "model.2.weight": (7680, 3840),
                   "model.2.bias": (7680,)}
    student = {k: v.shape for k, v in pre.state_dict().items() if k.split(".")[0] in ("tokenizer", "encoder")}
    for name in ("3detr_scannet.py", "seg_scannet.py"):
        cfg = Config.fromfile(str(REPO / "configs/concept_align" / name))
        cfg.model.pretrained = None
        down = MODELS.build(cfg.model)
        got = {k: v.shape for k, v in down.state_dict().items() if k.split(".")[0] in ("tokenizer", "encoder")}
        assert got == student, name  # every pretrained tensor has a place of the same shape downstream
    detr = Config.fromfile(str(REPO / "configs/concept_align/3detr_scannet.py"))
    assert detr.model.tokenizer.num_tokens == 2048 and detr.model.head.num_queries == 256
    assert detr.model.head.num_decoder_layers == 8 and detr.optim_wrapper.optimizer.lr == 5e-4
    assert detr.train_cfg.max_epochs == 720
