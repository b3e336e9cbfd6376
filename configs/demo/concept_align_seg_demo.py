# Demo-size ScanNet segmentation with the token segmentation head, fine-tuned from the demo
# concept-alignment pretraining (configs/demo/concept_align_pretrain_demo.py: same tiny tokenizer
# and 4 x 64 encoder), on the synthetic ScanNet-format scenes: 2048 points, 64 patches x 16 points.
#   python tools/train.py configs/demo/concept_align_pretrain_demo.py     # -> pretrained below
#   python tools/train.py configs/demo/concept_align_seg_demo.py
# model.pretrained=None trains the same model from scratch.
_base_ = ["../concept_align/seg_scannet.py"]

data_root = "data/demo"
num_points = 2048
voxel_size = 0.05
max_epochs = 20
embed_dim = 64
pretrained = "work_dirs/concept_align_pretrain_demo/epoch_20.pth"
pretrain_config = "configs/demo/concept_align_pretrain_demo.py"

train_pipeline = [dict(type="PointSample", num_points=num_points), *_base_.train_augment, *_base_.point_features,
                  dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs")]
train_dataloader = dict(batch_size=4, num_workers=1, persistent_workers=True,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, persistent_workers=True, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader

model = dict(
    tokenizer=dict(num_tokens=64, patch_size=16, embed_dim=embed_dim, pointnet_hidden=(32, 64)),
    encoder=dict(embed_dim=embed_dim, depth=4, num_heads=4, mlp_ratio=2.0, drop_path_rate=0.0),
    head=dict(in_channels=embed_dim, head_channels=(64,), dropout=0.0),
    token_points=num_points,
    pretrained=dict(checkpoint=pretrained, producer=pretrain_config),
)

param_scheduler = [dict(type="CosineAnnealingLR", by_epoch=True, begin=0, end=max_epochs, T_max=max_epochs,
                        eta_min=1e-5, convert_to_iter_based=True)]
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
default_hooks = dict(logger=dict(type="LoggerHook", interval=5),
                     checkpoint=dict(interval=5))
