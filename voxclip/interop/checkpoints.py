"""SR-UNet weights from other frameworks -> voxclip's SRUNet state dict (canonical kernels).

MinkowskiEngine Res16UNet{14A..34C} (SpatioTemporalSegmentation, PointContrast, CSC): keys
`conv0p1s1.kernel`, `bn0.bn.*`, `conv{1..4}p{1,2,4,8}s2`, `bn{1..4}`, `block{1..8}.{j}.conv1.kernel`,
`.norm1.bn.*`, `.downsample.0.kernel`, `.downsample.1.bn.*`, `convtr{4..7}p{16,8,4,2}s2`, `bntr{4..7}`,
`final.kernel` / `final.bias`. Kernels (k^3, Cin, Cout) with dx fastest (1x1: (Cin, Cout) in 0.5).
Pointcept SpUNet-v1m1 (spconv): `conv_input.{0,1}`, `down.{s}.{0,1}`, `enc.{s}.block{j}.{conv1,bn1,conv2,
bn2,proj.0,proj.1}`, `up.{s}`, `dec.{s}.block{j}`, `final`; kernels (Cout, kx, ky, kz, Cin); its stride-2
conv changes the channels (SRUNet down_mode='expand'), BatchNorm eps 1e-3.
Canonical (docs/sparse_backends.md): (k^3, Cin, Cout), dx slowest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch

from voxclip.models.backbones.srunet import ARCHS, SRUNet

BN_KEYS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


class ConversionError(ValueError):
    """The source is not an SR-UNet this converter maps exactly (the message says what differs)."""


@dataclass
class Conversion:
    state_dict: dict
    srunet: dict  # SRUNet(**srunet) takes state_dict
    source_format: str
    unmatched_source: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def _cube_root(volume: int, key: str) -> int:
    k = round(volume ** (1 / 3))
    if k ** 3 != volume:
        raise ConversionError(f"{key}: kernel volume {volume} is not a cube (not a 3D hypercube kernel)")
    return k


def minkowski_kernel_to_canonical(w: torch.Tensor, key: str) -> torch.Tensor:
    """ME (k^3, Cin, Cout) with dx fastest, or (Cin, Cout) for 1x1 -> canonical (k^3, Cin, Cout), dx slowest."""
    if w.dim() == 2:
        return w[None].contiguous()
    k = _cube_root(w.shape[0], key)
    return w.reshape(k, k, k, w.shape[1], w.shape[2]).permute(2, 1, 0, 3, 4).reshape(k ** 3, w.shape[1], w.shape[2]).contiguous()


def spconv_weight_to_canonical(w: torch.Tensor, key: str) -> torch.Tensor:
    """spconv 2.x (Cout, kx, ky, kz, Cin) -> canonical (k^3, Cin, Cout)."""
    if w.dim() != 5 or not (w.shape[1] == w.shape[2] == w.shape[3]):
        raise ConversionError(f"{key}: expected an spconv (Cout, k, k, k, Cin) kernel, got shape {tuple(w.shape)}")
    k, cin, cout = w.shape[1], w.shape[4], w.shape[0]
    if k == 1:
        # spconv 2.x runs 1x1 convs as `feats @ weight.view(Cin, Cout)` (spconv/pytorch/conv.py, the
        # conv1x1 branch): a reinterpretation of the (Cout,1,1,1,Cin) memory, not a transpose.
        # Pointcept's trained 1x1 weights (block projections, the final classifier) mean that.
        return w.reshape(1, cin, cout).contiguous()
    return w.permute(1, 2, 3, 4, 0).reshape(k ** 3, cin, cout).contiguous()


def strip_prefix(state: dict, anchor: str) -> dict:
    """Drop the wrapper prefix (`module.`, `backbone.`, `model.` ...) found before `anchor`."""
    hits = [k for k in state if k == anchor or k.endswith("." + anchor)]
    if not hits:
        raise ConversionError(f"no '{anchor}' key: not this framework's SR-UNet (keys start like {list(state)[:4]})")
    prefix = min(hits, key=len)[: -len(anchor)]
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def _count_blocks(state: dict, pattern: str, stages) -> tuple:
    out = []
    for s in stages:
        idx = {int(m.group(1)) for k in state for m in [re.match(pattern.format(s=s), k)] if m}
        out.append(len(idx))
    return tuple(out)


def _arch_name(blocks: tuple, planes: tuple, init_dim: int, source: str) -> str:
    for name, (b, p, i) in ARCHS.items():
        if (tuple(b), tuple(p), i) == (blocks, planes, init_dim):
            return name
    raise ConversionError(f"{source}: blocks {blocks}, planes {planes}, init dim {init_dim} match no SRUNet plan "
                          f"({', '.join(a for a in ARCHS)}); the network differs from Res16UNet")


def _finish(mapped: dict, srunet: dict, source_state: dict, used: set, fmt: str, notes: list) -> Conversion:
    """Check every SRUNet key got a tensor of its shape; list the source keys left over."""
    target = SRUNet(**srunet).state_dict()
    # checkpoints saved before torch 0.4.1 (or stripped of it) have no BatchNorm step counter: it only
    # matters for momentum=None, which SRUNet does not use, so it starts at 0 and the report says so
    counters = [k for k in target if k.endswith(".num_batches_tracked") and k not in mapped]
    if counters and len(counters) == sum(k.endswith(".num_batches_tracked") for k in target):
        mapped.update({k: torch.zeros((), dtype=torch.long) for k in counters})
        notes = list(notes) + [f"the checkpoint has no BatchNorm num_batches_tracked: {len(counters)} set to 0"]
    missing = [k for k in target if k not in mapped]
    wrong = [f"{k}: source {tuple(mapped[k].shape)} vs SRUNet {tuple(target[k].shape)}"
             for k in target if k in mapped and tuple(mapped[k].shape) != tuple(target[k].shape)]
    if missing or wrong:
        raise ConversionError(f"{fmt}: does not fit SRUNet({srunet}): missing {missing[:6]}"
                              f"{'...' if len(missing) > 6 else ''}; shape differences {wrong[:4]}")
    extra = sorted(k for k in mapped if k not in target)
    unmatched = sorted(k for k in source_state if k not in used) + extra
    return Conversion({k: mapped[k] for k in target}, srunet, fmt, unmatched, notes)


class _Mapper:
    """Copies tensors of a source state dict to SRUNet keys, converting kernels and remembering what
    it took; the key formats say how the source names a block's convs, norms and projection."""

    def __init__(self, src: dict, kernel_fn, bn_fmt: str, conv_fmt: str, norm_fmt: str, proj_conv_fmt: str,
                 proj_bn_fmt: str):
        self.src, self.kernel_fn, self.bn_fmt = src, kernel_fn, bn_fmt
        self.conv_fmt, self.norm_fmt, self.proj_conv_fmt, self.proj_bn_fmt = conv_fmt, norm_fmt, proj_conv_fmt, proj_bn_fmt
        self.used, self.mapped = set(), {}

    def take(self, key):
        if key not in self.src:
            raise ConversionError(f"no '{key}' in the checkpoint (a layer this SR-UNet plan has is missing)")
        self.used.add(key)
        return self.src[key]

    def conv(self, src_key, dst_key):
        self.mapped[dst_key] = self.kernel_fn(self.take(src_key), src_key)

    def bn(self, src_pre, dst_pre):
        for name in BN_KEYS:
            key = self.bn_fmt.format(pre=src_pre, name=name)
            if key in self.src:
                self.mapped[f"{dst_pre}.{name}"] = self.take(key)

    def block(self, src_pre, dst_pre):
        for i in (1, 2):
            self.conv(self.conv_fmt.format(pre=src_pre, i=i), f"{dst_pre}.conv{i}.weight")
            self.bn(self.norm_fmt.format(pre=src_pre, i=i), f"{dst_pre}.norm{i}")
        proj = self.proj_conv_fmt.format(pre=src_pre)
        if proj in self.src:
            self.conv(proj, f"{dst_pre}.downsample.0.weight")
            self.bn(self.proj_bn_fmt.format(pre=src_pre), f"{dst_pre}.downsample.1")


def convert_minkowski(state: dict) -> Conversion:
    """MinkowskiEngine Res16UNet state dict -> SRUNet (down_mode 'keep', bn eps 1e-5)."""
    src = strip_prefix(state, "conv0p1s1.kernel")
    m = _Mapper(src, minkowski_kernel_to_canonical, "{pre}.bn.{name}", "{pre}.conv{i}.kernel", "{pre}.norm{i}",
                "{pre}.downsample.0.kernel", "{pre}.downsample.1")
    take, conv, bn, block, used, mapped = m.take, m.conv, m.bn, m.block, m.used, m.mapped

    blocks = _count_blocks(src, r"block{s}\.(\d+)\.conv1\.kernel", range(1, 9))
    if 0 in blocks:
        raise ConversionError(f"MinkowskiEngine checkpoint: stage(s) without blocks {blocks} (block1..block8 expected)")
    if "block1.0.conv3.kernel" in src:
        raise ConversionError("MinkowskiEngine checkpoint: Bottleneck blocks (Res16UNet50/101) have no SRUNet plan")
    planes = tuple(int(src[f"block{s}.0.conv2.kernel"].shape[-1]) for s in range(1, 9))
    k0 = src["conv0p1s1.kernel"]
    conv0_k = _cube_root(k0.shape[0], "conv0p1s1.kernel") if k0.dim() == 3 else 1
    init_dim, in_ch = int(k0.shape[-1]), int(k0.shape[-2])
    if "final.kernel" not in src:
        raise ConversionError("MinkowskiEngine checkpoint: no final.kernel (a network without Res16UNet's final 1x1 conv)")
    out_ch = int(src["final.kernel"].shape[-1])
    arch = _arch_name(blocks, planes, init_dim, "MinkowskiEngine checkpoint")
    conv("conv0p1s1.kernel", "stem.0.weight")
    bn("bn0", "stem.1")
    for i, name in enumerate(("conv1p1s2", "conv2p2s2", "conv3p4s2", "conv4p8s2")):
        conv(f"{name}.kernel", f"downs.{i}.0.weight")
        bn(f"bn{i + 1}", f"downs.{i}.1")
        for j in range(blocks[i]):
            block(f"block{i + 1}.{j}", f"encoders.{i}.{j}")
    for i, name in enumerate(("convtr4p16s2", "convtr5p8s2", "convtr6p4s2", "convtr7p2s2")):
        conv(f"{name}.kernel", f"ups.{i}.0.weight")
        bn(f"bntr{i + 4}", f"ups.{i}.1")
        for j in range(blocks[4 + i]):
            block(f"block{i + 5}.{j}", f"decoders.{i}.{j}")
    conv("final.kernel", "final.weight")
    if "final.bias" in src:
        mapped["final.bias"] = take("final.bias").reshape(-1)
    srunet = dict(in_channels=in_ch, out_channels=out_ch, arch=arch, conv0_kernel_size=conv0_k)
    return _finish(mapped, srunet, src, used, "MinkowskiEngine Res16UNet", [])


def convert_pointcept(state: dict) -> Conversion:
    """Pointcept SpUNet-v1m1 (spconv) state dict -> SRUNet (down_mode 'expand', bn eps 1e-3, momentum 0.01)."""
    src = strip_prefix(state, "conv_input.0.weight")
    m = _Mapper(src, spconv_weight_to_canonical, "{pre}.{name}", "{pre}.conv{i}.weight", "{pre}.bn{i}",
                "{pre}.proj.0.weight", "{pre}.proj.1")
    take, conv, bn, block, used, mapped = m.take, m.conv, m.bn, m.block, m.used, m.mapped

    n_stages = len({int(m.group(1)) for k in src for m in [re.match(r"down\.(\d+)\.0\.weight", k)] if m})
    if n_stages != 4:
        raise ConversionError(f"Pointcept checkpoint: {n_stages} encoder stages (SRUNet has 4)")
    if not any(k.startswith("dec.") for k in src):
        raise ConversionError("Pointcept checkpoint: no decoder (cls_mode SpUNet) - SRUNet is a U-Net")
    enc_blocks = _count_blocks(src, r"enc\.{s}\.block(\d+)\.conv1\.weight", range(4))
    dec_blocks = _count_blocks(src, r"dec\.{s}\.block(\d+)\.conv1\.weight", (3, 2, 1, 0))
    enc_planes = tuple(int(src[f"down.{s}.0.weight"].shape[0]) for s in range(4))
    dec_planes = tuple(int(src[f"up.{s}.0.weight"].shape[0]) for s in (3, 2, 1, 0))
    w0 = src["conv_input.0.weight"]
    init_dim, in_ch, conv0_k = int(w0.shape[0]), int(w0.shape[-1]), int(w0.shape[1])
    if "final.weight" not in src:
        raise ConversionError("Pointcept checkpoint: no final.weight (num_classes=0 SpUNet); SRUNet ends in a 1x1 conv")
    if tuple(src["final.weight"].shape[1:4]) != (1, 1, 1):
        raise ConversionError(f"Pointcept checkpoint: final conv kernel {tuple(src['final.weight'].shape[1:4])}, SRUNet's is 1x1x1")
    out_ch = int(src["final.weight"].shape[0])
    arch = _arch_name(enc_blocks + dec_blocks, enc_planes + dec_planes, init_dim, "Pointcept SpUNet")
    conv("conv_input.0.weight", "stem.0.weight")
    bn("conv_input.1", "stem.1")
    for s in range(4):
        conv(f"down.{s}.0.weight", f"downs.{s}.0.weight")
        bn(f"down.{s}.1", f"downs.{s}.1")
        for j in range(enc_blocks[s]):
            block(f"enc.{s}.block{j}", f"encoders.{s}.{j}")
        i = 3 - s  # Pointcept runs up/dec from the last index back to 0
        conv(f"up.{s}.0.weight", f"ups.{i}.0.weight")
        bn(f"up.{s}.1", f"ups.{i}.1")
        for j in range(dec_blocks[i]):
            block(f"dec.{s}.block{j}", f"decoders.{i}.{j}")
    conv("final.weight", "final.weight")
    if "final.bias" in src:
        mapped["final.bias"] = take("final.bias").reshape(-1)
    srunet = dict(in_channels=in_ch, out_channels=out_ch, arch=arch, conv0_kernel_size=conv0_k,
                  down_mode="expand", bn_eps=1e-3, bn_momentum=0.01)
    notes = ["Pointcept's SpUNet: set the backbone's down_mode='expand', bn_eps=1e-3 (bn_momentum=0.01 to "
             "fine-tune as Pointcept does)"]
    return _finish(mapped, srunet, src, used, "Pointcept SpUNet-v1m1", notes)


CONVERTERS = {"minkowski": convert_minkowski, "pointcept": convert_pointcept}


def check_against_backbone(conv: Conversion, backbone: dict) -> list[str]:
    """Differences between the converted network and a config's SRUNet backbone settings."""
    defaults = dict(conv0_kernel_size=5, down_mode="keep", bn_eps=1e-5, arch="34C")
    diffs = []
    for key in ("in_channels", "out_channels", "arch", "conv0_kernel_size", "down_mode", "bn_eps"):
        want = backbone.get(key, defaults.get(key))
        have = conv.srunet.get(key, defaults.get(key))
        if want is not None and want != have:
            what = {"conv0_kernel_size": "first-layer kernel", "out_channels": "final layer outputs"}.get(key, key)
            diffs.append(f"{what}: checkpoint {have!r}, config {want!r}")
    return diffs
