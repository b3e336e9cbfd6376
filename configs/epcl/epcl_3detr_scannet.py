# EPCL on ScanNet v2 with a 3DETR head (paper Tab. 1: 43.0 AP50). The 3DETR encoder is replaced by the
# frozen transformer of CLIP (OpenAI weights, 768 wide); point tokens are 768 wide.
# Paper: sequence [CLIP class token ; point tokens] + positions (Eq. 5), dropout 0.3 before the frozen
# CLIP, AdamW lr 3e-4, weight decay ("decay ratio") 0.04, final lr 5e-7 (supp. C), batch 32 (Tab. 7);
# only tokenizer, task tokens and head train; 3DETR head and data processing as MaskPoint (= 3DETR's).
# Not stated in the paper, taken from the authors' released code (XiaoshuiHuang/EPCL; no 3DETR-head
# variant was released, so from its detection model, detection/pcdet/models/epcl_modules/transformer.py
# + tools/cfgs/scannet_models/EPCL.yaml, and its classification model): CLIP ViT-B/32; 512 point tokens
# of 16 points; 19 task tokens from an Embedding + Linear-GELU-Linear of width 768, appended AFTER
# ln_pre (classification code; the detection code feeds the blocks without ln_pre); point position
# MLP 3-128-768 (GELU). Kept from 3DETR: 1080 epochs, 9 warm-up epochs, 256 queries, 8 decoder layers.
# Ablations (Tab. 6): model.num_task_tokens=0 (no task token), model.freeze_clip=False (CLIP fine-tuned).
# Earlier voxclip layout: model.class_token=False, model.task_token_placement='before_ln_pre',
# model.task_token_act='tanh', model.task_token_hidden=512.
_base_ = ["../3detr/3detr_scannet.py"]

max_epochs = 1080
warmup_epochs = 9
clip_width = 768

model = dict(
    _delete_=True,
    type="EPCL",
    use_point_feats=False,
    num_task_tokens=19,
    task_token_hidden=clip_width,
    task_token_act="gelu",
    task_token_placement="after_ln_pre",
    class_token=True,
    clip_dropout=0.3,
    freeze_clip=True,
    tokenizer=dict(type="PointTokenizer", num_tokens=512, patch_size=16, embed_dim=clip_width,
                   pointnet_hidden=(128, 256)),
    clip=dict(type="ClipTransformerEncoder", model_name="ViT-B-32", quick_gelu=True,
              weights="checkpoints/clip/open_clip_vit_b32_openai.bin"),
    # 3DETR's head and its settings, on CLIP-wide tokens
    head=dict(_base_.model.head, in_channels=clip_width),
)

train_dataloader = dict(batch_size=32)
optim_wrapper = dict(_delete_=True, type="OptimWrapper", optimizer=dict(type="AdamW", lr=3e-4, weight_decay=0.04),
                     clip_grad=dict(max_norm=0.1))
param_scheduler = [
    dict(type="LinearLR", start_factor=0.01, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=warmup_epochs, end=max_epochs,
         T_max=max_epochs - warmup_epochs, eta_min=5e-7, convert_to_iter_based=True),
]
