"""boto3's application-autoscaling client against a running Kennel.

Run by clients.e2e.test.ts with KENNEL_ENDPOINT_URL, ENDPOINT (an endpoint in service with a
variant AllTraffic) and the credentials in the environment. Prints one JSON line of findings;
the test asserts on them. Deregisters what it registered.
"""
import json
import os

import boto3
import botocore
from botocore.exceptions import ClientError

URL = os.environ["KENNEL_ENDPOINT_URL"]
ENDPOINT = os.environ["ENDPOINT"]
RESOURCE_ID = f"endpoint/{ENDPOINT}/variant/AllTraffic"
TARGET = {"ServiceNamespace": "sagemaker", "ResourceId": RESOURCE_ID, "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"}

client = boto3.session.Session(region_name="us-east-1").client("application-autoscaling", endpoint_url=URL)
found = {"botocore": botocore.__version__, "botocore_path": botocore.__file__}


def error_of(call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        return {"code": error.response["Error"]["Code"], "message": error.response["Error"]["Message"]}
    return None


client.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=3)
client.register_scalable_target(**TARGET, MaxCapacity=4)
put = client.put_scaling_policy(
    **TARGET,
    PolicyName="boto3-invocations",
    PolicyType="TargetTrackingScaling",
    TargetTrackingScalingPolicyConfiguration={
        "TargetValue": 70.0,
        "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
        "ScaleInCooldown": 30,
        "ScaleOutCooldown": 30,
    },
)
found["policy_arn"] = put["PolicyARN"]
found["alarms"] = [alarm["AlarmName"] for alarm in put["Alarms"]]

targets = [t for page in client.get_paginator("describe_scalable_targets").paginate(ServiceNamespace="sagemaker", PaginationConfig={"PageSize": 1}) for t in page["ScalableTargets"]]
found["targets"] = [{"ResourceId": t["ResourceId"], "MinCapacity": t["MinCapacity"], "MaxCapacity": t["MaxCapacity"]} for t in targets]
policies = client.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=RESOURCE_ID)["ScalingPolicies"]
found["policy"] = policies[0]["TargetTrackingScalingPolicyConfiguration"]
found["policy_created_is_datetime"] = hasattr(policies[0]["CreationTime"], "isoformat")
activities = [a for page in client.get_paginator("describe_scaling_activities").paginate(ServiceNamespace="sagemaker", ResourceId=RESOURCE_ID, ScalableDimension=TARGET["ScalableDimension"]) for a in page["ScalingActivities"]]
found["activity_resources"] = sorted({a["ResourceId"] for a in activities})
found["activity_descriptions"] = [a["Description"] for a in activities]

found["step_scaling"] = error_of(client.put_scaling_policy, **TARGET, PolicyName="steps", PolicyType="StepScaling")
found["bad_resource"] = error_of(client.register_scalable_target, **{**TARGET, "ResourceId": f"endpoint/{ENDPOINT}"}, MinCapacity=1, MaxCapacity=2)
found["missing_policy"] = error_of(client.delete_scaling_policy, **TARGET, PolicyName="never-put")

client.delete_scaling_policy(**TARGET, PolicyName="boto3-invocations")
client.deregister_scalable_target(**TARGET)
found["missing_target"] = error_of(client.deregister_scalable_target, **TARGET)
print(json.dumps(found))
