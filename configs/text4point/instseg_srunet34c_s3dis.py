# Text4Point fine-tuning for instance segmentation (paper Tab. 2 "Text4Point": 47.3 mAP / 62.7
# mAP@0.5 / 63.9 mPrec / 68.2 mRec on S3DIS Area 5, vs 59.3 mAP@0.5 for the plain SR-UNet of
# configs/instseg/pointgroup_srunet34c_s3dis.py, whose heads and App. B.1 schedule this inherits).
# The backbone is the Text4Point SR-UNet34C from the pretraining checkpoint, guided by a CoOp prompt
# learner (n_ctx 8) over the 13 class names on the frozen CLIP RN50 text encoder, with the
# auxiliary text loss (tau 0.07) on the points' semantic labels -- the same language parts as the
# semantic segmentation row (configs/text4point/seg_srunet34c_s3dis.py).
#   torchrun --nproc_per_node 4 tools/train.py configs/text4point/pretrain_srunet34c_scannet_pairs.py --launcher pytorch
#   torchrun --nproc_per_node 4 tools/train.py configs/text4point/instseg_srunet34c_s3dis.py --launcher pytorch
_base_ = ["../instseg/pointgroup_srunet34c_s3dis.py"]

pretrained = "work_dirs/pretrain_srunet34c_scannet_pairs/epoch_2.pth"
pretrain_config = "configs/text4point/pretrain_srunet34c_scannet_pairs.py"
clip_weights = "checkpoints/clip/RN50-openai.pt"
text_class_names = (
    "ceiling", "floor", "wall", "beam", "column", "window", "door", "table", "chair", "sofa",
    "bookcase", "board", "clutter",
)

model = dict(
    backbone=dict(
        _delete_=True, type="Text4PointSRUNet", in_channels=4, out_channels=96, arch="34C", embed_dim=1024,
        init_cfg=dict(type="Pretrained", checkpoint=pretrained, prefix="backbone.", producer=pretrain_config)),
    text=dict(type="PromptLearner", class_names=text_class_names, n_ctx=8,
              text_encoder=dict(type="CLIPTextEncoder", model_name="RN50", model_cfg=None, weights=clip_weights)),
    aux_loss=dict(weight=1.0, tau=0.07),
)
