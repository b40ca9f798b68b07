// binding.d.ts is the addon's type: the names its NativeBinding interface declares (its
// declarations, one per domain, merge into one) are exactly the properties of the loaded addon, and
// what it declares as a method is a function there. A C++ export added, renamed or removed without
// its declaration (or the other way round) fails here instead of at a caller.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { loadBinding } from '../../lib/native/load.js';

const root = join(import.meta.dirname, '..', '..');

interface Member {
  name: string;
  method: boolean;
}

/** The members of every `export interface NativeBinding { … }` in a declaration file's text. */
function bindingMembers(text: string): Member[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  const members: Member[] = [];
  for (const head of code.matchAll(/export\s+interface\s+NativeBinding\s*\{/g)) {
    // The interface's body up to its closing brace, split into members at top-level semicolons
    // (those inside a member's parameter list or object type are nested deeper).
    let depth = 0;
    let member = '';
    for (let i = head.index + head[0].length; i < code.length; i++) {
      const c = code[i]!;
      if (depth === 0 && c === '}') break;
      if ('({['.includes(c)) depth++;
      else if (')}]'.includes(c)) depth--;
      if (depth === 0 && c === ';') {
        members.push(parseMember(member));
        member = '';
      } else {
        member += c;
      }
    }
    if (member.trim()) members.push(parseMember(member));
  }
  return members;
}

function parseMember(text: string): Member {
  const m = /^(?:readonly\s+)?([A-Za-z_$][\w$]*)\??\s*([(<:])/.exec(text.trim());
  if (!m) throw new Error(`binding.d.ts: cannot read the NativeBinding member ${JSON.stringify(text.trim())}`);
  return { name: m[1]!, method: m[2] !== ':' };
}

describe('binding.d.ts', () => {
  const declared = bindingMembers(readFileSync(join(root, 'binding.d.ts'), 'utf8'));
  const binding = loadBinding() as unknown as Record<string, unknown>;

  it('is read whole: every domain declares its part of NativeBinding', () => {
    // decode/resample/ORT/analysis, Demucs, Basic Pitch and the rhythm tracker each add members.
    expect(declared.length).toBeGreaterThan(20);
    for (const name of ['decodeFile', 'demucsOpen', 'basicPitchOpen', 'rhythmOpen', 'CancelToken']) {
      expect(declared.map((m) => m.name)).toContain(name);
    }
    expect(new Set(declared.map((m) => m.name)).size).toBe(declared.length);
  });

  it('declares exactly the names the built addon exports', () => {
    const names = declared.map((m) => m.name).sort();
    const exported = Object.keys(binding).sort();
    expect({ exportedButNotDeclared: exported.filter((n) => !names.includes(n)), declaredButNotExported: names.filter((n) => !exported.includes(n)) }).toEqual({
      exportedButNotDeclared: [],
      declaredButNotExported: [],
    });
  });

  it('declares as methods only what the addon exports as functions', () => {
    const notFunctions = declared.filter((m) => m.method && typeof binding[m.name] !== 'function').map((m) => m.name);
    expect(notFunctions).toEqual([]);
    expect(typeof binding.napiVersion).toBe('number');
    expect(typeof binding.CancelToken).toBe('function');
  });
});
