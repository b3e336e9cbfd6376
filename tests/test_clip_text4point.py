"""Text4Point CLIP parts: full-model loading, dense ResNet image encoder, text encoder, prompts.

References are computed with open_clip's own modules (CLIP.encode_text / encode_image, AttentionPool2d)
or by hand from the weights, never with the code under test.
"""
import copy
import importlib.util
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from voxclip.models.clip import (CLIP_MEAN, CLIP_STD, TINY_RN_CLIP_CFG, CLIPDenseImageEncoder, CLIPTextEncoder,
                                 FixedPrompts, PromptLearner, clip_tokenizer, load_open_clip, load_open_clip_visual,
                                 normalize_images)
from voxclip.registry import MODELS

REPO = Path(__file__).resolve().parents[1]
TINY = TINY_RN_CLIP_CFG
SOS, EOT = 49406, 49407


def _perturb_batchnorm(model: nn.Module, gen: torch.Generator):
    # open_clip zero-inits bn3 and starts BN at mean 0 / var 1: give every BN non-trivial values so
    # that a wrong BN mode or a missing residual branch changes the outputs.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=gen))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=gen))


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory):
    import open_clip

    torch.manual_seed(0)
    model = open_clip.CLIP(**TINY, quick_gelu=True)
    _perturb_batchnorm(model, torch.Generator().manual_seed(1))
    path = tmp_path_factory.mktemp("clip") / "tiny_rn_clip.pt"
    torch.save(model.state_dict(), path)
    return str(path), model.eval()


def _images(b=2, h=64, w=64, seed=0):
    return torch.randn(b, 3, h, w, generator=torch.Generator().manual_seed(seed))


# (a) loading -------------------------------------------------------------------------------------

def test_full_model_round_trip(clip_file):
    path, ref = clip_file
    model = load_open_clip(path, model_cfg=TINY).eval()
    ref_sd = ref.state_dict()
    sd = model.state_dict()
    assert sd.keys() == ref_sd.keys()
    for k, v in sd.items():
        assert torch.equal(v, ref_sd[k]), k
    tokens = clip_tokenizer(77)(["point cloud of chair.", "a table"])
    x = _images()
    with torch.no_grad():
        assert torch.equal(model.encode_image(x), ref.encode_image(x))
        assert torch.equal(model.encode_text(tokens), ref.encode_text(tokens))
    visual = load_open_clip_visual(path, model_cfg=TINY)  # the EPCL entry point, now on top of load_open_clip
    assert torch.equal(visual.attnpool.c_proj.weight, ref.visual.attnpool.c_proj.weight)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # torch.jit.script is deprecated; the archive format is not
def test_openai_torchscript_archive(clip_file, tmp_path):
    # OpenAI's RN50.pt is a TorchScript archive with fp16 weights and three extra scalar entries.
    import open_clip

    path, ref = clip_file
    model = open_clip.CLIP(**TINY, quick_gelu=True)
    model.load_state_dict(ref.state_dict())
    model = model.half().eval()
    for key, value in (("input_resolution", 64), ("context_length", 77), ("vocab_size", 49408)):
        if hasattr(model, key):
            delattr(model, key)  # open_clip keeps these as plain ints; OpenAI's archive as tensors
        model.register_buffer(key, torch.tensor(value))
    archive = tmp_path / "RN50.pt"
    torch.jit.script(model).save(str(archive))
    loaded = load_open_clip(str(archive), model_cfg=TINY).state_dict()
    for k, v in ref.state_dict().items():
        assert loaded[k].dtype == v.dtype and torch.equal(loaded[k], v.half().to(v.dtype)), k


def test_missing_file_names_rn50_download(tmp_path):
    missing = tmp_path / "checkpoints" / "RN50.pt"
    for make in (lambda: load_open_clip(str(missing)),
                 lambda: CLIPDenseImageEncoder(weights=str(missing)),
                 lambda: CLIPTextEncoder(weights=str(missing))):
        with pytest.raises(FileNotFoundError) as err:
            make()
        msg = str(err.value)
        assert str(missing) in msg and "download" in msg
        assert "RN50.pt" in msg and "checkpoints/clip/RN50-openai.pt" in msg and "ViT-B-16" not in msg


def test_wrong_architecture_names_file(clip_file):
    path, _ = clip_file
    other = dict(TINY, vision_cfg=dict(TINY["vision_cfg"], width=16))
    with pytest.raises(RuntimeError, match="tiny_rn_clip.pt"):
        load_open_clip(path, model_cfg=other)
    with pytest.raises(RuntimeError, match="tiny_rn_clip.pt"):
        CLIPTextEncoder(model_cfg=dict(TINY, embed_dim=16), weights=path)


def test_make_random_clip_tool(tmp_path):
    spec = importlib.util.spec_from_file_location("make_random_clip", REPO / "tools" / "make_random_clip.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    main = tool.main

    out = tmp_path / "demo" / "random_tiny.pt"
    assert main([str(out), "--model-cfg", "tiny", "--seed", "3"]) == 0
    assert [p.name for p in out.parent.iterdir()] == ["random_tiny.pt"]  # no temp file left behind
    a = load_open_clip(str(out), model_cfg=TINY).state_dict()
    assert main([str(out), "--seed", "3"]) == 0
    b = load_open_clip(str(out), model_cfg=TINY).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)  # same seed, same weights
    enc = CLIPTextEncoder(model_cfg=TINY, weights=str(out))
    assert torch.equal(enc.token_embedding.weight, a["token_embedding.weight"])


# (b) dense image encoder ------------------------------------------------------------------------

def _layer4(visual, x):
    with torch.no_grad():
        return visual.layer4(visual.layer3(visual.layer2(visual.layer1(visual.stem(x)))))


@pytest.mark.parametrize("size,grid", [((240, 320), (7, 10)), ((64, 64), (2, 2))])
def test_dense_matches_hand_written_value_projection(clip_file, size, grid):
    path, ref = clip_file
    enc = CLIPDenseImageEncoder(model_cfg=TINY, weights=path, dense_mode="value")
    assert enc.embed_dim == 32
    x = _images(2, *size)
    out = enc(x)
    assert out.shape == (2, 32, *grid) and not out.requires_grad
    feat = _layer4(ref.visual, x)
    assert feat.shape[-2:] == grid
    pool = ref.visual.attnpool
    pe = pool.positional_embedding.detach()
    s = 2  # 64 // 32
    pos = pe[1:].reshape(s, s, -1).permute(2, 0, 1)[None]
    pos = F.interpolate(pos, size=grid, mode="bilinear", align_corners=False)  # (1, C, h, w)
    v = torch.einsum("bchw,dc->bdhw", feat + pos, pool.v_proj.weight) + pool.v_proj.bias[:, None, None]
    expected = torch.einsum("bdhw,ed->behw", v, pool.c_proj.weight) + pool.c_proj.bias[:, None, None]
    assert torch.allclose(out, expected, atol=1e-5)


def test_positional_grid_orientation_and_identity(clip_file):
    path, _ = clip_file
    enc = CLIPDenseImageEncoder(model_cfg=TINY, weights=path)
    pe = enc.visual.attnpool.positional_embedding
    assert torch.equal(enc.positional_embedding(2, 2), pe)  # trained grid: untouched
    big = enc.positional_embedding(7, 10)
    assert big.shape == (71, pe.shape[1]) and torch.equal(big[0], pe[0])
    grid = big[1:].reshape(7, 10, -1)
    # Bilinear (align_corners=False) keeps the corner values: checks row-major (y, x) order.
    a, b, c, d = pe[1], pe[2], pe[3], pe[4]  # (y0,x0) (y0,x1) (y1,x0) (y1,x1)
    for got, want in ((grid[0, 0], a), (grid[0, -1], b), (grid[-1, 0], c), (grid[-1, -1], d)):
        assert torch.allclose(got, want, atol=1e-6)


def test_global_pool_equals_clip_image_embedding(clip_file):
    path, ref = clip_file
    enc = CLIPDenseImageEncoder(model_cfg=TINY, weights=path)
    x = _images(3, 64, 64)
    feat = enc.forward_features(x)
    with torch.no_grad():
        assert torch.allclose(enc.global_pool(feat), ref.encode_image(x), atol=1e-5)
        assert enc.global_pool(enc.forward_features(_images(1, 240, 320))).shape == (1, 32)


def test_dense_mean_is_attention_pool_under_uniform_attention(clip_file):
    # With q_proj = 0 every token gets the same attention weight, and with pos[0] = mean(pos[1:])
    # the pooled token equals the mean of c_proj(v_proj(x_j + pos_j)) over positions (affine maps):
    # open_clip's own AttentionPool2d must then give the mean of our dense map.
    path, _ = clip_file
    enc = CLIPDenseImageEncoder(model_cfg=TINY, weights=path, dense_mode="value")
    pool = enc.visual.attnpool
    with torch.no_grad():
        pool.q_proj.weight.zero_()
        pool.q_proj.bias.zero_()
        pool.positional_embedding[0] = pool.positional_embedding[1:].mean(0)
        x = _images(2, 64, 64, seed=5)
        assert torch.allclose(pool(enc.forward_features(x)), enc(x).mean(dim=(2, 3)), atol=1e-5)


def test_vision_transformer_tower_is_refused():
    vit = dict(embed_dim=16, vision_cfg=dict(image_size=32, patch_size=16, width=32, layers=1, head_width=16),
               text_cfg=dict(context_length=8, vocab_size=64, width=16, heads=2, layers=1))
    with pytest.raises(TypeError, match="ModifiedResNet"):
        CLIPDenseImageEncoder(model_cfg=vit)


def test_normalize_images():
    img = np.zeros((4, 5, 3), dtype=np.uint8)
    img[1, 2] = (255, 0, 128)
    x = normalize_images(img)
    assert x.shape == (1, 3, 4, 5) and x.dtype == torch.float32
    assert torch.allclose(x[0, :, 1, 2], torch.tensor([(1 - CLIP_MEAN[0]) / CLIP_STD[0], -CLIP_MEAN[1] / CLIP_STD[1],
                                                       (128 / 255 - CLIP_MEAN[2]) / CLIP_STD[2]]))
    assert torch.allclose(x[0, :, 0, 0], -torch.tensor(CLIP_MEAN) / torch.tensor(CLIP_STD))
    batch = torch.from_numpy(np.stack([img, img[::-1]]))
    assert torch.equal(normalize_images(batch)[1], normalize_images(img[::-1])[0])
    with pytest.raises(TypeError):
        normalize_images(x)  # float input may already be normalised


# (c) frozen --------------------------------------------------------------------------------------

def _tensors(module):
    """Every parameter and buffer by name (state_dict leaves a frozen tower's weights out)."""
    return dict(list(module.named_parameters()) + list(module.named_buffers()))


def test_frozen_towers_stay_out_of_checkpoints_and_load_back(clip_file):
    path, ref = clip_file
    parent = nn.Module()
    parent.enc = CLIPTextEncoder(model_cfg=TINY, weights=path)
    parent.head = nn.Linear(32, 2)
    sd = parent.state_dict()
    assert set(sd) == {"head.weight", "head.bias"}
    other = nn.Module()
    other.enc = CLIPTextEncoder(model_cfg=TINY)  # random weights: loading must not touch them
    other.head = nn.Linear(32, 2)
    random_w = other.enc.token_embedding.weight.clone()
    other.load_state_dict(sd, strict=True)
    assert torch.equal(other.head.weight, parent.head.weight)
    assert torch.equal(other.enc.token_embedding.weight, random_w)
    learner = PromptLearner(parent.enc, ["chair", "table"], n_ctx=4)
    assert not any(k.startswith("text_encoder.") for k in learner.state_dict()) and "ctx" in learner.state_dict()
    kept = CLIPTextEncoder(model_cfg=TINY, weights=path, save_weights=True).state_dict()
    assert torch.equal(kept["token_embedding.weight"], ref.state_dict()["token_embedding.weight"])


def test_image_encoder_frozen_through_parent_training(clip_file):
    path, _ = clip_file
    parent = nn.Module()
    parent.enc = CLIPDenseImageEncoder(model_cfg=TINY, weights=path)
    parent.head = nn.Conv2d(32, 4, 1)
    x = _images(2, 96, 128)
    before = copy.deepcopy(_tensors(parent.enc))
    eval_out = parent.enc(x).clone()
    parent.train()
    assert parent.head.training and not any(m.training for m in parent.enc.modules())
    assert not any(p.requires_grad for p in parent.enc.parameters())
    head_w = parent.head.weight.detach().clone()
    opt = torch.optim.SGD(parent.parameters(), lr=1.0, momentum=0.9, weight_decay=0.1)
    for _ in range(2):
        opt.zero_grad()
        out = parent.enc(x)
        parent.head(out).pow(2).mean().backward()
        opt.step()
    assert torch.equal(out, eval_out)  # BN used running statistics, as in eval
    assert not torch.equal(parent.head.weight, head_w)
    after = _tensors(parent.enc)
    assert len(before) > 10
    for k, v in before.items():  # weights and BN running_mean / running_var / num_batches_tracked
        assert torch.equal(after[k], v), k


# (d) text encoder --------------------------------------------------------------------------------

def test_tokenizer_offline_and_known_ids(clip_file, monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network access in a test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    clip_tokenizer.cache_clear()
    path, _ = clip_file
    enc = CLIPTextEncoder(model_cfg=TINY, weights=path)
    tokens = enc.tokenize(["point cloud of chair.", "Chair"])
    assert tokens.dtype == torch.int64 and tokens.shape == (2, 77)
    # OpenAI CLIP BPE ids: point 2301, cloud 3887, of 539, chair 4269, '.' 269 (lower-cased input)
    assert tokens[0, :8].tolist() == [SOS, 2301, 3887, 539, 4269, 269, EOT, 0]
    assert tokens[1, :4].tolist() == [SOS, 4269, EOT, 0]


def test_token_embeddings_reproduce_open_clip_encode_text(clip_file):
    path, ref = clip_file
    enc = CLIPTextEncoder(model_cfg=TINY, weights=path, save_weights=True)
    assert (enc.embed_dim, enc.width, enc.context_length) == (32, 32, 77)
    assert not enc.training and not any(p.requires_grad for p in enc.parameters())
    assert set(enc.state_dict()) == {k for k in ref.state_dict() if not k.startswith("visual.")
                                     and k not in ("logit_scale",)}
    tokens = enc.tokenize(["point cloud of chair.", "a photo of a big wooden table", "x"])
    with torch.no_grad():
        expected = ref.encode_text(tokens)
    x = enc.token_embedding(tokens).detach().requires_grad_(True)
    out = enc.encode_token_embeddings(x, tokens.argmax(-1))
    assert torch.allclose(out, expected, atol=1e-5)
    assert torch.allclose(enc.encode_texts(["point cloud of chair.", "a photo of a big wooden table", "x"]),
                          expected, atol=1e-5)
    out.sum().backward()
    assert x.grad is not None and x.grad[:, :3].abs().sum() > 0
    assert all(p.grad is None for p in enc.parameters())
    # Causal attention: the first L positions are enough.
    short = enc.encode_token_embeddings(x.detach()[:, :12], tokens.argmax(-1))
    assert torch.allclose(short, expected, atol=1e-5)


def test_sequence_first_text_transformer_gives_same_result(clip_file):
    from open_clip.transformer import Transformer

    path, ref = clip_file
    enc = CLIPTextEncoder(model_cfg=TINY, weights=path)
    tokens = enc.tokenize(["point cloud of sofa.", "desk"])
    seq_first = Transformer(32, 1, 2, batch_first=False, act_layer=type(enc.transformer.resblocks[0].mlp.gelu))
    seq_first.load_state_dict(enc.transformer.state_dict())
    enc.transformer, enc.batch_first = seq_first.eval(), False
    with torch.no_grad():
        assert torch.allclose(enc.encode_texts(["point cloud of sofa.", "desk"]), ref.encode_text(tokens), atol=1e-5)


# (e) prompt learner ------------------------------------------------------------------------------

NAMES = ["chair", "shower curtain", "otherfurniture"]


def test_prompt_learner_layout(clip_file):
    path, _ = clip_file
    pl = PromptLearner(dict(type="CLIPTextEncoder", model_cfg=TINY, weights=path), NAMES, n_ctx=5)
    tok = clip_tokenizer(77)
    assert pl.embed_dim == 32 and pl.class_names == tuple(NAMES) and pl.ctx.shape == (5, 32)
    for k, name in enumerate(NAMES):
        n = len(tok.encode(name))
        eot = 1 + 5 + n + 1
        assert int(pl.eot_index[k]) == eot == int(pl.tokens[k].argmax())
        row = pl.tokens[k].tolist()
        assert row[0] == SOS and row[6:6 + n] == tok.encode(name) and row[6 + n] == 269 and row[eot] == EOT
    emb = pl.prompt_embeddings()
    assert emb.shape == (3, 77, 32)
    assert torch.equal(emb[:, 1:6], pl.ctx.detach().expand(3, -1, -1))
    ref = pl.text_encoder.token_embedding(pl.tokens)
    assert torch.equal(emb[:, :1], ref[:, :1]) and torch.equal(emb[:, 6:], ref[:, 6:])
    assert set(pl.state_dict()) == {"ctx"}  # the frozen tower stays out of checkpoints (clip.frozen)
    with pytest.raises(ValueError, match="context"):
        PromptLearner(pl.text_encoder, NAMES, n_ctx=73)  # 1 + 73 + 2 ("shower curtain") + 2 > 77
    assert int(PromptLearner(pl.text_encoder, NAMES, n_ctx=72).eot_index.max()) == 76  # just fits


def test_prompt_learner_with_words_as_context_is_clip_text_embedding(clip_file):
    # ctx set to the embeddings of "a photo of a" must give CLIP's embedding of "a photo of a chair."
    path, ref = clip_file
    pl = PromptLearner(dict(model_cfg=TINY, weights=path), NAMES, n_ctx=4)
    words = pl.text_encoder.tokenize(["a photo of a"])[0, 1:5]
    with torch.no_grad():
        pl.ctx.copy_(pl.text_encoder.token_embedding(words))
        expected = ref.encode_text(pl.text_encoder.tokenize([f"a photo of a {n}." for n in NAMES]))
    assert torch.allclose(pl(), expected, atol=1e-5)


def test_prompt_learner_gradients_and_eval_cache(clip_file):
    path, _ = clip_file
    text = CLIPTextEncoder(model_cfg=TINY, weights=path)
    pl = PromptLearner(text, NAMES, n_ctx=4)
    assert pl.text_encoder is text  # shared instance, not a copy
    assert [n for n, p in pl.named_parameters() if p.requires_grad] == ["ctx"]
    pl.train()
    assert pl.training and not text.training
    out = pl()
    assert out.shape == (3, 32) and out.requires_grad
    out.pow(2).sum().backward()
    assert pl.ctx.grad is not None and pl.ctx.grad.abs().sum() > 0
    assert all(p.grad is None for p in text.parameters())
    assert pl() is not pl()  # training: recomputed every call

    pl.eval()
    a = pl()
    assert a is pl() and not a.requires_grad
    assert torch.allclose(a, out.detach(), atol=1e-6)
    pl.train()
    pl.eval()
    b = pl()
    assert b is not a and torch.equal(b, a)  # invalidated by train(), same values
    torch.optim.SGD(pl.parameters(), lr=10.0).step()  # ctx changes in place (grad still there)
    c = pl()
    assert c is not b and not torch.allclose(c, b)
    pl.load_state_dict(copy.deepcopy(pl.state_dict()) | {"ctx": torch.zeros(4, 32)})
    d = pl()
    assert d is not c and not torch.allclose(d, c)


# (f) fixed prompts -------------------------------------------------------------------------------

def test_fixed_prompts_equal_template_embeddings(clip_file):
    path, ref = clip_file
    text = CLIPTextEncoder(model_cfg=TINY, weights=path)
    fixed = MODELS.build(dict(type="FixedPrompts", text_encoder=dict(type="CLIPTextEncoder", model_cfg=TINY,
                                                                      weights=path), class_names=NAMES))
    texts = [f"point cloud of {n}." for n in NAMES]
    assert torch.allclose(fixed(), text.encode_texts(texts), atol=1e-6)
    with torch.no_grad():
        assert torch.allclose(fixed(), ref.encode_text(text.tokenize(texts)), atol=1e-5)
    assert fixed.embed_dim == 32 and fixed.class_names == tuple(NAMES)
    assert list(fixed.parameters()) == [] and fixed.state_dict() == {}
    other = FixedPrompts(text, ["chair"], template="a photo of a {}.")
    assert torch.allclose(other(), text.encode_texts(["a photo of a chair."]), atol=1e-6)
