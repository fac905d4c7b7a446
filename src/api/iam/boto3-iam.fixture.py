"""boto3's iam, sts and sagemaker clients against a running Kennel, as a user sets up a role.

Run by clients.e2e.test.ts with KENNEL_ENDPOINT_URL and the admin's profile in the environment.
As the admin: creates a user, a role that trusts it, attaches AmazonSageMakerReadOnly to the role
and an inline policy to the user, and gives the user an access key. As the user: assumes the role.
With the role's temporary credentials: one SageMaker call that the role allows and one it does not.
Prints one JSON line of findings; the test asserts on them.
"""
import json
import os

import boto3
import botocore
from botocore.exceptions import ClientError

URL = os.environ["KENNEL_ENDPOINT_URL"]
REGION = "us-east-1"
READ_ONLY = "arn:aws:iam::aws:policy/AmazonSageMakerReadOnly"

admin = boto3.session.Session(region_name=REGION)
iam = admin.client("iam", endpoint_url=URL)
found = {"botocore": botocore.__version__, "botocore_path": botocore.__file__}


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


found["admin"] = admin.client("sts", endpoint_url=URL).get_caller_identity()["Arn"]

user = iam.create_user(UserName="boto3-user", Tags=[{"Key": "made-by", "Value": "boto3"}])["User"]
found["user_arn"] = user["Arn"]
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": user["Arn"]}, "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName="boto3-reader", AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=7200)["Role"]
# botocore decodes the URL-encoded document and parses it.
found["role_trust"] = role["AssumeRolePolicyDocument"]
iam.attach_role_policy(RoleName="boto3-reader", PolicyArn=READ_ONLY)
found["role_policies"] = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="boto3-reader")["AttachedPolicies"]]

note = {"Version": "2012-10-17", "Statement": [{"Sid": "Note", "Effect": "Allow", "Action": "sagemaker:ListModels", "Resource": "*"}]}
iam.put_user_policy(UserName="boto3-user", PolicyName="note", PolicyDocument=json.dumps(note))
found["user_policy"] = iam.get_user_policy(UserName="boto3-user", PolicyName="note")["PolicyDocument"]

key = iam.create_access_key(UserName="boto3-user")["AccessKey"]
as_user = boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name=REGION)
found["user_caller"] = as_user.client("sts", endpoint_url=URL).get_caller_identity()["Arn"]
found["user_lists_endpoints"] = error_of(as_user.client("sagemaker", endpoint_url=URL).list_endpoints)

assumed = as_user.client("sts", endpoint_url=URL).assume_role(RoleArn=role["Arn"], RoleSessionName="boto3-session", DurationSeconds=3600)
credentials = assumed["Credentials"]
found["assumed_arn"] = assumed["AssumedRoleUser"]["Arn"]
found["expiration_is_datetime"] = hasattr(credentials["Expiration"], "isoformat")
found["too_long"] = error_of(as_user.client("sts", endpoint_url=URL).assume_role, RoleArn=role["Arn"], RoleSessionName="too-long", DurationSeconds=7201)

as_role = boto3.session.Session(
    aws_access_key_id=credentials["AccessKeyId"],
    aws_secret_access_key=credentials["SecretAccessKey"],
    aws_session_token=credentials["SessionToken"],
    region_name=REGION,
)
found["role_caller"] = as_role.client("sts", endpoint_url=URL).get_caller_identity()["Arn"]
sagemaker = as_role.client("sagemaker", endpoint_url=URL)
found["role_endpoints"] = sagemaker.list_endpoints()["Endpoints"]
found["role_delete_endpoint"] = error_of(sagemaker.delete_endpoint, EndpointName="x")
found["role_create_user"] = error_of(as_role.client("iam", endpoint_url=URL).create_user, UserName="not-allowed")

simulated = iam.simulate_principal_policy(PolicySourceArn=role["Arn"], ActionNames=["sagemaker:ListEndpoints", "sagemaker:DeleteEndpoint"])
found["simulated"] = {r["EvalActionName"]: r["EvalDecision"] for r in simulated["EvaluationResults"]}
found["users"] = sorted(u["UserName"] for page in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 1}) for u in page["Users"])
found["no_such_user"] = error_of(iam.get_user, UserName="ghost")
found["duplicate_user"] = error_of(iam.create_user, UserName="BOTO3-USER")
found["delete_conflict"] = error_of(iam.delete_user, UserName="boto3-user")

print(json.dumps(found))
