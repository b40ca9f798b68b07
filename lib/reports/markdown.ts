/**
 * `reports/<song_id>/midi_markdown.md` (the original's `export_midi_markdown`) in the original's current format: title, `## Stem:` section, `### Bar <i>`
 * headings in ascending order (negatives first), the same table header and separator, Python
 * `.3f` times, sharps-only note names.
 *
 * Default layout fixes the original's repeated stem headings: one `## Stem: <stem>` section per stem (stem order) and
 * notes sorted by start within a bar. `groupBy: 'all'` reproduces the original exactly: a single
 * `## Stem: all` section with notes in events order.
 */
import type { StemEvents } from '../datasets/tables.js';
import { writeFileAtomic } from '../util/atomic.js';
import { formatFixed, pitchToName } from './pyformat.js';

export interface MarkdownOptions {
  /** 'stem' (default): a section per stem, notes by start; 'all': the original's single section. */
  groupBy?: 'stem' | 'all';
}

interface Row {
  barIndex: number;
  startS: number;
  endS: number;
  pitch: number;
  velocity: number;
  order: number;
}

const HEADER = '| Time (s) | Pitch | Note | Velocity | Duration (s) |';
const SEPARATOR = '|----------|-------|------|----------|---------------|';

function rowsOf(stems: readonly StemEvents[]): Row[] {
  const rows: Row[] = [];
  for (const { notes, alignment } of stems) {
    for (let i = 0; i < notes.startS.length; i++) {
      rows.push({
        barIndex: alignment.barIndex[i]!,
        startS: notes.startS[i]!,
        endS: notes.endS[i]!,
        pitch: notes.pitch[i]!,
        velocity: notes.velocity[i]!,
        order: rows.length,
      });
    }
  }
  return rows;
}

function renderSection(lines: string[], title: string, rows: Row[], sortByStart: boolean): void {
  lines.push(`## Stem: ${title}`, '');
  if (rows.length === 0) {
    lines.push('No notes found.');
    return;
  }
  const byBar = new Map<number, Row[]>();
  for (const row of rows) {
    const list = byBar.get(row.barIndex);
    if (list) list.push(row);
    else byBar.set(row.barIndex, [row]);
  }
  for (const barIndex of [...byBar.keys()].sort((a, b) => a - b)) {
    const notes = byBar.get(barIndex)!;
    if (sortByStart) notes.sort((a, b) => a.startS - b.startS || a.order - b.order);
    lines.push(`### Bar ${barIndex}`, '', HEADER, SEPARATOR);
    for (const n of notes) {
      lines.push(`| ${formatFixed(n.startS, 3)} | ${n.pitch} | ${pitchToName(n.pitch)} | ${n.velocity} | ${formatFixed(n.endS - n.startS, 3)} |`);
    }
    lines.push('');
  }
}

/** The report text; every line ends with `\n`, the last one being the blank line after a table. */
export function renderMidiMarkdown(songId: string, stems: readonly StemEvents[], options: MarkdownOptions = {}): string {
  const lines = [`# MIDI Analysis Report: ${songId}`, ''];
  const withNotes = stems.filter((s) => s.notes.startS.length > 0);
  if ((options.groupBy ?? 'stem') === 'all' || withNotes.length === 0) {
    renderSection(lines, 'all', rowsOf(stems), false);
  } else {
    for (const stem of withNotes) renderSection(lines, stem.stem, rowsOf([stem]), true);
  }
  return lines.map((line) => `${line}\n`).join('');
}

/** Writes the report atomically; returns its path. */
export async function writeMidiMarkdown(path: string, songId: string, stems: readonly StemEvents[], options: MarkdownOptions = {}): Promise<string> {
  await writeFileAtomic(path, renderMidiMarkdown(songId, stems, options), { op: 'writeMidiMarkdown' });
  return path;
}
