#!/usr/bin/env python3
"""Tune hpo.py with boto3 as the dog-breed notebook does with SageMaker's HyperparameterTuner,
then train the winner with fixed hyperparameters: against Kennel, in script mode.

The script runs on this machine's Python, which needs torch and torchvision for hpo.py
(Debian: apt-get install python3-torch python3-torchvision; or point KENNEL_PYTHON at a
virtualenv's python that has them). With Kennel running (`npm start`), from the project folder:

    AWS_SHARED_CREDENTIALS_FILE=.kennel/credentials AWS_PROFILE=kennel \\
        python3 examples/dog-breeds/script-mode/launch_hpo.py --data .kennel/examples/dog-breeds/dogImages

Prints one JSON line at the end: the best trial, its objective and hyperparameters, and the
final training job's model.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import boto3

IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:1.13.1-cpu-py39"
ROLE = "arn:aws:iam::000000000000:role/KennelExecutionRole"
BUCKET = "sagemaker-us-east-1-000000000000"
# The notebook's metric: what hpo.py prints as its last-but-one line.
METRICS = [{"Name": "Test Loss", "Regex": "Testing Loss: ([0-9\\.]+)"}]


def parse_args():
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint-url", default=os.environ.get("KENNEL_ENDPOINT_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--data", required=True, help="folder holding train/, valid/ and test/")
    parser.add_argument("--source-dir", default=str(here), help="folder holding the entry point")
    parser.add_argument("--entry-point", default="hpo.py")
    parser.add_argument("--name", default="dog-hpo")
    parser.add_argument("--epochs", default="2")
    parser.add_argument("--max-jobs", type=int, default=4)
    parser.add_argument("--max-parallel", type=int, default=2)
    return parser.parse_args()


def file_uri(path):
    return Path(path).resolve().as_uri()


def main():
    args = parse_args()
    sm = boto3.session.Session(region_name=args.region).client("sagemaker", endpoint_url=args.endpoint_url)
    data = [{"ChannelName": "training", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": file_uri(args.data)}}}]
    static = {
        "epochs": args.epochs,
        "sagemaker_program": args.entry_point,
        "sagemaker_submit_directory": file_uri(args.source_dir),
    }
    algorithm = {"TrainingImage": IMAGE, "TrainingInputMode": "File", "MetricDefinitions": METRICS}
    common = dict(
        RoleArn=ROLE,
        InputDataConfig=data,
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/{args.name}"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 4 * 3600},
    )

    # The notebook's search: the learning rate on a log scale, the batch size from a list.
    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=args.name,
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "Test Loss"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": args.max_jobs, "MaxParallelTrainingJobs": args.max_parallel},
            "ParameterRanges": {
                "ContinuousParameterRanges": [{"Name": "learning_rate", "MinValue": "0.001", "MaxValue": "0.1", "ScalingType": "Logarithmic"}],
                "CategoricalParameterRanges": [{"Name": "batch_size", "Values": ["32", "64", "128", "256"]}],
            },
        },
        TrainingJobDefinition={"StaticHyperParameters": static, "AlgorithmSpecification": algorithm, **common},
    )
    while True:
        tuning = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=args.name)
        counters = tuning["TrainingJobStatusCounters"]
        print(f"{tuning['HyperParameterTuningJobStatus']}: {counters['Completed']} completed, {counters['InProgress']} running", file=sys.stderr)
        if tuning["HyperParameterTuningJobStatus"] not in ("InProgress", "Stopping"):
            break
        time.sleep(5)
    if tuning["HyperParameterTuningJobStatus"] != "Completed":
        sys.exit(f"tuning job {args.name} ended {tuning['HyperParameterTuningJobStatus']}: {tuning.get('FailureReason', '')}")
    best = tuning["BestTrainingJob"]
    tuned = best["TunedHyperParameters"]

    # The winner's values, fixed, for the final model.
    final = f"{args.name}-final"
    sm.create_training_job(
        TrainingJobName=final,
        HyperParameters={**static, **tuned},
        AlgorithmSpecification=algorithm,
        **common,
    )
    sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName=final, WaiterConfig={"Delay": 5, "MaxAttempts": 2880})
    trained = sm.describe_training_job(TrainingJobName=final)
    if trained["TrainingJobStatus"] != "Completed":
        sys.exit(f"training job {final} ended {trained['TrainingJobStatus']}: {trained.get('FailureReason', '')}")
    metrics = {m["MetricName"]: m["Value"] for m in trained.get("FinalMetricDataList", [])}
    print(json.dumps({
        "bestTrainingJob": best["TrainingJobName"],
        "bestObjective": best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
        "tuned": tuned,
        "finalTrainingJob": final,
        "finalMetrics": metrics,
        "model": trained["ModelArtifacts"]["S3ModelArtifacts"],
    }))


if __name__ == "__main__":
    main()
