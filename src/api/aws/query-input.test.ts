import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeQueryInput, readQueryInput } from './query-input.ts';
import { loadServiceModel, type ServiceModel } from './service-model.ts';

const iam = loadServiceModel('iam');
const sts = loadServiceModel('sts');

function decoded(model: ServiceModel, shapeName: string, query: string): Record<string, unknown> {
  const result = readQueryInput(model, shapeName, new URLSearchParams(query));
  assert.ok(result.ok, result.ok ? '' : result.message);
  return result.input;
}

function refused(model: ServiceModel, shapeName: string, query: string): string {
  const result = readQueryInput(model, shapeName, new URLSearchParams(query));
  assert.ok(!result.ok, `expected ${query} to be refused`);
  return result.message;
}

/** IAM and STS inputs have no maps, flattened lists or timestamps; this model has, in the forms other query services use. */
const synthetic: ServiceModel = {
  metadata: { apiVersion: '2020-01-01', endpointPrefix: 'x', protocol: 'query', serviceId: 'X' },
  operations: {},
  shapes: {
    Input: {
      type: 'structure',
      members: {
        Attributes: { shape: 'Attributes' },
        Renamed: { shape: 'Attributes', locationName: 'Attribute' },
        Names: { shape: 'FlatNames' },
        Ids: { shape: 'FlatIds' },
        At: { shape: 'Time' },
        Epoch: { shape: 'Time', timestampFormat: 'unixTimestamp' },
        Ratio: { shape: 'Ratio' },
      },
    },
    Attributes: { type: 'map', key: { shape: 'Name' }, value: { shape: 'Name' } },
    FlatNames: { type: 'list', member: { shape: 'Name', locationName: 'Name' }, flattened: true },
    FlatIds: { type: 'list', member: { shape: 'Name' }, flattened: true },
    Name: { type: 'string', min: 1 },
    Time: { type: 'timestamp' },
    Ratio: { type: 'double' },
  },
};

describe('decoding query parameters against the model', () => {
  it('reads structure members, and list elements in the order of their 1-based positions', () => {
    const query = 'UserName=bob&Path=%2Fteam%2F&Tags.member.2.Key=b&Tags.member.2.Value=2&Tags.member.10.Key=c&Tags.member.10.Value=3&Tags.member.1.Key=a&Tags.member.1.Value=1';
    assert.deepEqual(decoded(iam, 'CreateUserRequest', query), {
      UserName: 'bob',
      Path: '/team/',
      Tags: [
        { Key: 'a', Value: '1' },
        { Key: 'b', Value: '2' },
        { Key: 'c', Value: '3' },
      ],
    });
  });

  it('reads lists nested in list elements (SimulateCustomPolicy context entries)', () => {
    const query = [
      'PolicyInputList.member.1=%7B%22Version%22%3A%222012-10-17%22%7D',
      'PolicyInputList.member.2=%7B%7D',
      'ActionNames.member.1=iam%3AGetUser',
      'ContextEntries.member.1.ContextKeyName=aws%3APrincipalTag%2Fteam',
      'ContextEntries.member.1.ContextKeyType=stringList',
      'ContextEntries.member.1.ContextKeyValues.member.1=dogs',
      'ContextEntries.member.1.ContextKeyValues.member.2=cats',
      'MaxItems=5',
    ].join('&');
    assert.deepEqual(decoded(iam, 'SimulateCustomPolicyRequest', query), {
      PolicyInputList: ['{"Version":"2012-10-17"}', '{}'],
      ActionNames: ['iam:GetUser'],
      ContextEntries: [{ ContextKeyName: 'aws:PrincipalTag/team', ContextKeyType: 'stringList', ContextKeyValues: ['dogs', 'cats'] }],
      MaxItems: 5,
    });
  });

  it('reads nested structures, integers and string lists (AssumeRole)', () => {
    const query =
      'RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fr&RoleSessionName=sess&DurationSeconds=3600&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnlyAccess&TransitiveTagKeys.member.1=team';
    assert.deepEqual(decoded(sts, 'AssumeRoleRequest', query), {
      RoleArn: 'arn:aws:iam::000000000000:role/r',
      RoleSessionName: 'sess',
      DurationSeconds: 3600,
      PolicyArns: [{ arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
      TransitiveTagKeys: ['team'],
    });
  });

  it('reads an empty list from its bare name, as the SDKs send one', () => {
    assert.deepEqual(decoded(iam, 'CreateUserRequest', 'UserName=bob&Tags='), { UserName: 'bob', Tags: [] });
  });

  it('converts booleans, in any case', () => {
    assert.deepEqual(decoded(iam, 'ListPoliciesRequest', 'OnlyAttached=true'), { OnlyAttached: true });
    assert.deepEqual(decoded(iam, 'CreatePolicyVersionRequest', 'PolicyArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%2Fp&PolicyDocument=%7B%7D&SetAsDefault=FALSE'), {
      PolicyArn: 'arn:aws:iam::000000000000:policy/p',
      PolicyDocument: '{}',
      SetAsDefault: false,
    });
  });

  it('ignores parameters the model does not know, and positions that are not numbers from 1', () => {
    const query = 'Action=CreateUser&Version=2010-05-08&UserName=bob&Colour=red&Tags.member.1.Key=a&Tags.member.1.Value=1&Tags.member.1.Extra=x&Tags.member.0.Key=z&Tags.item.1.Key=y';
    assert.deepEqual(decoded(iam, 'CreateUserRequest', query), { UserName: 'bob', Tags: [{ Key: 'a', Value: '1' }] });
  });

  it('takes the first of a repeated parameter', () => {
    assert.deepEqual(decoded(iam, 'GetUserRequest', 'UserName=first&UserName=second'), { UserName: 'first' });
  });

  it('reads maps as entry.N.key / entry.N.value, flattened lists without member, and locationName', () => {
    const query = 'Attributes.entry.1.key=colour&Attributes.entry.1.value=red&Attributes.entry.2.key=__proto__&Attributes.entry.2.value=x&Attribute.entry.1.key=k&Attribute.entry.1.value=v&Name.1=a&Name.2=b&Ids.1=i';
    const input = decodeQueryInput(synthetic, 'Input', new URLSearchParams(query));
    assert.deepEqual(input, { Attributes: { colour: 'red', ['__proto__']: 'x' }, Renamed: { k: 'v' }, Names: ['a', 'b'], Ids: ['i'] });
    assert.ok(Object.hasOwn(input.Attributes as object, '__proto__'));
    assert.equal(Object.getPrototypeOf(input.Attributes), Object.prototype);
  });

  it('accepts a flattened list under its member name too, as the JavaScript SDK names it', () => {
    assert.deepEqual(decodeQueryInput(synthetic, 'Input', new URLSearchParams('Names.1=a')), { Names: ['a'] });
  });

  it('converts timestamps into Dates, in ISO 8601 unless the model says otherwise, and doubles', () => {
    const input = decoded(synthetic, 'Input', 'At=2026-12-01T18%3A25%3A17Z&Epoch=1700000000.5&Ratio=0.25');
    assert.deepEqual(input, { At: new Date('2026-12-01T18:25:17Z'), Epoch: new Date(1_700_000_000_500), Ratio: 0.25 });
  });
});

describe('refusing query parameters, in the validator words', () => {
  it('names a value that does not convert to its type', () => {
    assert.equal(refused(iam, 'ListUsersRequest', 'MaxItems=abc'), 'Cannot read MaxItems: expected a 32-bit integer but got the string "abc".');
    assert.equal(refused(iam, 'ListUsersRequest', 'MaxItems=1.5'), 'Cannot read MaxItems: expected a 32-bit integer but got the string "1.5".');
    assert.equal(refused(iam, 'ListPoliciesRequest', 'OnlyAttached=yes'), 'Cannot read OnlyAttached: expected a boolean but got the string "yes".');
    assert.equal(refused(synthetic, 'Input', 'At=yesterday'), 'Cannot read At: expected an ISO 8601 timestamp but got the string "yesterday".');
    assert.equal(refused(synthetic, 'Input', 'Ratio='), 'Cannot read Ratio: expected a number but got the string "".');
  });

  it("reports the model's constraints as AWS's ValidationError does", () => {
    assert.equal(
      refused(iam, 'ListUsersRequest', 'MaxItems=0'),
      "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1 (in SDK terms: MaxItems)",
    );
    assert.equal(
      refused(iam, 'CreateUserRequest', 'Tags.member.1.Key=a'),
      "2 validation errors detected: Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be null; " +
        "Value null at 'userName' failed to satisfy constraint: Member must not be null (in SDK terms: Tags[0].Value, UserName)",
    );
    assert.equal(
      refused(iam, 'CreateUserRequest', 'UserName=bob%3F'),
      "1 validation error detected: Value 'bob?' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ (in SDK terms: UserName)",
    );
  });

  it('reports a bare value where a list or structure belongs', () => {
    assert.match(refused(iam, 'CreateUserRequest', 'UserName=bob&Tags=x'), /^Cannot read Tags: expected a list/);
    assert.match(refused(iam, 'CreateUserRequest', 'UserName=bob&Tags.member.1='), /^Cannot read Tags\[0\]: expected a structure/);
  });
});
