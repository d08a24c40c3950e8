// A static server on 127.0.0.1 that answers every file precompressed with brotli, as a site
// (or CDN) that serves its widget well would, so the bytes compared are the bytes a visitor
// downloads. Only the files the pages declare are served: a widget fetching anything else
// shows up as a 404 in the run's log instead of being silently measured.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { brotliDecompressSync } from 'node:zlib';

import { smallest } from '../../scripts/brotli.mjs';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

const typeOf = (path) => TYPES[path.slice(path.lastIndexOf('.'))] || 'application/octet-stream';

/** Brotli as Assent's build writes its own `.br` files (scripts/brotli.mjs): quality 11, the
 * smallest of a few encoder settings, so every widget's files are compressed alike. */
export const brotli = smallest;

/**
 * `files`: URL path → { disk } (compressed here at startup), { disk, br } (an existing `.br`
 * next to it, checked to decompress to the same bytes: a dist/ caught mid-rebuild must not
 * be measured) or { body } (generated text). Resolves to { url, missed, close }: `missed`
 * lists the requests that found no file.
 */
export async function startServer(files) {
  const routes = new Map();
  for (const [path, file] of Object.entries(files)) {
    const raw = file.body !== undefined ? Buffer.from(file.body) : readFileSync(file.disk);
    let br;
    if (file.br) {
      br = readFileSync(file.br);
      if (!brotliDecompressSync(br).equals(raw)) {
        throw new Error(`${file.br} is not ${file.disk} compressed: is dist/ being rebuilt? Retry when it is done.`);
      }
    } else {
      br = brotli(raw);
    }
    routes.set(path, { br, type: typeOf(path) });
  }

  const missed = [];
  const server = createServer((request, response) => {
    // tarteaucitron asks for its files with ?v=<version>; the query names no other file.
    const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    const route = routes.get(path);
    if (!route || request.method !== 'GET') {
      missed.push(`${request.method} ${request.url}`);
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(200, {
      'content-type': route.type,
      'content-encoding': 'br',
      'content-length': route.br.length,
      // A first visit: nothing may come from a cache, even within one context.
      'cache-control': 'no-store',
    });
    response.end(route.br);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    missed,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}
