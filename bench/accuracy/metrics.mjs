// Beat and downbeat metrics the mir_eval way (mir_eval 0.8.2, mir_eval/beat.py and util.py), in
// plain JS without dependencies. Checked against Python mir_eval by
// test/unit/accuracy-metrics.test.ts on the pairs in test/fixtures/rhythm/mir_eval_metrics.json.

export const F_WINDOW = 0.07;
export const TRIM_S = 5.0;
const CONTINUITY_PHASE = 0.175;
const CONTINUITY_PERIOD = 0.175;

/** mir_eval.beat.trim_beats: drop beats before `minBeatTime` seconds. */
export function trimBeats(beats, minBeatTime = TRIM_S) {
  return Array.from(beats).filter((t) => t >= minBeatTime);
}

/**
 * mir_eval.util.match_events: a maximum matching between reference and estimated events with
 * |ref - est| <= window, tested as mir_eval's _fast_hit_windows does (est - w <= ref <= est + w).
 * Returns [refIndex, estIndex] pairs sorted by estimate (any maximum matching has the same size).
 */
export function matchEvents(ref, est, window) {
  const order = ref.map((_, i) => i).sort((a, b) => ref[a] - ref[b]);
  const sorted = order.map((i) => ref[i]);
  const lowerBound = (x) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const upperBound = (x) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const adj = est.map((e) => {
    const out = [];
    for (let k = lowerBound(e - window); k < upperBound(e + window); k++) out.push(order[k]);
    return out;
  });
  // Kuhn's augmenting paths: the graphs are tiny (each estimate sees one or two references)
  const refOf = new Array(est.length).fill(-1);
  const estOf = new Array(ref.length).fill(-1);
  const tryAugment = (j, seen) => {
    for (const i of adj[j]) {
      if (seen[i]) continue;
      seen[i] = true;
      if (estOf[i] < 0 || tryAugment(estOf[i], seen)) {
        estOf[i] = j;
        refOf[j] = i;
        return true;
      }
    }
    return false;
  };
  for (let j = 0; j < est.length; j++) if (adj[j].length) tryAugment(j, new Array(ref.length).fill(false));
  const pairs = [];
  for (let j = 0; j < est.length; j++) if (refOf[j] >= 0) pairs.push([refOf[j], j]);
  return pairs;
}

/** mir_eval.beat.f_measure (call on trimmed beats, as mir_eval's evaluate() does). */
export function fMeasure(ref, est, window = F_WINDOW) {
  if (!est.length || !ref.length) return 0;
  const matched = matchEvents(ref, est, window).length;
  const precision = matched / est.length;
  const recall = matched / ref.length;
  if (precision === 0 && recall === 0) return 0;
  return (2 * precision * recall) / (precision + recall);
}

/** mir_eval.beat._get_reference_beat_variations: same, off-beat, double, half odd, half even. */
function referenceVariations(ref) {
  const double = [];
  for (let x = 0; x <= ref.length - 1; x += 0.5) {
    const i = Math.floor(x);
    double.push(x === i ? ref[i] : ref[i] + (ref[i + 1] - ref[i]) * (x - i));
  }
  return [ref, double.filter((_, i) => i % 2 === 1), double, ref.filter((_, i) => i % 2 === 0), ref.filter((_, i) => i % 2 === 1)];
}

/** mir_eval.beat.continuity: { cmlc, cmlt, amlc, amlt }. */
export function continuity(referenceBeats, est) {
  if (est.length <= 1 || referenceBeats.length <= 1) return { cmlc: 0, cmlt: 0, amlc: 0, amlt: 0 };
  const cont = [];
  const total = [];
  for (const ref of referenceVariations(referenceBeats)) {
    const n = Math.max(ref.length, est.length);
    const used = new Array(n).fill(0);
    // sized as mir_eval's: max(len(ref variation), len(est)), so missing beats count as failures
    const success = new Array(n).fill(0);
    for (let m = 0; m < est.length; m++) {
      let nearest = 0;
      let minDiff = Infinity;
      for (let i = 0; i < ref.length; i++) {
        const d = Math.abs(est[m] - ref[i]);
        if (d < minDiff) {
          minDiff = d;
          nearest = i; // first minimum, as np.argmin
        }
      }
      if (used[nearest] !== 0) continue;
      let phase;
      let period;
      if (m === 0 || nearest === 0) {
        const refInterval = nearest + 1 < ref.length ? ref[nearest + 1] - ref[nearest] : ref[nearest] - ref[nearest - 1];
        phase = refInterval === 0 ? (minDiff === 0 ? 1 : Infinity) : Math.abs(minDiff / refInterval);
        const estInterval = m + 1 < est.length ? est[m + 1] - est[m] : est[m] - est[m - 1];
        period = refInterval === 0 ? (estInterval === 0 ? 0 : Infinity) : Math.abs(1 - estInterval / refInterval);
      } else {
        const refInterval = ref[nearest] - ref[nearest - 1];
        phase = Math.abs(minDiff / refInterval);
        period = Math.abs(1 - (est[m] - est[m - 1]) / refInterval);
      }
      if (phase < CONTINUITY_PHASE && period < CONTINUITY_PERIOD) {
        used[nearest] = 1;
        success[m] = 1;
      }
    }
    // longest run of successes, and the share of successes
    let longest = 0;
    let run = 0;
    let sum = 0;
    for (const s of success) {
      sum += s;
      run = s ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    cont.push(longest / success.length);
    total.push(sum / success.length);
  }
  return { cmlc: cont[0], cmlt: total[0], amlc: Math.max(...cont), amlt: Math.max(...total) };
}

function median(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Signed offsets est - ref (seconds) of the beats matched within `window` (trimmed beats). */
export function beatOffsets(ref, est, window = F_WINDOW) {
  return matchEvents(ref, est, window).map(([i, j]) => est[j] - ref[i]);
}

/** Reference tempo: the piece's nominal tempo when constant, else 60 / median inter-beat interval. */
export function referenceTempo(beats, nominal = null) {
  if (nominal) return nominal;
  const ibi = [];
  for (let i = 1; i < beats.length; i++) ibi.push(beats[i] - beats[i - 1]);
  const m = median(ibi);
  return m ? 60 / m : null;
}

/**
 * All metrics for one piece. `ref` = { beats, downbeats, beatsPerBar, tempo }, `est` = { beats,
 * downbeats, beatsPerBar, tempoBpm }. Beats in seconds; the first 5 s are ignored as in mir_eval.
 */
export function evaluatePiece(ref, est) {
  const rb = trimBeats(ref.beats);
  const eb = trimBeats(est.beats);
  const rd = trimBeats(ref.downbeats);
  const ed = trimBeats(est.downbeats ?? []);
  const offsets = beatOffsets(rb, eb);
  const refTempo = referenceTempo(ref.beats, ref.tempo);
  const tempoErrPct = refTempo && est.tempoBpm ? (100 * (est.tempoBpm - refTempo)) / refTempo : null;
  const within = (ratio) => est.tempoBpm && refTempo && Math.abs(est.tempoBpm / (refTempo * ratio) - 1) <= 0.04;
  return {
    beatF: fMeasure(rb, eb),
    downbeatF: fMeasure(rd, ed),
    ...continuity(rb, eb),
    medianOffsetMs: offsets.length ? median(offsets) * 1000 : null,
    medianAbsOffsetMs: offsets.length ? median(offsets.map(Math.abs)) * 1000 : null,
    refTempo,
    estTempo: est.tempoBpm ?? null,
    tempoErrPct,
    tempoAcc1: Boolean(within(1)),
    tempoAcc2: Boolean([1, 2, 0.5, 3, 1 / 3].some(within)),
    meterRight: ref.beatsPerBar == null ? null : est.beatsPerBar === ref.beatsPerBar,
  };
}
