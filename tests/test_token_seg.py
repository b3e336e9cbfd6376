"""Token segmentation head and segmentor (concept alignment ScanNet, EPCL S3DIS): inverse-distance
propagation vs brute force, hierarchical tokenizer levels, pretrained parts, full-scene prediction,
block crop."""
import numpy as np
import pytest
import torch

import voxclip.datasets  # noqa: F401
import voxclip.models  # noqa: F401
from voxclip.datasets.transforms import RandomBlockCrop
from voxclip.models.heads.token_seg import TokenSegHead
from voxclip.registry import MODELS


def test_head_propagation_matches_brute_force():
    torch.manual_seed(0)
    head = TokenSegHead(in_channels=3, skip_channels=[2], num_classes=4, fp_channels=[()], head_channels=(),
                        dropout=0.0).eval()
    centres = torch.rand(2, 6, 3)
    feats = torch.randn(2, 6, 3)
    points = torch.rand(7, 3)
    batch = torch.tensor([0, 0, 0, 1, 1, 1, 1])
    skip = torch.randn(7, 2)
    got = head([(centres, feats)], points, skip, batch).detach().numpy()
    w = head.classifier.weight[:, :, 0].detach().double().numpy()
    bias = head.classifier.bias.detach().double().numpy()
    for i in range(7):
        b = int(batch[i])
        d = np.linalg.norm(centres[b].double().numpy() - points[i].double().numpy(), axis=1)
        near = np.argsort(d)[:3]
        wt = (1 / (d[near] + 1e-8)) / (1 / (d[near] + 1e-8)).sum()
        up = (wt[:, None] * feats[b].double().numpy()[near]).sum(0)
        x = np.concatenate([up, skip[i].double().numpy()])
        np.testing.assert_allclose(got[i], w @ x + bias, rtol=1e-4, atol=1e-5)


def _max_min_dist(a, b):
    return (a[:, None] - b[None]).norm(dim=-1).min(1).values.max()


def test_hierarchical_tokenizer_levels():
    tok = MODELS.build(dict(type="HierarchicalTokenizer", num_tokens=(64, 32, 16), patch_size=8, channels=(8, 12, 16),
                            in_feat_channels=2, pointnet_hidden=(8, 8), fps_backend="torch"))
    pts = torch.rand(2 * 100, 3)
    out = tok(pts, torch.arange(2).repeat_interleave(100), torch.randn(200, 2), 2)
    assert out.tokens.shape == (2, 16, 16) and out.pos.shape == (2, 16, 16)
    assert [tuple(c.shape) for c, _ in out.levels] == [(2, 64, 3), (2, 32, 3)]
    assert [f.shape[-1] for _, f in out.levels] == [8, 12]
    # every stage's centres are points of the level below (FPS picks, no new coordinates)
    lvl1 = out.levels[0][0][0]
    assert _max_min_dist(out.levels[1][0][0], lvl1) < 1e-6
    assert _max_min_dist(out.centers[0], out.levels[1][0][0]) < 1e-6
    assert _max_min_dist(lvl1, pts[:100]) < 1e-6


def _segmentor(**kw):
    cfg = dict(type="TokenSegmentor", num_classes=5,
               tokenizer=dict(type="PointTokenizer", num_tokens=16, patch_size=8, embed_dim=16, pointnet_hidden=(8, 16)),
               encoder=dict(type="PointTransformerEncoder", embed_dim=16, depth=2, num_heads=2, drop_path_rate=0.0),
               head=dict(type="TokenSegHead", in_channels=16, skip_channels=[3 + 2], head_channels=(8,), dropout=0.0),
               token_points=100)
    cfg.update(kw)
    return MODELS.build(cfg)


def test_segmentor_loss_predict_and_pretrained_parts(tmp_path):
    torch.manual_seed(0)
    src = _segmentor()
    for p in src.parameters():
        p.data.normal_()
    state = {k: v for k, v in src.state_dict().items() if k.split(".")[0] in ("tokenizer", "encoder")}
    state["concept.queries"] = torch.zeros(3, 16)  # the pretrainer's other parts are not taken
    torch.save({"state_dict": state}, tmp_path / "pre.pth")
    model = _segmentor(pretrained=dict(checkpoint=str(tmp_path / "pre.pth")))
    model.init_weights()
    for k, v in model.state_dict().items():
        if k.split(".")[0] in ("tokenizer", "encoder"):
            assert torch.equal(v, state[k]), k
    n = (150, 80)  # sample 0 has more points than token_points: every one still gets a label
    inputs = dict(points=torch.rand(sum(n), 3), point_batch=torch.arange(2).repeat_interleave(torch.tensor(n)),
                  point_feats=torch.randn(sum(n), 2))
    samples = [dict(semantic=torch.randint(-1, 5, (k,))) for k in n]
    losses = model(inputs, samples, mode="loss")
    assert torch.isfinite(losses["loss_seg"])
    losses["loss_seg"].backward()
    assert model.encoder.blocks[0].attn.qkv.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        preds = model(inputs, samples, mode="predict")
        again = model(inputs, samples, mode="predict")
    assert [len(p["pred_semantic"]) for p in preds] == list(n)
    assert all(torch.equal(a["pred_semantic"], b["pred_semantic"]) for a, b in zip(preds, again))  # fixed subset
    with pytest.raises(ValueError, match="label 7 >= num_classes 5"):
        model.train()(inputs, [dict(semantic=torch.full((k,), 7)) for k in n], mode="loss")


def test_block_crop_by_hand():
    pts = np.array([[0, 0, 0], [0.4, 0.4, 3], [0.6, 0, 0], [2, 2, 0]], np.float32)
    res = RandomBlockCrop(block_size=1.0, min_points=1, rng=np.random.default_rng(0))(
        dict(points=pts.copy(), semantic=np.arange(4)))
    centre = None
    for i in range(4):  # whichever point was drawn, the block is the points within 0.5 m in x and y
        inside = np.nonzero((np.abs(pts[:, :2] - pts[i, :2]) <= 0.5).all(1))[0]
        if np.array_equal(res["semantic"], inside):
            centre = i
    assert centre is not None and np.array_equal(res["points"], pts[res["semantic"]])
