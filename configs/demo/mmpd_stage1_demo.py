# Demo-size MMPD stage 1 on the synthetic frames (data/demo) against RANDOM tiny teachers
# (tools/make_random_clip.py --model-cfg tiny, tools/make_random_dinov2.py --tiny): shows the chain
# runs and the loss falls, not what the method gains. 2048-point frames, the demo student.
_base_ = ["../mmpd/stage1_scannet_pairs.py", "../_base_/models/mmpd_demo_student.py",
          "../_base_/models/tiny_random_clip.py", "../_base_/models/tiny_random_dinov2.py"]

pairs_root = "data/demo"
max_epochs = 20
global_dim = 32
clip_weights = {{_base_.tiny_clip_weights}}
dinov2_weights = {{_base_.tiny_dinov2_weights}}
tiny_clip_cfg = {{_base_.tiny_clip_cfg}}
train_dataloader = dict(batch_size=8, num_workers=1, persistent_workers=True,
                        dataset=dict(data_root=pairs_root, voxel_size=0.05, num_points=2048))
model = dict(
    tokenizer={{_base_.demo_tokenizer}}, encoder={{_base_.demo_encoder}}, global_dim=global_dim,
    teachers=dict(
        text=dict(model_name="RN50", model_cfg=tiny_clip_cfg, weights=clip_weights),
        clip_image=dict(model_name="RN50", model_cfg=tiny_clip_cfg, weights=clip_weights),
        dinov2=dict(model_name="vit_small_patch14_dinov2", weights=dinov2_weights,
                    model_kwargs={{_base_.tiny_dinov2_kwargs}}),
    ),
)
param_scheduler = [
    dict(type="LinearLR", start_factor=0.1, by_epoch=True, begin=0, end=2, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=2, end=max_epochs, T_max=max_epochs - 2, eta_min=1e-5,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
