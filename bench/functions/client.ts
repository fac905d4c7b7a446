/**
 * The two clients every side is called with: a minimal one (node:http on one kept-alive
 * connection, each request SigV4-signed by the AWS SDK's signer, nothing else), and the AWS
 * SDK's LambdaClient, whose own overhead then counts. Both send Lambda's Invoke,
 * `POST /2015-03-31/functions/<name>/invocations`, to whatever server they are pointed at.
 */
import http from 'node:http';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface InvokeAnswer {
  status: number;
  body: string;
  /** Lower-case names. */
  headers: http.IncomingHttpHeaders;
}

export interface InvokeClient {
  invoke(functionName: string, options?: { payload?: Uint8Array; logTail?: boolean }): Promise<InvokeAnswer>;
  close(): void;
}

const REGION = 'us-east-1';
const EMPTY_EVENT = new TextEncoder().encode('{}');

/** One connection, kept alive: the calls are sequential, and a new connection per call would be measured too. */
export function minimalClient(baseUrl: string, credentials: Credentials): InvokeClient {
  const target = new URL(baseUrl);
  if (target.hostname !== '127.0.0.1') throw new Error(`the bench only talks to 127.0.0.1, not ${target.hostname}`);
  // Idle sockets go after 4 s, before Node's default 5 s server keep-alive timeout can close one under a request.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1, timeout: 4000 });
  const signer = new SignatureV4({ service: 'lambda', region: REGION, credentials, sha256: Hash.bind(null, 'sha256') });
  return {
    async invoke(functionName, options = {}) {
      const path = `/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;
      const body = options.payload ?? EMPTY_EVENT;
      const signed = await signer.sign({
        method: 'POST',
        protocol: 'http:',
        hostname: target.hostname,
        port: Number(target.port),
        path,
        query: {},
        headers: { host: target.host, 'content-type': 'application/json', ...(options.logTail ? { 'x-amz-log-type': 'Tail' } : {}) },
        body,
      });
      const headers = { ...(signed.headers as Record<string, string>), 'content-length': String(body.byteLength) };
      return new Promise<InvokeAnswer>((resolve, reject) => {
        const request = http.request({ agent, hostname: target.hostname, port: target.port, path, method: 'POST', headers }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: response.headers }));
          response.on('error', reject);
        });
        request.on('error', reject);
        request.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

/** The AWS SDK's client, one attempt per call: a failure is the bench's to see, not to retry. */
export function sdkClient(baseUrl: string, credentials: Credentials): InvokeClient {
  const lambda = new LambdaClient({ endpoint: baseUrl, region: REGION, credentials, maxAttempts: 1 });
  return {
    async invoke(functionName, options = {}) {
      const result = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: options.payload ?? EMPTY_EVENT, ...(options.logTail ? { LogType: 'Tail' } : {}) }));
      return {
        status: result.StatusCode ?? 0,
        body: new TextDecoder().decode(result.Payload),
        headers: {
          ...(result.FunctionError === undefined ? {} : { 'x-amz-function-error': result.FunctionError }),
          ...(result.LogResult === undefined ? {} : { 'x-amz-log-result': result.LogResult }),
        },
      };
    },
    close() {
      lambda.destroy();
    },
  };
}
