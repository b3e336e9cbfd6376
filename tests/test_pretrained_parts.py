"""PretrainedPartsMixin: a downstream model takes tokenizer/encoder weights of a pretraining checkpoint."""
import pytest
import torch
from torch import nn

from voxclip.models.detectors.detr3d import ThreeDETR
from voxclip.models.pretrained import PretrainedPartsMixin


def _cfg(**extra):
    return dict(
        tokenizer=dict(type="PointTokenizer", num_tokens=16, patch_size=8, embed_dim=32, pointnet_hidden=(16, 32)),
        encoder=dict(type="PointTransformerEncoder", embed_dim=32, depth=1, num_heads=2, drop_path_rate=0.0),
        head=dict(type="DETR3DHead", num_classes=3, in_channels=32, dim=32, num_queries=8, num_decoder_layers=1,
                  num_heads=2, ffn_dim=32),
        **extra)


def _pretraining_checkpoint(path, donor):
    # What a pretrainer writes: student under tokenizer./encoder., plus keys of its own.
    state = {f"tokenizer.{k}": v for k, v in donor.tokenizer.state_dict().items()}
    state.update({f"encoder.{k}": v for k, v in donor.encoder.state_dict().items()})
    state["concept_queries"] = torch.zeros(4, 32)
    torch.save({"state_dict": state, "meta": {}}, path)


def test_parts_loaded_head_untouched(tmp_path):
    torch.manual_seed(0)
    donor = ThreeDETR(**_cfg())
    path = tmp_path / "pretrain.pth"
    _pretraining_checkpoint(path, donor)
    torch.manual_seed(1)
    model = ThreeDETR(**_cfg(pretrained=dict(checkpoint=str(path))))
    head_before = {k: v.clone() for k, v in model.head.state_dict().items()}
    assert not torch.equal(model.encoder.blocks[0].attn.qkv.weight, donor.encoder.blocks[0].attn.qkv.weight)
    infos = model.load_pretrained_parts()
    for part in ("tokenizer", "encoder"):
        mine, theirs = getattr(model, part).state_dict(), getattr(donor, part).state_dict()
        assert set(mine) == set(theirs)
        assert all(torch.equal(mine[k], theirs[k]) for k in mine), part
        assert infos[part]["missing"] == [] and infos[part]["mismatched"] == []
    assert all(torch.equal(v, head_before[k]) for k, v in model.head.state_dict().items())


def test_bad_pretrained_config_and_part(tmp_path):
    with pytest.raises(ValueError, match="checkpoint"):
        ThreeDETR(**_cfg(pretrained=dict(path="x.pth")))

    class Model(PretrainedPartsMixin, nn.Module):
        def __init__(self, pretrained):
            super().__init__()
            self.encoder = nn.Linear(2, 2)
            self._set_pretrained(pretrained)

    with pytest.raises(AttributeError, match="tokenizer"):
        Model(dict(checkpoint=str(tmp_path / "none.pth"))).load_pretrained_parts()
    with pytest.raises(FileNotFoundError, match="none.pth.*tools/train.py cfg.py"):
        Model(dict(checkpoint=str(tmp_path / "none.pth"), parts={"encoder": "encoder."},
                   producer="cfg.py")).load_pretrained_parts()
