#!/usr/bin/env bash
# The SageMaker workflow of the dog-breed project, with the AWS CLI against Kennel:
# train, wait, deploy, classify one test image, delete. Only --endpoint-url differs
# from the same commands on AWS.
#
# With Kennel running (`npm start`), from the project folder:
#   AWS_SHARED_CREDENTIALS_FILE=.kennel/credentials AWS_PROFILE=kennel AWS_DEFAULT_REGION=us-east-1 \
#     examples/dog-breeds/aws_cli_workflow.sh [data-folder]
#
# AWS_CLI picks the CLI (default: aws on PATH); KENNEL_ENDPOINT_URL the server.
set -euo pipefail

aws_cli=${AWS_CLI:-aws}
url=${KENNEL_ENDPOINT_URL:-http://127.0.0.1:8080}
data=$(cd "${1:-.kennel/samples/images}" && pwd)
name=${NAME:-dog-breeds-cli-$(date +%s)}
image=kennel/image-classifier:latest
role=arn:aws:iam::000000000000:role/KennelExecutionRole

sm() { "$aws_cli" --endpoint-url "$url" sagemaker "$@"; }

echo "create-training-job $name-job"
sm create-training-job \
  --training-job-name "$name-job" \
  --algorithm-specification "TrainingImage=$image,TrainingInputMode=File" \
  --role-arn "$role" \
  --hyper-parameters epochs=10,learning_rate=0.003,batch_size=32 \
  --input-data-config "[{\"ChannelName\":\"training\",\"DataSource\":{\"S3DataSource\":{\"S3DataType\":\"S3Prefix\",\"S3Uri\":\"file://$data\"}}}]" \
  --output-data-config S3OutputPath=s3://sagemaker-us-east-1-000000000000/dog-breeds-cli \
  --resource-config InstanceType=ml.m5.large,InstanceCount=1,VolumeSizeInGB=30 \
  --stopping-condition MaxRuntimeInSeconds=3600 \
  --query TrainingJobArn --output text

# The CLI's waiter polls every 120 s, sized for cloud instances: poll faster first, then let it confirm.
while [ "$(sm describe-training-job --training-job-name "$name-job" --query TrainingJobStatus --output text)" = InProgress ]; do sleep 1; done
sm wait training-job-completed-or-stopped --training-job-name "$name-job"
status=$(sm describe-training-job --training-job-name "$name-job" --query TrainingJobStatus --output text)
[ "$status" = Completed ] || { echo "training job ended $status" >&2; exit 1; }
artifacts=$(sm describe-training-job --training-job-name "$name-job" --query ModelArtifacts.S3ModelArtifacts --output text)
echo "  Completed; test accuracy $(sm describe-training-job --training-job-name "$name-job" \
  --query "FinalMetricDataList[?MetricName=='test:accuracy'].Value" --output text); model $artifacts"

echo "create-model, create-endpoint-config, create-endpoint $name-endpoint"
sm create-model --model-name "$name-model" --primary-container "Image=$image,ModelDataUrl=$artifacts" \
  --execution-role-arn "$role" --query ModelArn --output text
sm create-endpoint-config --endpoint-config-name "$name-config" \
  --production-variants "VariantName=AllTraffic,ModelName=$name-model,InitialInstanceCount=1,InstanceType=ml.m5.large" \
  --query EndpointConfigArn --output text
sm create-endpoint --endpoint-name "$name-endpoint" --endpoint-config-name "$name-config" --query EndpointArn --output text
while [ "$(sm describe-endpoint --endpoint-name "$name-endpoint" --query EndpointStatus --output text)" = Creating ]; do sleep 1; done
sm wait endpoint-in-service --endpoint-name "$name-endpoint"
echo "  InService"

breed=$(ls "$data/test" | sort | head -n 1)
picture=$(ls "$data/test/$breed"/*.jpg | sort | head -n 1)
answer=$(mktemp)
"$aws_cli" --endpoint-url "$url" sagemaker-runtime invoke-endpoint --endpoint-name "$name-endpoint" \
  --content-type image/jpeg --body "fileb://$picture" "$answer" > /dev/null
echo "invoke-endpoint $picture (folder $breed):"
cat "$answer"; echo
rm -f "$answer"

echo "delete-endpoint, delete-endpoint-config, delete-model"
sm delete-endpoint --endpoint-name "$name-endpoint"
while sm describe-endpoint --endpoint-name "$name-endpoint" > /dev/null 2>&1; do sleep 1; done
sm wait endpoint-deleted --endpoint-name "$name-endpoint"
sm delete-endpoint-config --endpoint-config-name "$name-config"
sm delete-model --model-name "$name-model"
echo "done"
