#!/usr/bin/env python3
"""Train hpo.py in script mode, deploy it with inference.py, and classify a test image: with boto3, against Kennel.

The SageMaker workflow of the dog-breed notebook after tuning, end to end:

  1. CreateTrainingJob: hpo.py on the PyTorch training image, its model.tar.gz
     written to --output-dir (a file:// output path, so this script can read it:
     Kennel has no S3 API yet);
  2. CreateModel on the PyTorch inference image with ../inference.py as
     SAGEMAKER_PROGRAM, then CreateEndpointConfig and CreateEndpoint;
  3. InvokeEndpoint through sagemaker-runtime with one test image;
  4. with --onnx: ../export_onnx.py turns the model.tar.gz into an ONNX archive,
     deployed on kennel/onnx-classifier:latest and asked about the same image.

Both endpoints are deleted at the end. The last line printed is one JSON object:
the training job's status, seconds and final metrics, and each endpoint's top
prediction.

The script and Kennel run on this machine's Python, which needs torch,
torchvision and PIL for hpo.py and inference.py (Debian: apt-get install
python3-torch python3-torchvision python3-pil libopenblas0-openmp python3-boto3;
or point KENNEL_PYTHON at a virtualenv's python that has them). With Kennel
running (`npm start`), from the project folder:

    AWS_SHARED_CREDENTIALS_FILE=.kennel/credentials AWS_PROFILE=kennel \\
        python3 examples/dog-breeds/script-mode/deploy_hpo.py \\
        --data .kennel/examples/dog-breeds/dogImages --epochs 2 --onnx

Offline (ImageNet's weights cannot be downloaded), on Kennel's sample images:

    ... deploy_hpo.py --data .kennel/samples/images --weights none --onnx
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import WaiterError

TRAINING_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:1.13.1-cpu-py39"
INFERENCE_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:1.13.1-cpu-py39"
ONNX_IMAGE = "kennel/onnx-classifier:latest"
ROLE = "arn:aws:iam::000000000000:role/KennelExecutionRole"
INSTANCE_TYPE = "ml.m5.xlarge"
METRICS = [
    {"Name": "Test Loss", "Regex": "Testing Loss: ([0-9\\.]+)"},
    {"Name": "Test Accuracy", "Regex": "Testing Accuracy: ([0-9\\.]+)"},
]
IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent  # examples/dog-breeds: inference.py and export_onnx.py


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint-url", default=os.environ.get("KENNEL_ENDPOINT_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--data", required=True, help="folder holding train/, valid/ and test/")
    parser.add_argument("--name", default=f"dog-deploy-{int(time.time())}", help="prefix of every resource made")
    parser.add_argument("--epochs", default="1")
    parser.add_argument("--weights", choices=["imagenet", "none"], default="imagenet", help="hpo.py's --weights")
    parser.add_argument("--image", help="the image to classify (default: the first image of the data's test/ split)")
    parser.add_argument("--output-dir", default="./.kennel-example-output", help="where the training job writes its model.tar.gz")
    parser.add_argument("--onnx", action="store_true", help="also export to ONNX and deploy on kennel/onnx-classifier")
    return parser.parse_args()


def first_test_image(data):
    test = Path(data) / "test"
    if not test.is_dir():
        sys.exit(f"{test} is not a folder: --data must hold train/, valid/ and test/, or give --image")
    for breed in sorted(p for p in test.iterdir() if p.is_dir()):
        images = sorted(p for p in breed.iterdir() if p.suffix.lower() in IMAGE_TYPES)
        if images:
            return images[0]
    sys.exit(f"{test} holds no .jpg or .png image in its class folders: give --image")


def local_path(uri):
    """The file a file:// URI names."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        sys.exit(f"the model artifacts are at {uri}, not a file:// URI this script can read")
    return Path(unquote(parsed.path))


class Kennel:
    def __init__(self, args):
        session = boto3.session.Session(region_name=args.region)
        self.sm = session.client("sagemaker", endpoint_url=args.endpoint_url)
        # The first request may wait for a model to load; a retried InvokeEndpoint would run it twice.
        self.runtime = session.client(
            "sagemaker-runtime", endpoint_url=args.endpoint_url, config=Config(read_timeout=300, retries={"max_attempts": 0})
        )
        self.made = []  # (kind, name), deleted in reverse

    def deploy(self, name, container):
        """CreateModel, CreateEndpointConfig, CreateEndpoint; waits for InService."""
        model, config, endpoint = f"{name}-model", f"{name}-config", f"{name}-endpoint"
        print(f"CreateModel {model} ({container['Image']}), CreateEndpointConfig {config}, CreateEndpoint {endpoint}", file=sys.stderr)
        self.sm.create_model(ModelName=model, PrimaryContainer=container, ExecutionRoleArn=ROLE)
        self.made.append(("model", model))
        self.sm.create_endpoint_config(
            EndpointConfigName=config,
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": INSTANCE_TYPE}],
        )
        self.made.append(("config", config))
        self.sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
        self.made.append(("endpoint", endpoint))
        started = time.monotonic()
        try:
            self.sm.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig={"Delay": 2, "MaxAttempts": 450})
        except WaiterError:
            described = self.sm.describe_endpoint(EndpointName=endpoint)
            sys.exit(f"endpoint {endpoint} is {described['EndpointStatus']}: {described.get('FailureReason', '')}")
        print(f"  InService after {time.monotonic() - started:.1f} s", file=sys.stderr)
        return endpoint

    def invoke(self, endpoint, image):
        started = time.monotonic()
        answer = self.runtime.invoke_endpoint(
            EndpointName=endpoint, ContentType=IMAGE_TYPES[image.suffix.lower()], Accept="application/json", Body=image.read_bytes()
        )
        body = json.loads(answer["Body"].read())
        seconds = time.monotonic() - started
        top = body["predictions"][0]
        print(f"InvokeEndpoint {endpoint}: {top['label']} ({top['probability']:.3f}) in {seconds:.2f} s", file=sys.stderr)
        return {"label": top["label"], "index": top["index"], "probability": top["probability"], "seconds": round(seconds, 3)}

    def clean_up(self):
        for kind, name in reversed(self.made):
            try:
                if kind == "endpoint":
                    self.sm.delete_endpoint(EndpointName=name)
                    self.sm.get_waiter("endpoint_deleted").wait(EndpointName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 300})
                elif kind == "config":
                    self.sm.delete_endpoint_config(EndpointConfigName=name)
                else:
                    self.sm.delete_model(ModelName=name)
            except Exception as error:  # noqa: BLE001 - delete what can be deleted, say what could not
                print(f"could not delete {kind} {name}: {error}", file=sys.stderr)
        self.made.clear()


def train(kennel, args, output_dir):
    job = f"{args.name}-train"
    print(f"CreateTrainingJob {job} (hpo.py, --weights {args.weights}, --epochs {args.epochs})", file=sys.stderr)
    kennel.sm.create_training_job(
        TrainingJobName=job,
        AlgorithmSpecification={"TrainingImage": TRAINING_IMAGE, "TrainingInputMode": "File", "MetricDefinitions": METRICS},
        RoleArn=ROLE,
        HyperParameters={
            "epochs": str(args.epochs),
            "weights": args.weights,
            "sagemaker_program": "hpo.py",
            "sagemaker_submit_directory": HERE.as_uri(),
        },
        InputDataConfig=[{"ChannelName": "training", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": Path(args.data).resolve().as_uri()}}}],
        OutputDataConfig={"S3OutputPath": output_dir.as_uri()},
        ResourceConfig={"InstanceType": INSTANCE_TYPE, "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 4 * 3600},
    )
    try:
        kennel.sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName=job, WaiterConfig={"Delay": 5, "MaxAttempts": 2880})
    except WaiterError:
        pass  # Failed: described below
    described = kennel.sm.describe_training_job(TrainingJobName=job)
    if described["TrainingJobStatus"] != "Completed":
        sys.exit(f"training job {job} ended {described['TrainingJobStatus']}: {described.get('FailureReason', '')}")
    print(f"  Completed in {described.get('TrainingTimeInSeconds')} s: {described['ModelArtifacts']['S3ModelArtifacts']}", file=sys.stderr)
    return job, described


def main():
    args = parse_args()
    image = Path(args.image) if args.image else first_test_image(args.data)
    if image.suffix.lower() not in IMAGE_TYPES:
        sys.exit(f"{image} is not a .jpg or .png")
    output_dir = Path(args.output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    kennel = Kennel(args)

    job, trained = train(kennel, args, output_dir)
    artifacts = trained["ModelArtifacts"]["S3ModelArtifacts"]
    result = {
        "trainingJob": job,
        "trainingStatus": trained["TrainingJobStatus"],
        "trainingSeconds": trained.get("TrainingTimeInSeconds"),
        "finalMetrics": {m["MetricName"]: m["Value"] for m in trained.get("FinalMetricDataList", [])},
        "modelArtifacts": artifacts,
        "image": str(image),
    }
    try:
        endpoint = kennel.deploy(
            f"{args.name}-pytorch",
            {
                "Image": INFERENCE_IMAGE,
                "ModelDataUrl": artifacts,
                "Environment": {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": EXAMPLE.as_uri()},
            },
        )
        result["pytorch"] = kennel.invoke(endpoint, image)

        if args.onnx:
            onnx_archive = output_dir / job / "onnx" / "model.tar.gz"
            print(f"export_onnx.py {local_path(artifacts)} {onnx_archive}", file=sys.stderr)
            subprocess.run([sys.executable, str(EXAMPLE / "export_onnx.py"), str(local_path(artifacts)), str(onnx_archive)], check=True, stdout=sys.stderr)
            endpoint = kennel.deploy(f"{args.name}-onnx", {"Image": ONNX_IMAGE, "ModelDataUrl": onnx_archive.as_uri()})
            result["onnx"] = kennel.invoke(endpoint, image)
    finally:
        kennel.clean_up()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
