/**
 * AWS managed policies under AWS's own names and ARNs, so scripts that attach
 * `arn:aws:iam::aws:policy/AmazonSageMakerFullAccess` work against Kennel
 * unchanged. Each document is AWS's, statement for statement and Sid for Sid,
 * with what names services and resource types Kennel does not run left out:
 * an action Kennel does not know would make the policy invalid here, and a
 * statement about SageMaker Studio spaces or Glue tables would grant nothing.
 * Statements Kennel adds for its own actions (`kennel:*`) say so in their Sid.
 */

export type PolicyJsonValue = string | readonly string[];

export interface PolicyJsonStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: PolicyJsonValue;
  readonly NotAction?: PolicyJsonValue;
  readonly Resource?: PolicyJsonValue;
  readonly NotResource?: PolicyJsonValue;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, PolicyJsonValue>>>>;
}

/** A policy document as IAM's JSON spells it. */
export interface PolicyJson {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyJsonStatement[];
}

export interface ManagedPolicy {
  /** `arn:aws:iam::aws:policy/<path without its leading slash><name>` */
  readonly arn: string;
  readonly name: string;
  /** `/` or, e.g., `/service-role/` */
  readonly path: string;
  /** AWS's description of the policy. */
  readonly description: string;
  readonly document: PolicyJson;
}

function awsManaged(name: string, path: string, description: string, statements: PolicyJsonStatement[]): ManagedPolicy {
  return deepFreeze({
    arn: `arn:aws:iam::aws:policy${path}${name}`,
    name,
    path,
    description,
    document: { Version: '2012-10-17', Statement: statements },
  });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The IAM reads AWS's Lambda policies grant, so the console can show a function's role. */
const LAMBDA_ROLE_READS = [
  'iam:GetPolicy',
  'iam:GetPolicyVersion',
  'iam:GetRole',
  'iam:GetRolePolicy',
  'iam:ListAttachedRolePolicies',
  'iam:ListRolePolicies',
  'iam:ListRoles',
];

/** Bucket, object and function names with "sagemaker" in them, in the three spellings AWS's SageMaker policy matches. */
const SAGEMAKER_SPELLINGS = ['SageMaker', 'Sagemaker', 'sagemaker'];

export const MANAGED_POLICIES: readonly ManagedPolicy[] = [
  awsManaged('AdministratorAccess', '/', 'Provides full access to AWS services and resources.', [{ Effect: 'Allow', Action: '*', Resource: '*' }]),
  awsManaged('ReadOnlyAccess', '/', 'Provides read-only access to AWS services and resources.', [
    {
      Effect: 'Allow',
      Action: [
        'application-autoscaling:Describe*',
        'iam:Get*',
        'iam:List*',
        'iam:Simulate*',
        'kennel:Describe*',
        'kennel:Get*',
        'kennel:List*',
        'lambda:Get*',
        'lambda:List*',
        's3:Get*',
        's3:List*',
        'sagemaker:Describe*',
        'sagemaker:List*',
        'sts:GetCallerIdentity',
        'sts:GetSessionToken',
      ],
      Resource: '*',
    },
  ]),
  awsManaged('IAMFullAccess', '/', 'Provides full access to IAM via the AWS Management Console.', [{ Effect: 'Allow', Action: ['iam:*'], Resource: '*' }]),
  awsManaged('IAMReadOnlyAccess', '/', 'Provides read only access to IAM via the AWS Management Console.', [
    { Effect: 'Allow', Action: ['iam:Get*', 'iam:List*', 'iam:SimulateCustomPolicy', 'iam:SimulatePrincipalPolicy'], Resource: '*' },
  ]),
  awsManaged(
    'AmazonSageMakerFullAccess',
    '/',
    'Provides full access to Amazon SageMaker via the AWS Management Console and SDK. Also provides select access to related services (e.g., S3, ECR, CloudWatch Logs).',
    [
      {
        Sid: 'AllowAllNonAdminSageMakerActions',
        Effect: 'Allow',
        Action: ['sagemaker:*'],
        NotResource: [
          'arn:aws:sagemaker:*:*:domain/*',
          'arn:aws:sagemaker:*:*:user-profile/*',
          'arn:aws:sagemaker:*:*:app/*',
          'arn:aws:sagemaker:*:*:space/*',
          'arn:aws:sagemaker:*:*:flow-definition/*',
        ],
      },
      {
        Sid: 'AllowAWSServiceActions',
        Effect: 'Allow',
        Action: [
          'application-autoscaling:DeleteScalingPolicy',
          'application-autoscaling:DeregisterScalableTarget',
          'application-autoscaling:DescribeScalableTargets',
          'application-autoscaling:DescribeScalingActivities',
          'application-autoscaling:DescribeScalingPolicies',
          'application-autoscaling:PutScalingPolicy',
          'application-autoscaling:RegisterScalableTarget',
          'iam:ListRoles',
          'lambda:ListFunctions',
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
        ],
        Resource: '*',
      },
      {
        Sid: 'AllowS3ObjectActions',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        Resource: SAGEMAKER_SPELLINGS.map((spelling) => `arn:aws:s3:::*${spelling}*`),
      },
      { Sid: 'AllowS3BucketActions', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: '*' },
      {
        Sid: 'AllowLambdaInvokeFunction',
        Effect: 'Allow',
        Action: ['lambda:InvokeFunction'],
        Resource: SAGEMAKER_SPELLINGS.map((spelling) => `arn:aws:lambda:*:*:function:*${spelling}*`),
      },
      {
        Sid: 'AllowPassRoleToSageMaker',
        Effect: 'Allow',
        Action: ['iam:PassRole'],
        Resource: 'arn:aws:iam::*:role/*',
        Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      },
      // Kennel's datasets, training metrics and logs, and tuning trials stand in for what AWS keeps in S3 and CloudWatch.
      { Sid: 'AllowKennelActions', Effect: 'Allow', Action: ['kennel:*'], Resource: '*' },
    ],
  ),
  awsManaged('AmazonSageMakerReadOnly', '/', 'Provides read only access to Amazon SageMaker via the AWS Management Console and SDK.', [
    { Effect: 'Allow', Action: ['sagemaker:Describe*', 'sagemaker:List*'], Resource: '*' },
    {
      Effect: 'Allow',
      Action: ['application-autoscaling:DescribeScalableTargets', 'application-autoscaling:DescribeScalingActivities', 'application-autoscaling:DescribeScalingPolicies'],
      Resource: '*',
    },
    { Sid: 'AllowKennelReadOnlyActions', Effect: 'Allow', Action: ['kennel:Describe*', 'kennel:Get*', 'kennel:List*'], Resource: '*' },
  ]),
  awsManaged('AWSLambda_FullAccess', '/', 'Grants full access to AWS Lambda service, AWS Lambda console features, and other related AWS services.', [
    { Effect: 'Allow', Action: [...LAMBDA_ROLE_READS, 'lambda:*'], Resource: '*' },
    { Effect: 'Allow', Action: 'iam:PassRole', Resource: '*', Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } } },
  ]),
  awsManaged('AWSLambda_ReadOnlyAccess', '/', 'Grants read-only access to AWS Lambda service, AWS Lambda console features, and other related AWS services.', [
    { Effect: 'Allow', Action: [...LAMBDA_ROLE_READS, 'lambda:Get*', 'lambda:List*'], Resource: '*' },
  ]),
  awsManaged('AWSLambdaBasicExecutionRole', '/service-role/', 'Provides write permissions to CloudWatch Logs.', [
    { Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' },
  ]),
  awsManaged('AWSLambdaRole', '/service-role/', 'Default policy for AWS Lambda service role.', [{ Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: ['*'] }]),
  awsManaged('AWSLambdaExecute', '/', 'Provides Put, Get access to S3 and full access to CloudWatch Logs.', [
    { Effect: 'Allow', Action: ['logs:*'], Resource: 'arn:aws:logs:*:*:*' },
    { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::*' },
  ]),
  awsManaged('AmazonS3FullAccess', '/', 'Provides full access to all buckets via the AWS Management Console.', [{ Effect: 'Allow', Action: ['s3:*'], Resource: '*' }]),
  awsManaged('AmazonS3ReadOnlyAccess', '/', 'Provides read only access to all buckets via the AWS Management Console.', [
    { Effect: 'Allow', Action: ['s3:Get*', 's3:List*'], Resource: '*' },
  ]),
];

const BY_ARN = new Map(MANAGED_POLICIES.map((policy) => [policy.arn, policy]));

/** The AWS managed policy with this ARN (`arn:aws:iam::aws:policy/service-role/AWSLambdaRole`), or undefined. */
export function managedPolicy(arn: string): ManagedPolicy | undefined {
  return BY_ARN.get(arn);
}
