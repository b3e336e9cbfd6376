# Text4Point fine-tuning for semantic segmentation: SparseSegmentor on a Text4Point SR-UNet34C,
# S3DIS Area 5 (paper Tab. 1: 72.2 mIoU / 78.5 mAcc published, vs 68.2 for the plain SR-UNet of
# configs/seg/seg_srunet34c_s3dis.py, whose App. B.1 schedule this inherits: 5 cm voxels, SGD 0.1,
# poly 0.9, wd 1e-4, 60k iterations, batch 48). Language guidance from a CoOp prompt learner
# (n_ctx 8) over the 13 class names on the frozen CLIP RN50 text encoder, auxiliary text loss
# tau 0.07 against the points' own semantic labels. The backbone starts from the Text4Point
# pretraining checkpoint (its `backbone.*` weights; in_channels 4 = colour + height, as there):
#   torchrun --nproc_per_node 4 tools/train.py configs/text4point/pretrain_srunet34c_scannet_pairs.py --launcher pytorch
#   torchrun --nproc_per_node 4 tools/train.py configs/text4point/seg_srunet34c_s3dis.py --launcher pytorch
_base_ = ["../seg/seg_srunet34c_s3dis.py"]

pretrained = "work_dirs/pretrain_srunet34c_scannet_pairs/epoch_2.pth"
pretrain_config = "configs/text4point/pretrain_srunet34c_scannet_pairs.py"
clip_weights = "checkpoints/clip/RN50-openai.pt"
# prompt words for the 13 classes, in the dataset's class order (labels index both)
text_class_names = (
    "ceiling", "floor", "wall", "beam", "column", "window", "door", "table", "chair", "sofa",
    "bookcase", "board", "clutter",
)

model = dict(
    backbone=dict(
        _delete_=True, type="Text4PointSRUNet", in_channels=4, out_channels=96, arch="34C", embed_dim=1024,
        conv0_kernel_size=3,  # PointContrast recipe, as the pretraining backbone
        init_cfg=dict(type="Pretrained", checkpoint=pretrained, prefix="backbone.", producer=pretrain_config)),
    text=dict(type="PromptLearner", class_names=text_class_names, n_ctx=8,
              text_encoder=dict(type="CLIPTextEncoder", model_name="RN50", model_cfg=None, weights=clip_weights)),
    aux_loss=dict(weight=1.0, tau=0.07),
)
