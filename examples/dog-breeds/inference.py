"""SageMaker inference script for the dog-breed model that script-mode/hpo.py trains.

hpo.py saves model.pth (the state dict of ResNet50 with the head
Linear(2048, 128) -> ReLU -> Linear(128, classes)) and classes.json (the breed
folder names, e.g. "001.Affenpinscher") in its model.tar.gz. This script
implements the SageMaker inference toolkit's handlers for it:

    model_fn(model_dir)                 rebuilds the network (no download) and loads model.pth
    input_fn(body, content_type)        image/jpeg, image/png, application/x-image bytes,
                                        or application/json {"image_base64": "..."}
    predict_fn(image, model)            softmax probabilities over the breeds
    output_fn(probabilities, accept)    application/json {"predictions": [{"label", "index",
                                        "probability"}, ...]}, the five likeliest, best first

Images are preprocessed as hpo.py evaluates: Resize(256), CenterCrop(224),
ToTensor, Normalize with ImageNet's mean and std. Other content types are
answered 415, other Accept types 406.

Needs torch, torchvision and PIL (Debian: apt-get install python3-torch
python3-torchvision python3-pil; install libopenblas0-openmp too, or torch is
about ten times slower). On Kennel, point CreateModel at this folder:

    sm.create_model(
        ModelName="dog-breeds",
        ExecutionRoleArn="arn:aws:iam::000000000000:role/KennelExecutionRole",
        PrimaryContainer={
            "Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:1.13.1-cpu-py39",
            "ModelDataUrl": "<the training job's ModelArtifacts.S3ModelArtifacts>",
            "Environment": {
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": "file://<absolute path of examples/dog-breeds>",
            },
        },
    )

then CreateEndpointConfig and CreateEndpoint as usual (script-mode/deploy_hpo.py
does all of it). On SageMaker, give the same script as the PyTorchModel's
entry_point.
"""
import base64
import binascii
import io
import json
import os

import torch
from PIL import Image
from torch import nn
from torchvision import models, transforms

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
IMAGE_TYPES = ("image/jpeg", "image/png", "application/x-image")
JSON = "application/json"
TOP = 5
# The breed folder of each output, set by model_fn: output_fn sees the prediction only, not the model.
CLASSES = None

# hpo.py's eval transform.
PREPROCESS = transforms.Compose(
    [transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
)


class HandlerError(Exception):
    """An error the model server answers with its status_code."""

    def __init__(self, status_code, message):
        super().__init__(message)
        self.status_code = status_code


def build_model(num_classes):
    """hpo.py's network with random weights, for load_state_dict: nothing is downloaded."""
    try:
        model = models.resnet50(weights=None)
    except TypeError:  # torchvision before 0.13
        model = models.resnet50(pretrained=False)
    model.fc = nn.Sequential(nn.Linear(2048, 128), nn.ReLU(inplace=True), nn.Linear(128, num_classes))
    return model


def readable(folder):
    """The breed of a class folder: "001.Affenpinscher" is "Affenpinscher", "003.Airedale_terrier" "Airedale terrier"."""
    prefix, dot, rest = folder.partition(".")
    name = rest if dot and prefix.isdigit() else folder
    return name.replace("_", " ")


def load(model_dir):
    """The model in eval mode on the CPU, and its class folder names."""
    with open(os.path.join(model_dir, "classes.json")) as f:
        classes = json.load(f)
    model = build_model(len(classes))
    state = torch.load(os.path.join(model_dir, "model.pth"), map_location=torch.device("cpu"))
    model.load_state_dict(state)
    model.eval()
    return model, classes


def model_fn(model_dir):
    global CLASSES
    threads = os.environ.get("OMP_NUM_THREADS")
    if threads and threads.isdigit() and int(threads) > 0:
        torch.set_num_threads(int(threads))
    model, CLASSES = load(model_dir)
    return model


def media_type(value):
    return (value or "").split(";")[0].strip().lower()


def input_fn(body, content_type):
    kind = media_type(content_type)
    if kind in IMAGE_TYPES:
        data = bytes(body)
    elif kind == JSON:
        try:
            document = json.loads(body)
            data = base64.b64decode(document["image_base64"], validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error) as error:
            raise HandlerError(400, 'application/json must be {"image_base64": "<base64 of a JPEG or PNG>"}') from error
    else:
        raise HandlerError(415, "Content type {} is not supported: send {} bytes, or {} {{\"image_base64\": ...}}".format(content_type, ", ".join(IMAGE_TYPES), JSON))
    try:
        image = Image.open(io.BytesIO(data)).convert("RGB")
    except Exception as error:  # PIL raises several kinds for bytes that are not an image
        raise HandlerError(400, "the body is not an image PIL can read: {}".format(error)) from error
    return PREPROCESS(image).unsqueeze(0)


def predict_fn(data, model):
    with torch.no_grad():
        return torch.softmax(model(data), dim=1)[0]


def output_fn(prediction, accept):
    kinds = [media_type(part) for part in (accept or JSON).split(",") if part.strip()] or [JSON]
    if not any(kind in (JSON, "*/*", "application/*") for kind in kinds):
        raise HandlerError(406, "Accept {} cannot be served: ask for {}".format(accept, JSON))
    top = torch.topk(prediction, min(TOP, prediction.numel()))
    predictions = [
        {
            "label": readable(CLASSES[index]) if CLASSES else str(index),
            "index": index,
            "probability": round(float(probability), 6),
        }
        for probability, index in zip(top.values.tolist(), top.indices.tolist())
    ]
    return json.dumps({"predictions": predictions}), JSON
