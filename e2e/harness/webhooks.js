// A webhook receiver on loopback: keeps every delivery and checks its Standard Webhooks
// signature (`webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`
// under the base64 secret after `whsec_`).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether `headers` carry a valid signature of `body` under `secret` (`whsec_…`). */
export function validSignature(secret, headers, body) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  if (!id || !timestamp || !headers['webhook-signature']) return false;
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return headers['webhook-signature'].split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    const given = Buffer.from(signature || '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** Starts a receiver; `deliveries` holds {id, timestamp, body, json, valid} in arrival order. */
export async function startWebhookReceiver() {
  const dir = mkdtempSync(join(tmpdir(), 'assent-e2e-webhook-'));
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const secretFile = join(dir, 'webhook.secret');
  writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  const deliveries = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json = null;
      try { json = JSON.parse(body); } catch { /* kept as text */ }
      deliveries.push({
        id: req.headers['webhook-id'],
        timestamp: req.headers['webhook-timestamp'],
        body,
        json,
        valid: validSignature(secret, req.headers, body),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks/assent`,
    secretFile,
    deliveries,
    stop() {
      rmSync(dir, { recursive: true, force: true });
      return new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
    },
  };
}
