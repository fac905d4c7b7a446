"""Export ImageNet-pretrained ResNet50 without its classifier as an ONNX feature extractor.

Usage: python3 export_resnet50.py OUTPUT.onnx
Needs torch and torchvision; torchvision downloads the pretrained weights.
The model maps a [N,3,224,224] ImageNet-normalised batch to [N,2048] features.
V1 weights, whose reference preprocessing (resize 256, centre-crop 224) is what
examples/dog-breeds/kennel.yaml declares.
"""
import sys

import torch
import torchvision

out = sys.argv[1]
model = torchvision.models.resnet50(weights=torchvision.models.ResNet50_Weights.IMAGENET1K_V1)
model.fc = torch.nn.Identity()
model.eval()
torch.onnx.export(
    model,
    torch.randn(1, 3, 224, 224),
    out,
    input_names=["input"],
    output_names=["features"],
    dynamic_axes={"input": {0: "batch"}, "features": {0: "batch"}},
    opset_version=17,
)
print(f"wrote {out}")
