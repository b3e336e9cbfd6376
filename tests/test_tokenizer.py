"""Point tokenizer and Point-MAE encoder: patches against brute-force kNN, invariances, hand counts."""
import math

import pytest
import torch

from voxclip.models.tokenizers import PointTokenizer, group_patches
from voxclip.models.transformers import PointTransformerEncoder
from voxclip.models.transformers.blocks import Attention


def _cloud(n=300, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, generator=g) * torch.tensor([3.0, 2.0, 1.0])


def test_patches_are_brute_force_nearest_neighbours():
    pts = _cloud()
    centres, idx = group_patches(pts, 16, 8)
    assert centres.shape == (16, 3) and idx.shape == (16, 8)
    for c, row in zip(centres, idx):
        d = ((pts - c) ** 2).sum(-1)
        expected = torch.sort(d).values[:8]
        assert torch.allclose(torch.sort(d[row]).values, expected, atol=1e-6)
        assert d[row].min() == 0  # the centre itself is a cloud point (FPS picks input points)


def test_short_cloud_repeats_neighbours():
    pts = _cloud(5)
    _, idx = group_patches(pts, 3, 8)
    assert idx.shape == (3, 8) and set(idx[0].tolist()) == set(range(5))


@pytest.mark.parametrize("m,k,d", [(32, 8, 48), (7, 16, 24)])
def test_shapes_configurable(m, k, d):
    tok = PointTokenizer(num_tokens=m, patch_size=k, embed_dim=d, pointnet_hidden=(16, 32)).eval()
    pts = torch.stack([_cloud(200, 1), _cloud(200, 2)])
    out = tok(pts)
    assert out.tokens.shape == (2, m, d) and out.pos.shape == (2, m, d)
    assert out.centers.shape == (2, m, 3) and out.patch_idx.shape == (2, m, k)


def test_tokens_translation_invariant_and_pos_not():
    # Patches are normalised to their centres: shifting the cloud changes only the positions.
    tok = PointTokenizer(num_tokens=16, patch_size=8, embed_dim=32, pointnet_hidden=(16, 32)).eval()
    pts = _cloud()[None]
    a, b = tok(pts), tok(pts + torch.tensor([5.0, -2.0, 1.0]))
    assert torch.allclose(a.tokens, b.tokens, atol=1e-5)
    assert not torch.allclose(a.pos, b.pos, atol=1e-3)


def test_flat_ragged_batch_equals_separate_clouds():
    tok = PointTokenizer(num_tokens=16, patch_size=8, embed_dim=32, in_feat_channels=2, pointnet_hidden=(16, 32)).eval()
    p0, p1 = _cloud(150, 3), _cloud(220, 4)
    f0, f1 = torch.randn(150, 2), torch.randn(220, 2)
    # Interleave the two clouds in the flat list: the split must follow point_batch, not order.
    pts, feats = torch.cat([p0, p1]), torch.cat([f0, f1])
    batch = torch.cat([torch.zeros(150), torch.ones(220)]).long()
    perm = torch.randperm(370, generator=torch.Generator().manual_seed(0))
    inv_sorted_0 = perm[batch[perm] == 0]
    out = tok(pts[perm], batch[perm], feats[perm])
    single0 = tok(pts[inv_sorted_0][None], feats=feats[inv_sorted_0][None])
    assert torch.allclose(out.tokens[0], single0.tokens[0], atol=1e-5)
    assert out.tokens.shape == (2, 16, 32)


def test_missing_feats_is_an_error():
    tok = PointTokenizer(num_tokens=4, patch_size=4, embed_dim=8, in_feat_channels=3, pointnet_hidden=(8, 8))
    with pytest.raises(ValueError, match="in_feat_channels"):
        tok(_cloud(20)[None])


def test_attention_matches_explicit_softmax():
    torch.manual_seed(0)
    att = Attention(8, 2, qkv_bias=True).eval()
    x = torch.randn(2, 5, 8)
    q, k, v = att.qkv(x).chunk(3, dim=-1)
    outs = []
    for h in range(2):
        s = slice(4 * h, 4 * h + 4)
        w = torch.softmax(q[..., s] @ k[..., s].transpose(1, 2) / math.sqrt(4), dim=-1)
        outs.append(w @ v[..., s])
    ref = att.proj(torch.cat(outs, dim=-1))
    assert torch.allclose(att(x), ref, atol=1e-5)


def test_encoder_default_size_matches_hand_count():
    enc = PointTransformerEncoder()
    d = 384
    per_block = 2 * d + 3 * d * d + (d * d + d) + 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d)
    assert len(enc.blocks) == 12 and enc.blocks[0].attn.num_heads == 6
    assert sum(p.numel() for p in enc.parameters()) == 12 * per_block + 2 * d


def test_encoder_padding_mask_isolates_padded_tokens():
    torch.manual_seed(0)
    enc = PointTransformerEncoder(embed_dim=16, depth=2, num_heads=2, drop_path_rate=0.0).eval()
    x, pos = torch.randn(1, 6, 16), torch.randn(1, 6, 16)
    mask = torch.tensor([[False, False, False, False, True, True]])
    a = enc(x, pos, mask)
    x2 = x.clone()
    x2[:, 4:] = 100.0  # padded tokens change
    b = enc(x2, pos, mask)
    assert torch.allclose(a[:, :4], b[:, :4], atol=1e-5)
    assert enc(x, pos).shape == (1, 6, 16)
