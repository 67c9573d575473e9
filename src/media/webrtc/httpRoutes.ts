/**
 * The HTTP side of the WebRTC server: the client page (static files) and the JSON status endpoints.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PAGE_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/client.js': { file: 'client.js', type: 'text/javascript; charset=utf-8' },
};

/** Finds `assets/webrtc/` from this module, whether it runs from `src/` (tsx) or `dist/src/` (built). */
export function defaultPageDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'assets', 'webrtc');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    dir = dirname(dir);
  }
  return join(process.cwd(), 'assets', 'webrtc');
}

/** What the routes report. */
export interface HttpRoutesOptions {
  readonly pageDir: string;
  readonly health: () => unknown;
  readonly connections: () => unknown;
}

/** `GET /`, `/index.html`, `/client.js`, `/health`, `/connections`; 404 for other paths, 405 for other methods. */
export function httpRoutes(options: HttpRoutesOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'method not allowed' });
    if (path === '/health') return json(200, options.health());
    if (path === '/connections') return json(200, { connections: options.connections() });
    const page = PAGE_FILES[path];
    if (!page) return json(404, { error: `not found: ${path.slice(0, 100)}` });
    try {
      const body = readFileSync(join(options.pageDir, page.file));
      res.writeHead(200, { 'content-type': page.type, 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      json(500, { error: `client page missing in ${options.pageDir}` });
    }
  };
}
