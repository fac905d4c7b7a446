import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readRestJsonInput, type RestInputOutcome, type RestRequestParts } from './rest-json-input.ts';
import { messageBindings } from './rest-json-model.ts';
import { encodeRestJsonOutput } from './rest-json-output.ts';
import { getOperation, loadServiceModel, type ServiceModel } from './service-model.ts';

const lambda = loadServiceModel('lambda');
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:my-function';

function request(parts: Partial<Omit<RestRequestParts, 'headers' | 'body' | 'query'>> & { query?: string; headers?: Record<string, string>; body?: string | Uint8Array }): RestRequestParts {
  return {
    labels: parts.labels ?? {},
    query: new URLSearchParams(parts.query ?? ''),
    headers: new Headers(parts.headers ?? {}),
    body: typeof parts.body === 'string' ? new TextEncoder().encode(parts.body) : (parts.body ?? new Uint8Array()),
  };
}

function read(model: ServiceModel, operationName: string, parts: Parameters<typeof request>[0]): RestInputOutcome {
  const shape = getOperation(model, operationName).input?.shape;
  return readRestJsonInput(model, shape, messageBindings(model, shape), request(parts));
}

function input(model: ServiceModel, operationName: string, parts: Parameters<typeof request>[0]): Record<string, unknown> {
  const outcome = read(model, operationName, parts);
  assert.ok(outcome.ok, JSON.stringify(outcome));
  return outcome.input;
}

function failure(model: ServiceModel, operationName: string, parts: Parameters<typeof request>[0]): { kind: string; message: string } {
  const outcome = read(model, operationName, parts);
  assert.ok(!outcome.ok, `expected a refusal, got ${JSON.stringify(outcome)}`);
  return outcome;
}

function output(model: ServiceModel, operationName: string, value: unknown) {
  const operation = getOperation(model, operationName);
  const responseCode = (operation as { http?: { responseCode?: number } }).http?.responseCode;
  return encodeRestJsonOutput(model, messageBindings(model, operation.output?.shape), responseCode, value);
}

describe('reading Lambda requests', () => {
  it('Invoke: the label decoded, the headers and query by name, the body as raw bytes', () => {
    const payload = new Uint8Array([0x7b, 0x7d, 0x00, 0xff]);
    const decoded = input(lambda, 'Invoke', {
      labels: { FunctionName: encodeURIComponent(ARN) },
      query: 'Qualifier=live',
      headers: { 'x-amz-invocation-type': 'Event', 'X-Amz-Log-Type': 'Tail', 'X-Amz-Client-Context': 'eyJjdXN0b20iOnt9fQ==' },
      body: payload,
    });
    assert.deepEqual(Object.keys(decoded).sort(), ['ClientContext', 'FunctionName', 'InvocationType', 'LogType', 'Payload', 'Qualifier']);
    assert.equal(decoded.FunctionName, ARN);
    assert.equal(decoded.InvocationType, 'Event');
    assert.equal(decoded.LogType, 'Tail');
    assert.equal(decoded.ClientContext, 'eyJjdXN0b20iOnt9fQ==');
    assert.equal(decoded.Qualifier, 'live');
    assert.ok(Buffer.isBuffer(decoded.Payload));
    assert.deepEqual([...(decoded.Payload as Buffer)], [...payload]);
  });

  it('Invoke: no body is no Payload; a raw colon in the name reads as an encoded one does', () => {
    const decoded = input(lambda, 'Invoke', { labels: { FunctionName: ARN } });
    assert.deepEqual(decoded, { FunctionName: ARN });
  });

  it('Invoke: header values outside their enums are refused in ValidationException words', () => {
    const refused = failure(lambda, 'Invoke', { labels: { FunctionName: 'f' }, headers: { 'X-Amz-Invocation-Type': 'Later' } });
    assert.equal(refused.kind, 'invalid');
    assert.match(refused.message, /^1 validation error detected: Value 'Later' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: \[Event, RequestResponse, DryRun\]/);
  });

  it('a label that breaks its pattern is named as Lambda names it', () => {
    const refused = failure(lambda, 'GetFunction', { labels: { FunctionName: 'my%20function' } });
    assert.equal(refused.kind, 'invalid');
    assert.ok(
      refused.message.startsWith("1 validation error detected: Value 'my function' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: "),
      refused.message,
    );
  });

  it('a label that is not valid percent-encoding is refused, not thrown', () => {
    const refused = failure(lambda, 'GetFunction', { labels: { FunctionName: 'f%E0%A4%A' } });
    assert.equal(refused.kind, 'invalid');
    assert.match(refused.message, /Value 'f%E0%A4%A' at 'functionName' failed to satisfy constraint: Member must be percent-encoded UTF-8/);
  });

  it('query numbers are read as numbers, and refused when they are not', () => {
    assert.deepEqual(input(lambda, 'ListFunctions', { query: 'MaxItems=50&Marker=abc&FunctionVersion=ALL' }), { MaxItems: 50, Marker: 'abc', FunctionVersion: 'ALL' });
    const refused = failure(lambda, 'ListFunctions', { query: 'MaxItems=ten' });
    assert.equal(refused.kind, 'invalid');
    assert.match(refused.message, /Value 'ten' at 'maxItems' failed to satisfy constraint: Member must be a 32-bit integer \(in SDK terms: MaxItems\)/);
    assert.match(failure(lambda, 'ListFunctions', { query: 'MaxItems=10001' }).message, /Member must have value less than or equal to 10000/);
  });

  it('query lists take every repetition of their parameter', () => {
    assert.deepEqual(input(lambda, 'UntagResource', { labels: { ARN }, query: 'tagKeys=team&tagKeys=cost%20centre' }), { Resource: ARN, TagKeys: ['team', 'cost centre'] });
    assert.match(failure(lambda, 'UntagResource', { labels: { ARN } }).message, /Value null at 'tagKeys' failed to satisfy constraint: Member must not be null/);
  });

  it('CreateFunction: the JSON body, with its base64 blob as a Buffer; newer runtimes accepted', () => {
    const zip = Buffer.from('PK\u0003\u0004 a zip file');
    const body = { FunctionName: 'f', Role: 'arn:aws:iam::000000000000:role/r', Runtime: 'python3.12', Handler: 'app.handler', Code: { ZipFile: zip.toString('base64') }, Timeout: 30, Publish: true, Unknown: 1 };
    const decoded = input(lambda, 'CreateFunction', { body: JSON.stringify(body) });
    assert.deepEqual(Object.keys(decoded).sort(), ['Code', 'FunctionName', 'Handler', 'Publish', 'Role', 'Runtime', 'Timeout']);
    assert.ok(Buffer.isBuffer((decoded.Code as { ZipFile: Buffer }).ZipFile));
    assert.deepEqual((decoded.Code as { ZipFile: Buffer }).ZipFile, zip);
    assert.equal(decoded.Timeout, 30);
    for (const runtime of ['nodejs20.x', 'nodejs22.x', 'python3.10', 'python3.13']) input(lambda, 'CreateFunction', { body: JSON.stringify({ ...body, Runtime: runtime }) });
  });

  it('CreateFunction: every constraint the model sets is reported at once', () => {
    const refused = failure(lambda, 'CreateFunction', { body: JSON.stringify({ FunctionName: 'f', Runtime: 'cobol85', Code: {}, MemorySize: 64 }) });
    assert.equal(refused.kind, 'invalid');
    assert.match(refused.message, /^3 validation errors detected: /);
    assert.match(refused.message, /Value null at 'role' failed to satisfy constraint: Member must not be null/);
    assert.match(refused.message, /Value 'cobol85' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: \[nodejs, /);
    assert.match(refused.message, /Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128/);
  });

  it('a 5 MB base64 blob is checked without running out of stack', () => {
    const zip = Buffer.alloc(5 * 1024 * 1024, 7);
    const body = JSON.stringify({ FunctionName: 'f', Role: 'arn:aws:iam::000000000000:role/r', Code: { ZipFile: zip.toString('base64') } });
    const decoded = input(lambda, 'CreateFunction', { body });
    assert.equal((decoded.Code as { ZipFile: Buffer }).ZipFile.byteLength, zip.byteLength);
    assert.match(failure(lambda, 'CreateFunction', { body: body.replace('"ZipFile":"', '"ZipFile":"*') }).message, /Cannot read Code\.ZipFile: expected base64-encoded bytes/);
  });

  it('bodies that are not a JSON object, not UTF-8, or have a member of the wrong JSON type are unreadable', () => {
    const unreadable = (body: string | Uint8Array) => {
      const refused = failure(lambda, 'PutFunctionConcurrency', { labels: { FunctionName: 'f' }, body });
      assert.equal(refused.kind, 'unreadable');
      return refused.message;
    };
    assert.match(unreadable('{"ReservedConcurrentExecutions": 5'), /JSON/);
    assert.equal(unreadable('[5]'), 'the request body must be a JSON object');
    assert.equal(unreadable(new Uint8Array([0x7b, 0xff, 0x7d])), 'the request body is not valid UTF-8');
    assert.match(unreadable('{"ReservedConcurrentExecutions": "five"}'), /Cannot read ReservedConcurrentExecutions: expected a 32-bit integer but got the string "five"/);
  });

  it('members bound to the URI are read from it, not from the body', () => {
    const decoded = input(lambda, 'PutFunctionConcurrency', { labels: { FunctionName: 'from-uri' }, body: '{"FunctionName":"from-body","ReservedConcurrentExecutions":5}' });
    assert.deepEqual(decoded, { FunctionName: 'from-uri', ReservedConcurrentExecutions: 5 });
  });

  it('operations without body members ignore the body; an empty body is an input with nothing set', () => {
    assert.deepEqual(input(lambda, 'GetFunction', { labels: { FunctionName: 'f' }, body: 'not json' }), { FunctionName: 'f' });
    assert.deepEqual(input(lambda, 'PublishVersion', { labels: { FunctionName: 'f' } }), { FunctionName: 'f' });
    assert.deepEqual(input(lambda, 'GetAccountSettings', {}), {});
  });
});

describe('writing Lambda responses', () => {
  it('Invoke: headers from their members, the status from StatusCode, the payload raw', () => {
    const written = output(lambda, 'Invoke', {
      StatusCode: 200,
      FunctionError: 'Unhandled',
      LogResult: 'bG9ncw==',
      ExecutedVersion: '$LATEST',
      Payload: Buffer.from('{"errorMessage":"boom"}'),
    });
    assert.equal(written.status, 200);
    assert.deepEqual(written.headers, { 'X-Amz-Function-Error': 'Unhandled', 'X-Amz-Log-Result': 'bG9ncw==', 'X-Amz-Executed-Version': '$LATEST' });
    assert.equal(Buffer.from(written.body as Uint8Array).toString(), '{"errorMessage":"boom"}');
    assert.equal(written.contentType, 'application/json');
  });

  it('Invoke: 202 and 204 answers have no body', () => {
    assert.deepEqual(output(lambda, 'Invoke', { StatusCode: 202 }), { status: 202, headers: {} });
    assert.deepEqual(output(lambda, 'Invoke', { StatusCode: 204, Payload: Buffer.from('x') }), { status: 204, headers: {} });
  });

  it("the operation's responseCode is the status: 201 with a body, 204 without", () => {
    const created = output(lambda, 'CreateFunction', { FunctionName: 'f', Timeout: 3, LastModified: '2026-12-01T18:25:17.000+0000', Undeclared: true });
    assert.equal(created.status, 201);
    assert.deepEqual(JSON.parse(created.body as string), { FunctionName: 'f', Timeout: 3, LastModified: '2026-12-01T18:25:17.000+0000' });
    assert.deepEqual(output(lambda, 'DeleteFunction', undefined), { status: 204, headers: {} });
    assert.equal(output(lambda, 'PutProvisionedConcurrencyConfig', { Status: 'IN_PROGRESS' }).status, 202);
    assert.deepEqual(output(lambda, 'GetAccountSettings', {}), { status: 200, headers: {}, body: '{}', contentType: 'application/json' });
  });

  it('timestamp shapes go in the body as epoch seconds, from Dates or numbers', () => {
    const config = { FunctionArn: ARN, MaximumRetryAttempts: 2 };
    assert.deepEqual(JSON.parse(output(lambda, 'GetFunctionEventInvokeConfig', { ...config, LastModified: new Date('2026-12-01T18:25:17.5Z') }).body as string), {
      ...config,
      LastModified: 1796149517.5,
    });
    assert.equal(JSON.parse(output(lambda, 'GetFunctionEventInvokeConfig', { LastModified: 1796149517 }).body as string).LastModified, 1796149517);
  });
});

/** What Lambda's model does not use: header timestamps, lists and maps, query maps, JSON headers, structure and limited blob payloads. */
const synthetic = {
  metadata: { apiVersion: '2020-01-01', endpointPrefix: 'things', protocol: 'rest-json', serviceId: 'Things' },
  operations: {
    PutThing: { name: 'PutThing', http: { method: 'PUT', requestUri: '/things/{Name}' }, input: { shape: 'PutThingRequest' }, output: { shape: 'PutThingOutput' } },
    Upload: { name: 'Upload', http: { method: 'POST', requestUri: '/uploads/{Name}' }, input: { shape: 'UploadRequest' } },
    Note: { name: 'Note', http: { method: 'POST', requestUri: '/notes' }, input: { shape: 'NoteRequest' }, output: { shape: 'NoteRequest' } },
  },
  shapes: {
    PutThingRequest: {
      type: 'structure',
      required: ['Name'],
      payload: 'Thing',
      members: {
        Name: { shape: 'Name', location: 'uri', locationName: 'Name' },
        When: { shape: 'Time', location: 'header', locationName: 'X-When' },
        Epoch: { shape: 'EpochTime', location: 'header', locationName: 'X-Epoch' },
        Since: { shape: 'Time', location: 'querystring', locationName: 'since' },
        Flags: { shape: 'Flags', location: 'header', locationName: 'X-Flags' },
        Dates: { shape: 'Times', location: 'header', locationName: 'X-Dates' },
        Dry: { shape: 'Bool', location: 'querystring', locationName: 'dry' },
        Ratio: { shape: 'Double', location: 'querystring', locationName: 'ratio' },
        Meta: { shape: 'Meta', location: 'headers', locationName: 'x-meta-' },
        Extra: { shape: 'Extra', location: 'querystring' },
        Context: { shape: 'Name', location: 'header', locationName: 'X-Context', jsonvalue: true },
        Token: { shape: 'Bytes', location: 'header', locationName: 'X-Token' },
        Thing: { shape: 'Thing' },
      },
    },
    PutThingOutput: {
      type: 'structure',
      payload: 'Thing',
      members: {
        Status: { shape: 'Int', location: 'statusCode' },
        When: { shape: 'Time', location: 'header', locationName: 'X-When' },
        Flags: { shape: 'Flags', location: 'header', locationName: 'X-Flags' },
        Ratio: { shape: 'Double', location: 'header', locationName: 'X-Ratio' },
        Context: { shape: 'Name', location: 'header', locationName: 'X-Context', jsonvalue: true },
        Meta: { shape: 'Meta', location: 'headers', locationName: 'x-meta-' },
        Thing: { shape: 'Thing' },
      },
    },
    UploadRequest: {
      type: 'structure',
      required: ['Name', 'Body'],
      payload: 'Body',
      members: { Name: { shape: 'Name', location: 'uri', locationName: 'Name' }, Body: { shape: 'SmallBytes' } },
    },
    NoteRequest: { type: 'structure', payload: 'Text', members: { Text: { shape: 'Name' } } },
    Thing: { type: 'structure', required: ['Created'], members: { Created: { shape: 'Time' }, Data: { shape: 'Bytes' }, Score: { shape: 'Double' }, Seen: { shape: 'IsoTime' } } },
    Name: { type: 'string' },
    Time: { type: 'timestamp' },
    EpochTime: { type: 'timestamp', timestampFormat: 'unixTimestamp' },
    IsoTime: { type: 'timestamp', timestampFormat: 'iso8601' },
    Flags: { type: 'list', member: { shape: 'Name' } },
    Times: { type: 'list', member: { shape: 'Time' } },
    Bool: { type: 'boolean' },
    Double: { type: 'double' },
    Int: { type: 'integer' },
    Meta: { type: 'map', key: { shape: 'Name' }, value: { shape: 'Name' } },
    Extra: { type: 'map', key: { shape: 'Name' }, value: { shape: 'Flags' } },
    Bytes: { type: 'blob' },
    SmallBytes: { type: 'blob', max: 4 },
  },
} as unknown as ServiceModel;

describe('reading and writing the bindings Lambda does not use', () => {
  const when = 'Tue, 01 Dec 2026 18:25:17 GMT';

  it('reads header and query timestamps in their formats, lists, booleans, doubles, header and query maps, JSON headers and a structure payload', () => {
    const decoded = input(synthetic, 'PutThing', {
      labels: { Name: 'a%2Fb' },
      query: 'since=2026-12-01T18:25:17Z&dry=true&ratio=0.5&colour=red&colour=blue&size=L',
      headers: {
        'X-When': when,
        'X-Epoch': '1796149517',
        'X-Flags': 'a, "b,c", "d\\"e"',
        'X-Dates': `${when}, ${when}`,
        'x-meta-owner': 'ann',
        'X-Meta-Team': 'ml',
        'X-Context': Buffer.from('{"k":[1]}').toString('base64'),
        'X-Token': 'AAH/',
      },
      body: JSON.stringify({ Created: 1796149517, Data: Buffer.from('hi').toString('base64'), Seen: '2026-12-01T18:25:17Z' }),
    });
    const instant = new Date('2026-12-01T18:25:17Z');
    assert.deepEqual(decoded, {
      Name: 'a/b',
      When: instant,
      Epoch: instant,
      Since: instant,
      Flags: ['a', 'b,c', 'd"e'],
      Dates: [instant, instant],
      Dry: true,
      Ratio: 0.5,
      Meta: { owner: 'ann', team: 'ml' },
      Extra: { colour: ['red', 'blue'], size: ['L'] },
      Context: '{"k":[1]}',
      Token: Buffer.from([0, 1, 255]),
      Thing: { Created: instant, Data: Buffer.from('hi'), Seen: instant },
    });
  });

  it('refuses values that do not read as their type, naming the member', () => {
    const refused = (parts: Parameters<typeof request>[0]) => failure(synthetic, 'PutThing', { labels: { Name: 'n' }, ...parts });
    assert.match(refused({ headers: { 'X-When': 'yesterday' } }).message, /Value 'yesterday' at 'when' failed to satisfy constraint: Member must be an HTTP date/);
    assert.match(refused({ query: 'dry=yes' }).message, /Value 'yes' at 'dry' failed to satisfy constraint: Member must be true or false/);
    assert.match(refused({ query: 'ratio=half' }).message, /Member must be a number/);
    assert.match(refused({ query: 'since=soon' }).message, /Member must be an ISO 8601 timestamp/);
    assert.match(refused({ headers: { 'X-Context': Buffer.from('{no').toString('base64') } }).message, /Member must be base64-encoded JSON/);
    assert.match(refused({ headers: { 'X-Token': 'not base64' } }).message, /Value 'not base64' at 'token' failed to satisfy constraint: Member must be base64-encoded bytes/);
    assert.match(refused({ body: '{"Data":"aGk="}' }).message, /Value null at 'thing.created' failed to satisfy constraint: Member must not be null/);
    assert.equal(refused({ body: '{"Created":"today"}' }).kind, 'unreadable');
  });

  it('checks a raw blob payload against its shape, which the validator cannot see', () => {
    assert.deepEqual(input(synthetic, 'Upload', { labels: { Name: 'n' }, body: 'abcd' }), { Name: 'n', Body: Buffer.from('abcd') });
    assert.match(failure(synthetic, 'Upload', { labels: { Name: 'n' }, body: 'abcde' }).message, /Value '\(5 bytes\)' at 'body' failed to satisfy constraint: Member must have length less than or equal to 4/);
    assert.match(failure(synthetic, 'Upload', { labels: { Name: 'n' } }).message, /Value null at 'body' failed to satisfy constraint: Member must not be null/);
  });

  it('a string payload is the body as text, both ways', () => {
    assert.deepEqual(input(synthetic, 'Note', { body: '{not json' }), { Text: '{not json' });
    assert.deepEqual(output(synthetic, 'Note', { Text: 'hello' }), { status: 200, headers: {}, body: 'hello', contentType: 'text/plain' });
  });

  it('writes headers in their formats, prefixed maps, the status member and a structure payload', () => {
    const instant = new Date('2026-12-01T18:25:17Z');
    const written = output(synthetic, 'PutThing', {
      Status: 207,
      When: instant,
      Flags: ['a', 'b,c'],
      Ratio: Number.NaN,
      Context: '{"k":1}',
      Meta: { owner: 'ann' },
      Thing: { Created: instant, Data: Buffer.from('hi'), Score: Infinity, Seen: instant },
    });
    assert.equal(written.status, 207);
    assert.deepEqual(written.headers, {
      'X-When': when,
      'X-Flags': 'a, "b,c"',
      'X-Ratio': 'NaN',
      'X-Context': Buffer.from('{"k":1}').toString('base64'),
      'x-meta-owner': 'ann',
    });
    assert.deepEqual(JSON.parse(written.body as string), { Created: 1796149517, Data: 'aGk=', Score: 'Infinity', Seen: '2026-12-01T18:25:17.000Z' });
    assert.deepEqual(output(synthetic, 'PutThing', {}), { status: 200, headers: {} });
  });

  it('refuses an output value of a type the wire cannot carry', () => {
    assert.throws(() => output(synthetic, 'PutThing', { When: 'not a date' }), /a timestamp must be/);
    assert.throws(() => output(synthetic, 'PutThing', { Thing: { Created: 1, Data: 42 } }), /a blob must be/);
  });

  it('refuses a model whose body members are renamed on the wire', () => {
    const renamed = structuredClone(synthetic) as unknown as { shapes: Record<string, { members?: Record<string, { locationName?: string }> }> };
    renamed.shapes.Thing!.members!.Score!.locationName = 'score';
    assert.throws(() => messageBindings(renamed as unknown as ServiceModel, 'PutThingRequest'), /Thing\.Score \(in Thing\) is named score in JSON bodies/);
  });
});
