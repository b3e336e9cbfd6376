# Demo-size S4Token open-vocabulary segmentation of the synthetic validation scenes (20 classes) with
# the demo pre-training checkpoint and the tiny RANDOM CLIP ViT: the mIoU shows the chain runs, not
# what S4Token gains (a random CLIP has no vision-language alignment).
#   python tools/test.py configs/demo/s4token_openvocab_demo.py work_dirs/s4token_pretrain_demo/epoch_10.pth
_base_ = ["../s4token/openvocab_seg_scannet.py", "../_base_/models/tiny_random_clip.py"]

data_root = "data/demo"
clip_weights = {{_base_.tiny_vit_clip_weights}}
tiny_clip_cfg = {{_base_.tiny_vit_clip_cfg}}
clip_width = 64
val_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
model = dict(
    tokenizer=dict(num_tokens=256, patch_size=16, embed_dim=clip_width, pointnet_hidden=(32, 64)),
    encoder=dict(model_cfg=tiny_clip_cfg, weights=clip_weights),
    text_encoder=dict(model_cfg=tiny_clip_cfg, weights=clip_weights),
)
