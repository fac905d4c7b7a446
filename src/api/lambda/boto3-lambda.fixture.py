"""boto3's lambda client against a running Kennel, as a user deploys and calls functions.

Run by clients.e2e.test.ts with KENNEL_ENDPOINT_URL and the admin's profile in the environment.
Creates a role Lambda may assume, then a Node.js function and a Python one from zips built here;
waits with the function_active_v2 and function_updated_v2 waiters; publishes a version with an
alias, sets concurrency and async settings and a permission; invokes both functions every way
Invoke allows; and provokes Lambda's errors. Prints one JSON line of findings; the test asserts
on them.
"""
import base64
import hashlib
import io
import json
import os
import urllib.request
import zipfile

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

URL = os.environ["KENNEL_ENDPOINT_URL"]
REGION = "us-east-1"
# One attempt per call: the throttle is asserted as the server gave it, not retried away.
ONCE = Config(retries={"total_max_attempts": 1})
WAIT = {"Delay": 1, "MaxAttempts": 60}

session = boto3.session.Session(region_name=REGION)
iam = session.client("iam", endpoint_url=URL)
awslambda = session.client("lambda", endpoint_url=URL, config=ONCE)
found = {"botocore": botocore.__version__, "botocore_path": botocore.__file__}


def zipped(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def error_of(call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        return {
            "code": error.response["Error"]["Code"],
            "message": error.response["Error"]["Message"],
            "status": error.response["ResponseMetadata"]["HTTPStatusCode"],
            "reason": error.response.get("Reason"),
        }
    return None


def invoked(response):
    """What Invoke answered, with the payload read and the log tail decoded."""
    body = response["Payload"].read().decode("utf-8")
    return {
        "status": response["StatusCode"],
        "function_error": response.get("FunctionError"),
        "executed_version": response.get("ExecutedVersion"),
        "payload": json.loads(body) if body else None,
        "log": base64.b64decode(response["LogResult"]).decode("utf-8") if "LogResult" in response else None,
        "request_id": response["ResponseMetadata"]["RequestId"],
    }


trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
role_arn = iam.create_role(RoleName="boto3-function-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]

node_zip = zipped({"index.mjs": "export const handler = async (event, context) => { console.log('woof from', context.functionName); return { echoed: event, version: context.functionVersion }; };"})
created = awslambda.create_function(
    FunctionName="boto3-node",
    Runtime="nodejs20.x",
    Handler="index.handler",
    Role=role_arn,
    Code={"ZipFile": node_zip},
    Environment={"Variables": {"BREED": "beagle"}},
    Tags={"made-by": "boto3"},
)
found["created"] = {key: created.get(key) for key in ["FunctionName", "FunctionArn", "State", "Version", "Runtime", "MemorySize", "Timeout", "PackageType"]}
awslambda.get_waiter("function_active_v2").wait(FunctionName="boto3-node", WaiterConfig=WAIT)
got = awslambda.get_function(FunctionName="boto3-node")
# Code.Location is presigned: a plain download, with no signing, gets the package whose hash CodeSha256 gives.
with urllib.request.urlopen(got["Code"]["Location"]) as download:
    downloaded = base64.b64encode(hashlib.sha256(download.read()).digest()).decode() == got["Configuration"]["CodeSha256"]
found["got"] = {"state": got["Configuration"]["State"], "environment": got["Configuration"]["Environment"], "tags": got["Tags"], "repository": got["Code"]["RepositoryType"], "downloaded": downloaded}
found["listed"] = sorted(fn["FunctionName"] for page in awslambda.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1}) for fn in page["Functions"])

updated = awslambda.update_function_configuration(FunctionName="boto3-node", Timeout=10, MemorySize=256, Description="echoes")
found["update_status"] = updated["LastUpdateStatus"]
awslambda.get_waiter("function_updated_v2").wait(FunctionName="boto3-node", WaiterConfig=WAIT)
configuration = awslambda.get_function_configuration(FunctionName="boto3-node")
found["updated"] = {"timeout": configuration["Timeout"], "memory": configuration["MemorySize"], "description": configuration["Description"], "status": configuration["LastUpdateStatus"]}

found["version"] = awslambda.publish_version(FunctionName="boto3-node", Description="first")["Version"]
found["alias_arn"] = awslambda.create_alias(FunctionName="boto3-node", Name="live", FunctionVersion=found["version"])["AliasArn"]
found["reserved"] = awslambda.put_function_concurrency(FunctionName="boto3-node", ReservedConcurrentExecutions=5)["ReservedConcurrentExecutions"]
provisioned = awslambda.put_provisioned_concurrency_config(FunctionName="boto3-node", Qualifier="live", ProvisionedConcurrentExecutions=1)
found["provisioned"] = {"requested": provisioned["RequestedProvisionedConcurrentExecutions"], "status": provisioned["Status"]}
account = awslambda.get_account_settings()
found["account"] = {"limit": account["AccountLimit"]["ConcurrentExecutions"], "unreserved": account["AccountLimit"]["UnreservedConcurrentExecutions"], "functions": account["AccountUsage"]["FunctionCount"]}

statement = awslambda.add_permission(FunctionName="boto3-node", StatementId="s3-invokes", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::dog-photos")["Statement"]
found["statement"] = json.loads(statement)
found["policy"] = json.loads(awslambda.get_policy(FunctionName="boto3-node")["Policy"])
event_config = awslambda.put_function_event_invoke_config(FunctionName="boto3-node", MaximumRetryAttempts=1, MaximumEventAgeInSeconds=300)
found["event_config"] = {"retries": event_config["MaximumRetryAttempts"], "age": event_config["MaximumEventAgeInSeconds"], "arn": event_config["FunctionArn"], "modified_is_datetime": hasattr(event_config["LastModified"], "isoformat")}

found["invoke_tail"] = invoked(awslambda.invoke(FunctionName="boto3-node", Payload=json.dumps({"dog": "rex"}), LogType="Tail"))
found["invoke_alias"] = invoked(awslambda.invoke(FunctionName="boto3-node", Qualifier="live", Payload=b"{}"))
found["invoke_event"] = invoked(awslambda.invoke(FunctionName="boto3-node", InvocationType="Event", Payload=b'{"dog": "later"}'))
found["invoke_dry_run"] = invoked(awslambda.invoke(FunctionName="boto3-node", InvocationType="DryRun"))

python_zip = zipped(
    {
        "app.py": "import sys\n\ndef handler(event, context):\n    print('hello from python')\n    return {'hello': event['name'], 'python': list(sys.version_info[:2]), 'request_id': context.aws_request_id, 'function': context.function_name}\n",
    }
)
awslambda.create_function(FunctionName="boto3-python", Runtime="python3.11", Handler="app.handler", Role=role_arn, Code={"ZipFile": python_zip})
awslambda.get_waiter("function_active_v2").wait(FunctionName="boto3-python", WaiterConfig=WAIT)
found["python"] = invoked(awslambda.invoke(FunctionName="boto3-python", Payload=json.dumps({"name": "fido"}), LogType="Tail"))
found["python_error"] = invoked(awslambda.invoke(FunctionName="boto3-python", Payload=b"{}"))

found["no_such_function"] = error_of(awslambda.get_function, FunctionName="ghost")
found["invoke_missing"] = error_of(awslambda.invoke, FunctionName="ghost", Payload=b"{}")
awslambda.create_function(FunctionName="boto3-closed", Runtime="nodejs20.x", Handler="index.handler", Role=role_arn, Code={"ZipFile": node_zip})
awslambda.get_waiter("function_active_v2").wait(FunctionName="boto3-closed", WaiterConfig=WAIT)
awslambda.put_function_concurrency(FunctionName="boto3-closed", ReservedConcurrentExecutions=0)
found["throttled"] = error_of(awslambda.invoke, FunctionName="boto3-closed", Payload=b"{}")
found["duplicate"] = error_of(awslambda.create_function, FunctionName="boto3-node", Runtime="nodejs20.x", Handler="index.handler", Role=role_arn, Code={"ZipFile": node_zip})
found["bad_retries"] = error_of(awslambda.put_function_event_invoke_config, FunctionName="boto3-node", MaximumRetryAttempts=3)

print(json.dumps(found))
