"""Point-MAE: Chamfer-L2 against brute force, random masking, the reconstruction loss falls on demo
frames, and its student loads into 3DETR through ``pretrained=``."""
import itertools

import pytest
import torch

import voxclip.models  # noqa: F401
from voxclip.datasets import ScenePointPairs, point_pairs_collate
from voxclip.models.pointmae import chamfer_l2, patch_points, random_token_mask, take_tokens
from voxclip.registry import MODELS

TOK = dict(type="PointTokenizer", num_tokens=32, patch_size=16, embed_dim=32, pointnet_hidden=(16, 32))
ENC = dict(type="PointTransformerEncoder", embed_dim=32, depth=2, num_heads=2, mlp_ratio=2.0, drop_path_rate=0.0)


def test_chamfer_l2_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    pred, target = torch.rand(3, 5, 3, generator=g), torch.rand(3, 7, 3, generator=g)
    total = 0.0
    for p in range(3):
        fwd = [min(sum((pred[p, i, c].item() - target[p, j, c].item()) ** 2 for c in range(3)) for j in range(7))
               for i in range(5)]
        bwd = [min(sum((pred[p, i, c].item() - target[p, j, c].item()) ** 2 for c in range(3)) for i in range(5))
               for j in range(7)]
        total += sum(fwd) / (3 * 5) + sum(bwd) / (3 * 7)
    assert chamfer_l2(pred, target).item() == pytest.approx(total, rel=1e-5)
    assert chamfer_l2(target[:, :5], target[:, :5]).item() == 0.0


def test_random_mask_counts_and_gathers():
    mask = random_token_mask(4, 10, 0.6, generator=torch.Generator().manual_seed(1))
    assert mask.shape == (4, 10) and mask.sum(1).tolist() == [6] * 4
    assert len({tuple(r.tolist()) for r in mask}) > 1  # not the same tokens in every cloud
    x = torch.arange(40.0).view(4, 10, 1)
    vis = take_tokens(x, mask, False)
    for b in range(4):  # token order kept
        assert vis[b, :, 0].tolist() == [float(10 * b + j) for j in range(10) if not mask[b, j]]


def test_patch_points_relative_to_centres():
    pts = torch.rand(2, 50, 3)
    c = pts[:, :4]
    idx = torch.randint(0, 50, (2, 4, 6))
    got = patch_points(pts, c, idx)
    for b, m, k in itertools.product(range(2), range(4), range(6)):
        assert torch.equal(got[b, m, k], pts[b, idx[b, m, k]] - c[b, m])


def _batch(root, n=4):
    ds = ScenePointPairs(str(root), split="train", voxel_size=0.05, num_points=512)
    return point_pairs_collate([ds[i] for i in range(n)])["inputs"]


def test_pointmae_loss_falls_and_loads_into_3detr(mmpd_root, tmp_path):
    torch.manual_seed(0)
    inputs = _batch(mmpd_root)
    model = MODELS.build(dict(type="PointMAEPretrainer", tokenizer=TOK, encoder=ENC, decoder=dict(ENC, depth=1)))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss = model(inputs, mode="loss")["loss_rec"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) < 0.7 * sum(losses[:5]), losses
    ckpt = tmp_path / "mae.pth"
    torch.save({"state_dict": model.state_dict()}, ckpt)
    det = MODELS.build(dict(type="ThreeDETR", tokenizer=dict(TOK, num_tokens=64), encoder=ENC, encoder_pos=True,
                            head=dict(type="DETR3DHead", num_classes=18, in_channels=32, dim=32, num_queries=8,
                                      num_decoder_layers=1, num_heads=2, ffn_dim=32, num_angle_bins=1, mlp_hidden=32),
                            pretrained=dict(checkpoint=str(ckpt))))
    det.init_weights()
    own = det.state_dict()
    for k, v in model.state_dict().items():
        if k.startswith(("tokenizer.", "encoder.")):
            assert torch.equal(own[k], v), k
