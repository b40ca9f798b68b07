/** Steps 8 and 9: the datasets were built while the stems were processed; report and close them. */
import type { SongContext } from '../context.js';
import { meterBeatsPerBar } from './analyze.js';

/** Step 8: the datasets' shapes (their rows were appended in step 7). */
export async function buildDatasets(ctx: SongContext): Promise<void> {
  const { events, featureRows } = ctx.stemResults;
  const eventRows = events.reduce((n, s) => n + s.notes.startS.length, 0);
  const noteBars = new Set(events.flatMap((s) => Array.from(s.alignment.barIndex, (b) => `${s.stem}\u0000${b}`))).size;
  const beats = ctx.rhythm.beatTimes.length * ctx.stems.names.length;
  ctx.log.info(`Dataset shapes - events: ${eventRows}, beats: ${beats}, bars: ${noteBars}, bar_features: ${featureRows}`);
}

/** Step 9: the additive bar grid, then every Parquet file closed (empty datasets get none). */
export async function writeDatasets(ctx: SongContext): Promise<void> {
  const written = await ctx.sink!.finish({ bars: ctx.bars, beatsPerBar: meterBeatsPerBar(ctx.rhythm, ctx.config) });
  ctx.sink = undefined;
  for (const name of ['events', 'beats', 'bars', 'bar_features', 'bar_grid'] as const) {
    const w = written[name];
    if (!w) continue;
    ctx.results[`${name}_parquet`] = ctx.staging.finalFor(w.path);
    ctx.log.info(`Wrote ${name} dataset to ${ctx.results[`${name}_parquet`] as string} (${w.rows} rows)`);
  }
}
