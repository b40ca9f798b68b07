/** Types of scripts/addon-probe.mjs (used by tests). */
export function probeAddon(root: string): { ok: true; path: string } | { ok: false; reason: string };
