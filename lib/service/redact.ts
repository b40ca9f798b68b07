/**
 * What clients may read of server paths: nothing absolute. Messages that reach a client (errors,
 * degraded reasons, readiness details) name known folders symbolically (`<data>`, `<models>`, …) and
 * any other absolute path by its last component; the server log keeps the full text.
 */
import { homedir } from 'node:os';
import { resolve, sep } from 'node:path';

/** A folder and the symbol clients see instead of it. */
export interface PathRoot {
  path: string;
  symbol: string;
}

/** An absolute POSIX or Windows path inside a message (stops at white space, quotes and brackets). */
const ABSOLUTE_PATH = /(?:(?<![\w.~-])\/(?:[^\s'"`()<>[\]{},;]+\/)*[^\s'"`()<>[\]{},;]*|\b[A-Za-z]:\\[^\s'"`()<>[\]{},;]*)/g;

/** Turns server paths in client-bound text into symbols. */
export class PathRedactor {
  readonly #roots: PathRoot[];

  constructor(roots: readonly PathRoot[]) {
    const home = homedir();
    // Longest first, so a folder inside another is named by the inner symbol.
    this.#roots = [...roots, ...(home && home !== sep ? [{ path: home, symbol: '~' }] : [])]
      .filter((r) => r.path.length > 1)
      .map((r) => ({ path: resolve(r.path), symbol: r.symbol }))
      .sort((a, b) => b.path.length - a.path.length);
  }

  /** The text with every absolute path replaced. */
  redact(text: string): string {
    return text.replace(ABSOLUTE_PATH, (path) => {
      if (path === '/') return path;
      for (const root of this.#roots) {
        if (path === root.path) return root.symbol;
        if (path.startsWith(root.path + sep)) return `${root.symbol}/${path.slice(root.path.length + 1)}`;
      }
      const parts = path.split(/[\\/]/).filter((p) => p.length > 0);
      // A one-component path such as "/v1" is a URL route, not a server path.
      if (parts.length <= 1) return path;
      return `…/${parts[parts.length - 1]}`;
    });
  }
}
