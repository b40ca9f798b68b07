/**
 * A strict reader for the ABC 2.1 subset our writer emits (header fields; notes with ^/= accidentals,
 * octave marks, integer lengths and ties; chords; z/Z rests; | and |] bar lines). It checks every
 * bar's length against M:/L:, that every tie lands on the same pitch, and returns the notes it
 * reads (ties merged) so tests can compare them with the input. Anything else is an error.
 */

export interface ReadNote {
  pitch: number;
  start: number;
  end: number;
}

export interface ReadTune {
  fields: Record<string, string>;
  barLength: number;
  bars: number;
  notes: ReadNote[];
}

const LETTER_BASE: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
const NOTE = String.raw`(\^|=)?([A-Ga-g])([,']*)(\d*)(-?)`;
const NOTE_NO_GROUPS = String.raw`(?:\^|=)?[A-Ga-g][,']*\d*-?`;
const TOKEN = new RegExp(String.raw`^(?:(Z)(\d*)|(z)(\d*)|\[((?:${NOTE_NO_GROUPS})+)\]|${NOTE}|(\|\])|(\|))`);

export function readAbc(text: string): ReadTune {
  if (!text.endsWith('\n')) throw new Error('file must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  const fields: Record<string, string> = {};
  const order: string[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const m = /^([A-Za-z]):(.*)$/.exec(lines[i]!);
    if (!m) throw new Error(`header line ${i + 1} is not a field: ${lines[i]}`);
    fields[m[1]!] = m[2]!;
    order.push(m[1]!);
    if (m[1] === 'K') break;
  }
  if (order[0] !== 'X' || !/^\d+$/.test(fields.X ?? '')) throw new Error('X: must come first with a number');
  for (const f of ['T', 'M', 'L', 'Q', 'K']) if (!(f in fields)) throw new Error(`missing ${f}: field`);
  const meter = /^(\d+)\/(\d+)$/.exec(fields.M!);
  const unit = /^1\/(\d+)$/.exec(fields.L!);
  if (!meter || !unit) throw new Error(`bad M: or L: (${fields.M}, ${fields.L})`);
  if (!/^1\/4=\d+$/.test(fields.Q!)) throw new Error(`bad Q: ${fields.Q}`);
  const barLength = (Number(meter[1]) * Number(unit[1])) / Number(meter[2]);
  if (!Number.isInteger(barLength)) throw new Error('bar length is not a whole number of L: units');

  let body = lines.slice(i + 1).join(' ');
  let time = 0;
  let barStart = 0;
  let bars = 0;
  let sharpState = new Map<string, boolean>();
  let ended = false;
  let expectedUnits = barLength;
  const notes: ReadNote[] = [];
  let pendingTies = new Map<number, ReadNote>();

  const readNote = (acc: string | undefined, letter: string, marks: string, len: string) => {
    const key = letter + marks;
    if (acc) sharpState.set(key, acc === '^');
    const sharp = sharpState.get(key) ?? false;
    const lower = letter === letter.toLowerCase();
    let octave = lower ? 5 : 4;
    for (const c of marks) {
      if (c === "'" && lower) octave++;
      else if (c === ',' && !lower) octave--;
      else throw new Error(`octave mark ${c} on ${letter}`);
    }
    return { pitch: (octave + 1) * 12 + LETTER_BASE[letter.toUpperCase()]! + (sharp ? 1 : 0), length: len === '' ? 1 : Number(len) };
  };

  const event = (parsed: { pitch: number; length: number; tie: boolean }[]) => {
    const length = parsed[0]!.length;
    if (parsed.some((p) => p.length !== length)) throw new Error(`chord notes of different lengths at ${time}`);
    const nextTies = new Map<number, ReadNote>();
    for (const p of parsed) {
      let note = pendingTies.get(p.pitch);
      if (note) pendingTies.delete(p.pitch);
      else {
        note = { pitch: p.pitch, start: time, end: time };
        notes.push(note);
      }
      note.end = time + length;
      if (p.tie) nextTies.set(p.pitch, note);
    }
    if (pendingTies.size > 0) throw new Error(`tie from pitch ${[...pendingTies.keys()]} does not reach the same pitch at ${time}`);
    pendingTies = nextTies;
    time += length;
  };

  while ((body = body.trimStart()).length > 0) {
    if (ended) throw new Error(`content after |]: ${body.slice(0, 20)}`);
    const m = TOKEN.exec(body);
    if (!m) throw new Error(`unreadable ABC at: ${body.slice(0, 30)}`);
    body = body.slice(m[0].length);
    if (m[1]) {
      if (pendingTies.size > 0) throw new Error('tie into a multi-bar rest');
      const count = m[2] ? Number(m[2]) : 1;
      if (time !== barStart) throw new Error('Z inside a bar');
      time += count * barLength;
      expectedUnits = count * barLength;
    } else if (m[3]) {
      if (pendingTies.size > 0) throw new Error(`tie into a rest at ${time}`);
      time += m[4] ? Number(m[4]) : 1;
    } else if (m[5]) {
      const parsed: { pitch: number; length: number; tie: boolean }[] = [];
      const inner = new RegExp(NOTE, 'g');
      for (const n of m[5].matchAll(inner)) {
        const { pitch, length } = readNote(n[1], n[2]!, n[3]!, n[4]!);
        parsed.push({ pitch, length, tie: n[5] === '-' });
      }
      event(parsed);
    } else if (m[7]) {
      const { pitch, length } = readNote(m[6], m[7], m[8]!, m[9]!);
      event([{ pitch, length, tie: m[10] === '-' }]);
    } else {
      // bar line: a bar holds exactly M:/L: units (a Zn rest: n bars)
      if (time - barStart !== expectedUnits) throw new Error(`bar ${bars} holds ${time - barStart} units, expected ${expectedUnits}`);
      bars += expectedUnits / barLength;
      expectedUnits = barLength;
      barStart = time;
      sharpState = new Map();
      if (m[11]) ended = true;
    }
  }
  if (!ended) throw new Error('tune does not end with |]');
  if (pendingTies.size > 0) throw new Error('tie at the end of the tune');
  return { fields, barLength, bars, notes };
}
