"""Channels-last shared MLP (the kernel-1 Conv1d stacks of VoteNet) with BatchNorm over all rows."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


class SharedMLP(nn.Module):
    """Linear -> BN -> ReLU per hidden layer on (..., C) inputs; optional plain linear output layer.

    Args:
        in_channels: C_in. hidden: widths of the BN+ReLU layers. out_channels: final linear width
        (None: the last hidden layer is the output).
    """

    def __init__(self, in_channels: int, hidden: Sequence[int], out_channels: int | None = None):
        super().__init__()
        layers, c = [], in_channels
        for h in hidden:
            layers += [nn.Linear(c, h, bias=False), nn.BatchNorm1d(h), nn.ReLU(inplace=True)]
            c = h
        self.body = nn.ModuleList(layers)
        self.out = nn.Linear(c, out_channels) if out_channels is not None else None
        self.out_channels = out_channels if out_channels is not None else c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape[:-1]
        x = x.reshape(-1, x.shape[-1])
        for layer in self.body:
            x = layer(x)
        if self.out is not None:
            x = self.out(x)
        return x.reshape(*shape, x.shape[-1])
