/**
 * The peer: the function's own handler module, imported into this process and called by a
 * plain node:http server for every request, whatever its path. No signature check, no
 * authorisation, no sandbox, no second process: what calling the handler over HTTP costs at
 * the least, on this machine and with the same client.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

export interface PeerServer {
  url: string;
  close(): Promise<void>;
}

type Handler = (event: unknown, context: Record<string, unknown>) => Promise<unknown>;

export async function startPeer(handlerFile: string, exportName: string): Promise<PeerServer> {
  const module = (await import(pathToFileURL(handlerFile).href)) as Record<string, unknown>;
  const handler = module[exportName];
  if (typeof handler !== 'function') throw new Error(`${handlerFile} does not export ${exportName}`);
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void (async () => {
        // As Lambda reads it: an empty body is the empty event.
        const text = Buffer.concat(chunks).toString('utf8');
        const result = await (handler as Handler)(text === '' ? {} : JSON.parse(text), {});
        const body = Buffer.from(JSON.stringify(result ?? null));
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.byteLength) });
        response.end(body);
      })().catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
