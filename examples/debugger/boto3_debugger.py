"""Debugger rules on Kennel with boto3, as the SageMaker Python SDK would configure them.

Runs diverging.py (next to this file) twice in script mode: once at a learning
rate that converges, once at one that explodes, with ExplodingTensor set to
stop the job and the profiler's ProfilerReport. Prints each job's status and
rule evaluations as one JSON line.

    KENNEL_ENDPOINT_URL=http://127.0.0.1:8080 AWS_SHARED_CREDENTIALS_FILE=.kennel/credentials \\
      AWS_PROFILE=kennel python3 examples/debugger/boto3_debugger.py --data ./some-folder
"""
import argparse
import json
import os

import boto3

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True, help="any folder: the script makes its own data, SageMaker needs a channel")
parser.add_argument("--name", default="debugger")
args = parser.parse_args()

URL = os.environ.get("KENNEL_ENDPOINT_URL", "http://127.0.0.1:8080")
BUCKET = "sagemaker-us-east-1-000000000000"
RULES_IMAGE = "503895931360.dkr.ecr.us-east-1.amazonaws.com/sagemaker-debugger-rules:latest"
HERE = os.path.dirname(os.path.abspath(__file__))

sm = boto3.session.Session(region_name="us-east-1").client("sagemaker", endpoint_url=URL)


def train(name, learning_rate, epochs):
    sm.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": "kennel/python:latest", "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::000000000000:role/KennelExecutionRole",
        HyperParameters={
            "learning_rate": str(learning_rate),
            "epochs": str(epochs),
            "sagemaker_program": "diverging.py",
            "sagemaker_submit_directory": "file://" + HERE,
        },
        InputDataConfig=[{"ChannelName": "training", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "file://" + os.path.abspath(args.data)}}}],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/{args.name}"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
        DebugHookConfig={"S3OutputPath": f"s3://{BUCKET}/{args.name}/tensors", "HookParameters": {"save_interval": "5"}},
        DebugRuleConfigurations=[
            {
                "RuleConfigurationName": "ExplodingTensor",
                "RuleEvaluatorImage": RULES_IMAGE,
                # As the SageMaker SDK's ActionList(StopTraining()) serialises it, quotes escaped.
                "RuleParameters": {"rule_to_invoke": "ExplodingTensor", "action_json": '[{\\"name\\": \\"stoptraining\\", \\"training_job_prefix\\": \\"%s\\"}]' % name},
            }
        ],
        ProfilerConfig={"S3OutputPath": f"s3://{BUCKET}/{args.name}/profiler", "ProfilingIntervalInMilliseconds": 100},
        ProfilerRuleConfigurations=[
            {"RuleConfigurationName": "ProfilerReport", "RuleEvaluatorImage": RULES_IMAGE, "RuleParameters": {"rule_to_invoke": "ProfilerReport", "StepOutlier_n_outliers": "100000"}}
        ],
    )
    sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 300})
    job = sm.describe_training_job(TrainingJobName=name)
    statuses = job.get("DebugRuleEvaluationStatuses", []) + job.get("ProfilerRuleEvaluationStatuses", [])
    return {
        "status": job["TrainingJobStatus"],
        "profiling": job.get("ProfilingStatus"),
        "rules": {s["RuleConfigurationName"]: {"status": s["RuleEvaluationStatus"], "details": s.get("StatusDetails", ""), "arn": s["RuleEvaluationJobArn"]} for s in statuses},
    }


result = {
    "healthy": train(f"{args.name}-healthy", 0.05, 20),
    "exploding": train(f"{args.name}-exploding", 50, 20000),
}
print(json.dumps(result))
