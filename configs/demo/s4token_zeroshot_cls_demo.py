# CPU twin of configs/s4token/zeroshot_cls_modelnet40.py on the synthetic ModelNet40-format objects of
# `make demo-objects` (data/demo_objects/modelnet40_prepared) with the tiny RANDOM CLIP ViT of
# tools/make_random_clip.py (--model-cfg tiny_vit) and an S4Token demo pre-training checkpoint:
#   python tools/test.py configs/demo/s4token_zeroshot_cls_demo.py work_dirs/s4token_pretrain_demo/epoch_10.pth
# A random CLIP has no vision-language alignment: the accuracy shows that the chain runs (chance ~ 1/classes).
_base_ = ["../s4token/zeroshot_cls_modelnet40.py", "../_base_/models/tiny_random_clip.py"]

data_root = "data/demo_objects/modelnet40_prepared"
clip_weights = {{_base_.tiny_vit_clip_weights}}
tiny_clip_cfg = {{_base_.tiny_vit_clip_cfg}}
clip_width = 64
test_dataloader = dict(batch_size=8, num_workers=1, dataset=dict(data_root=data_root))
val_dataloader = test_dataloader
model = dict(
    tokenizer=dict(num_tokens=64, patch_size=16, embed_dim=clip_width, pointnet_hidden=(32, 64)),
    encoder=dict(model_cfg=tiny_clip_cfg, weights=clip_weights),
    text_encoder=dict(model_cfg=tiny_clip_cfg, weights=clip_weights),
)
