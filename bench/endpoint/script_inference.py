"""The PyTorch peer of bench/endpoint as a SageMaker inference script, served by Kennel itself.

The same model as pytorch_server.py (torchvision's ResNet50 with fc replaced, random weights, and
a head of Kennel's shape, 2048 -> 128 -> ReLU -> classes), JPEGs decoded with PIL and prepared with
torchvision's ImageNet eval transform, softmax and top-5, written as model_fn / input_fn /
predict_fn / output_fn. bench/endpoint deploys it on the kennel/python image, so its requests/s
against the ONNX worker path is what serving through an inference script costs.
"""
import io
import json
import os

import torch
import torchvision
from PIL import Image
from torch import nn
from torchvision import transforms

PREPROCESS = transforms.Compose([
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
])


def model_fn(model_dir):
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    torch.manual_seed(0)
    backbone = torchvision.models.resnet50(weights=None)
    backbone.fc = nn.Identity()
    classes = int(os.environ.get("BENCH_CLASSES", "3"))
    head = nn.Sequential(nn.Linear(2048, 128), nn.ReLU(), nn.Linear(128, classes))
    model = nn.Sequential(backbone, head).eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    return model


def input_fn(body, content_type):
    return PREPROCESS(Image.open(io.BytesIO(body)).convert("RGB")).unsqueeze(0)


def predict_fn(data, model):
    with torch.no_grad():
        return torch.softmax(model(data), dim=1)[0]


def output_fn(prediction, accept):
    top = torch.topk(prediction, min(5, prediction.numel()))
    predictions = [
        {"label": f"class_{index:03d}", "index": int(index), "probability": float(probability)}
        for probability, index in zip(top.values.tolist(), top.indices.tolist())
    ]
    return json.dumps({"predictions": predictions}), "application/json"
