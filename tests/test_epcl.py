"""EPCL: CLIP loading from a local file, batch/sequence layout, freezing, task tokens, parameter summary."""
import pytest
import torch
from torch import nn

from voxclip.models.clip import ClipTransformerEncoder, load_open_clip_visual, summarize_parameters
from voxclip.models.detectors.epcl import EPCL, TaskTokenEncoder

TINY = dict(embed_dim=16, vision_cfg=dict(image_size=32, patch_size=16, width=32, layers=2, head_width=16),
            text_cfg=dict(context_length=8, vocab_size=64, width=16, heads=2, layers=1))


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory):
    import open_clip

    torch.manual_seed(0)
    model = open_clip.CLIP(**TINY, quick_gelu=True)
    path = tmp_path_factory.mktemp("clip") / "tiny_clip.bin"
    torch.save(model.state_dict(), path)
    return path, model


def test_loads_saved_weights_through_real_loader(clip_file):
    path, ref = clip_file
    visual = load_open_clip_visual(str(path), model_cfg=TINY)
    ref_sd = ref.visual.state_dict()
    for k, v in visual.state_dict().items():
        assert torch.equal(v, ref_sd[k]), k
    enc = ClipTransformerEncoder(weights=str(path), model_cfg=TINY)
    assert torch.equal(enc.transformer.resblocks[1].mlp.c_fc.weight, ref.visual.transformer.resblocks[1].mlp.c_fc.weight)


def test_missing_weights_message_names_file_and_download(tmp_path):
    missing = tmp_path / "nope" / "vit_b16.bin"
    with pytest.raises(FileNotFoundError) as err:
        ClipTransformerEncoder(weights=str(missing))
    msg = str(err.value)
    assert str(missing) in msg and "ViT-B-16" in msg and "download" in msg
    with pytest.raises(FileNotFoundError, match="random_init"):
        ClipTransformerEncoder(weights=None)


def test_wrong_architecture_names_file(clip_file, tmp_path):
    path, _ = clip_file
    other = dict(TINY, vision_cfg=dict(TINY["vision_cfg"], width=64))
    with pytest.raises(RuntimeError, match="tiny_clip.bin"):
        load_open_clip_visual(str(path), model_cfg=other)


def test_layout_matches_open_clip_and_keeps_samples_apart(clip_file):
    path, ref = clip_file
    enc = ClipTransformerEncoder(weights=str(path), model_cfg=TINY)
    x = torch.randn(3, 7, 32)
    out = enc(x)
    # open_clip 3.x: Transformer.forward takes (B, L, D) whatever batch_first is; reference path.
    ref.eval()
    expected = ref.visual.transformer(ref.visual.ln_pre(x))
    assert torch.allclose(out, expected, atol=1e-5)
    # Batch elements must not attend to each other (a (L, B, D)/(B, L, D) mix-up would do that).
    x2 = x.clone()
    x2[1:] = torch.randn(2, 7, 32)
    assert torch.allclose(enc(x2)[0], out[0], atol=1e-5)
    # Sequence positions do interact (attention over tokens, not over the batch).
    x3 = x.clone()
    x3[0, 3] += torch.randn(32)  # (a constant shift would be removed by ln_pre)
    assert not torch.allclose(enc(x3)[0, 0], out[0, 0], atol=1e-4)


def test_sequence_first_transformer_gives_same_result(clip_file):
    # An open_clip Transformer built with batch_first=False (older layout) must give the same output.
    from open_clip.transformer import Transformer

    path, _ = clip_file
    enc = ClipTransformerEncoder(weights=str(path), model_cfg=TINY)
    x = torch.randn(2, 5, 32)
    out = enc(x)
    seq_first = Transformer(32, 2, 2, batch_first=False, act_layer=type(enc.transformer.resblocks[0].mlp.gelu))
    seq_first.load_state_dict(enc.transformer.state_dict())
    enc.transformer, enc.batch_first = seq_first.eval(), False
    assert torch.allclose(enc(x), out, atol=1e-5)


def _epcl(path, **kw):
    cfg = dict(
        tokenizer=dict(type="PointTokenizer", num_tokens=32, patch_size=8, embed_dim=32, pointnet_hidden=(16, 32)),
        clip=dict(weights=str(path), model_cfg=TINY),
        head=dict(type="DETR3DHead", num_classes=3, in_channels=32, dim=32, num_queries=8, num_decoder_layers=2,
                  num_heads=2, ffn_dim=32, mlp_hidden=32),
        num_task_tokens=4, task_token_hidden=24)
    cfg.update(kw)
    return EPCL(**cfg)


def _batch():
    g = torch.Generator().manual_seed(0)
    pts = torch.rand(800, 3, generator=g) * 3
    inputs = dict(points=pts, point_batch=torch.cat([torch.zeros(400), torch.ones(400)]).long())
    samples = [dict(gt_boxes=torch.tensor([[1.0, 1, 1, 0.5, 0.6, 0.7, 0]]), gt_labels=torch.tensor([1])),
               dict(gt_boxes=torch.tensor([[2.0, 1, 1, 0.5, 0.5, 0.5, 0], [1, 2, 1, 1, 1, 1, 0]]),
                    gt_labels=torch.tensor([0, 2]))]
    return inputs, samples


def _train(model, steps=3):
    inputs, samples = _batch()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.04)  # wd on every param given
    model.train()
    for _ in range(steps):
        loss = sum(model(inputs, samples, mode="loss").values())
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_frozen_clip_is_bit_identical_after_steps(clip_file):
    path, _ = clip_file
    torch.manual_seed(0)
    model = _epcl(path)
    clip0 = {k: v.clone() for k, v in model.clip.state_dict().items()}
    tok0 = {k: v.clone() for k, v in model.tokenizer.state_dict().items()}
    task0 = model.task_tokens().detach().clone()
    _train(model)
    assert not model.clip.training  # stays in eval mode under model.train()
    for k, v in model.clip.state_dict().items():
        assert torch.equal(v, clip0[k]), k
    assert any(not torch.equal(v, tok0[k]) for k, v in model.tokenizer.state_dict().items() if v.is_floating_point())
    assert not torch.equal(model.task_tokens().detach(), task0)


def test_unfrozen_ablation_updates_clip(clip_file):
    path, _ = clip_file
    torch.manual_seed(0)
    model = _epcl(path, freeze_clip=False)
    w0 = model.clip.transformer.resblocks[0].attn.in_proj_weight.detach().clone()
    _train(model, steps=1)
    assert model.clip.training
    assert not torch.equal(model.clip.transformer.resblocks[0].attn.in_proj_weight, w0)


def test_no_task_token_ablation_and_sequence_length(clip_file):
    path, _ = clip_file
    model = _epcl(path, num_task_tokens=0).eval()
    assert model.task_tokens is None
    inputs, samples = _batch()
    tok = model.tokenize(inputs, 2)
    assert model.encode(tok).shape == (2, 32, 32)
    with_tt = _epcl(path).eval()
    seen = {}
    hook = with_tt.clip.register_forward_hook(lambda m, i, o: seen.update(len=o.shape[1]))
    assert with_tt.encode(with_tt.tokenize(inputs, 2)).shape == (2, 32, 32)
    hook.remove()
    assert seen["len"] == 1 + 32 + 4  # class token and task tokens were added, then removed


def _tokens(model):
    inputs, _ = _batch()
    tok = model.tokenize(inputs, 2)
    return tok, tok.tokens + tok.pos


def test_sequence_is_class_token_points_then_task_tokens_after_ln_pre(clip_file):
    # Eq. 5 + the released classification code: [cls + pos0 ; tokens + pos] -> dropout -> ln_pre ->
    # append task tokens -> blocks; the head gets the point tokens. Reference: open_clip's own modules.
    path, ref = clip_file
    torch.manual_seed(0)
    model = _epcl(path).eval()
    assert model.task_tokens.encoder[1].__class__ is nn.GELU
    tok, x = _tokens(model)
    ref.eval()
    v = ref.visual
    with torch.no_grad():
        cls = (v.class_embedding + v.positional_embedding[0]).expand(2, 1, -1)
        task = model.task_tokens()[None].expand(2, -1, -1)
        want = v.transformer(torch.cat([v.ln_pre(torch.cat([cls, x], 1)), task], 1))[:, 1:33]
        assert torch.allclose(model.encode(tok), want, atol=1e-5)
        # earlier layout, as a switch: task tokens first, through ln_pre, no class token
        old = _epcl(path, class_token=False, task_token_placement="before_ln_pre", task_token_act="tanh").eval()
        old.load_state_dict(model.state_dict(), strict=False)
        task = old.task_tokens()[None].expand(2, -1, -1)
        want_old = v.transformer(v.ln_pre(torch.cat([task, x], 1)))[:, 4:]
        assert torch.allclose(old.encode(tok), want_old, atol=1e-5)
        assert not torch.allclose(want_old, want, atol=1e-3)
    assert "clip.cls_token" not in model.state_dict()  # rebuilt from the CLIP file


def test_task_tokens_enumerated_init_through_encoder():
    enc = TaskTokenEncoder(5, 8, hidden=6)
    t = enc()
    ref = enc.encoder(enc.embedding.weight[torch.arange(5)])
    assert t.shape == (5, 8) and torch.equal(t, ref)
    assert len({tuple(r.tolist()) for r in t}) == 5


def test_summary_counts_by_hand(clip_file):
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    net[0].requires_grad_(False)
    s = summarize_parameters(net)
    assert (s["trainable"], s["frozen"], s["total"]) == (4 * 2 + 2, 3 * 4 + 4, 26)
    path, ref = clip_file
    model = _epcl(path)
    s = summarize_parameters(model)
    d, h, t = 32, 24, 4
    assert s["modules"]["task_tokens"]["trainable"] == t * d + d * h + h + h * d + d
    # Frozen = the CLIP image tower's ln_pre + transformer blocks, counted from the reference model.
    ref_frozen = sum(p.numel() for p in ref.visual.ln_pre.parameters()) + \
        sum(p.numel() for p in ref.visual.transformer.parameters())
    assert s["frozen"] == ref_frozen and s["modules"]["clip"]["trainable"] == 0
    assert s["trainable"] == sum(p.numel() for n, p in model.named_parameters() if not n.startswith("clip."))


def test_paper_configs_build_and_name_missing_weights():
    from mmengine.config import Config

    from voxclip.registry import MODELS

    cfg = Config.fromfile("configs/epcl/epcl_3detr_scannet.py")
    assert cfg.optim_wrapper.optimizer.type == "AdamW"
    assert cfg.optim_wrapper.optimizer.lr == 3e-4 and cfg.optim_wrapper.optimizer.weight_decay == 0.04
    assert cfg.model.clip_dropout == 0.3 and cfg.model.freeze_clip and cfg.model.head.num_queries == 256
    assert cfg.model.clip.model_name == "ViT-B-32" and cfg.train_dataloader.batch_size == 32
    with pytest.raises(FileNotFoundError, match="open_clip_vit_b32_openai.bin"):
        MODELS.build(cfg.model)
    c3 = Config.fromfile("configs/3detr/3detr_scannet.py")
    assert c3.model.head.num_decoder_layers == 8 and c3.train_cfg.max_epochs == 1080
    m = MODELS.build(c3.model)
    assert len(m.head.decoder.layers) == 8 and m.tokenizer.num_tokens == 2048
