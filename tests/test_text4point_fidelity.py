"""Text4Point as in the paper: f2D = the attention pool's MSA outputs at every position (Eq. 1), and
encoder-level pairs with one pixel target per coarse voxel and no loss floor (Eq. 14)."""
import math

import pytest
import torch
import torch.nn.functional as F

from voxclip.models.clip import TINY_RN_CLIP_CFG, CLIPDenseImageEncoder
from voxclip.models.text4point.losses import pixel_voxel_contrastive_loss
from voxclip.models.text4point.pretrain import majority_cell, unique_pairs


def _hand_msa(enc, feat):
    """Eq. 1 by hand: tokens [mean; x] + pos, per-head softmax(q k^T / sqrt(d)) v, c_proj."""
    pool = enc.visual.attnpool
    b, c, h, w = feat.shape
    x = feat.flatten(2).transpose(1, 2)  # (B, hw, C)
    t = torch.cat([x.mean(1, keepdim=True), x], 1) + enc.positional_embedding(h, w)[None]
    nh = pool.num_heads
    q, k, v = (lin(t).view(b, -1, nh, c // nh).transpose(1, 2) for lin in (pool.q_proj, pool.k_proj, pool.v_proj))
    att = (q @ k.transpose(-1, -2) / math.sqrt(c // nh)).softmax(-1)
    o = (att @ v).transpose(1, 2).reshape(b, -1, c)
    return pool.c_proj(o)  # (B, 1 + hw, D)


@pytest.mark.parametrize("size", [(64, 64), (96, 128)])
def test_f2d_is_msa_output_at_every_position(tiny_clip, size):
    enc = CLIPDenseImageEncoder(model_cfg=TINY_RN_CLIP_CFG, weights=tiny_clip)
    assert enc.dense_mode == "msa"
    x = torch.randn(2, 3, *size, generator=torch.Generator().manual_seed(0))
    out = enc(x)
    with torch.no_grad():
        feat = enc.forward_features(x)
        ref = _hand_msa(enc, feat)
        h, w = feat.shape[-2:]
        assert torch.allclose(out, ref[:, 1:].transpose(1, 2).reshape(2, -1, h, w), atol=1e-5)
        assert torch.allclose(enc.global_pool(feat), ref[:, 0], atol=1e-5)  # h_g: CLIP's embedding
    # the value-only switch computes something else
    val = CLIPDenseImageEncoder(model_cfg=TINY_RN_CLIP_CFG, weights=tiny_clip, dense_mode="value")(x)
    assert not torch.allclose(val, out, atol=1e-3)
    with pytest.raises(ValueError, match="dense_mode"):
        CLIPDenseImageEncoder(model_cfg=TINY_RN_CLIP_CFG, weights=tiny_clip, dense_mode="bogus")


def test_majority_cell_one_target_per_voxel():
    vox = torch.tensor([4, 4, 4, 1, 1, 7, 7, 7, 7])
    cell = torch.tensor([9, 2, 9, 5, 3, 6, 8, 8, 6])
    v, c = majority_cell(vox, cell)
    assert v.tolist() == [1, 4, 7]
    assert c.tolist() == [3, 9, 6]  # 1: tie 5/3 -> 3; 4: 9 twice; 7: tie 6/8 -> 6
    assert len(unique_pairs(vox, cell)[0]) == 6  # the earlier lifting kept every distinct pair


def test_loss_floor_gone():
    # 6 coarse voxels seen in 3 cells (2 per cell): the earlier pairs S duplicate each cell's pixel row.
    cells = torch.tensor([0, 0, 1, 1, 2, 2])
    cell_feat = torch.eye(3)
    pix = cell_feat[cells]
    vox = cell_feat[cells].clone()  # perfect alignment: each voxel equals its pixel's feature
    tau = 0.01
    old = pixel_voxel_contrastive_loss(pix, vox, tau)
    # identical logits for the two voxels of a cell: each direction is at least log 2 whatever the features
    assert float(old) >= 2 * math.log(2) - 1e-4
    mask = cells[:, None] == cells[None, :]
    new = pixel_voxel_contrastive_loss(pix, vox, tau, positive_mask=mask)
    assert float(new) < 1e-6
    # hand value at tau = 1: per row, positives 2 x e^1, negatives 4 x e^0
    hand = 2 * -math.log(2 * math.e / (2 * math.e + 4))
    assert float(pixel_voxel_contrastive_loss(pix, vox, 1.0, positive_mask=mask)) == pytest.approx(hand, rel=1e-5)
    # identity mask = Eq. 14 exactly
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    assert torch.allclose(pixel_voxel_contrastive_loss(a, b, 0.4, torch.eye(5, dtype=torch.bool)),
                          pixel_voxel_contrastive_loss(a, b, 0.4))
    # gradient of the masked loss by finite differences
    a64, b64 = a.double().requires_grad_(), b.double()
    m = torch.tensor([0, 0, 1, 2, 2])
    m = m[:, None] == m[None, :]
    assert torch.autograd.gradcheck(lambda x: pixel_voxel_contrastive_loss(x, b64, 0.4, m), (a64,))
    with pytest.raises(ValueError, match="diagonal"):
        pixel_voxel_contrastive_loss(a, b, 0.4, torch.zeros(5, 5, dtype=torch.bool))


def test_pretrainer_encoder_pairs_unique_per_voxel(tiny_clip, pairs_root):
    from test_text4point_pretrain import tiny_model

    from voxclip import sparse as sp
    from voxclip.datasets import RGBDPairs
    from voxclip.datasets.rgbd_pairs import rgbd_pairs_collate
    from voxclip.models.text4point.pretrain import parent_rows, pixel_to_cell

    ds = RGBDPairs(pairs_root, split=None, voxel_size=0.05)
    inputs = rgbd_pairs_collate([ds[0], ds[1]])["inputs"]
    models = {mode: tiny_model(tiny_clip, max_pairs=None, enc_pairs=mode) for mode in ("voxel", "lifted")}
    x = sp.SparseTensor(inputs["feats"], inputs["coords"])
    bottleneck, _ = models["voxel"].backbone.encode(x)
    dec_v, dec_p, enc_v, enc_c = models["voxel"].correspondences(inputs, bottleneck, (7, 10))
    assert len(enc_v) > 0 and len(torch.unique(enc_v)) == len(enc_v)  # one target per coarse voxel
    # independent: majority vote of each coarse voxel's fine pixels, by dictionaries
    par = parent_rows(inputs["coords"], bottleneck)[dec_v]
    hh, ww = inputs["images"].shape[-2:]
    frame = torch.div(dec_p, hh * ww, rounding_mode="floor")
    cells = pixel_to_cell(dec_p % (hh * ww), ww, (7, 10), 32) + frame * 70
    votes = {}
    for v, c in zip(par.tolist(), cells.tolist()):
        votes.setdefault(v, {}).setdefault(c, 0)
        votes[v][c] += 1
    want = {v: min(cs, key=lambda c: (-cs[c], c)) for v, cs in votes.items()}
    assert dict(zip(enc_v.tolist(), enc_c.tolist())) == want
    lifted = models["lifted"].correspondences(inputs, bottleneck, (7, 10))[2]
    assert len(lifted) > len(enc_v)  # the earlier lifting duplicated voxels
