// A loopback HTTP server standing in for a model mirror: serves files by path with single-range
// support, can cut a response after N bytes (a download killed mid-way) and records requests.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MirrorRequest {
  path: string;
  range: string | undefined;
}

export interface Mirror {
  url: string;
  files: Map<string, Buffer>;
  requests: MirrorRequest[];
  /** Cut the next response for a path after this many body bytes (once). */
  cutAfter: Map<string, number>;
  /** Answer ranges with the whole file (200), as a server without range support. */
  ignoreRanges: boolean;
  /** When > 0, bodies go out in 4 KiB pieces this many ms apart (a slow link: a download stays under way). */
  chunkDelayMs: number;
  close: () => Promise<void>;
}

export async function startMirror(): Promise<Mirror> {
  const mirror = { files: new Map(), requests: [], cutAfter: new Map(), ignoreRanges: false, chunkDelayMs: 0 } as unknown as Mirror;
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').slice(1));
    mirror.requests.push({ path, range: req.headers.range });
    const body = mirror.files.get(path);
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !mirror.ignoreRanges) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    } else res.writeHead(200, { 'content-length': body.length });
    const cut = mirror.cutAfter.get(path);
    if (cut !== undefined) {
      mirror.cutAfter.delete(path);
      res.write(body.subarray(start, start + cut), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    if (mirror.chunkDelayMs > 0) {
      let at = start;
      const timer = setInterval(() => {
        if (res.destroyed || at >= body.length) {
          clearInterval(timer);
          res.end();
          return;
        }
        res.write(body.subarray(at, at + 4096));
        at += 4096;
      }, mirror.chunkDelayMs);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  mirror.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  mirror.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return mirror;
}
