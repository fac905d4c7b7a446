import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeXml, queryErrorXml, queryResponseXml } from './query-xml.ts';
import { loadServiceModel, type ServiceModel } from './service-model.ts';

const iam = loadServiceModel('iam');
const sts = loadServiceModel('sts');
const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const METADATA = '<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>';
const created = new Date('2026-12-01T18:25:17Z');

describe('query-protocol responses in XML', () => {
  it('wraps the output in the result element, inside the response in the service namespace', () => {
    const user = { UserName: 'bob', Path: '/', UserId: 'AIDA1', Arn: 'arn:aws:iam::000000000000:user/bob', CreateDate: created, Tags: [{ Key: 'team', Value: 'dogs' }] };
    assert.equal(
      queryResponseXml(iam, 'CreateUser', { User: user }, 'req-1'),
      `<CreateUserResponse xmlns="${IAM_NS}"><CreateUserResult><User>` +
        '<Arn>arn:aws:iam::000000000000:user/bob</Arn><CreateDate>2026-12-01T18:25:17Z</CreateDate><Path>/</Path>' +
        '<Tags><member><Key>team</Key><Value>dogs</Value></member></Tags><UserId>AIDA1</UserId><UserName>bob</UserName>' +
        `</User></CreateUserResult>${METADATA}</CreateUserResponse>`,
    );
  });

  it('answers an operation without output with the response metadata alone', () => {
    assert.equal(queryResponseXml(iam, 'DeleteUser', undefined, 'req-1'), `<DeleteUserResponse xmlns="${IAM_NS}">${METADATA}</DeleteUserResponse>`);
  });

  it('writes booleans, empty lists, and leaves out undefined and null members', () => {
    assert.equal(
      queryResponseXml(iam, 'ListUsers', { Users: [], IsTruncated: false, Marker: undefined }, 'req-1'),
      `<ListUsersResponse xmlns="${IAM_NS}"><ListUsersResult><IsTruncated>false</IsTruncated><Users></Users></ListUsersResult>${METADATA}</ListUsersResponse>`,
    );
    assert.match(queryResponseXml(iam, 'ListUsers', { Users: [], Marker: null }, 'req-1'), /<ListUsersResult><Users><\/Users><\/ListUsersResult>/);
  });

  it('writes maps as entry/key/value and nested lists as member elements', () => {
    const output = { EvaluationResults: [{ EvalActionName: 'iam:GetUser', EvalDecision: 'allowed', EvalDecisionDetails: { IAM: 'allowed' }, MissingContextValues: ['aws:x'] }] };
    assert.match(
      queryResponseXml(iam, 'SimulateCustomPolicy', output, 'req-1'),
      /<SimulateCustomPolicyResult><EvaluationResults><member><EvalActionName>iam:GetUser<\/EvalActionName><EvalDecision>allowed<\/EvalDecision><EvalDecisionDetails><entry><key>IAM<\/key><value>allowed<\/value><\/entry><\/EvalDecisionDetails><MissingContextValues><member>aws:x<\/member><\/MissingContextValues><\/member><\/EvaluationResults><\/SimulateCustomPolicyResult>/,
    );
  });

  it('writes timestamps in ISO 8601, to the millisecond only when they have some, from Dates or epoch seconds', () => {
    const credentials = (Expiration: unknown) => ({ Credentials: { AccessKeyId: 'ASIA1', SecretAccessKey: 's', SessionToken: 't', Expiration } });
    assert.match(queryResponseXml(sts, 'GetSessionToken', credentials(new Date('2026-12-01T18:25:17.359Z')), 'r'), /<Expiration>2026-12-01T18:25:17.359Z<\/Expiration>/);
    assert.match(queryResponseXml(sts, 'GetSessionToken', credentials(1_796_149_517), 'r'), /<Expiration>2026-12-01T18:25:17Z<\/Expiration>/);
    assert.match(queryResponseXml(sts, 'GetSessionToken', credentials(1_796_149_517), 'r'), /^<GetSessionTokenResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/"><GetSessionTokenResult>/);
  });

  it('escapes markup and line ends, and replaces characters XML 1.0 cannot carry', () => {
    assert.equal(escapeXml(`{"a":"<b> & 'c'"}`), '{&quot;a&quot;:&quot;&lt;b&gt; &amp; &apos;c&apos;&quot;}');
    assert.equal(escapeXml('a\r\nb\tc'), 'a&#xD;&#xA;b&#x9;c');
    assert.equal(escapeXml('bell\u0007 nul\u0000 lone\uD800 pair\uD83D\uDC36'), 'bell\uFFFD nul\uFFFD lone\uFFFD pair\uD83D\uDC36');
    const xml = queryResponseXml(iam, 'GetUserPolicy', { UserName: 'a&b', PolicyName: 'p', PolicyDocument: '{"x":"<&>"}' }, 'r');
    assert.match(xml, /<PolicyDocument>\{&quot;x&quot;:&quot;&lt;&amp;&gt;&quot;\}<\/PolicyDocument>/);
    assert.match(xml, /<UserName>a&amp;b<\/UserName>/);
  });

  it('throws, naming the member, when a handler returns a value of the wrong type', () => {
    assert.throws(() => queryResponseXml(iam, 'ListUsers', { Users: 'bob' }, 'r'), /ListUsers\.Users: userListType needs an array, got string/);
    assert.throws(() => queryResponseXml(iam, 'ListUsers', { Users: [null] }, 'r'), /ListUsers\.Users\[0\]: a list element of userListType is null/);
    assert.throws(() => queryResponseXml(iam, 'ListUsers', { Users: [], IsTruncated: 'no' }, 'r'), /ListUsers\.IsTruncated: booleanType needs a boolean/);
    assert.throws(() => queryResponseXml(iam, 'GetUser', { User: { CreateDate: 'never' } }, 'r'), /GetUser\.User\.CreateDate: dateType needs a Date/);
  });

  it('writes flattened lists and maps as repeated elements, under their locationName', () => {
    const model: ServiceModel = {
      metadata: { apiVersion: '2020-01-01', endpointPrefix: 'x', protocol: 'query', serviceId: 'X' },
      operations: { Get: { name: 'Get', output: { shape: 'Out', resultWrapper: 'GetResult' } } },
      shapes: {
        Out: {
          type: 'structure',
          members: { Names: { shape: 'Names' }, Attributes: { shape: 'Attributes', locationName: 'Attribute' }, Plain: { shape: 'Name', locationName: 'plain' } },
        },
        Names: { type: 'list', member: { shape: 'Name', locationName: 'Name' }, flattened: true },
        Attributes: { type: 'map', key: { shape: 'Name', locationName: 'Name' }, value: { shape: 'Name', locationName: 'Value' }, flattened: true },
        Name: { type: 'string' },
      },
    };
    assert.equal(
      queryResponseXml(model, 'Get', { Names: ['a', 'b'], Attributes: { k: 'v' }, Plain: 'p' }, 'r'),
      '<GetResponse><GetResult><Name>a</Name><Name>b</Name><Attribute><Name>k</Name><Value>v</Value></Attribute><plain>p</plain></GetResult>' +
        '<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetResponse>',
    );
  });
});

describe('query-protocol errors in XML', () => {
  it('is an ErrorResponse with the type, code and message, and the request id beside the error', () => {
    assert.equal(
      queryErrorXml(iam, { type: 'Sender', code: 'NoSuchEntity', message: 'The user with name <bob> cannot be found.' }, 'req-1'),
      `<ErrorResponse xmlns="${IAM_NS}"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>` +
        '<Message>The user with name &lt;bob&gt; cannot be found.</Message></Error><RequestId>req-1</RequestId></ErrorResponse>',
    );
  });
});
