"""boto3 against a running Kennel: paginators, waiters and error codes.

Run by examples.e2e.test.ts after boto3_workflow.py, with KENNEL_ENDPOINT_URL,
DATA (a folder of images in the dogImages layout) and the credentials in the
environment. Prints one JSON line of findings; the test asserts on them.
"""
import json
import os
import sys
import time

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError, WaiterError

URL = os.environ["KENNEL_ENDPOINT_URL"]
DATA = os.environ["DATA"]
IMAGE = "kennel/image-classifier:latest"
ROLE = "arn:aws:iam::000000000000:role/KennelExecutionRole"
BUCKET = "sagemaker-us-east-1-000000000000"

session = boto3.session.Session(region_name="us-east-1")
sm = session.client("sagemaker", endpoint_url=URL)
unchecked = session.client("sagemaker", endpoint_url=URL, config=Config(parameter_validation=False))
found = {"boto3": boto3.__version__, "botocore": botocore.__version__, "botocore_path": botocore.__file__}
called = set()
sm.meta.events.register("after-call.sagemaker", lambda model, **_: called.add(model.name))


def error_of(call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        return {
            "code": error.response["Error"]["Code"],
            "message": error.response["Error"]["Message"],
            "status": error.response["ResponseMetadata"]["HTTPStatusCode"],
        }
    return None


def job_request(name, uri):
    return dict(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        RoleArn=ROLE,
        HyperParameters={"epochs": "2"},
        InputDataConfig=[{"ChannelName": "training", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}}}],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/checks"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )


fast = {"Delay": 1, "MaxAttempts": 300}
data_uri = "file://" + os.path.abspath(DATA)
for name in ("checks-a", "checks-b", "checks-c"):
    sm.create_training_job(**job_request(name, data_uri))
for name in ("checks-a", "checks-b", "checks-c"):
    sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName=name, WaiterConfig=fast)

pages = sm.get_paginator("list_training_jobs").paginate(
    NameContains="checks-", SortBy="Name", SortOrder="Ascending", PaginationConfig={"PageSize": 2}
)
found["pages"] = [[job["TrainingJobName"] for job in page["TrainingJobSummaries"]] for page in pages]
found["creation_time_type"] = type(sm.describe_training_job(TrainingJobName="checks-a")["CreationTime"]).__name__

found["duplicate_job"] = error_of(sm.create_training_job, **job_request("checks-a", data_uri))
found["missing_data"] = error_of(sm.create_training_job, **job_request("checks-nodata", f"s3://{BUCKET}/no/such/prefix"))
found["missing_model"] = error_of(sm.describe_model, ModelName="checks-nope")
found["missing_job"] = error_of(sm.describe_training_job, TrainingJobName="checks-nope")
missing_role = job_request("checks-norole", data_uri)
del missing_role["RoleArn"]
found["missing_role"] = error_of(unchecked.create_training_job, **missing_role)

artifacts = sm.describe_training_job(TrainingJobName="checks-a")["ModelArtifacts"]["S3ModelArtifacts"]
sm.create_model(ModelName="checks-model", PrimaryContainer={"Image": IMAGE, "ModelDataUrl": artifacts}, ExecutionRoleArn=ROLE)
sm.create_endpoint_config(
    EndpointConfigName="checks-big",
    ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "checks-model", "InitialInstanceCount": 9, "InstanceType": "ml.m5.large"}],
)
found["too_many_instances"] = error_of(sm.create_endpoint, EndpointName="checks-big", EndpointConfigName="checks-big")

found["described_config"] = sm.describe_endpoint_config(EndpointConfigName="checks-big")["ProductionVariants"][0]["InitialInstanceCount"]
found["listed"] = {
    "models": [m["ModelName"] for m in sm.list_models(NameContains="checks-")["Models"]],
    "configs": [c["EndpointConfigName"] for c in sm.list_endpoint_configs(NameContains="checks-")["EndpointConfigs"]],
    "endpoints": [e["EndpointName"] for e in sm.list_endpoints(NameContains="checks-")["Endpoints"]],
}
sm.create_training_job(**{**job_request("stopped-by-boto3", data_uri), "HyperParameters": {"epochs": "10000"}})
sm.stop_training_job(TrainingJobName="stopped-by-boto3")
sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName="stopped-by-boto3", WaiterConfig=fast)
found["stopped"] = sm.describe_training_job(TrainingJobName="stopped-by-boto3")["TrainingJobStatus"]
sm.create_endpoint_config(
    EndpointConfigName="checks-one",
    ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "checks-model", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
)
sm.create_endpoint(EndpointName="checks-endpoint", EndpointConfigName="checks-one")
sm.get_waiter("endpoint_in_service").wait(EndpointName="checks-endpoint", WaiterConfig=fast)
sm.update_endpoint_weights_and_capacities(
    EndpointName="checks-endpoint", DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredWeight": 2.0, "DesiredInstanceCount": 2}]
)
sm.get_waiter("endpoint_in_service").wait(EndpointName="checks-endpoint", WaiterConfig=fast)
variant = sm.describe_endpoint(EndpointName="checks-endpoint")["ProductionVariants"][0]
found["scaled"] = {key: variant[key] for key in ("CurrentInstanceCount", "DesiredInstanceCount", "CurrentWeight", "DesiredWeight")}
sm.create_endpoint_config(
    EndpointConfigName="checks-two",
    ProductionVariants=[{"VariantName": "Blue", "ModelName": "checks-model", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
)
sm.update_endpoint(EndpointName="checks-endpoint", EndpointConfigName="checks-two")
found["update_in_progress"] = error_of(sm.update_endpoint, EndpointName="checks-endpoint", EndpointConfigName="checks-two")
sm.get_waiter("endpoint_in_service").wait(EndpointName="checks-endpoint", WaiterConfig=fast)
updated = sm.describe_endpoint(EndpointName="checks-endpoint")
found["updated"] = {"config": updated["EndpointConfigName"], "variants": [v["VariantName"] for v in updated["ProductionVariants"]]}
sm.delete_endpoint(EndpointName="checks-endpoint")
sm.get_waiter("endpoint_deleted").wait(EndpointName="checks-endpoint", WaiterConfig=fast)
sm.delete_endpoint_config(EndpointConfigName="checks-one")
sm.delete_endpoint_config(EndpointConfigName="checks-two")
sm.create_model(ModelName="scratch", PrimaryContainer={"Image": IMAGE, "ModelDataUrl": artifacts}, ExecutionRoleArn=ROLE)
sm.delete_model(ModelName="scratch")

arn = "arn:aws:sagemaker:us-east-1:000000000000:model/checks-model"
sm.add_tags(ResourceArn=arn, Tags=[{"Key": "owner", "Value": "boto3"}])
found["tags"] = sm.list_tags(ResourceArn=arn)["Tags"]
sm.delete_tags(ResourceArn=arn, TagKeys=["owner"])
found["tags_after_delete"] = sm.list_tags(ResourceArn=arn)["Tags"]

# endpoint_deleted succeeds on the ValidationException of a missing endpoint; in_service fails on it.
sm.get_waiter("endpoint_deleted").wait(EndpointName="checks-never", WaiterConfig=fast)
found["deleted_waiter"] = "success"
try:
    sm.get_waiter("endpoint_in_service").wait(EndpointName="checks-never", WaiterConfig=fast)
    found["in_service_waiter"] = "success"
except WaiterError as error:
    found["in_service_waiter"] = str(error)



def tuning_request(name, epochs="2", max_jobs=3, **config):
    return dict(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig={
            "Strategy": "Random",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:accuracy"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": max_jobs, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {
                "ContinuousParameterRanges": [{"Name": "learning_rate", "MinValue": "0.001", "MaxValue": "0.01", "ScalingType": "Logarithmic"}],
                "IntegerParameterRanges": [{"Name": "hidden_units", "MinValue": "16", "MaxValue": "64"}],
                "CategoricalParameterRanges": [{"Name": "batch_size", "Values": ["8", "16"]}],
            },
            **config,
        },
        TrainingJobDefinition={
            "StaticHyperParameters": {"epochs": epochs},
            "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE,
            "InputDataConfig": [{"ChannelName": "training", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": data_uri}}}],
            "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/hpo-first"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    )


def wait_for_tuning(name):
    while True:
        described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        if described["HyperParameterTuningJobStatus"] not in ("InProgress", "Stopping"):
            return described
        time.sleep(0.2)


sm.create_hyper_parameter_tuning_job(**tuning_request("hpo-first"))
tuned = wait_for_tuning("hpo-first")
found["tuning"] = {
    "status": tuned["HyperParameterTuningJobStatus"],
    "counters": tuned["TrainingJobStatusCounters"],
    "objective_counters": tuned["ObjectiveStatusCounters"],
    "best": tuned.get("BestTrainingJob", {}).get("FinalHyperParameterTuningJobObjectiveMetric"),
    "best_name": tuned.get("BestTrainingJob", {}).get("TrainingJobName"),
    "end_time_type": type(tuned.get("HyperParameterTuningEndTime")).__name__,
}
trial_pages = sm.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job").paginate(
    HyperParameterTuningJobName="hpo-first", SortBy="FinalObjectiveMetricValue", SortOrder="Descending", PaginationConfig={"PageSize": 2}
)
found["trials"] = [
    {"name": trial["TrainingJobName"], "value": trial["FinalHyperParameterTuningJobObjectiveMetric"]["Value"], "tuned": trial["TunedHyperParameters"]}
    for page in trial_pages
    for trial in page["TrainingJobSummaries"]
]
sm.create_hyper_parameter_tuning_job(**tuning_request("hpo-stopped", epochs="10000", max_jobs=4))
sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="hpo-stopped")
found["tuning_stopped"] = wait_for_tuning("hpo-stopped")["HyperParameterTuningJobStatus"]
found["tuning_listed"] = [job["HyperParameterTuningJobName"] for job in sm.list_hyper_parameter_tuning_jobs(NameContains="hpo-")["HyperParameterTuningJobSummaries"]]
found["tuning_duplicate"] = error_of(sm.create_hyper_parameter_tuning_job, **tuning_request("hpo-first"))
found["tuning_missing"] = error_of(sm.describe_hyper_parameter_tuning_job, HyperParameterTuningJobName="hpo-nope")
backwards = tuning_request("hpo-backwards")
backwards["HyperParameterTuningJobConfig"]["ParameterRanges"]["ContinuousParameterRanges"][0].update(MinValue="0.1", MaxValue="0.01")
found["tuning_min_over_max"] = error_of(sm.create_hyper_parameter_tuning_job, **backwards)
found["tuning_unknown_strategy"] = error_of(unchecked.create_hyper_parameter_tuning_job, **tuning_request("hpo-strategy", Strategy="Genetic"))
found["tuning_too_parallel"] = error_of(sm.create_hyper_parameter_tuning_job, **tuning_request("hpo-parallel", max_jobs=1))

found["operations"] = sorted(called)
json.dump(found, sys.stdout)
print()
