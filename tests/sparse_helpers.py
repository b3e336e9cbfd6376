"""Helpers shared by the sparse-backend tests."""
import torch

import voxclip.sparse as sp


def random_coords(n, size, batch=2, seed=0):
    """Up to n distinct (batch, x, y, z) rows with x, y, z in [-size, size), shuffled."""
    g = torch.Generator().manual_seed(seed)
    c = torch.cat([torch.randint(0, batch, (n, 1), generator=g), torch.randint(-size, size, (n, 3), generator=g)], 1)
    c = torch.unique(c, dim=0)
    return c[torch.randperm(len(c), generator=g)].int()


def sort_rows(t: sp.SparseTensor):
    """(coords, feats) in (batch, x, y, z) order, to compare backends that order rows differently."""
    c = t.coords.long()
    key = ((c[:, 0] * 4096 + c[:, 1] + 2048) * 4096 + c[:, 2] + 2048) * 4096 + c[:, 3] + 2048
    order = torch.argsort(key)
    return t.coords[order], t.feats[order]


def check_weight_layout_by_one_hot_kernels(backend: str) -> None:
    """A voxel with all 26 neighbours; weight slice k one-hot => output = the neighbour at offset k."""
    offsets = sp.kernel_offsets(3)
    coords = torch.tensor([[0, 10, 10, 10]] + [[0, 10 + a, 10 + b, 10 + c] for a, b, c in offsets if (a, b, c) != (0, 0, 0)],
                          dtype=torch.int32)
    feats = torch.arange(1, len(coords) + 1, dtype=torch.float32)[:, None]
    row = {tuple(r[1:]): i for i, r in enumerate(coords.tolist())}
    conv = sp.SubMConv3d(1, 1)
    for k, (a, b, c) in enumerate(offsets):
        conv.weight.data.zero_()
        conv.weight.data[k] = 1.0
        with torch.no_grad(), sp.use_backend(backend):
            out = conv(sp.SparseTensor(feats, coords)).feats[0, 0].item()
        assert out == feats[row[(10 + a, 10 + b, 10 + c)], 0].item(), (backend, k, (a, b, c))
