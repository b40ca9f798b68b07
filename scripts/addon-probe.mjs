// Does the addon node-gyp-build would pick load here? Checked in a child process (a crashing
// binary cannot take the installer down); a failure comes back as one line saying why.
import { spawnSync } from 'node:child_process';

export function probeAddon(root) {
  const script = `const p=require('node-gyp-build').resolve(${JSON.stringify(root)}); require(p); console.log(p)`;
  const probe = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
  if (probe.status === 0) return { ok: true, path: probe.stdout.trim() };
  const text = `${probe.stderr}`;
  const glibc = /version `(GLIBC(?:XX)?_[\d.]+)' not found/.exec(text);
  if (glibc) {
    const have = process.report?.getReport().header.glibcVersionRuntime ?? 'unknown';
    return { ok: false, reason: `the prebuilt addon needs ${glibc[1]}, but this system has glibc ${have}` };
  }
  if (/No native build was found/.test(text)) return { ok: false, reason: `no prebuilt addon for ${process.platform}-${process.arch}` };
  const line = text.split('\n').find((l) => /Error/.test(l)) ?? 'unknown error';
  return { ok: false, reason: `the prebuilt addon does not load (${line.trim()})` };
}
