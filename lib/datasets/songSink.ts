/**
 * A song's datasets written while the song is processed: each stem's rows are appended (as row
 * groups of streaming Parquet writers) as soon as that stem and every stem before it are done,
 * so rows keep the stem order of a sequential run and a stem's rows can be freed right away.
 */
import type { BarBoundary } from '../music/segmentation.js';
import { BAR_FEATURES_SCHEMA, BAR_GRID_SCHEMA, BARS_SCHEMA, BEATS_SCHEMA, EVENTS_SCHEMA } from './schema.js';
import { type ParquetWriteResult, StreamingParquetWriter } from './streaming.js';
import {
  barFeaturesBatch,
  barGridBatch,
  barsBatch,
  beatsBatch,
  datasetPaths,
  eventsBatch,
  type SongDatasetsResult,
  type StemBarFeatures,
  type StemEvents,
} from './tables.js';

export interface StemRows {
  events?: StemEvents;
  features?: StemBarFeatures;
}

/**
 * Told about the rows as they are appended, in file order (the HTML report's data is built from
 * them instead of decoding the files just written).
 */
export interface SongRowsObserver {
  /** A stem's events, once appended to events.parquet. */
  addEvents(events: StemEvents): void;
  /** A stem's bar features, once appended to bar_features.parquet. */
  addBarFeatures(features: StemBarFeatures): void;
  /** The bar grid, once appended to bar_grid.parquet. */
  addBarGrid(bars: readonly BarBoundary[]): void;
}

export class SongDatasetSink {
  readonly #writers;
  readonly #pending = new Map<number, StemRows>();
  #next = 0;
  #chain: Promise<void> = Promise.resolve();

  constructor(
    datasetsDir: string,
    readonly songId: string,
    readonly stems: readonly string[],
    readonly beatTimes: ArrayLike<number>,
    readonly tempoBpm: number,
    readonly observer?: SongRowsObserver,
  ) {
    const paths = datasetPaths(datasetsDir);
    this.#writers = {
      events: new StreamingParquetWriter(paths.events, EVENTS_SCHEMA),
      beats: new StreamingParquetWriter(paths.beats, BEATS_SCHEMA),
      // bars.parquet is sorted by stem then bar; appending per stem keeps that order because
      // stems are processed in sorted order.
      bars: new StreamingParquetWriter(paths.bars, BARS_SCHEMA),
      bar_features: new StreamingParquetWriter(paths.bar_features, BAR_FEATURES_SCHEMA),
      bar_grid: new StreamingParquetWriter(paths.bar_grid, BAR_GRID_SCHEMA),
    };
  }

  /** Hands over stem `index`'s rows; they are written once stems 0…index-1 have been. */
  stemDone(index: number, rows: StemRows): Promise<void> {
    this.#pending.set(index, rows);
    this.#chain = this.#chain.then(async () => {
      while (this.#pending.has(this.#next)) {
        const r = this.#pending.get(this.#next)!;
        this.#pending.delete(this.#next);
        const stem = this.stems[this.#next]!;
        this.#next++;
        if (r.events) {
          await this.#writers.events.append(eventsBatch(r.events));
          this.observer?.addEvents(r.events);
        }
        await this.#writers.beats.append(beatsBatch(this.songId, [stem], this.beatTimes, this.tempoBpm));
        if (r.events) await this.#writers.bars.append(barsBatch(this.songId, [r.events]));
        if (r.features) {
          await this.#writers.bar_features.append(barFeaturesBatch(r.features));
          this.observer?.addBarFeatures(r.features);
        }
      }
    });
    return this.#chain;
  }

  /** Closes every file (empty datasets get none), after the additive bar grid when given. */
  async finish(barGrid?: { bars: readonly BarBoundary[]; beatsPerBar: number }): Promise<SongDatasetsResult> {
    await this.#chain;
    if (barGrid) {
      await this.#writers.bar_grid.append(barGridBatch(this.songId, barGrid.bars, this.beatTimes, barGrid.beatsPerBar, this.tempoBpm));
      this.observer?.addBarGrid(barGrid.bars);
    }
    // Closed together: each close is a round trip to the Parquet thread and a file synced to disk,
    // which need not wait for one another. The keys keep the original's order.
    const names = ['events', 'beats', 'bars', 'bar_features', 'bar_grid'] as const;
    const settled = await Promise.allSettled(names.map((name) => this.#writers[name].close()));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const result: SongDatasetsResult = {};
    names.forEach((name, i) => {
      const written = (settled[i] as PromiseFulfilledResult<ParquetWriteResult | null>).value;
      if (written) result[name] = written;
    });
    return result;
  }

  async abort(): Promise<void> {
    await this.#chain.catch(() => {});
    await Promise.all(Object.values(this.#writers).map((w) => w.abort()));
  }
}

export interface SongDatasetsInput {
  datasetsDir: string;
  songId: string;
  stems: readonly string[];
  beatTimes: ArrayLike<number>;
  tempoBpm: number;
  /** Per stem, in stem order; stems without notes may be omitted. */
  events: readonly StemEvents[];
  /** Per stem, in stem order. */
  barFeatures: readonly StemBarFeatures[];
  /** When given, also writes the additive bar_grid.parquet (after the original four). */
  barGrid?: { bars: readonly BarBoundary[]; beatsPerBar: number };
  /** Told about the rows as they are written. */
  observer?: SongRowsObserver;
}

/**
 * Writes a song's datasets in one call (the sink's path, all stems at once): the non-empty
 * datasets in the original's order (events, beats, bars, bar_features), then the additive
 * bar_grid when requested; empty ones get no file and no key, as in the original's step 9.
 */
export async function writeSongDatasets(input: SongDatasetsInput): Promise<SongDatasetsResult> {
  const sink = new SongDatasetSink(input.datasetsDir, input.songId, input.stems, input.beatTimes, input.tempoBpm, input.observer);
  try {
    for (const [index, stem] of input.stems.entries()) {
      const events = input.events.find((e) => e.stem === stem);
      const features = input.barFeatures.find((f) => f.stem === stem);
      await sink.stemDone(index, { ...(events ? { events } : {}), ...(features ? { features } : {}) });
    }
    return await sink.finish(input.barGrid);
  } catch (err) {
    await sink.abort();
    throw err;
  }
}
