# Text4Point fine-tuning: VoteNet on a Text4Point SR-UNet34C, SUN RGB-D v1 (paper Sec. 3.4, App. B.2;
# published 37.0 mAP@0.5, vs 31.7 from scratch). 20k points, 2.5 cm voxels, batch 64 (16 per
# process x 4 processes), 180 epochs (schedule from the base), prompt learner (n_ctx 8) on the
# frozen CLIP RN50 text encoder, auxiliary text loss tau 0.07 with the label of the box around
# each point (SUN RGB-D has no point labels). Backbone from the ScanNet pretraining checkpoint:
#   torchrun --nproc_per_node 4 tools/train.py configs/text4point/votenet_srunet34c_sunrgbd.py --launcher pytorch
_base_ = ["../votenet/votenet_srunet34c_sunrgbd.py"]

pretrained = "work_dirs/pretrain_srunet34c_scannet_pairs/epoch_2.pth"
pretrain_config = "configs/text4point/pretrain_srunet34c_scannet_pairs.py"
clip_weights = "checkpoints/clip/RN50-openai.pt"
# prompt words for the 10 detection classes, in the dataset's class order (labels index both)
text_class_names = ("bed", "table", "sofa", "chair", "toilet", "desk", "dresser", "night stand", "bookshelf",
                    "bathtub")
num_points = 20000
voxel_size = 0.025

train_pipeline = [
    dict(type="PointSample", num_points=num_points),
    # class of the ground-truth box containing each point (-1 outside): aux-loss pseudo labels
    dict(type="PointLabelsFromBoxes"),
    *_base_.train_augment, *_base_.point_features,
    dict(type="Voxelize", voxel_size=voxel_size), dict(type="PackInputs"),
]
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))

model = dict(
    backbone=dict(
        _delete_=True, type="Text4PointSRUNet", in_channels=4, out_channels=96, arch="34C", embed_dim=1024,
        conv0_kernel_size=3,  # PointContrast recipe, as the pretraining backbone
        init_cfg=dict(type="Pretrained", checkpoint=pretrained, prefix="backbone.", producer=pretrain_config)),
    text=dict(type="PromptLearner", class_names=text_class_names, n_ctx=8,
              text_encoder=dict(type="CLIPTextEncoder", model_name="RN50", model_cfg=None, weights=clip_weights)),
    aux_loss=dict(weight=1.0, tau=0.07),
)
