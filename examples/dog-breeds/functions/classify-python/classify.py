"""The reference function in Python: {"url": ...} or {"image_base64": ...} in, the top-5 breeds out.

Kennel injects the execution role's credentials and the AWS_ENDPOINT_URL* variables. Newer boto3
reads AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME itself; Debian's boto3 (1.26) predates those variables,
so the endpoint is passed explicitly, which works with every boto3.
"""
import base64
import json
import os

import boto3

ENDPOINT_NAME = os.environ.get("ENDPOINT_NAME", "dog-breeds")
runtime = boto3.client(
    "sagemaker-runtime",
    endpoint_url=os.environ.get("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME") or os.environ.get("AWS_ENDPOINT_URL"),
)


def handler(event, context):
    if isinstance(event, dict) and isinstance(event.get("url"), str):
        content_type, body = "application/json", json.dumps({"url": event["url"]})
    elif isinstance(event, dict) and isinstance(event.get("image_base64"), str):
        content_type, body = "application/x-image", base64.b64decode(event["image_base64"])
    else:
        return {"statusCode": 400, "body": {"message": 'Send {"url": "https://..."} or {"image_base64": "..."}'}}
    answer = runtime.invoke_endpoint(
        EndpointName=ENDPOINT_NAME, ContentType=content_type, Accept="application/json", CustomAttributes="top_k=5", Body=body
    )
    predictions = json.loads(answer["Body"].read())["predictions"]
    return {"statusCode": 200, "body": [{"label": p["label"], "probability": p["probability"]} for p in predictions[:5]]}
