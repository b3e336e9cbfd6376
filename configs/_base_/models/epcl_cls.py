# EPCL's classifier (paper Sec. 3.2, supp. C / Fig. 10): point tokens 768 wide through the frozen
# transformer of CLIP ViT-B/16 (OpenAI weights) with 10 task tokens; dropout 0.3 before CLIP and 0.2 in
# the first two MLP layers; head on [class token, max pool]; cross-entropy + alignment with the CLIP
# text feature of "Point cloud of a {CLASS}". Children set num_classes and class_names.
clip_width = 768
clip_weights = "checkpoints/clip/open_clip_vit_b16_openai.bin"
model = dict(
    type="EPCLClassifier",
    num_classes=40,
    pooling=("cls", "max"),
    head_hidden=(256, 256),
    head_dropout=0.2,
    num_task_tokens=10,
    task_token_hidden=512,
    clip_dropout=0.3,
    freeze_clip=True,
    tokenizer=dict(type="PointTokenizer", num_tokens=64, patch_size=32, embed_dim=clip_width, pointnet_hidden=(128, 256)),
    clip=dict(type="ClipTransformerEncoder", model_name="ViT-B-16", quick_gelu=True, weights=clip_weights),
    text_encoder=dict(type="CLIPTextEncoder", model_name="ViT-B-16", weights=clip_weights),
    template="Point cloud of a {}.",
    text_loss_weight=1.0,
    test_cfg=dict(votes=1),
)
