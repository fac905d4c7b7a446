"""boto3 deploys inference scripts on Kennel and invokes them through sagemaker-runtime.

Run by inference-scripts.e2e.test.ts with KENNEL_ENDPOINT_URL, WORK (an empty folder) and
the credentials in the environment, on a Python with numpy. Prints one JSON line of
findings; the test asserts on them.
"""
import io
import json
import os
import tarfile

import boto3
import numpy as np
from botocore.exceptions import ClientError, WaiterError

URL = os.environ["KENNEL_ENDPOINT_URL"]
WORK = os.environ["WORK"]
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:1.13.1-cpu-py39"
ROLE = "arn:aws:iam::000000000000:role/KennelExecutionRole"
BUCKET = "sagemaker-us-east-1-000000000000"

session = boto3.session.Session(region_name="us-east-1")
sm = session.client("sagemaker", endpoint_url=URL)
runtime = session.client("sagemaker-runtime", endpoint_url=URL)
found = {}

ALL_FOUR = '''
import json, os
import numpy as np

def model_fn(model_dir):
    return np.load(os.path.join(model_dir, "weights.npy"))

def input_fn(body, content_type):
    return np.array(json.loads(body)["inputs"], dtype=np.float64)

def predict_fn(data, model):
    if np.any(data < 0):
        raise ValueError("negative inputs are not allowed")
    return data @ model

def output_fn(prediction, accept):
    return json.dumps({"outputs": prediction.tolist()}), accept
'''

ONLY_MODEL_FN = '''
import os
import numpy as np

class Scale:
    def __init__(self, factor):
        self.factor = factor
    def __call__(self, data):
        return data * self.factor

def model_fn(model_dir):
    return Scale(float(np.load(os.path.join(model_dir, "factor.npy"))))
'''

BROKEN = '''
def model_fn(model_dir):
    raise ValueError("weights.npy is from another model")
'''

TRAIN = '''
import argparse, os
import numpy as np
parser = argparse.ArgumentParser()
parser.add_argument("--factor", type=float, default=1.0)
args = parser.parse_args()
np.save(os.path.join(os.environ["SM_MODEL_DIR"], "factor.npy"), np.array(args.factor))
print("saved factor", args.factor)
'''


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def tar_gz(path, files):
    """A model.tar.gz (or sourcedir.tar.gz) of {name: bytes}, as tarfile writes it."""
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return "file://" + path


def npy(array):
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array))
    return buffer.getvalue()


def deploy(name, container, wait=True):
    sm.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer=container)
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    if wait:
        sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})


def invoke(name, payload, **kwargs):
    try:
        answer = runtime.invoke_endpoint(EndpointName=name, ContentType="application/json", Body=json.dumps(payload), **kwargs)
        return {"status": 200, "contentType": answer["ContentType"], "body": json.loads(answer["Body"].read())}
    except ClientError as error:
        return {
            "status": error.response["ResponseMetadata"]["HTTPStatusCode"],
            "code": error.response["Error"]["Code"],
            "message": error.response["Error"]["Message"],
            "originalStatusCode": error.response.get("OriginalStatusCode"),
            "originalMessage": error.response.get("OriginalMessage"),
        }


# 1. All four functions, the code inside model.tar.gz as the SageMaker SDK repacks it.
linear = tar_gz(os.path.join(WORK, "linear.tar.gz"), {"weights.npy": npy([[1.0, 2.0], [3.0, 4.0]]), "code/inference.py": ALL_FOUR.encode()})
deploy("linear", {"Image": IMAGE, "ModelDataUrl": linear, "Environment": {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}})
found["linear"] = [
    invoke("linear", {"inputs": [[1, 1]]}, Accept="application/json"),
    invoke("linear", {"inputs": [[-1, 0]]}),
    invoke("linear", {"inputs": [[0, 1]]}, Accept="application/json"),
]

# 2. Only model_fn, the code as a sourcedir.tar.gz named by SAGEMAKER_SUBMIT_DIRECTORY (the SDK's other layout).
defaults = tar_gz(os.path.join(WORK, "defaults.tar.gz"), {"factor.npy": npy(3.0)})
source = tar_gz(os.path.join(WORK, "sourcedir.tar.gz"), {"inference.py": ONLY_MODEL_FN.encode()})
deploy("defaults", {"Image": IMAGE, "ModelDataUrl": defaults, "Environment": {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": source}})
found["defaults"] = invoke("defaults", [[1, 2], [3, 4]])

# 3. A model_fn that raises: the endpoint fails, with the error as its FailureReason.
broken = tar_gz(os.path.join(WORK, "broken.tar.gz"), {"code/inference.py": BROKEN.encode()})
deploy("broken", {"Image": IMAGE, "ModelDataUrl": broken}, wait=False)
try:
    sm.get_waiter("endpoint_in_service").wait(EndpointName="broken", WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    found["brokenWaiter"] = "passed"
except WaiterError as error:
    found["brokenWaiter"] = str(error)
described = sm.describe_endpoint(EndpointName="broken")
found["broken"] = {"status": described["EndpointStatus"], "reason": described.get("FailureReason")}

# 4. A script-mode training job's ModelArtifacts, deployed with an inference script: no repacking by hand.
write(os.path.join(WORK, "train", "train.py"), TRAIN)
write(os.path.join(WORK, "serve", "inference.py"), ONLY_MODEL_FN)
write(os.path.join(WORK, "data", "README"), "no data needed")
sm.create_training_job(
    TrainingJobName="scale-job",
    AlgorithmSpecification={"TrainingImage": "kennel/python:3", "TrainingInputMode": "File"},
    HyperParameters={"factor": "5", "sagemaker_program": "train.py", "sagemaker_submit_directory": "file://" + os.path.join(WORK, "train")},
    RoleArn=ROLE,
    InputDataConfig=[{"ChannelName": "training", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "file://" + os.path.join(WORK, "data")}}}],
    OutputDataConfig={"S3OutputPath": "s3://" + BUCKET + "/scale"},
    ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
    StoppingCondition={"MaxRuntimeInSeconds": 600},
)
sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName="scale-job", WaiterConfig={"Delay": 1, "MaxAttempts": 300})
job = sm.describe_training_job(TrainingJobName="scale-job")
found["trainingStatus"] = job["TrainingJobStatus"]
artifacts = job["ModelArtifacts"]["S3ModelArtifacts"]
found["artifacts"] = artifacts
deploy(
    "trained",
    {
        "Image": IMAGE,
        "ModelDataUrl": artifacts,
        "Environment": {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "file://" + os.path.join(WORK, "serve")},
    },
)
found["trained"] = invoke("trained", [1, 2])

for name in ("linear", "defaults", "broken", "trained"):
    sm.delete_endpoint(EndpointName=name)
    sm.get_waiter("endpoint_deleted").wait(EndpointName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
print(json.dumps(found))
