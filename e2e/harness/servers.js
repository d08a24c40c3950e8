// Loopback HTTP servers: the widget's origin (serves dist/) and host-page origins whose
// pages are generated per scenario.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

import { distFiles } from './paths.js';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

function close(server) {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** Escapes text for an HTML attribute value or element content. */
export function escapeHtml(value) {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');
}

/**
 * Serves (a snapshot of) `dist/` on http://127.0.0.1:<port>, readable from any origin (the script tag is
 * `crossorigin="anonymous"` with `integrity`, and the loader fetches the wasm with one).
 * `requests` lists every path asked for, for scenarios that count wasm downloads.
 */
export async function startWidgetServer() {
  const files = distFiles();
  const dist = files.dir;
  const requests = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push({ method: req.method, path, at: Date.now() });
    const headers = {
      'access-control-allow-origin': '*',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    };
    const file = normalize(join(dist, path));
    if (!file.startsWith(dist + sep) || req.method !== 'GET') {
      res.writeHead(404, headers).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { ...headers, 'content-type': TYPES[extname(file)] || 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404, headers).end();
    }
  });
  const port = await listen(server);
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    scriptUrl: `${origin}/assent.js`,
    integrity: files.integrity,
    embeddedNoticeHash: files.embeddedNoticeHash,
    requests,
    wasmRequests: () => requests.filter((r) => r.path.endsWith('.wasm')).length,
    stop: () => close(server),
  };
}

/**
 * A host-page origin: `http://<hostname>:<port>` (the server itself listens on 127.0.0.1;
 * use hostname `localhost` or `127.0.0.1` to get distinct origins).
 * `page({...})` registers a generated page and returns its URL; `file(path, body, type)`
 * serves any other document (a notice, a stylesheet).
 */
export async function startHostServer({ hostname, widget }) {
  const routes = new Map();
  let next = 0;
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const entry = routes.get(path);
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (!entry || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const headers = { 'content-type': entry.type, 'cache-control': 'no-store' };
    if (entry.csp) headers['content-security-policy'] = entry.csp;
    res.writeHead(200, headers).end(entry.body);
  });
  const port = await listen(server);
  const origin = `http://${hostname}:${port}`;
  return {
    origin,
    /**
     * A host page with the widget's script tag. `endpoint: null` leaves `data-endpoint` out;
     * `extraAttributes` adds or overrides `data-*` attributes (values are HTML-escaped);
     * `csp` is sent as a Content-Security-Policy response header; `lang` is the page's
     * `<html lang>` (`null` leaves it out); `scriptUrl` is where the tag loads assent.js from
     * (the widget server's, unless another host serves the same files).
     */
    page({ site, endpoint, extraAttributes = {}, csp, headHtml = '', bodyHtml = '', title = 'Host page', lang = 'en', scriptUrl = widget.scriptUrl } = {}) {
      const attributes = {};
      if (endpoint !== null && endpoint !== undefined) attributes['data-endpoint'] = endpoint;
      if (site !== null && site !== undefined) attributes['data-site'] = site;
      Object.assign(attributes, extraAttributes);
      const rendered = Object.entries(attributes)
        .map(([name, value]) => ` ${name}="${escapeHtml(value)}"`)
        .join('');
      const body = `<!doctype html>
<html${lang === null ? '' : ` lang="${escapeHtml(lang)}"`}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
${headHtml}
<script src="${scriptUrl}" integrity="${widget.integrity['assent.js']}" crossorigin="anonymous"${rendered} defer></script>
</head>
<body>
<main><h1>${escapeHtml(title)}</h1><p>Some host content.</p></main>
${bodyHtml}
</body>
</html>
`;
      const path = `/page-${++next}.html`;
      routes.set(path, { body, type: TYPES['.html'], csp });
      return origin + path;
    },
    file(path, body, type = 'application/json') {
      routes.set(path, { body, type });
      return origin + path;
    },
    stop: () => close(server),
  };
}

/**
 * A TCP gate in front of `target` (an http://127.0.0.1:<port> origin): while `down()`,
 * every connection is cut at once, so the endpoint is unreachable for every kind of request
 * the browser makes (page.route can't stop keepalive requests sent while a page unloads).
 */
export async function startGate(target) {
  const { createServer: createTcpServer, connect } = await import('node:net');
  const targetPort = Number(new URL(target).port);
  const sockets = new Set();
  let open = true;
  const server = createTcpServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  const port = await listen(server);
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    down() {
      open = false;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    up() {
      open = true;
    },
    stop() {
      this.down();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
