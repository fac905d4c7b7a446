import { ACCOUNT_ID } from '../../src/domain/iam/arn.ts';

/**
 * The policies of the bench's two callers. The typical caller has AWS's
 * AmazonSageMakerFullAccess and this small inline policy; the large-policy
 * caller has only LARGE_POLICY, a customer managed policy of 20 statements
 * with conditions, most of which do not apply to sagemaker:DescribeEndpoint on a
 * `team=vision`, `env=prod` endpoint from 10.20.30.40; three allow it after
 * their conditions pass (one through NotAction), and one denies an unrelated
 * action.
 */

const ENDPOINTS = `arn:aws:sagemaker:us-east-1:${ACCOUNT_ID}:endpoint`;

export const TYPICAL_INLINE_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Sid: 'ReadTeamData', Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::vision-team-data', 'arn:aws:s3:::vision-team-data/*'] },
  ],
});

export const LARGE_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    // Allow, after conditions on the resource's tags, the source address and the time.
    {
      Sid: 'DescribeOwnTeamsEndpoints',
      Effect: 'Allow',
      Action: ['sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig'],
      Resource: `${ENDPOINTS}/bench-*`,
      Condition: { StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' }, IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '172.16.0.0/12'] } },
    },
    { Sid: 'ReadDuringProject', Effect: 'Allow', Action: ['sagemaker:Describe*', 'sagemaker:List*'], Resource: '*', Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } } },
    { Sid: 'AllButAdminFromTheLab', Effect: 'Allow', NotAction: ['iam:*', 'sts:*', 'sagemaker:Delete*'], Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.20.0.0/16' } } },
    // Do not apply: the action, the resource or a condition differs.
    { Sid: 'InvokeOnlyOverTls', Effect: 'Allow', Action: 'sagemaker:InvokeEndpoint', Resource: `${ENDPOINTS}/*`, Condition: { Bool: { 'aws:SecureTransport': 'true' } } },
    { Sid: 'DescribeFromOffice', Effect: 'Allow', Action: 'sagemaker:DescribeEndpoint', Resource: `${ENDPOINTS}/*`, Condition: { IpAddress: { 'aws:SourceIp': ['192.168.0.0/16', '203.0.113.0/24'] } } },
    { Sid: 'DescribeAfterCutover', Effect: 'Allow', Action: 'sagemaker:Describe*', Resource: `${ENDPOINTS}/*`, Condition: { DateGreaterThan: { 'aws:CurrentTime': '2099-01-01T00:00:00Z' } } },
    { Sid: 'DescribeStagingEndpoints', Effect: 'Allow', Action: 'sagemaker:DescribeEndpoint', Resource: `${ENDPOINTS}/*`, Condition: { StringEquals: { 'aws:ResourceTag/env': ['staging', 'dev'] } } },
    { Sid: 'DescribeOtherCostCentres', Effect: 'Allow', Action: 'sagemaker:Describe*', Resource: `${ENDPOINTS}/*`, Condition: { StringLike: { 'aws:ResourceTag/cost-center': 'cc-9*' }, Bool: { 'aws:SecureTransport': 'true' } } },
    {
      Sid: 'TrainTaggedJobs',
      Effect: 'Allow',
      Action: ['sagemaker:CreateTrainingJob', 'sagemaker:CreateHyperParameterTuningJob'],
      Resource: `arn:aws:sagemaker:us-east-1:${ACCOUNT_ID}:*`,
      Condition: { 'ForAnyValue:StringLike': { 'aws:TagKeys': ['team', 'project-*'] }, StringEquals: { 'aws:RequestTag/team': '${aws:PrincipalTag/team}' } },
    },
    { Sid: 'PassExecutionRole', Effect: 'Allow', Action: 'iam:PassRole', Resource: `arn:aws:iam::${ACCOUNT_ID}:role/vision-*`, Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } } },
    { Sid: 'TeamObjects', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::vision-*/*', Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT_ID}:user/vision-*` } } },
    { Sid: 'InvokeSageMakerFunctions', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: `arn:aws:lambda:us-east-1:${ACCOUNT_ID}:function:*sagemaker*` },
    { Sid: 'ScaleTeamVariants', Effect: 'Allow', Action: ['application-autoscaling:RegisterScalableTarget', 'application-autoscaling:PutScalingPolicy'], Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } } },
    { Sid: 'KennelDatasets', Effect: 'Allow', Action: ['kennel:DescribeDataset', 'kennel:ListDatasets'], Resource: '*', Condition: { StringEquals: { 'aws:username': ['vision-ci', 'vision-bot'] } } },
    { Sid: 'ReadOutsideTrainingJobs', Effect: 'Allow', Action: 'sagemaker:Describe*', NotResource: `arn:aws:sagemaker:*:${ACCOUNT_ID}:endpoint/*`, Condition: { StringEquals: { 'aws:PrincipalTag/role': 'reviewer' } } },
    { Sid: 'TagTeamModels', Effect: 'Allow', Action: ['sagemaker:AddTags', 'sagemaker:DeleteTags'], Resource: `arn:aws:sagemaker:us-east-1:${ACCOUNT_ID}:model/*`, Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'owner'] } } },
    { Sid: 'OwnKeys', Effect: 'Allow', Action: ['iam:ListAccessKeys', 'iam:CreateAccessKey'], Resource: `arn:aws:iam::${ACCOUNT_ID}:user/\${aws:username}` },
    { Sid: 'SessionTokens', Effect: 'Allow', Action: 'sts:GetSessionToken', Resource: '*', Condition: { NumericLessThanEquals: { 'aws:MultiFactorAuthAge': '3600' } } },
    { Sid: 'ObserveEndpoints', Effect: 'Allow', Action: ['sagemaker:InvokeEndpoint', 'sagemaker:ListTags'], Resource: `${ENDPOINTS}/bench-*`, Condition: { StringEquals: { 'aws:ResourceTag/team': 'vision' } } },
    // The explicit deny, on another action.
    { Sid: 'NeverDeleteProduction', Effect: 'Deny', Action: ['sagemaker:DeleteEndpoint', 'sagemaker:DeleteEndpointConfig'], Resource: `${ENDPOINTS}/*`, Condition: { StringEquals: { 'aws:ResourceTag/env': 'prod' } } },
  ],
});

/** IAM counts a policy's size without whitespace. */
export function policyCharacters(document: string): number {
  return document.replace(/\s/g, '').length;
}
