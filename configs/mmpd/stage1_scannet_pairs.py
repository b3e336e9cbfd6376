# MMPD stage 1 (Sec. 4.1, Eq. 1-3) on ScanNet frames: the Point-MAE student's global embedding
# aligned by symmetric InfoNCE with three frozen teachers: CLIP's text tower (captions, else
# class-name templates of the frame's boxes), CLIP's image tower and DINOv2 (colour or depth view,
# drawn per sample). One projection head and one learnable CLIP temperature (init 0.07, scale <= 100)
# per teacher; negatives gathered over all processes.
# Teachers (open: the paper names CLIP and DINOv2, not their sizes): open_clip ViT-B-16 'openai'
# (image + text, 512-d) from checkpoints/clip/open_clip_vit_b16_openai.bin and timm
# vit_base_patch14_dinov2 (768-d CLS token) from checkpoints/dinov2/vit_base_patch14_dinov2.lvd142m.safetensors,
# run at 224 px (timm resamples its 518-px position table).
# Student: as configs/pointmae/pretrain_scannet_pairs.py (12 x 384), global embedding 512.
# Optimiser (open; Point-MAE's): AdamW 1e-3, wd 0.05, cosine, 10 warm-up epochs, 100 epochs, batch 128.
# Switches (docs/mmpd.md): model.use_teachers=[text,clip_image] (single image teacher), model.view=color|depth.
# Run:  torchrun --nproc_per_node 4 tools/train.py configs/mmpd/stage1_scannet_pairs.py --launcher pytorch
_base_ = ["../_base_/default_runtime.py", "../_base_/datasets/scannet_point_pairs.py"]

max_epochs = 100
warmup_epochs = 10
embed_dim = 384
global_dim = 512
clip_weights = "checkpoints/clip/open_clip_vit_b16_openai.bin"
dinov2_weights = "checkpoints/dinov2/vit_base_patch14_dinov2.lvd142m.safetensors"
tokenizer = dict(type="PointTokenizer", num_tokens=512, patch_size=32, embed_dim=embed_dim, pointnet_hidden=(128, 256))
encoder = dict(type="PointTransformerEncoder", embed_dim=embed_dim, depth=12, num_heads=6, mlp_ratio=4.0,
               qkv_bias=False, drop_rate=0.0, drop_path_rate=0.1)

model = dict(
    type="MMPDStage1",
    tokenizer=tokenizer,
    encoder=encoder,
    global_dim=global_dim,
    teachers=dict(
        text=dict(type="CLIPTextEncoder", model_name="ViT-B-16", weights=clip_weights),
        clip_image=dict(type="CLIPImageTeacher", model_name="ViT-B-16", weights=clip_weights),
        dinov2=dict(type="DINOv2Teacher", model_name="vit_base_patch14_dinov2", weights=dinov2_weights,
                    model_kwargs=dict(img_size=224)),
    ),
    use_teachers=("text", "clip_image", "dinov2"),
    loss_weights=dict(text=1.0, clip_image=1.0, dinov2=1.0),
    view="random",
    init_temperature=0.07,
    max_logit_scale=100.0,
)

optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="AdamW", lr=1e-3, weight_decay=0.05),
                     paramwise_cfg=dict(custom_keys={"logit_scales": dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-6 / 1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=warmup_epochs, end=max_epochs,
         T_max=max_epochs - warmup_epochs, eta_min=1e-6, convert_to_iter_based=True),
]
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs)
default_hooks = dict(logger=dict(type="LoggerHook", interval=20),
                     checkpoint=dict(type="CheckpointHook", interval=10, max_keep_ckpts=2, save_best=None))
auto_scale_lr = dict(enable=False, base_batch_size=128)
