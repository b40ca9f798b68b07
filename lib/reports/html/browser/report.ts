/**
 * The report page's own script (runs in the browser, inlined after the libraries). It reads the
 * embedded `report-data`, draws with wavesurfer.js (waveform, beat/downbeat/bar markers as
 * regions, timeline, playback) and uPlot (tempo curve, piano rolls, chroma heat maps, RMS), and
 * keeps one time cursor across every view. Each view records what it drew in data attributes
 * (`data-marks`), and `window.__report` exposes the libraries' objects, so tests count the drawn
 * marks against the data. `window.__reportReady` and the `report-ready` performance mark are set
 * once everything is drawn; `window.__reportRenderMs` is the time from script start.
 *
 * Compiled by tsconfig.browser.json (DOM types, no Node types) and inlined by page.ts; types only
 * may be imported (scripts/build-browser.mjs refuses any other import).
 */
import type UPlot from 'uplot';
import type WaveSurferType from 'wavesurfer.js';
import type RegionsPlugin from 'wavesurfer.js/dist/plugins/regions.js';
import type TimelinePlugin from 'wavesurfer.js/dist/plugins/timeline.js';

import type { ReportData } from '../types.js';

/** What the page exposes to tests and to the console. */
interface ReportHandle {
  data: ReportData;
  wavesurfer: WaveSurferType | null;
  regions: Regions | null;
  plots: UPlot[];
  errors: string[];
}

declare global {
  /** wavesurfer.js's UMD bundle, with the regions and timeline plugins' bundles attached to it. */
  const WaveSurfer: typeof WaveSurferType & { Regions: typeof RegionsPlugin; Timeline: typeof TimelinePlugin };
  interface Window {
    __report: ReportHandle;
    __reportReady?: boolean;
    __reportRenderMs?: number;
  }
}

type MarkKind = 'beat' | 'downbeat' | 'bar';
/** The regions plugin instance (its module exports the plugin's factory, not a class). */
type Regions = ReturnType<typeof RegionsPlugin.create>;

const t0 = performance.now();
performance.mark('report-start');
const data = JSON.parse(document.getElementById('report-data')!.textContent!) as ReportData;
const report: ReportHandle = { data, wavesurfer: null, regions: null, plots: [], errors: [] };
window.__report = report;
// Every view shares one time axis: the audio's length when there is a waveform (the player's
// duration then agrees with it), else the song's.
const dur = data.waveform && data.waveform.duration_s > 0 ? data.waveform.duration_s : Math.max(data.duration_s, 0.001);
const peaks: number[][] = data.waveform && data.waveform.max.length > 0 ? [data.waveform.max, data.waveform.min.map((v) => -v)] : [[0, 0]];
const PITCH = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
const STEM_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

/** The element with `id`, which the page's HTML always holds. */
function byId(id: string): HTMLElement {
  return document.getElementById(id)!;
}
function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, string> | null, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (attrs) for (const k in attrs) e.setAttribute(k, attrs[k]!);
  if (text !== undefined) e.textContent = text;
  return e;
}
function message(err: unknown): string {
  const text = typeof err === 'object' && err !== null && 'message' in err ? err.message : undefined;
  return text ? String(text) : String(err);
}
function fail(where: string, err: unknown): void {
  report.errors.push(where + ': ' + message(err));
  const box = byId('errors');
  box.hidden = false;
  box.appendChild(el('li', null, where + ': ' + message(err)));
}
function width(node: HTMLElement): number {
  return Math.max(320, Math.floor(node.clientWidth || document.body.clientWidth || 960));
}
function fmt(x: number | null | undefined, d: number): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '–';
}

// ---- key numbers ----
function keyNumbers(): void {
  const s = data.summary;
  const rows: Array<[string, string]> = [
    ['duration', fmt(data.duration_s, 2) + ' s'],
    ['tempo', fmt(s.tempo_bpm, 2) + ' BPM'],
    ['meter', s.meter || '–'],
    [
      'beat tracker',
      (s.tracker || '–') +
        (s.confidence !== null ? (s.confidence_calibrated === false ? ' (mean beat probability ' : ' (confidence ') + fmt(s.confidence, 2) + ')' : ''),
    ],
    ['beats / downbeats', s.num_beats + ' / ' + s.num_downbeats],
    ['bars', String(s.num_bars)],
    ['stems', s.stems.join(', ') || '–'],
  ];
  const stems = Object.keys(s.notes_per_stem);
  rows.push(['notes', stems.length ? stems.map((k) => k + ': ' + s.notes_per_stem[k]).join(', ') : 'none']);
  const table = byId('key-numbers');
  for (const r of rows) {
    const tr = el('tr');
    tr.appendChild(el('th', null, r[0]));
    tr.appendChild(el('td', null, r[1]));
    table.appendChild(tr);
  }
  if (s.low_confidence) {
    const note = byId('rhythm-note');
    note.textContent =
      'Low rhythm confidence (' +
      fmt(s.confidence, 2) +
      '): the beats, downbeats and bars below are likely wrong. Check them before using the bar-level outputs.';
    note.hidden = false;
  }
  const list = byId('degraded');
  if (s.degraded_reasons.length === 0) {
    list.appendChild(el('li', { class: 'ok' }, 'no step degraded'));
  } else {
    for (const r of s.degraded_reasons) list.appendChild(el('li', { 'data-degraded': '1' }, r));
  }
}

// ---- shared time axis: bar lines as grid, bar numbers as labels ----
const barStarts = data.bars.start;
function barAxis(): UPlot.Axis {
  const axis: UPlot.Axis = { stroke: '#555', grid: { stroke: '#e4e4e4', width: 1 }, ticks: { show: false }, size: 30 };
  if (barStarts.length > 0) {
    // A grid line per bar while they are at least 8 px apart, else every k-th bar; a label
    // every few lines so the numbers never overlap.
    let kept: number[] = [];
    axis.splits = (u) => {
      const px = u.bbox.width / devicePixelRatio / Math.max(1, barStarts.length);
      const k = Math.max(1, Math.ceil(8 / Math.max(px, 0.01)));
      kept = [];
      for (let i = 0; i < barStarts.length; i += k) kept.push(i);
      return kept.map((i) => barStarts[i]!);
    };
    axis.values = (u, splits) => {
      const px = u.bbox.width / devicePixelRatio / Math.max(1, splits.length);
      const every = Math.max(1, Math.ceil(28 / Math.max(px, 0.01)));
      return splits.map((_v, j) => {
        const bar = kept[j];
        return j % every === 0 && bar !== undefined ? String(data.bars.index[bar]! + 1) : '';
      });
    };
    axis.label = 'bar';
    axis.labelSize = 14;
  } else {
    axis.label = 'seconds';
    axis.labelSize = 14;
  }
  return axis;
}
const cursors: Array<{ u: UPlot; line: HTMLElement }> = [];
function addCursor(u: UPlot): void {
  const line = el('div', { class: 'cursor' });
  u.over.appendChild(line);
  cursors.push({ u, line });
  u.over.addEventListener('click', (e) => {
    const t = u.posToVal(e.offsetX, 'x');
    if (report.wavesurfer && Number.isFinite(t)) report.wavesurfer.setTime(Math.max(0, Math.min(dur, t)));
  });
}
function moveCursors(t: number): void {
  for (const c of cursors) c.line.style.left = c.u.valToPos(t, 'x') + 'px';
}
function plot(container: HTMLElement, opts: Omit<UPlot.Options, 'width'>, plotData: UPlot.AlignedData): UPlot {
  const full: UPlot.Options = {
    ...opts,
    width: width(container),
    legend: opts.legend || { show: false },
    cursor: opts.cursor || { drag: { x: false, y: false }, points: { show: false } },
  };
  const u = new uPlot(full, plotData, container);
  report.plots.push(u);
  addCursor(u);
  return u;
}
function clip(u: UPlot, ctx: CanvasRenderingContext2D): void {
  ctx.save();
  ctx.beginPath();
  ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
  ctx.clip();
}

// ---- waveform, markers, timeline, playback (wavesurfer.js) ----
function alignWaveform(): void {
  const ref = report.plots[0];
  if (!ref) return;
  const area = ref.over.getBoundingClientRect();
  const box = byId('waveform');
  const outer = box.getBoundingClientRect();
  box.style.marginLeft = Math.max(0, area.left - outer.left) + 'px';
  box.style.marginRight = Math.max(0, outer.right - area.right) + 'px';
}
function waveform(): Promise<void> {
  return new Promise((resolve) => {
    const box = byId('waveform');
    let media: HTMLAudioElement | undefined;
    if (data.audio) {
      media = el('audio', { controls: '', preload: 'none', id: 'audio' });
      media.src = data.audio.src;
      byId('player').appendChild(media);
    } else {
      byId('player').appendChild(el('p', { class: 'note' }, 'No audio file next to the outputs: playback is off.'));
    }
    if (!data.waveform) {
      byId('waveform-note').textContent = data.waveform_note || 'no waveform';
    }
    const regions = WaveSurfer.Regions.create();
    const timeline = WaveSurfer.Timeline.create({ height: 16, style: { fontSize: '10px', color: '#555' } });
    const ws = WaveSurfer.create({
      container: box,
      height: 110,
      waveColor: '#8aa9c7',
      progressColor: '#3d6a96',
      cursorColor: '#c00',
      cursorWidth: 2,
      peaks,
      duration: dur,
      normalize: peaks.length > 1,
      interact: true,
      dragToSeek: false,
      plugins: [regions, timeline],
      ...(media ? { media } : {}),
    });
    report.wavesurfer = ws;
    report.regions = regions;
    let done = false;
    const onReady = (how: string): void => {
      if (done) return;
      done = true;
      // Which signal let the page go on (a 'timeout' means the fallback below waited it out).
      box.setAttribute('data-waveform-by', how);
      let placed: Promise<void> | undefined;
      try {
        placed = markers(ws, regions);
      } catch (err) {
        fail('markers', err);
      }
      (placed || Promise.resolve()).then(resolve);
    };
    ws.on('ready', () => onReady('ready'));
    ws.on('decode', () => onReady('decode'));
    ws.on('error', (err) => {
      fail('waveform', err);
      onReady('error');
    });
    ws.on('timeupdate', moveCursors);
    ws.on('interaction', moveCursors);
    setTimeout(() => onReady('timeout'), 1500);
  });
}
function markers(ws: WaveSurferType, regions: Regions): Promise<void> {
  // The regions plugin places each marker in its own timer and measures its layer after each
  // one, which is quadratic for thousands of markers; with the layer hidden while they are
  // added there is nothing to lay out until it is shown again, once.
  const layer = ws.getWrapper().querySelector<HTMLElement>('[part~="regions-container"]');
  if (layer) layer.style.display = 'none';
  const counts: Record<MarkKind, number> = { beat: 0, downbeat: 0, bar: 0 };
  // wavesurfer culls a marker that rounds onto its last pixel: one that late moves in by a pixel.
  const latest = dur * (1 - 1 / Math.max(100, ws.getWrapper().clientWidth || 1000));
  // Dense marks (a long song) get thinner and fainter so the waveform stays visible.
  const wide = Math.max(100, ws.getWrapper().clientWidth || 1000);
  const fade = (n: number, alpha: number): number => {
    const px = wide / Math.max(1, n);
    return px >= 8 ? alpha : Math.max(0.06, (alpha * px) / 8);
  };
  const thin = wide / Math.max(1, data.beats.length) < 8;
  const add = (kind: MarkKind, i: number, t: number, color: string): void => {
    const r = regions.addRegion({ id: kind + '-' + i, start: Math.min(t, latest), color, drag: false, resize: false });
    if (r?.element) {
      r.element.setAttribute('data-mark', kind);
      if (thin) r.element.style.borderLeftWidth = '1px';
    }
    counts[kind]++;
  };
  let a = fade(data.beats.length, 0.28);
  data.beats.forEach((t, i) => {
    add('beat', i, t, 'rgba(0,0,0,' + a + ')');
  });
  a = fade(data.downbeats.length, 0.85);
  data.downbeats.forEach((t, i) => {
    add('downbeat', i, t, 'rgba(214,39,40,' + a + ')');
  });
  a = fade(barStarts.length, 0.55);
  barStarts.forEach((t, i) => {
    add('bar', i, t, 'rgba(31,119,180,' + a + ')');
  });
  const box = byId('waveform');
  box.setAttribute('data-beats', String(counts.beat));
  box.setAttribute('data-downbeats', String(counts.downbeat));
  box.setAttribute('data-bars', String(counts.bar));
  return new Promise((resolve) => {
    // Timers run in order: this one after every marker's.
    setTimeout(() => {
      if (layer) layer.style.display = '';
      resolve();
    }, 0);
  });
}

// ---- tempo curve ----
function tempo(): void {
  const box = byId('tempo');
  const tc = data.tempo_curve;
  if (tc.time.length === 0) {
    box.appendChild(el('p', { class: 'note' }, 'No beats were found, so there is no tempo curve.'));
    box.setAttribute('data-marks', '0');
    return;
  }
  const lo = Math.min(...tc.bpm);
  const hi = Math.max(...tc.bpm);
  const pad = Math.max(2, (hi - lo) * 0.1);
  plot(
    box,
    {
      height: 150,
      scales: { x: { time: false, range: [0, dur] }, y: { range: [Math.max(0, lo - pad), hi + pad] } },
      axes: [barAxis(), { label: 'BPM', labelSize: 14, size: 52, grid: { stroke: '#eee' } }],
      series: [{}, { label: 'tempo', stroke: '#d62728', width: 1.5, points: { show: tc.time.length < 400, size: 3 } }],
    },
    [tc.time, tc.bpm],
  );
  box.setAttribute('data-marks', String(tc.time.length));
}

// ---- piano roll per stem (notes on the bar grid) ----
function pianoRolls(): void {
  const host = byId('piano-rolls');
  if (data.notes.length === 0) {
    host.appendChild(el('p', { class: 'note' }, 'No notes were transcribed.'));
    return;
  }
  data.notes.forEach((n, si) => {
    const section = el('div', { class: 'stem' });
    section.appendChild(el('h3', null, n.stem + ' — ' + n.pitch.length + ' notes'));
    const box = el('div', { class: 'roll', 'data-stem': n.stem });
    section.appendChild(box);
    host.appendChild(section);
    let lo = 127;
    let hi = 0;
    for (const p of n.pitch) {
      if (p < lo) lo = p;
      if (p > hi) hi = p;
    }
    if (lo > hi) {
      lo = 48;
      hi = 72;
    }
    const color = STEM_COLORS[si % STEM_COLORS.length]!;
    const rows = hi - lo + 3;
    plot(
      box,
      {
        height: Math.max(120, Math.min(320, rows * 6 + 40)),
        scales: { x: { time: false, range: [0, dur] }, y: { range: [lo - 1.5, hi + 1.5] } },
        axes: [
          barAxis(),
          {
            label: 'pitch',
            labelSize: 14,
            size: 52,
            grid: { stroke: '#f0f0f0' },
            splits: () => {
              const s: number[] = [];
              for (let p = Math.ceil(lo / 12) * 12; p <= hi + 1; p += 12) s.push(p);
              return s.length ? s : [lo];
            },
            values: (_u, splits) => splits.map((p) => PITCH[((p % 12) + 12) % 12]! + (Math.floor(p / 12) - 1)),
          },
        ],
        series: [{}, { label: n.stem, stroke: 'transparent', points: { show: false } }],
        hooks: {
          draw: [
            (u) => {
              const ctx = u.ctx;
              clip(u, ctx);
              let drawn = 0;
              for (let i = 0; i < n.pitch.length; i++) {
                const x0 = u.valToPos(n.start[i]!, 'x', true);
                const x1 = u.valToPos(n.end[i]!, 'x', true);
                const y0 = u.valToPos(n.pitch[i]! + 0.45, 'y', true);
                const y1 = u.valToPos(n.pitch[i]! - 0.45, 'y', true);
                ctx.globalAlpha = 0.35 + 0.65 * Math.min(1, (n.velocity[i] || 64) / 127);
                ctx.fillStyle = color;
                ctx.fillRect(x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0));
                drawn++;
              }
              ctx.restore();
              box.setAttribute('data-marks', String(drawn));
            },
          ],
        },
      },
      [
        [0, dur],
        [null, null],
      ],
    );
  });
}

// ---- per-bar chroma heat map and RMS per stem ----
function heat(v: number): string {
  const x = Math.max(0, Math.min(1, v));
  // white → dark blue
  const r = Math.round(255 - 225 * x);
  const g = Math.round(255 - 175 * x);
  const b = Math.round(255 - 95 * x);
  return 'rgb(' + r + ',' + g + ',' + b + ')';
}
function barFeatures(): void {
  const host = byId('bar-features');
  if (data.bar_features.length === 0) {
    host.appendChild(el('p', { class: 'note' }, 'No per-bar features were computed.'));
    return;
  }
  for (const f of data.bar_features) {
    const section = el('div', { class: 'stem' });
    section.appendChild(el('h3', null, f.stem + ' — ' + f.bar_index.length + ' bars'));
    const chromaBox = el('div', { class: 'chroma', 'data-stem': f.stem });
    const rmsBox = el('div', { class: 'rms', 'data-stem': f.stem });
    section.appendChild(chromaBox);
    section.appendChild(rmsBox);
    host.appendChild(section);
    plot(
      chromaBox,
      {
        height: 230,
        scales: { x: { time: false, range: [0, dur] }, y: { range: [0, 12] } },
        axes: [
          barAxis(),
          {
            label: 'chroma',
            labelSize: 14,
            size: 52,
            grid: { show: false },
            splits: () => [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5],
            values: () => PITCH,
          },
        ],
        series: [{}, { stroke: 'transparent', points: { show: false } }],
        hooks: {
          draw: [
            (u) => {
              const ctx = u.ctx;
              clip(u, ctx);
              let cells = 0;
              for (let i = 0; i < f.bar_index.length; i++) {
                const x0 = u.valToPos(f.start[i]!, 'x', true);
                const x1 = u.valToPos(f.end[i]!, 'x', true);
                const row = f.chroma[i] || [];
                for (let k = 0; k < row.length; k++) {
                  const y0 = u.valToPos(k + 1, 'y', true);
                  const y1 = u.valToPos(k, 'y', true);
                  ctx.fillStyle = heat(row[k]!);
                  ctx.fillRect(x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0));
                  cells++;
                }
              }
              ctx.restore();
              chromaBox.setAttribute('data-marks', String(cells));
            },
          ],
        },
      },
      [
        [0, dur],
        [null, null],
      ],
    );
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < f.bar_index.length; i++) {
      xs.push(f.start[i]!);
      ys.push(f.rms[i]!);
    }
    if (xs.length > 0) {
      xs.push(f.end[f.end.length - 1]!);
      ys.push(f.rms[f.rms.length - 1]!);
    }
    plot(
      rmsBox,
      {
        height: 110,
        scales: { x: { time: false, range: [0, dur] }, y: { range: (_u, _lo, hi) => [0, (hi || 1) * 1.1] } },
        axes: [barAxis(), { label: 'RMS', labelSize: 14, size: 52, grid: { stroke: '#eee' } }],
        series: [
          {},
          {
            label: 'rms',
            stroke: '#2ca02c',
            fill: 'rgba(44,160,44,0.15)',
            width: 1.5,
            paths: uPlot.paths.stepped!({ align: 1 }),
            points: { show: false },
          },
        ],
      },
      [xs, ys],
    );
    rmsBox.setAttribute('data-marks', String(f.bar_index.length));
  }
}

function step<T>(name: string, fn: () => T): T | undefined {
  const start = performance.now();
  try {
    return fn();
  } catch (err) {
    fail(name, err);
    return undefined;
  } finally {
    // Each view's drawing time (its synchronous part), for benchmarks and the browser's tools.
    performance.measure('report-' + name, { start });
  }
}
step('key numbers', keyNumbers);
step('tempo', tempo);
step('piano roll', pianoRolls);
step('bar features', barFeatures);
// The waveform goes last, once the charts are laid out, so its time axis lines up with theirs.
const wave = new Promise((resolve) => requestAnimationFrame(resolve)).then(() => {
  step('align', alignWaveform);
  return step('waveform', waveform);
});
window.addEventListener('resize', () => {
  for (const u of report.plots) u.setSize({ width: width(u.root.parentNode as HTMLElement), height: u.height });
});
wave.then(() => {
  requestAnimationFrame(() => {
    moveCursors(0);
    performance.mark('report-ready');
    performance.measure('report-render', 'report-start', 'report-ready');
    window.__reportRenderMs = performance.now() - t0;
    window.__reportReady = true;
    document.body.setAttribute('data-ready', '1');
  });
});
