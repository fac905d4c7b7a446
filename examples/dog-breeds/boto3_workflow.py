#!/usr/bin/env python3
"""The SageMaker workflow of the dog-breed project, with boto3 against Kennel.

Trains Kennel's built-in image classifier on a folder of class folders, waits for
it, deploys the model to an endpoint, classifies one test image through
sagemaker-runtime, and deletes everything it made. Only the endpoint URL differs
from the same script on AWS.

With Kennel running (`npm start`), from the project folder:

    AWS_SHARED_CREDENTIALS_FILE=.kennel/credentials AWS_PROFILE=kennel \\
        python3 examples/dog-breeds/boto3_workflow.py

On the real workload (after `npm run kennel -- examples fetch dog-breeds`):

    ... python3 examples/dog-breeds/boto3_workflow.py \\
        --data .kennel/examples/dog-breeds/dogImages \\
        --backbone .kennel/examples/dog-breeds/resnet50-features.onnx --epochs 10
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import boto3

IMAGE = "kennel/image-classifier:latest"
ROLE = "arn:aws:iam::000000000000:role/KennelExecutionRole"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint-url", default=os.environ.get("KENNEL_ENDPOINT_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--data", default=".kennel/samples/images", help="folder holding train/, valid/ and test/")
    parser.add_argument("--backbone", help="ONNX backbone (default: Kennel's sample backbone)")
    parser.add_argument("--epochs", default="10")
    parser.add_argument("--learning-rate", default="0.003")
    parser.add_argument("--batch-size", default="32")
    parser.add_argument("--name", default=f"dog-breeds-{int(time.time())}", help="prefix of every resource made")
    return parser.parse_args()


def channel(name, path):
    uri = Path(path).resolve().as_uri()
    return {"ChannelName": name, "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}}}


def main():
    args = parse_args()
    session = boto3.session.Session(region_name=args.region)
    sagemaker = session.client("sagemaker", endpoint_url=args.endpoint_url)
    runtime = session.client("sagemaker-runtime", endpoint_url=args.endpoint_url)
    # SageMaker's waiters poll every 30-120 s, sized for cloud instances; a local job needs seconds.
    fast = {"Delay": 1, "MaxAttempts": 600}

    job, model, config, endpoint = (f"{args.name}-{kind}" for kind in ("job", "model", "config", "endpoint"))
    channels = [channel("training", args.data)]
    if args.backbone:
        channels.append(channel("backbone", args.backbone))

    print(f"CreateTrainingJob {job}")
    sagemaker.create_training_job(
        TrainingJobName=job,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        RoleArn=ROLE,
        HyperParameters={"epochs": args.epochs, "learning_rate": args.learning_rate, "batch_size": args.batch_size},
        InputDataConfig=channels,
        OutputDataConfig={"S3OutputPath": "s3://sagemaker-us-east-1-000000000000/dog-breeds"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    sagemaker.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName=job, WaiterConfig=fast)
    described = sagemaker.describe_training_job(TrainingJobName=job)
    if described["TrainingJobStatus"] != "Completed":
        sys.exit(f"training job {job} ended {described['TrainingJobStatus']}: {described.get('FailureReason')}")
    metrics = {m["MetricName"]: m["Value"] for m in described["FinalMetricDataList"]}
    seconds = described["TrainingTimeInSeconds"]
    print(f"  Completed in {seconds} s: test accuracy {metrics['test:accuracy']:.3f}, test loss {metrics['test:loss']:.4f}")
    artifacts = described["ModelArtifacts"]["S3ModelArtifacts"]
    print(f"  model artifacts {artifacts}")

    print(f"CreateModel {model}, CreateEndpointConfig {config}, CreateEndpoint {endpoint}")
    sagemaker.create_model(ModelName=model, PrimaryContainer={"Image": IMAGE, "ModelDataUrl": artifacts}, ExecutionRoleArn=ROLE)
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
    )
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig=fast)
    print("  InService")

    test_dir = Path(args.data) / "test"
    breed = sorted(p for p in test_dir.iterdir() if p.is_dir())[0]
    image = sorted(breed.glob("*.jpg"))[0]
    answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="image/jpeg", Body=image.read_bytes())
    predictions = json.loads(answer["Body"].read())["predictions"]
    top = predictions[0]
    print(f"InvokeEndpoint {image}: {top['label']} ({top['probability']:.3f}); the folder says {breed.name}")

    print("DeleteEndpoint, DeleteEndpointConfig, DeleteModel")
    sagemaker.delete_endpoint(EndpointName=endpoint)
    sagemaker.get_waiter("endpoint_deleted").wait(EndpointName=endpoint, WaiterConfig=fast)
    sagemaker.delete_endpoint_config(EndpointConfigName=config)
    sagemaker.delete_model(ModelName=model)
    print(json.dumps({"job": job, "testAccuracy": metrics["test:accuracy"], "predicted": top["label"], "folder": breed.name}))


if __name__ == "__main__":
    main()
