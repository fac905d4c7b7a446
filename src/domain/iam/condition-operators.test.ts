import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import { compileCondition, CONDITION_OPERATORS } from './condition-operators.ts';
import type { PolicyVersion } from './policy-document.ts';
import { ConditionContext, type ContextValue } from './request-context.ts';

/** A Condition block of one operator, as a policy writes it: every key must hold (AND). */
type Block = Record<string, string | string[]>;

function holds(operator: string, block: Block, context: Record<string, ContextValue>, version: PolicyVersion = '2012-10-17'): boolean {
  const clauses = Object.entries(block).map(([key, values]) =>
    compileCondition({ operator, key, values: Array.isArray(values) ? values : [values] }, version, 'Statement 1'),
  );
  const ctx = new ConditionContext(Object.entries(context));
  return clauses.every((clause) => clause.evaluate(ctx));
}

interface Row {
  name: string;
  operator: string;
  block: Block;
  context: Record<string, ContextValue>;
  expected: boolean;
}

function table(title: string, rows: Row[]): void {
  describe(title, () => {
    for (const row of rows) {
      it(row.name, () => assert.equal(holds(row.operator, row.block, row.context), row.expected));
    }
  });
}

const NONE = {};

table('String operators', [
  // The doc's example: "StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}
  { name: 'StringEquals matches', operator: 'StringEquals', block: { 'aws:PrincipalTag/job-category': 'iamuser-admin' }, context: { 'aws:PrincipalTag/job-category': 'iamuser-admin' }, expected: true },
  { name: 'StringEquals is case-sensitive in values', operator: 'StringEquals', block: { 'aws:PrincipalTag/job-category': 'iamuser-admin' }, context: { 'aws:PrincipalTag/job-category': 'IAMUser-Admin' }, expected: false },
  { name: 'StringEquals: key names are case-insensitive', operator: 'StringEquals', block: { 'AWS:PRINCIPALTAG/JOB-CATEGORY': 'iamuser-admin' }, context: { 'aws:principaltag/job-category': 'iamuser-admin' }, expected: true },
  { name: 'StringEquals: several values are OR', operator: 'StringEquals', block: { 'aws:RequestedRegion': ['eu-west-1', 'us-east-1'] }, context: { 'aws:RequestedRegion': 'us-east-1' }, expected: true },
  { name: 'StringEquals: none of the values', operator: 'StringEquals', block: { 'aws:RequestedRegion': ['eu-west-1', 'us-east-1'] }, context: { 'aws:RequestedRegion': 'ap-south-1' }, expected: false },
  { name: 'StringEquals: absent key is false', operator: 'StringEquals', block: { 'aws:RequestedRegion': 'us-east-1' }, context: NONE, expected: false },
  { name: 'StringEquals: several keys are AND (both hold)', operator: 'StringEquals', block: { 'aws:RequestedRegion': 'us-east-1', 'aws:PrincipalTag/team': 'vision' }, context: { 'aws:RequestedRegion': 'us-east-1', 'aws:PrincipalTag/team': 'vision' }, expected: true },
  { name: 'StringEquals: several keys are AND (one fails)', operator: 'StringEquals', block: { 'aws:RequestedRegion': 'us-east-1', 'aws:PrincipalTag/team': 'vision' }, context: { 'aws:RequestedRegion': 'us-east-1', 'aws:PrincipalTag/team': 'audio' }, expected: false },
  { name: 'StringEquals: * is not a wildcard', operator: 'StringEquals', block: { 'aws:PrincipalTag/team': 'vi*' }, context: { 'aws:PrincipalTag/team': 'vision' }, expected: false },
  { name: 'StringNotEquals: a different value', operator: 'StringNotEquals', block: { 'aws:RequestedRegion': 'us-east-1' }, context: { 'aws:RequestedRegion': 'eu-west-1' }, expected: true },
  { name: 'StringNotEquals: the same value', operator: 'StringNotEquals', block: { 'aws:RequestedRegion': 'us-east-1' }, context: { 'aws:RequestedRegion': 'us-east-1' }, expected: false },
  { name: 'StringNotEquals: must match none of several values', operator: 'StringNotEquals', block: { 'aws:RequestedRegion': ['eu-west-1', 'us-east-1'] }, context: { 'aws:RequestedRegion': 'us-east-1' }, expected: false },
  { name: 'StringNotEquals: matches none of several values', operator: 'StringNotEquals', block: { 'aws:RequestedRegion': ['eu-west-1', 'us-east-1'] }, context: { 'aws:RequestedRegion': 'ap-south-1' }, expected: true },
  { name: 'StringNotEquals: absent key is true', operator: 'StringNotEquals', block: { 'aws:RequestedRegion': 'us-east-1' }, context: NONE, expected: true },
  { name: 'StringEqualsIgnoreCase matches in any case', operator: 'StringEqualsIgnoreCase', block: { 'aws:PrincipalTag/team': 'Vision' }, context: { 'aws:PrincipalTag/team': 'VISION' }, expected: true },
  { name: 'StringEqualsIgnoreCase: a different value', operator: 'StringEqualsIgnoreCase', block: { 'aws:PrincipalTag/team': 'Vision' }, context: { 'aws:PrincipalTag/team': 'audio' }, expected: false },
  { name: 'StringEqualsIgnoreCase: absent key is false', operator: 'StringEqualsIgnoreCase', block: { 'aws:PrincipalTag/team': 'Vision' }, context: NONE, expected: false },
  { name: 'StringNotEqualsIgnoreCase: same value in another case', operator: 'StringNotEqualsIgnoreCase', block: { 'aws:PrincipalTag/team': 'Vision' }, context: { 'aws:PrincipalTag/team': 'vIsIoN' }, expected: false },
  { name: 'StringNotEqualsIgnoreCase: a different value', operator: 'StringNotEqualsIgnoreCase', block: { 'aws:PrincipalTag/team': 'Vision' }, context: { 'aws:PrincipalTag/team': 'audio' }, expected: true },
  { name: 'StringNotEqualsIgnoreCase: absent key is true', operator: 'StringNotEqualsIgnoreCase', block: { 'aws:PrincipalTag/team': 'Vision' }, context: NONE, expected: true },
  // The doc's example: "StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}
  { name: 'StringLike: the empty prefix', operator: 'StringLike', block: { 's3:prefix': ['', 'home/', 'home/${aws:username}/'] }, context: { 's3:prefix': '', 'aws:username': 'alice' }, expected: true },
  { name: 'StringLike: the user folder through a variable', operator: 'StringLike', block: { 's3:prefix': ['', 'home/', 'home/${aws:username}/'] }, context: { 's3:prefix': 'home/alice/', 'aws:username': 'alice' }, expected: true },
  { name: 'StringLike: another user folder', operator: 'StringLike', block: { 's3:prefix': ['', 'home/', 'home/${aws:username}/'] }, context: { 's3:prefix': 'home/bob/', 'aws:username': 'alice' }, expected: false },
  { name: 'StringLike: * matches any run, / included', operator: 'StringLike', block: { 's3:prefix': 'home/*' }, context: { 's3:prefix': 'home/alice/photos/' }, expected: true },
  { name: 'StringLike: * matches the empty run', operator: 'StringLike', block: { 's3:prefix': 'home/*' }, context: { 's3:prefix': 'home/' }, expected: true },
  { name: 'StringLike: ? matches exactly one character', operator: 'StringLike', block: { 'ec2:InstanceType': 't?.micro' }, context: { 'ec2:InstanceType': 't2.micro' }, expected: true },
  { name: 'StringLike: ? does not match two', operator: 'StringLike', block: { 'ec2:InstanceType': 't?.micro' }, context: { 'ec2:InstanceType': 't21.micro' }, expected: false },
  { name: 'StringLike is case-sensitive', operator: 'StringLike', block: { 'ec2:InstanceType': 't2.*' }, context: { 'ec2:InstanceType': 'T2.micro' }, expected: false },
  { name: 'StringLike: regex metacharacters are literal', operator: 'StringLike', block: { 's3:prefix': 'a.b+(c)[d]^$|\\*' }, context: { 's3:prefix': 'a.b+(c)[d]^$|\\anything' }, expected: true },
  { name: 'StringLike: a dot is not any character', operator: 'StringLike', block: { 's3:prefix': 'a.b*' }, context: { 's3:prefix': 'axb' }, expected: false },
  { name: 'StringLike: absent key is false', operator: 'StringLike', block: { 's3:prefix': '*' }, context: NONE, expected: false },
  { name: 'StringNotLike: no pattern matches', operator: 'StringNotLike', block: { 'ec2:InstanceType': ['t1.*', 't2.*'] }, context: { 'ec2:InstanceType': 'm5.large' }, expected: true },
  { name: 'StringNotLike: a pattern matches', operator: 'StringNotLike', block: { 'ec2:InstanceType': ['t1.*', 't2.*'] }, context: { 'ec2:InstanceType': 't2.large' }, expected: false },
  { name: 'StringNotLike: absent key is true', operator: 'StringNotLike', block: { 'ec2:InstanceType': 't2.*' }, context: NONE, expected: true },
]);

table('Numeric operators', [
  // The doc's example: "NumericLessThanEquals": {"s3:max-keys": "10"}
  { name: 'NumericLessThanEquals: 10 <= 10', operator: 'NumericLessThanEquals', block: { 's3:max-keys': '10' }, context: { 's3:max-keys': '10' }, expected: true },
  { name: 'NumericLessThanEquals: 9 <= 10', operator: 'NumericLessThanEquals', block: { 's3:max-keys': '10' }, context: { 's3:max-keys': '9' }, expected: true },
  { name: 'NumericLessThanEquals: 11 > 10', operator: 'NumericLessThanEquals', block: { 's3:max-keys': '10' }, context: { 's3:max-keys': '11' }, expected: false },
  { name: 'NumericLessThanEquals: absent key is false', operator: 'NumericLessThanEquals', block: { 's3:max-keys': '10' }, context: NONE, expected: false },
  { name: 'NumericEquals compares numbers, not text', operator: 'NumericEquals', block: { 's3:max-keys': '10' }, context: { 's3:max-keys': '10.0' }, expected: true },
  { name: 'NumericEquals: different numbers', operator: 'NumericEquals', block: { 's3:max-keys': '10' }, context: { 's3:max-keys': '100' }, expected: false },
  { name: 'NumericEquals: several values are OR', operator: 'NumericEquals', block: { 's3:max-keys': ['10', '20'] }, context: { 's3:max-keys': '20' }, expected: true },
  { name: 'NumericEquals: a context value that is no number matches nothing', operator: 'NumericEquals', block: { 's3:max-keys': '10' }, context: { 's3:max-keys': 'ten' }, expected: false },
  { name: 'NumericNotEquals: a different number', operator: 'NumericNotEquals', block: { 's3:max-keys': '10' }, context: { 's3:max-keys': '11' }, expected: true },
  { name: 'NumericNotEquals: the same number', operator: 'NumericNotEquals', block: { 's3:max-keys': '10' }, context: { 's3:max-keys': '10' }, expected: false },
  { name: 'NumericNotEquals: absent key is true', operator: 'NumericNotEquals', block: { 's3:max-keys': '10' }, context: NONE, expected: true },
  { name: 'NumericLessThan: 9 < 10', operator: 'NumericLessThan', block: { 's3:max-keys': '10' }, context: { 's3:max-keys': '9' }, expected: true },
  { name: 'NumericLessThan: 10 is not < 10', operator: 'NumericLessThan', block: { 's3:max-keys': '10' }, context: { 's3:max-keys': '10' }, expected: false },
  { name: 'NumericGreaterThan: 11 > 10', operator: 'NumericGreaterThan', block: { 's3:max-keys': '10' }, context: { 's3:max-keys': '11' }, expected: true },
  { name: 'NumericGreaterThan: 10 is not > 10', operator: 'NumericGreaterThan', block: { 's3:max-keys': '10' }, context: { 's3:max-keys': '10' }, expected: false },
  { name: 'NumericGreaterThanEquals: 10 >= 10', operator: 'NumericGreaterThanEquals', block: { 's3:max-keys': '10' }, context: { 's3:max-keys': '10' }, expected: true },
  { name: 'NumericGreaterThanEquals: 9 < 10', operator: 'NumericGreaterThanEquals', block: { 's3:max-keys': '10' }, context: { 's3:max-keys': '9' }, expected: false },
  { name: 'NumericGreaterThanEquals: decimals', operator: 'NumericGreaterThanEquals', block: { 'kennel:Score': '0.5' }, context: { 'kennel:Score': '0.75' }, expected: true },
  { name: 'NumericGreaterThan: negative numbers', operator: 'NumericGreaterThan', block: { 'kennel:Delta': '-1' }, context: { 'kennel:Delta': '-0.5' }, expected: true },
]);

table('Date operators (ISO 8601 and epoch seconds)', [
  // The doc's example: allow only between two times of aws:CurrentTime.
  { name: 'DateGreaterThan: after the start', operator: 'DateGreaterThan', block: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, context: { 'aws:CurrentTime': '2020-04-01T00:00:01Z' }, expected: true },
  { name: 'DateGreaterThan: at the start is not after', operator: 'DateGreaterThan', block: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, context: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, expected: false },
  { name: 'DateGreaterThan: absent key is false', operator: 'DateGreaterThan', block: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, context: NONE, expected: false },
  { name: 'DateLessThan: before the end', operator: 'DateLessThan', block: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' }, context: { 'aws:CurrentTime': '2020-05-01T12:00:00Z' }, expected: true },
  { name: 'DateLessThan: after the end', operator: 'DateLessThan', block: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' }, context: { 'aws:CurrentTime': '2020-07-01T00:00:00Z' }, expected: false },
  { name: 'DateLessThanEquals: at the end', operator: 'DateLessThanEquals', block: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' }, context: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' }, expected: true },
  { name: 'DateGreaterThanEquals: at the start', operator: 'DateGreaterThanEquals', block: { 'aws:CurrentTime': '2020-04-01' }, context: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, expected: true },
  { name: 'DateGreaterThanEquals: before the start', operator: 'DateGreaterThanEquals', block: { 'aws:CurrentTime': '2020-04-01' }, context: { 'aws:CurrentTime': '2020-03-31T23:59:59Z' }, expected: false },
  { name: 'DateEquals: the same instant in two offsets', operator: 'DateEquals', block: { 'aws:CurrentTime': '2020-04-01T12:00:00+02:00' }, context: { 'aws:CurrentTime': '2020-04-01T10:00:00Z' }, expected: true },
  { name: 'DateEquals: a policy in epoch seconds, the context in ISO', operator: 'DateEquals', block: { 'aws:CurrentTime': '1585742400' }, context: { 'aws:CurrentTime': '2020-04-01T12:00:00Z' }, expected: true },
  { name: 'DateEquals: different instants', operator: 'DateEquals', block: { 'aws:CurrentTime': '2020-04-01T12:00:00Z' }, context: { 'aws:CurrentTime': '2020-04-01T12:00:01Z' }, expected: false },
  { name: 'DateNotEquals: different instants', operator: 'DateNotEquals', block: { 'aws:CurrentTime': '2020-04-01T12:00:00Z' }, context: { 'aws:CurrentTime': '2020-04-01T12:00:01Z' }, expected: true },
  { name: 'DateNotEquals: the same instant', operator: 'DateNotEquals', block: { 'aws:CurrentTime': '2020-04-01T12:00:00Z' }, context: { 'aws:CurrentTime': '2020-04-01T12:00:00.000Z' }, expected: false },
  { name: 'DateNotEquals: absent key is true', operator: 'DateNotEquals', block: { 'aws:CurrentTime': '2020-04-01T12:00:00Z' }, context: NONE, expected: true },
  { name: 'DateLessThan on aws:EpochTime (epoch seconds on both sides)', operator: 'DateLessThan', block: { 'aws:EpochTime': '1700000000' }, context: { 'aws:EpochTime': '1699999999' }, expected: true },
  // The doc's example: "DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}
  { name: 'DateGreaterThan on aws:TokenIssueTime', operator: 'DateGreaterThan', block: { 'aws:TokenIssueTime': '2020-01-01T00:00:01Z' }, context: { 'aws:TokenIssueTime': '2020-01-02T00:00:00Z' }, expected: true },
  { name: 'Date: fractional seconds count', operator: 'DateLessThan', block: { 'aws:CurrentTime': '2020-01-01T00:00:00.500Z' }, context: { 'aws:CurrentTime': '2020-01-01T00:00:00.250Z' }, expected: true },
  { name: 'Date: a context value that is no date matches nothing', operator: 'DateLessThan', block: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' }, context: { 'aws:CurrentTime': 'yesterday' }, expected: false },
]);

table('Bool and BinaryEquals', [
  // The doc's example: deny when "Bool": {"aws:SecureTransport": "false"}
  { name: 'Bool: false over plain HTTP', operator: 'Bool', block: { 'aws:SecureTransport': 'false' }, context: { 'aws:SecureTransport': 'false' }, expected: true },
  { name: 'Bool: false does not match TLS', operator: 'Bool', block: { 'aws:SecureTransport': 'false' }, context: { 'aws:SecureTransport': 'true' }, expected: false },
  { name: 'Bool: true over TLS', operator: 'Bool', block: { 'aws:SecureTransport': 'true' }, context: { 'aws:SecureTransport': 'true' }, expected: true },
  { name: 'Bool: values in any case', operator: 'Bool', block: { 'aws:SecureTransport': 'True' }, context: { 'aws:SecureTransport': 'TRUE' }, expected: true },
  { name: 'Bool: absent key is false', operator: 'Bool', block: { 'aws:SecureTransport': 'false' }, context: NONE, expected: false },
  { name: 'BoolIfExists: absent key is true', operator: 'BoolIfExists', block: { 'aws:MultiFactorAuthPresent': 'false' }, context: NONE, expected: true },
  { name: 'BoolIfExists: present key is tested', operator: 'BoolIfExists', block: { 'aws:MultiFactorAuthPresent': 'false' }, context: { 'aws:MultiFactorAuthPresent': 'true' }, expected: false },
  // The doc's example value: "BinaryEquals": {"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}
  { name: 'BinaryEquals: the same bytes', operator: 'BinaryEquals', block: { 'kennel:Blob': 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' }, context: { 'kennel:Blob': 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' }, expected: true },
  { name: 'BinaryEquals: the same bytes, unpadded', operator: 'BinaryEquals', block: { 'kennel:Blob': 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' }, context: { 'kennel:Blob': 'QmluYXJ5VmFsdWVJbkJhc2U2NA' }, expected: true },
  { name: 'BinaryEquals: other bytes', operator: 'BinaryEquals', block: { 'kennel:Blob': 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' }, context: { 'kennel:Blob': 'T3RoZXI=' }, expected: false },
  { name: 'BinaryEquals: absent key is false', operator: 'BinaryEquals', block: { 'kennel:Blob': 'T3RoZXI=' }, context: NONE, expected: false },
  { name: 'BinaryEqualsIfExists: absent key is true', operator: 'BinaryEqualsIfExists', block: { 'kennel:Blob': 'T3RoZXI=' }, context: NONE, expected: true },
]);

table('IpAddress and NotIpAddress', [
  // The doc's example: "IpAddress": {"aws:SourceIp": "203.0.113.0/24"}
  { name: 'IpAddress: inside 203.0.113.0/24', operator: 'IpAddress', block: { 'aws:SourceIp': '203.0.113.0/24' }, context: { 'aws:SourceIp': '203.0.113.77' }, expected: true },
  { name: 'IpAddress: outside 203.0.113.0/24', operator: 'IpAddress', block: { 'aws:SourceIp': '203.0.113.0/24' }, context: { 'aws:SourceIp': '203.0.114.1' }, expected: false },
  { name: 'IpAddress: absent key is false', operator: 'IpAddress', block: { 'aws:SourceIp': '203.0.113.0/24' }, context: NONE, expected: false },
  { name: 'IpAddress: one address is a /32', operator: 'IpAddress', block: { 'aws:SourceIp': '203.0.113.5' }, context: { 'aws:SourceIp': '203.0.113.5' }, expected: true },
  { name: 'IpAddress: one address is not its neighbour', operator: 'IpAddress', block: { 'aws:SourceIp': '203.0.113.5' }, context: { 'aws:SourceIp': '203.0.113.6' }, expected: false },
  { name: 'IpAddress: several ranges are OR', operator: 'IpAddress', block: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] }, context: { 'aws:SourceIp': '192.0.2.10' }, expected: true },
  // The doc's IPv6 example: "2001:DB8:1234:5678::/64"
  { name: 'IpAddress: IPv6 inside 2001:DB8:1234:5678::/64', operator: 'IpAddress', block: { 'aws:SourceIp': '2001:DB8:1234:5678::/64' }, context: { 'aws:SourceIp': '2001:db8:1234:5678:abcd::1' }, expected: true },
  { name: 'IpAddress: IPv6 outside the /64', operator: 'IpAddress', block: { 'aws:SourceIp': '2001:DB8:1234:5678::/64' }, context: { 'aws:SourceIp': '2001:db8:1234:5679::1' }, expected: false },
  { name: 'IpAddress: an IPv4 client on a dual-stack socket', operator: 'IpAddress', block: { 'aws:SourceIp': '203.0.113.0/24' }, context: { 'aws:SourceIp': '::ffff:203.0.113.9' }, expected: true },
  { name: 'IpAddress: IPv4 and IPv6 ranges never match each other', operator: 'IpAddress', block: { 'aws:SourceIp': '::/0' }, context: { 'aws:SourceIp': '203.0.113.9' }, expected: false },
  { name: 'IpAddress: a context value that is no address matches nothing', operator: 'IpAddress', block: { 'aws:SourceIp': '0.0.0.0/0' }, context: { 'aws:SourceIp': 'localhost' }, expected: false },
  { name: 'NotIpAddress: outside the range', operator: 'NotIpAddress', block: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] }, context: { 'aws:SourceIp': '198.51.100.1' }, expected: true },
  { name: 'NotIpAddress: inside one of the ranges', operator: 'NotIpAddress', block: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] }, context: { 'aws:SourceIp': '203.0.113.1' }, expected: false },
  { name: 'NotIpAddress: absent key is true', operator: 'NotIpAddress', block: { 'aws:SourceIp': '203.0.113.0/24' }, context: NONE, expected: true },
]);

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:TOPIC-ID';
table('ARN operators (segment-wise)', [
  // The doc's example: "ArnEquals": {"aws:SourceArn": "arn:aws:sns:REGION:123456789012:TOPIC-ID"}
  { name: 'ArnEquals: the same ARN', operator: 'ArnEquals', block: { 'aws:SourceArn': TOPIC }, context: { 'aws:SourceArn': TOPIC }, expected: true },
  { name: 'ArnEquals: another topic', operator: 'ArnEquals', block: { 'aws:SourceArn': TOPIC }, context: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:123456789012:OTHER' }, expected: false },
  { name: 'ArnEquals is case-sensitive', operator: 'ArnEquals', block: { 'aws:SourceArn': TOPIC }, context: { 'aws:SourceArn': TOPIC.toLowerCase() }, expected: false },
  { name: 'ArnEquals: absent key is false', operator: 'ArnEquals', block: { 'aws:SourceArn': TOPIC }, context: NONE, expected: false },
  { name: 'ArnLike: * for the region segment', operator: 'ArnLike', block: { 'aws:SourceArn': 'arn:aws:sns:*:123456789012:TOPIC-ID' }, context: { 'aws:SourceArn': TOPIC }, expected: true },
  { name: 'ArnLike: a * in one segment does not reach into the next', operator: 'ArnLike', block: { 'aws:SourceArn': 'arn:aws:sns:us-*:TOPIC-ID' }, context: { 'aws:SourceArn': TOPIC }, expected: false },
  { name: 'ArnLike: ? within a segment', operator: 'ArnLike', block: { 'aws:SourceArn': 'arn:aws:sns:us-east-?:123456789012:TOPIC-ID' }, context: { 'aws:SourceArn': TOPIC }, expected: true },
  { name: 'ArnLike: a * in the resource segment crosses / and :', operator: 'ArnLike', block: { 'aws:SourceArn': 'arn:aws:logs:us-east-1:123456789012:log-group:*' }, context: { 'aws:SourceArn': 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:log-stream:x' }, expected: true },
  { name: 'ArnLike: every segment wildcarded', operator: 'ArnLike', block: { 'aws:SourceArn': 'arn:aws:*:*:*:*' }, context: { 'aws:SourceArn': TOPIC }, expected: true },
  { name: 'ArnLike: "*" alone matches any ARN', operator: 'ArnLike', block: { 'aws:SourceArn': '*' }, context: { 'aws:SourceArn': TOPIC }, expected: true },
  { name: 'ArnLike: a value with fewer than six parts is not an ARN', operator: 'ArnLike', block: { 'aws:SourceArn': 'arn:aws:sns:*:*:*' }, context: { 'aws:SourceArn': 'arn:aws:sns:us-east-1' }, expected: false },
  { name: 'ArnNotEquals: another ARN', operator: 'ArnNotEquals', block: { 'aws:SourceArn': TOPIC }, context: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:123456789012:OTHER' }, expected: true },
  { name: 'ArnNotEquals: the same ARN', operator: 'ArnNotEquals', block: { 'aws:SourceArn': TOPIC }, context: { 'aws:SourceArn': TOPIC }, expected: false },
  { name: 'ArnNotEquals: absent key is true', operator: 'ArnNotEquals', block: { 'aws:SourceArn': TOPIC }, context: NONE, expected: true },
  { name: 'ArnNotLike: outside the pattern', operator: 'ArnNotLike', block: { 'aws:SourceArn': 'arn:aws:sns:*:123456789012:*' }, context: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:999999999999:TOPIC-ID' }, expected: true },
  { name: 'ArnNotLike: inside the pattern', operator: 'ArnNotLike', block: { 'aws:SourceArn': 'arn:aws:sns:*:123456789012:*' }, context: { 'aws:SourceArn': TOPIC }, expected: false },
  { name: 'ArnNotLike: absent key is true', operator: 'ArnNotLike', block: { 'aws:SourceArn': 'arn:aws:sns:*:123456789012:*' }, context: NONE, expected: true },
]);

table('Null', [
  // The doc's example: "Null": {"aws:TokenIssueTime": "true"} — no temporary credentials.
  { name: 'Null true: the key is absent', operator: 'Null', block: { 'aws:TokenIssueTime': 'true' }, context: NONE, expected: true },
  { name: 'Null true: the key is present', operator: 'Null', block: { 'aws:TokenIssueTime': 'true' }, context: { 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' }, expected: false },
  { name: 'Null false: the key is present', operator: 'Null', block: { 'aws:TokenIssueTime': 'false' }, context: { 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' }, expected: true },
  { name: 'Null false: the key is absent', operator: 'Null', block: { 'aws:TokenIssueTime': 'false' }, context: NONE, expected: false },
  { name: 'Null true: an empty list counts as absent', operator: 'Null', block: { 'aws:TagKeys': 'true' }, context: { 'aws:TagKeys': [] }, expected: true },
  { name: 'Null false: a list with values is present', operator: 'Null', block: { 'aws:TagKeys': 'false' }, context: { 'aws:TagKeys': ['team'] }, expected: true },
  { name: 'Null: keys in any case', operator: 'Null', block: { 'AWS:TOKENISSUETIME': 'false' }, context: { 'aws:tokenissuetime': 'x' }, expected: true },
]);

describe('...IfExists: an absent key makes the clause true, a present key is tested', () => {
  // The doc's example: "StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}
  const families: Array<{ operator: string; key: string; value: string; matching: string; other: string }> = [
    { operator: 'StringEquals', key: 'aws:RequestedRegion', value: 'us-east-1', matching: 'us-east-1', other: 'eu-west-1' },
    { operator: 'StringNotEquals', key: 'aws:RequestedRegion', value: 'us-east-1', matching: 'eu-west-1', other: 'us-east-1' },
    { operator: 'StringEqualsIgnoreCase', key: 'aws:RequestedRegion', value: 'US-EAST-1', matching: 'us-east-1', other: 'eu-west-1' },
    { operator: 'StringNotEqualsIgnoreCase', key: 'aws:RequestedRegion', value: 'US-EAST-1', matching: 'eu-west-1', other: 'us-east-1' },
    { operator: 'StringLike', key: 'ec2:InstanceType', value: 't2.*', matching: 't2.micro', other: 'm5.large' },
    { operator: 'StringNotLike', key: 'ec2:InstanceType', value: 't2.*', matching: 'm5.large', other: 't2.micro' },
    { operator: 'NumericEquals', key: 's3:max-keys', value: '10', matching: '10', other: '11' },
    { operator: 'NumericNotEquals', key: 's3:max-keys', value: '10', matching: '11', other: '10' },
    { operator: 'NumericLessThan', key: 's3:max-keys', value: '10', matching: '9', other: '10' },
    { operator: 'NumericLessThanEquals', key: 's3:max-keys', value: '10', matching: '10', other: '11' },
    { operator: 'NumericGreaterThan', key: 's3:max-keys', value: '10', matching: '11', other: '10' },
    { operator: 'NumericGreaterThanEquals', key: 's3:max-keys', value: '10', matching: '10', other: '9' },
    { operator: 'DateEquals', key: 'aws:CurrentTime', value: '2020-01-01T00:00:00Z', matching: '2020-01-01T00:00:00Z', other: '2020-01-02T00:00:00Z' },
    { operator: 'DateNotEquals', key: 'aws:CurrentTime', value: '2020-01-01T00:00:00Z', matching: '2020-01-02T00:00:00Z', other: '2020-01-01T00:00:00Z' },
    { operator: 'DateLessThan', key: 'aws:CurrentTime', value: '2020-01-01T00:00:00Z', matching: '2019-12-31T00:00:00Z', other: '2020-01-01T00:00:00Z' },
    { operator: 'DateLessThanEquals', key: 'aws:CurrentTime', value: '2020-01-01T00:00:00Z', matching: '2020-01-01T00:00:00Z', other: '2020-01-02T00:00:00Z' },
    { operator: 'DateGreaterThan', key: 'aws:CurrentTime', value: '2020-01-01T00:00:00Z', matching: '2020-01-02T00:00:00Z', other: '2020-01-01T00:00:00Z' },
    { operator: 'DateGreaterThanEquals', key: 'aws:CurrentTime', value: '2020-01-01T00:00:00Z', matching: '2020-01-01T00:00:00Z', other: '2019-12-31T00:00:00Z' },
    { operator: 'Bool', key: 'aws:SecureTransport', value: 'true', matching: 'true', other: 'false' },
    { operator: 'BinaryEquals', key: 'kennel:Blob', value: 'T3RoZXI=', matching: 'T3RoZXI=', other: 'QQ==' },
    { operator: 'IpAddress', key: 'aws:SourceIp', value: '203.0.113.0/24', matching: '203.0.113.1', other: '198.51.100.1' },
    { operator: 'NotIpAddress', key: 'aws:SourceIp', value: '203.0.113.0/24', matching: '198.51.100.1', other: '203.0.113.1' },
    { operator: 'ArnEquals', key: 'aws:SourceArn', value: TOPIC, matching: TOPIC, other: `${TOPIC}x` },
    { operator: 'ArnLike', key: 'aws:SourceArn', value: 'arn:aws:sns:*:123456789012:*', matching: TOPIC, other: 'arn:aws:sqs:us-east-1:123456789012:q' },
    { operator: 'ArnNotEquals', key: 'aws:SourceArn', value: TOPIC, matching: `${TOPIC}x`, other: TOPIC },
    { operator: 'ArnNotLike', key: 'aws:SourceArn', value: 'arn:aws:sns:*:123456789012:*', matching: 'arn:aws:sqs:us-east-1:123456789012:q', other: TOPIC },
  ];
  it('covers every operator but Null', () => {
    assert.deepEqual(families.map((family) => family.operator).sort(), CONDITION_OPERATORS.filter((name) => name !== 'Null').sort());
  });
  for (const { operator, key, value, matching, other } of families) {
    it(`${operator}IfExists`, () => {
      const ifExists = `${operator}IfExists`;
      assert.equal(holds(ifExists, { [key]: value }, {}), true, 'absent');
      assert.equal(holds(ifExists, { [key]: value }, { [key]: matching }), true, 'matching');
      assert.equal(holds(ifExists, { [key]: value }, { [key]: other }), false, 'not matching');
      assert.equal(holds(operator, { [key]: value }, { [key]: matching }), true, 'matching without IfExists');
      assert.equal(holds(operator, { [key]: value }, { [key]: other }), false, 'not matching without IfExists');
    });
  }
});

table('Multivalued keys: ForAllValues, ForAnyValue and neither', [
  // The doc's examples on aws:TagKeys with ["environment", "cost-center"].
  { name: 'ForAllValues:StringEquals: every request tag key is allowed', operator: 'ForAllValues:StringEquals', block: { 'aws:TagKeys': ['environment', 'cost-center'] }, context: { 'aws:TagKeys': ['environment', 'cost-center'] }, expected: true },
  { name: 'ForAllValues:StringEquals: a subset is allowed', operator: 'ForAllValues:StringEquals', block: { 'aws:TagKeys': ['environment', 'cost-center'] }, context: { 'aws:TagKeys': ['environment'] }, expected: true },
  { name: 'ForAllValues:StringEquals: one key not allowed', operator: 'ForAllValues:StringEquals', block: { 'aws:TagKeys': ['environment', 'cost-center'] }, context: { 'aws:TagKeys': ['environment', 'owner'] }, expected: false },
  { name: 'ForAllValues:StringEquals: absent key is true', operator: 'ForAllValues:StringEquals', block: { 'aws:TagKeys': ['environment', 'cost-center'] }, context: NONE, expected: true },
  { name: 'ForAllValues:StringEquals: empty list is true', operator: 'ForAllValues:StringEquals', block: { 'aws:TagKeys': ['environment', 'cost-center'] }, context: { 'aws:TagKeys': [] }, expected: true },
  { name: 'ForAllValues:StringEquals: a single value', operator: 'ForAllValues:StringEquals', block: { 'aws:TagKeys': ['environment', 'cost-center'] }, context: { 'aws:TagKeys': 'owner' }, expected: false },
  { name: 'ForAllValues:StringLike: patterns', operator: 'ForAllValues:StringLike', block: { 'aws:TagKeys': ['key1*'] }, context: { 'aws:TagKeys': ['key1', 'key1-extra'] }, expected: true },
  { name: 'ForAllValues:StringLike: one key outside the pattern', operator: 'ForAllValues:StringLike', block: { 'aws:TagKeys': ['key1*'] }, context: { 'aws:TagKeys': ['key1', 'key2'] }, expected: false },
  { name: 'ForAnyValue:StringEquals: one allowed key is enough', operator: 'ForAnyValue:StringEquals', block: { 'aws:TagKeys': ['environment', 'cost-center'] }, context: { 'aws:TagKeys': ['environment', 'owner'] }, expected: true },
  { name: 'ForAnyValue:StringEquals: no allowed key', operator: 'ForAnyValue:StringEquals', block: { 'aws:TagKeys': ['environment', 'cost-center'] }, context: { 'aws:TagKeys': ['owner', 'project'] }, expected: false },
  { name: 'ForAnyValue:StringEquals: absent key is false', operator: 'ForAnyValue:StringEquals', block: { 'aws:TagKeys': ['environment', 'cost-center'] }, context: NONE, expected: false },
  { name: 'ForAnyValue:StringEquals: empty list is false', operator: 'ForAnyValue:StringEquals', block: { 'aws:TagKeys': ['environment'] }, context: { 'aws:TagKeys': [] }, expected: false },
  { name: 'ForAnyValue:StringEquals: a single value', operator: 'ForAnyValue:StringEquals', block: { 'aws:TagKeys': ['environment'] }, context: { 'aws:TagKeys': 'environment' }, expected: true },
  { name: 'ForAnyValue:StringNotEquals: some key is neither', operator: 'ForAnyValue:StringNotEquals', block: { 'aws:TagKeys': ['environment', 'cost-center'] }, context: { 'aws:TagKeys': ['environment', 'owner'] }, expected: true },
  { name: 'ForAnyValue:StringNotEquals: every key is one of them', operator: 'ForAnyValue:StringNotEquals', block: { 'aws:TagKeys': ['environment', 'cost-center'] }, context: { 'aws:TagKeys': ['environment', 'cost-center'] }, expected: false },
  { name: 'ForAnyValue:StringNotEquals: absent key is false', operator: 'ForAnyValue:StringNotEquals', block: { 'aws:TagKeys': ['environment'] }, context: NONE, expected: false },
  { name: 'ForAllValues:StringNotEquals: no key is one of them', operator: 'ForAllValues:StringNotEquals', block: { 'aws:TagKeys': ['environment', 'cost-center'] }, context: { 'aws:TagKeys': ['owner', 'project'] }, expected: true },
  { name: 'ForAllValues:StringNotEquals: one key is one of them', operator: 'ForAllValues:StringNotEquals', block: { 'aws:TagKeys': ['environment', 'cost-center'] }, context: { 'aws:TagKeys': ['owner', 'environment'] }, expected: false },
  { name: 'ForAllValues:StringNotEquals: absent key is true', operator: 'ForAllValues:StringNotEquals', block: { 'aws:TagKeys': ['environment'] }, context: NONE, expected: true },
  { name: 'ForAnyValue:StringEqualsIfExists: absent key is true', operator: 'ForAnyValue:StringEqualsIfExists', block: { 'aws:TagKeys': ['environment'] }, context: NONE, expected: true },
  { name: 'ForAnyValue:StringEqualsIfExists: present key is tested', operator: 'ForAnyValue:StringEqualsIfExists', block: { 'aws:TagKeys': ['environment'] }, context: { 'aws:TagKeys': ['owner'] }, expected: false },
  { name: 'ForAllValues:StringLikeIfExists: absent key is true', operator: 'ForAllValues:StringLikeIfExists', block: { 'aws:TagKeys': ['env*'] }, context: NONE, expected: true },
  { name: 'ForAnyValue:NumericGreaterThan on a list of numbers', operator: 'ForAnyValue:NumericGreaterThan', block: { 'kennel:Sizes': '100' }, context: { 'kennel:Sizes': ['5', '500'] }, expected: true },
  { name: 'ForAllValues:NumericGreaterThan on a list of numbers', operator: 'ForAllValues:NumericGreaterThan', block: { 'kennel:Sizes': '100' }, context: { 'kennel:Sizes': ['5', '500'] }, expected: false },
  { name: 'ForAnyValue:IpAddress on a list of addresses', operator: 'ForAnyValue:IpAddress', block: { 'kennel:Hops': '203.0.113.0/24' }, context: { 'kennel:Hops': ['192.0.2.1', '203.0.113.4'] }, expected: true },
  { name: 'ForAllValues:ArnLike on a list of ARNs', operator: 'ForAllValues:ArnLike', block: { 'kennel:Sources': 'arn:aws:sns:*:123456789012:*' }, context: { 'kennel:Sources': [TOPIC, 'arn:aws:sns:eu-west-1:123456789012:b'] }, expected: true },
  { name: 'unqualified StringEquals on a list: any value matches', operator: 'StringEquals', block: { 'aws:TagKeys': 'environment' }, context: { 'aws:TagKeys': ['owner', 'environment'] }, expected: true },
  { name: 'unqualified StringEquals on a list: no value matches', operator: 'StringEquals', block: { 'aws:TagKeys': 'environment' }, context: { 'aws:TagKeys': ['owner'] }, expected: false },
  { name: 'unqualified StringNotEquals on a list: no value matches', operator: 'StringNotEquals', block: { 'aws:TagKeys': 'environment' }, context: { 'aws:TagKeys': ['owner', 'project'] }, expected: true },
  { name: 'unqualified StringNotEquals on a list: one value matches', operator: 'StringNotEquals', block: { 'aws:TagKeys': 'environment' }, context: { 'aws:TagKeys': ['owner', 'environment'] }, expected: false },
  { name: 'unqualified StringNotEquals on an empty list is true', operator: 'StringNotEquals', block: { 'aws:TagKeys': 'environment' }, context: { 'aws:TagKeys': [] }, expected: true },
]);

describe('malformed operators and values are rejected when the policy is compiled', () => {
  const rows: Array<[string, string, string[]]> = [
    ['an unknown operator', 'StringEqualz', ['x']],
    ['a lower-case operator', 'stringequals', ['x']],
    ['an unknown qualifier', 'ForSomeValues:StringEquals', ['x']],
    ['IfExists alone', 'IfExists', ['x']],
    ['IfExists on Null', 'NullIfExists', ['true']],
    ['a qualifier on Null', 'ForAnyValue:Null', ['true']],
    ['Null with a value that is no boolean', 'Null', ['yes']],
    ['a number that is not one', 'NumericLessThan', ['ten']],
    ['an empty number', 'NumericEquals', ['']],
    ['a date that is not one', 'DateGreaterThan', ['2020-13-01T00:00:00Z']],
    ['February 30th', 'DateLessThan', ['2021-02-30']],
    ['a Bool value that is no boolean', 'Bool', ['yes']],
    ['a CIDR range with too many bits', 'IpAddress', ['203.0.113.0/33']],
    ['an address that is not one', 'NotIpAddress', ['203.0.113']],
    ['BinaryEquals with text that is not base64', 'BinaryEquals', ['not base64!']],
  ];
  for (const [name, operator, values] of rows) {
    it(name, () => {
      assert.throws(
        () => compileCondition({ operator, key: 'aws:SourceIp', values }, '2012-10-17', 'Statement 2 (Sid Net)'),
        (error: unknown) => error instanceof DomainError && error.code === 'MalformedPolicyDocument' && error.message.startsWith(`Statement 2 (Sid Net) has Condition ${operator}`),
      );
    });
  }
  it('a value with a policy variable is read per request, not rejected', () => {
    assert.equal(holds('NumericLessThan', { 's3:max-keys': '${kennel:Limit}' }, { 's3:max-keys': '5', 'kennel:Limit': '10' }), true);
    assert.equal(holds('NumericLessThan', { 's3:max-keys': '${kennel:Limit}' }, { 's3:max-keys': '5', 'kennel:Limit': 'many' }), false);
  });
});
