// Bar-pointer DBN (see dbn.h). States of one meter are laid out as madmom lays them out: beat b,
// tempo interval i, position k -> b * beatStates + firstState[i] + k. Every state but a beat's
// first states has the single predecessor s - 1 (probability 1), so back-pointers are stored only
// for the first states (one byte each: the index among that state's predecessors), which keeps a
// 20-minute song at tens of MB instead of the dense T x S table (several GB).
#include "beat/dbn.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "common/error.h"
#include "dsp/avx2.h"

#ifdef DE_HAVE_AVX2_KERNELS
#include <immintrin.h>
#endif

namespace de::beat {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// numpy's pairwise float64 sum for short arrays (<= 128 elements: 8 partial sums), so the
// normalised transition rows match madmom's to the last bit.
double numpySum(const double* a, size_t n) {
  if (n < 8) {
    double res = 0.0;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n > 128) {
    const size_t half = (n / 2) - ((n / 2) % 8);
    return numpySum(a, half) + numpySum(a + half, n - half);
  }
  double r[8];
  for (int j = 0; j < 8; ++j) r[j] = a[j];
  size_t i = 8;
  for (; i < n - (n % 8); i += 8) {
    for (int j = 0; j < 8; ++j) r[j] += a[i + j];
  }
  double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
  for (; i < n; ++i) res += a[i];
  return res;
}

struct Pred {
  int32_t state;
  double logProb;
};

struct BarModel {
  int beats = 0;
  std::vector<int> intervals;
  int beatStates = 0;  // states per beat
  int numStates = 0;
  std::vector<int> firstOfInterval;  // within a beat
  std::vector<uint8_t> pointer;      // observation pointer per state: 0 none, 1 beat, 2 downbeat
  std::vector<double> position;      // bar position per state (beat index + fraction)
  // Predecessors of first state (beat b, interval j) at predStart[b * I + j] ..
  std::vector<int32_t> predStart;
  std::vector<Pred> preds;
  int maxPreds = 0;
  // The same transitions in dense form for the Viterbi loop (identical for every beat): to-interval
  // j is reached from intervals [fLo[j], fLo[j] + fCount[j]) with log-probabilities lp[j][...].
  std::vector<int> fLo, fCount;
  std::vector<double> lp;  // ni x ni, row j holds fCount[j] values from column 0
  // The same by groups of four to-intervals for the AVX2 step: group g (intervals 4g .. 4g + 3)
  // is reached from intervals [gLo[g], gHi[g]); gLp[gStart[g] + 4 * (f - gLo[g]) + r] is the
  // log-probability of f -> 4g + r, -inf where f is no predecessor (or 4g + r >= ni).
  std::vector<int> gLo, gHi, gStart;
  std::vector<double> gLp;
  std::vector<double> fIndex;   // 0, 1, .. ni - 1
  std::vector<int> beatRegion;  // per interval: leading states of a beat in the beat / downbeat region
};

BarModel buildModel(int beats, const std::vector<int>& intervals, double transitionLambda, double observationLambda) {
  BarModel m;
  m.beats = beats;
  m.intervals = intervals;
  const int ni = static_cast<int>(intervals.size());
  m.firstOfInterval.resize(static_cast<size_t>(ni));
  int acc = 0;
  for (int i = 0; i < ni; ++i) {
    m.firstOfInterval[i] = acc;
    acc += intervals[i];
  }
  m.beatStates = acc;
  m.numStates = acc * beats;
  m.pointer.resize(static_cast<size_t>(m.numStates));
  m.position.resize(static_cast<size_t>(m.numStates));
  const double border = 1.0 / observationLambda;
  for (int b = 0; b < beats; ++b) {
    for (int i = 0; i < ni; ++i) {
      const double step = 1.0 / intervals[i];  // np.linspace(0, 1, i, endpoint=False)
      for (int k = 0; k < intervals[i]; ++k) {
        const int s = b * acc + m.firstOfInterval[i] + k;
        const double pos = static_cast<double>(k) * step + b;
        m.position[s] = pos;
        uint8_t ptr = 0;
        if (std::fmod(pos, 1.0) < border) ptr = 1;
        if (pos < border) ptr = 2;
        m.pointer[s] = ptr;
      }
    }
  }
  // exponential_transition(from, to, lambda): rows (from) normalised over the to-intervals.
  std::vector<double> prob(static_cast<size_t>(ni) * ni);
  const double tiny = std::numeric_limits<double>::epsilon();  // np.spacing(1)
  for (int f = 0; f < ni; ++f) {
    for (int t = 0; t < ni; ++t) {
      const double ratio = static_cast<double>(intervals[t]) / static_cast<double>(intervals[f]);
      double pr = std::exp(-transitionLambda * std::abs(ratio - 1.0));
      if (pr <= tiny) pr = 0.0;
      prob[static_cast<size_t>(f) * ni + t] = pr;
    }
    const double sum = numpySum(&prob[static_cast<size_t>(f) * ni], static_cast<size_t>(ni));
    for (int t = 0; t < ni; ++t) prob[static_cast<size_t>(f) * ni + t] /= sum;
  }
  m.predStart.resize(static_cast<size_t>(beats) * ni + 1);
  for (int b = 0; b < beats; ++b) {
    const int fromBeat = (b + beats - 1) % beats;
    for (int t = 0; t < ni; ++t) {
      m.predStart[static_cast<size_t>(b) * ni + t] = static_cast<int32_t>(m.preds.size());
      int count = 0;
      // CSR rows list predecessors in ascending state order: ascending from-interval.
      for (int f = 0; f < ni; ++f) {
        const double pr = prob[static_cast<size_t>(f) * ni + t];
        if (pr != 0.0) {
          const int last = fromBeat * acc + m.firstOfInterval[f] + intervals[f] - 1;
          m.preds.push_back({last, std::log(pr)});
          ++count;
        }
      }
      m.maxPreds = std::max(m.maxPreds, count);
    }
  }
  m.predStart[static_cast<size_t>(beats) * ni] = static_cast<int32_t>(m.preds.size());
  m.fLo.assign(static_cast<size_t>(ni) + 3, 0);  // + 3: the AVX2 step reads whole groups of four
  m.fCount.assign(static_cast<size_t>(ni), 0);
  m.lp.assign(static_cast<size_t>(ni) * ni, 0.0);
  for (int t = 0; t < ni; ++t) {
    int lo = -1, count = 0;
    for (int f = 0; f < ni; ++f) {
      const double pr = prob[static_cast<size_t>(f) * ni + t];
      if (pr == 0.0) continue;
      if (lo < 0) lo = f;
      if (f != lo + count) throw Error(code::kInvalidArgument, "decodeDownbeats: non-contiguous tempo transitions");
      m.lp[static_cast<size_t>(t) * ni + count] = std::log(pr);
      ++count;
    }
    m.fLo[t] = std::max(lo, 0);
    m.fCount[t] = count;
  }
  for (int f = 0; f < ni; ++f) m.fIndex.push_back(f);
  const int groups = (ni + 3) / 4;
  for (int g = 0; g < groups; ++g) {
    int lo = ni, hi = 0;
    for (int t = 4 * g; t < std::min(ni, 4 * g + 4); ++t) {
      lo = std::min(lo, m.fLo[t]);
      hi = std::max(hi, m.fLo[t] + m.fCount[t]);
    }
    hi = std::max(hi, lo);
    m.gLo.push_back(lo);
    m.gHi.push_back(hi);
    m.gStart.push_back(static_cast<int>(m.gLp.size()));
    m.gLp.resize(m.gLp.size() + 4 * static_cast<size_t>(hi - lo), kNegInf);
    for (int t = 4 * g; t < std::min(ni, 4 * g + 4); ++t) {
      for (int q = 0; q < m.fCount[t]; ++q)
        m.gLp[m.gStart[g] + 4 * (m.fLo[t] + q - lo) + (t - 4 * g)] = m.lp[static_cast<size_t>(t) * ni + q];
    }
  }
  m.beatRegion.assign(static_cast<size_t>(ni), 0);
  for (int i = 0; i < ni; ++i) {
    int k = 0;
    while (k < intervals[i] && m.pointer[m.firstOfInterval[i] + k] >= 1) ++k;
    for (int q = k; q < intervals[i]; ++q) {
      if (m.pointer[m.firstOfInterval[i] + q] != 0)
        throw Error(code::kInvalidArgument, "decodeDownbeats: observation regions");
    }
    m.beatRegion[i] = k;
  }
  return m;
}

struct Decoded {
  std::vector<int32_t> path;
  double logProb = kNegInf;
  size_t bpBytes = 0;
};

// One beat's tempo transitions, the Viterbi step's inner loop: for every to-interval i,
// best[i] = max_q (from[fLo[i] + q] + lp[i][q]) over its fCount[i] predecessors, and arg[i] the
// first q reaching it (madmom keeps the first predecessor, in ascending state order, of equal maxima).
void bestPredecessorsScalar(const BarModel& m, const double* from, double* best, int* arg) {
  const int ni = static_cast<int>(m.intervals.size());
  for (int i = 0; i < ni; ++i) {
    const double* row = &m.lp[static_cast<size_t>(i) * ni];
    const double* src = from + m.fLo[i];
    const int cnt = m.fCount[i];
    // Four independent maxima (max is exact, so the order does not change the result): the
    // single running max was a latency-bound dependency chain and half of the decode time.
    double m0 = kNegInf, m1 = kNegInf, m2 = kNegInf, m3 = kNegInf;
    int q = 0;
    for (; q + 4 <= cnt; q += 4) {
      m0 = std::max(m0, src[q] + row[q]);
      m1 = std::max(m1, src[q + 1] + row[q + 1]);
      m2 = std::max(m2, src[q + 2] + row[q + 2]);
      m3 = std::max(m3, src[q + 3] + row[q + 3]);
    }
    for (; q < cnt; ++q) m0 = std::max(m0, src[q] + row[q]);
    const double b = std::max(std::max(m0, m1), std::max(m2, m3));
    int a = 0;
    while (a < cnt - 1 && !(src[a] + row[a] == b)) ++a;
    best[i] = b;
    arg[i] = a;
  }
}

#ifdef DE_HAVE_AVX2_KERNELS
// The same for four to-intervals at once (one lane each), walking their predecessors in ascending
// order: every lane does the scalar loop's additions from[f] + lp (no FMA, no reassociation), keeps
// an exact running maximum and moves its index only on a strictly greater sum, so it keeps the first
// predecessor of equal maxima; best and arg are bit-identical to the scalar loop's. A lane meets
// -inf where f is not its predecessor, which never wins. Against the per-interval loops this has
// no horizontal reduction, no tail and no data-dependent branch (the scalar search for the first
// maximum mispredicted at a random position and was a third of the decode). best and arg need
// room for ni rounded up to 4.
DE_AVX2 void bestPredecessorsAvx2(const BarModel& m, const double* from, double* best, int* arg) {
  const int groups = static_cast<int>(m.gLo.size());
  for (int g = 0; g < groups; ++g) {
    const int lo = m.gLo[g], hi = m.gHi[g];
    const double* lp = &m.gLp[static_cast<size_t>(m.gStart[g])];
    __m256d mx = _mm256_set1_pd(kNegInf);
    // Each lane starts at its first predecessor: an all -inf lane keeps arg 0, as the scalar loop.
    const int* flo = &m.fLo[4 * static_cast<size_t>(g)];
    __m256d idx = _mm256_setr_pd(flo[0], flo[1], flo[2], flo[3]);
    for (int f = lo; f < hi; ++f, lp += 4) {
      const __m256d s = _mm256_add_pd(_mm256_broadcast_sd(from + f), _mm256_loadu_pd(lp));
      const __m256d gt = _mm256_cmp_pd(s, mx, _CMP_GT_OQ);
      mx = _mm256_max_pd(s, mx);
      // f from a table, not a running vector sum: that add's latency was the loop's critical path
      idx = _mm256_blendv_pd(idx, _mm256_broadcast_sd(&m.fIndex[f]), gt);
    }
    _mm256_storeu_pd(best + 4 * g, mx);
    const __m128i first = _mm_loadu_si128(reinterpret_cast<const __m128i*>(flo));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(arg + 4 * g), _mm_sub_epi32(_mm256_cvtpd_epi32(idx), first));
  }
}
#endif

Decoded viterbi(const BarModel& m, const float* act, int64_t frames, float observationLambda, bool simd,
                const CancelToken* cancel) {
  const int ni = static_cast<int>(m.intervals.size());
  const int firsts = m.beats * ni;
  const int width = m.maxPreds > 255 ? 2 : 1;
  std::vector<uint8_t> bp(static_cast<size_t>(frames) * firsts * width);
#ifdef DE_HAVE_AVX2_KERNELS
  const bool avx2 = simd && dsp::avx2::available();
#else
  (void)simd;
#endif
  // Each (beat, interval) block of states is a ring: a frame moves every state one position on,
  // which is a head index stepping back by one, not a copy of the block. The frame's no-beat
  // density d0 is added to every state at once through a common offset (true value = v + offset),
  // so per frame only the first states and the few beat-region states are written. The sums are
  // the same as the shifted-add step's up to rounding (the offset collects the d0 terms); the
  // corpus check in bench/README.md shows no change in beats, downbeats or meter.
  std::vector<double> v(static_cast<size_t>(m.numStates), std::log(1.0 / m.numStates));
  double offset = 0.0;
  std::vector<double> last(static_cast<size_t>(firsts));
  // One beat's best predecessor sums and their indices (room for the AVX2 step's whole groups).
  std::vector<double> bestIn(static_cast<size_t>(ni + 3));
  std::vector<int> arg(static_cast<size_t>(ni + 3));
  // Slots (within a beat) of each ring's position 0, then of positions 1 .. region-1 (which see
  // the beat density instead of d0), interval by interval. A frame steps every one back by one
  // with wrap-around, the same for all beats, so the beats' updates are plain indexed loops.
  std::vector<int> slots, slotFirst, slotLast;
  auto addSlot = [&](int i, int k) {
    slots.push_back(m.firstOfInterval[i] + k);  // before the first frame's step: position k in slot k
    slotFirst.push_back(m.firstOfInterval[i]);
    slotLast.push_back(m.firstOfInterval[i] + m.intervals[i] - 1);
  };
  for (int i = 0; i < ni; ++i) addSlot(i, 0);
  for (int i = 0; i < ni; ++i) {
    for (int k = 1; k < std::max(m.beatRegion[i], 1); ++k) addSlot(i, k);
  }
  const int* slot0 = slots.data();
  const int* regionSlots = slots.data() + ni;
  const int regionCount = static_cast<int>(slots.size()) - ni;
  for (int64_t t = 0; t < frames; ++t) {
    if ((t & 511) == 0 && cancel) cancel->throwIfRequested("decodeDownbeats");
    const float a0 = act[2 * t], a1 = act[2 * t + 1];
    // RNNDownBeatTrackingObservationModel.log_densities, in float32 as madmom computes it.
    double dens[3] = {static_cast<double>(std::log((1.0f - (a0 + a1)) / (observationLambda - 1.0f))),
                      static_cast<double>(std::log(a0)), static_cast<double>(std::log(a1))};
    // A NaN density (a0 + a1 rounding above 1) would make madmom's comparisons fail, which turns
    // the state into -inf one frame later; -inf at once keeps the arithmetic below branch-free.
    for (double& d : dens) {
      if (std::isnan(d)) d = kNegInf;
    }
    // Every ring steps its head back: the new head's slot held the previous frame's last state.
    for (size_t j = 0; j < slots.size(); ++j) slots[j] = slots[j] == slotFirst[j] ? slotLast[j] : slots[j] - 1;
    // The previous frame's last states (by beat, then interval), read before any beat overwrites them.
    for (int b = 0; b < m.beats; ++b) {
      const double* vb = &v[static_cast<size_t>(b) * m.beatStates];
      for (int i = 0; i < ni; ++i) last[b * ni + i] = vb[slot0[i]];
    }
    // A -inf d0 cannot go into the offset: fold the offset into the states and add d0 explicitly.
    const bool lazy = std::isfinite(dens[0]);
    if (!lazy) {
      for (double& x : v) x += offset;
      offset = 0.0;
    }
    const double shift = lazy ? dens[0] : 0.0;
    uint8_t* bpRow = &bp[static_cast<size_t>(t) * firsts * width];
    for (int b = 0; b < m.beats; ++b) {
      const double* from = &last[static_cast<size_t>((b + m.beats - 1) % m.beats) * static_cast<size_t>(ni)];
#ifdef DE_HAVE_AVX2_KERNELS
      if (avx2) {
        bestPredecessorsAvx2(m, from, bestIn.data(), arg.data());
      } else
#endif
      {
        bestPredecessorsScalar(m, from, bestIn.data(), arg.data());
      }
      const double dFirst = dens[b == 0 ? 2 : 1];
      const double regionAdd = dFirst - shift, restAdd = dens[0] - shift;
      double* vb = &v[static_cast<size_t>(b) * m.beatStates];
      uint8_t* bpBeat = bpRow + static_cast<size_t>(b) * ni * width;
      if (width == 1) {
        for (int i = 0; i < ni; ++i) bpBeat[i] = static_cast<uint8_t>(arg[i]);
      } else {
        for (int i = 0; i < ni; ++i) {
          bpBeat[2 * i] = static_cast<uint8_t>(arg[i] & 0xff);
          bpBeat[2 * i + 1] = static_cast<uint8_t>(arg[i] >> 8);
        }
      }
      for (int i = 0; i < ni; ++i) vb[slot0[i]] = bestIn[i] + regionAdd;
      for (int j = 0; j < regionCount; ++j) vb[regionSlots[j]] += regionAdd;
      if (!lazy) {  // the rest of each ring: positions region .. len-1
        for (int i = 0; i < ni; ++i) {
          double* ring = vb + m.firstOfInterval[i];
          const int len = m.intervals[i], h = slot0[i] - m.firstOfInterval[i];
          for (int k = std::max(m.beatRegion[i], 1); k < len; ++k) ring[h + k < len ? h + k : h + k - len] += restAdd;
        }
      }
    }
    offset += shift;
  }
  Decoded out;
  out.bpBytes = bp.size();
  // Argmax in state order (numpy's first maximum), reading each ring from its head.
  int state = -1;
  double best = kNegInf;
  for (int b = 0; b < m.beats; ++b) {
    for (int i = 0; i < ni; ++i) {
      const double* ring = &v[static_cast<size_t>(b) * m.beatStates + m.firstOfInterval[i]];
      const int len = m.intervals[i], h = slot0[i] - m.firstOfInterval[i];
      for (int k = 0; k < len; ++k) {
        const double x = ring[h + k < len ? h + k : h + k - len];
        if (state < 0 || x > best) {
          best = x;
          state = b * m.beatStates + m.firstOfInterval[i] + k;
        }
      }
    }
  }
  best += offset;
  out.logProb = best;
  if (std::isinf(best) || std::isnan(best) || frames == 0) {
    out.logProb = kNegInf;
    return out;
  }
  // Map a state to its (beat, interval) first-state index, or -1.
  std::vector<int32_t> firstIndex(static_cast<size_t>(m.numStates), -1);
  for (int b = 0; b < m.beats; ++b)
    for (int i = 0; i < ni; ++i) firstIndex[b * m.beatStates + m.firstOfInterval[i]] = b * ni + i;
  out.path.resize(static_cast<size_t>(frames));
  for (int64_t t = frames - 1; t >= 0; --t) {
    out.path[t] = state;
    const int fi = firstIndex[state];
    if (fi < 0) {
      state -= 1;
    } else {
      const uint8_t* row = &bp[static_cast<size_t>(t) * firsts * width];
      const int arg = width == 1 ? row[fi] : (row[2 * fi] | (row[2 * fi + 1] << 8));
      state = m.preds[m.predStart[fi] + arg].state;
    }
  }
  return out;
}

}  // namespace

std::vector<int> beatIntervals(double minInterval, double maxInterval, int numIntervals) {
  std::vector<int> all;
  for (double v = std::nearbyint(minInterval); v <= std::nearbyint(maxInterval); v += 1.0)
    all.push_back(static_cast<int>(v));
  if (numIntervals <= 0 || numIntervals >= static_cast<int>(all.size())) return all;
  std::vector<int> out;
  int numLog = numIntervals;
  while (static_cast<int>(out.size()) < numIntervals) {
    out.clear();
    const double a = std::log2(minInterval), b = std::log2(maxInterval);
    const double step = numLog > 1 ? (b - a) / (numLog - 1) : 0.0;
    for (int k = 0; k < numLog; ++k) {
      const double e = (k == numLog - 1 && numLog > 1) ? b : k * step + a;  // np.linspace endpoint
      out.push_back(static_cast<int>(std::nearbyint(std::pow(2.0, e))));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    ++numLog;
  }
  return out;
}

DbnResult decodeDownbeats(const float* act, int64_t frames, const DbnParams& p, const CancelToken* cancel) {
  if (p.beatsPerBar.empty()) throw Error(code::kInvalidArgument, "decodeDownbeats: no candidate meter");
  for (int b : p.beatsPerBar) {
    if (b < 1 || b > kMaxBeatsPerBar)
      throw Error(code::kInvalidArgument, "decodeDownbeats: beats per bar out of range");
  }
  if (!(p.fps > 0) || !(p.minBpm > 0) || !(p.maxBpm > p.minBpm) || !(p.observationLambda > 1) ||
      !(p.transitionLambda > 0)) {
    throw Error(code::kInvalidArgument, "decodeDownbeats: invalid tempo range, fps or lambda");
  }
  for (int64_t i = 0; i < 2 * frames; ++i) {
    if (!std::isfinite(act[i]))
      throw Error(code::kNonFiniteSamples, "decodeDownbeats: activations contain a non-finite value");
  }
  DbnResult r;
  for (int b : p.beatsPerBar) r.meters.push_back({b, kNegInf});
  // Threshold crop, madmom's way (including its quirk: a lone hit at frame 0 counts as none).
  int64_t first = 0, last = frames;
  if (p.threshold != 0.0) {
    int64_t lo = -1, hi = -1;
    for (int64_t t = 0; t < frames; ++t) {
      if (act[2 * t] >= p.threshold || act[2 * t + 1] >= p.threshold) {
        if (lo < 0) lo = t;
        hi = t;
      }
    }
    if (hi > 0) {
      first = lo;
      last = std::min(frames, hi + 1);
    } else {
      last = first;
    }
  }
  r.cropFirst = first;
  r.cropLast = last;
  const int64_t n = last - first;
  const float* a = act + 2 * first;
  bool any = false;
  for (int64_t i = 0; i < 2 * n && !any; ++i) any = a[i] != 0.0f;
  if (!any) return r;

  const double minInterval = 60.0 * p.fps / p.maxBpm, maxInterval = 60.0 * p.fps / p.minBpm;
  const std::vector<int> intervals = beatIntervals(minInterval, maxInterval, p.numTempi);
  if (intervals.empty() || intervals.front() < 1)
    throw Error(code::kInvalidArgument, "decodeDownbeats: empty tempo range");
  int bestIdx = -1;
  Decoded best;
  BarModel bestModel;
  for (size_t c = 0; c < p.beatsPerBar.size(); ++c) {
    BarModel m = buildModel(p.beatsPerBar[c], intervals, p.transitionLambda, p.observationLambda);
    Decoded d = viterbi(m, a, n, static_cast<float>(p.observationLambda), p.simd, cancel);
    r.meters[c].logProbability = d.logProb;
    r.backpointerBytes = std::max(r.backpointerBytes, d.bpBytes);
    if (bestIdx < 0 || d.logProb > best.logProb) {  // np.argmax: first of equal maxima
      bestIdx = static_cast<int>(c);
      best = std::move(d);
      bestModel = std::move(m);
    }
  }
  if (best.path.empty()) return r;
  r.beatsPerBar = p.beatsPerBar[bestIdx];
  const std::vector<int32_t>& path = best.path;
  auto beatNumber = [&](int64_t t) { return static_cast<int>(bestModel.position[path[t]]) + 1; };
  if (p.correct) {
    // Each run of frames in a beat / downbeat region yields the frame of its activation peak.
    int64_t t = 0;
    while (t < n) {
      if (bestModel.pointer[path[t]] < 1) {
        ++t;
        continue;
      }
      int64_t end = t;
      while (end < n && bestModel.pointer[path[end]] >= 1) ++end;
      int64_t peak = 2 * t;
      for (int64_t q = 2 * t; q < 2 * end; ++q) {
        if (a[q] > a[peak]) peak = q;
      }
      const int64_t f = peak / 2;
      r.beatFrames.push_back(f + first);
      r.beatNumbers.push_back(beatNumber(f));
      t = end;
    }
  } else {
    for (int64_t t = 1; t < n; ++t) {
      if (beatNumber(t) != beatNumber(t - 1)) {
        r.beatFrames.push_back(t + first);
        r.beatNumbers.push_back(beatNumber(t));
      }
    }
  }
  return r;
}

}  // namespace de::beat
