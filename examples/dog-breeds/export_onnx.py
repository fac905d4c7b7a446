#!/usr/bin/env python3
"""Export the dog-breed model that script-mode/hpo.py trains as a model.tar.gz for Kennel's ONNX image.

    python3 export_onnx.py MODEL_DIR OUTPUT.tar.gz
    python3 export_onnx.py model.tar.gz OUTPUT.tar.gz

MODEL_DIR holds hpo.py's model.pth and classes.json (an unpacked model.tar.gz
of its training job); a model.tar.gz is unpacked to a temporary folder first.
The network is rebuilt as inference.py rebuilds it (nothing is downloaded) and
exported to ONNX, opset 17: input "input" [batch, 3, 224, 224], ImageNet-
normalised, output "logits" [batch, classes], the batch dimension dynamic.
OUTPUT.tar.gz holds, at its top level, model.onnx, classes.json and
kennel-model.json, the manifest that tells Kennel the scores are logits and the
preprocessing is hpo.py's (resize 256, centre-crop 224, ImageNet mean and std,
NCHW). Deploy it with CreateModel, Image "kennel/onnx-classifier:latest" and
ModelDataUrl the archive (file:// or s3:// in Kennel's object store).

Needs torch and torchvision, as inference.py does; not the onnx package.
"""
import json
import os
import sys
import tarfile
import tempfile
from pathlib import Path

import torch

sys.dont_write_bytecode = True  # no __pycache__ beside inference.py: the folder is also a SAGEMAKER_SUBMIT_DIRECTORY
sys.path.insert(0, str(Path(__file__).resolve().parent))
from inference import IMAGENET_MEAN, IMAGENET_STD, load  # noqa: E402 - after the path is set

ONNX_IMAGE = "kennel/onnx-classifier:latest"
MANIFEST = {
    "format": "kennel.onnx-classifier",
    "version": 1,
    "scores": "logits",
    "preprocessing": {"resizeSize": 256, "cropSize": 224, "mean": IMAGENET_MEAN, "std": IMAGENET_STD, "layout": "NCHW"},
}


def unpack(archive, into):
    """Extracts model.pth and classes.json only, refusing names that would leave `into`."""
    wanted = {"model.pth", "classes.json"}
    with tarfile.open(archive, "r:*") as tar:
        for member in tar.getmembers():
            name = os.path.normpath(member.name)
            if name in wanted and member.isfile():
                with tar.extractfile(member) as source, open(os.path.join(into, name), "wb") as target:
                    target.write(source.read())
                wanted.discard(name)
    if wanted:
        sys.exit(f"{archive} holds no {' or '.join(sorted(wanted))} at its top level: is it the model.tar.gz of hpo.py?")


def export(model_dir, output):
    model, classes = load(model_dir)
    with tempfile.TemporaryDirectory() as work:
        onnx_path = os.path.join(work, "model.onnx")
        torch.onnx.export(
            model,
            torch.randn(1, 3, 224, 224),
            onnx_path,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=17,
        )
        with open(os.path.join(work, "classes.json"), "w") as f:
            json.dump(classes, f)
        with open(os.path.join(work, "kennel-model.json"), "w") as f:
            json.dump(MANIFEST, f, indent=2)
        output.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(output, "w:gz") as tar:
            for name in ("model.onnx", "classes.json", "kennel-model.json"):
                tar.add(os.path.join(work, name), arcname=name)
    return len(classes)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    source, output = Path(sys.argv[1]), Path(sys.argv[2]).resolve()
    if source.is_dir():
        count = export(source, output)
    elif source.is_file():
        with tempfile.TemporaryDirectory() as model_dir:
            unpack(source, model_dir)
            count = export(model_dir, output)
    else:
        sys.exit(f"{source} is neither a folder nor a model.tar.gz")
    print(f"wrote {output} ({output.stat().st_size} bytes): model.onnx (input [batch,3,224,224] -> logits [batch,{count}]), classes.json, kennel-model.json")
    container = {"Image": ONNX_IMAGE, "ModelDataUrl": output.as_uri()}
    print(f"CreateModel: aws sagemaker create-model --model-name dog-breeds-onnx --execution-role-arn arn:aws:iam::000000000000:role/KennelExecutionRole --primary-container '{json.dumps(container)}'")


if __name__ == "__main__":
    main()
