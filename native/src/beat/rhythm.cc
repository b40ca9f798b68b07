// The learned rhythm step (see rhythm.h).
#include "beat/rhythm.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <iterator>
#include <limits>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#include "beat/beatnet_crnn.h"
#include "beat/meter.h"
#include "common/error.h"
#include "dsp/avx2.h"
#include "ml/ort.h"

namespace de::beat {
namespace {

constexpr float kSilence = 1e-5f;                // -100 dBFS: digital silence with a little dither or rounding
constexpr double kPercussiveWeight = 0.8;        // share of the non-beat probability an onset of 1 adds
constexpr double kBackbeatConsistency = 0.6;     // share of beat pairs that must alternate kick / snare
constexpr double kBackbeatHalveMinBpm = 80.0;    // the slowest backbeat the halved grid may give
constexpr double kBackbeatDoubleMaxBpm = 195.0;  // the fastest backbeat the doubled grid may give
constexpr double kBackbeatDoubleMinScore = 0.3;  // doubling is the largest change: a clear backbeat
constexpr double kBackbeatShiftMinScore = 0.2;   // after scaling by the onset strength kept
// How far the kick's alternation may argue against the snare's: the decoded grid gets the benefit
// of the doubt (a fat snare reaches into the kick band), a candidate grid does not.
constexpr double kBackbeatKeepKickTolerance = 0.5;
constexpr double kBackbeatMoveKickTolerance = 0.25;
constexpr size_t kPhaseContext = 8;      // beats that set the grid a jump is measured against
constexpr size_t kPhaseSlide = 3;        // beats a jump may take to settle
constexpr size_t kPhaseConfirm = 4;      // beats that must agree on a jump
constexpr double kPhaseKeepRatio = 2.0;  // evidence a half-beat-shifted section needs to stay shifted
constexpr size_t kOctaveMinRun = 4;
// The confidence's tempo prior: a Gaussian in octaves around this tempo, one octave wide (far from
// it the metrical level is often the annotator's choice between two).
constexpr double kConfidenceTempoCentreBpm = 120.0;  // intervals at twice or half the song's that make a section

// CPU time of the calling thread (ORT runs a single-threaded session on the caller's thread).
double threadCpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double seconds(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  if (v.size() % 2 == 1) return v[mid];
  const double hi = v[mid];
  const double lo = *std::max_element(v.begin(), v.begin() + mid);
  return 0.5 * (lo + hi);
}

struct Attack {
  int64_t sample = -1;
  double rise = -std::numeric_limits<double>::infinity();  // log10 energy ratio (1 = 10 dB)
};

#ifdef DE_HAVE_AVX2_KERNELS
// ratio[i] for the i-th of count unclipped positions, pre pointing at the first one's prefix sum:
// the scalar loop's divisions four lanes at a time (IEEE division rounds the same in a lane as in
// a scalar register, so the ratios are bit-identical).
DE_AVX2 void attackRatiosAvx2(const double* pre, int64_t count, int64_t wa, int64_t wb, double floor, double* ratio) {
  const __m256d va = _mm256_set1_pd(static_cast<double>(wa)), vb = _mm256_set1_pd(static_cast<double>(wb));
  const __m256d fl = _mm256_set1_pd(floor);
  int64_t i = 0;
  for (; i + 4 <= count; i += 4) {
    const __m256d mid = _mm256_loadu_pd(pre + i);
    const __m256d after = _mm256_div_pd(_mm256_sub_pd(_mm256_loadu_pd(pre + i + wa), mid), va);
    const __m256d before = _mm256_div_pd(_mm256_sub_pd(mid, _mm256_loadu_pd(pre + i - wb)), vb);
    _mm256_storeu_pd(ratio + i, _mm256_div_pd(_mm256_add_pd(after, fl), _mm256_add_pd(before, fl)));
  }
  for (; i < count; ++i) {
    const double after = (pre[i + wa] - pre[i]) / static_cast<double>(wa);
    const double before = (pre[i] - pre[i - wb]) / static_cast<double>(wb);
    ratio[i] = (after + floor) / (before + floor);
  }
}
#endif

// max |x[i]| (0 for none; a NaN sample is skipped, as std::max(peak, NaN) skips it), and in *finite
// whether every sample is finite (one pass for the level and the input check).
#ifdef DE_HAVE_AVX2_KERNELS
DE_AVX2 float peakAbsAvx2(const float* x, int64_t n, bool* finite) {
  const __m256 mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 huge = _mm256_set1_ps(std::numeric_limits<float>::max());
  __m256 m0 = _mm256_setzero_ps(), m1 = m0, m2 = m0, m3 = m0, bad = m0;
  int64_t i = 0;
  // max_ps returns its second operand when either is NaN: the running maximum survives a NaN.
  // |x| > FLT_MAX or unordered: infinite or NaN.
  for (; i + 32 <= n; i += 32) {
    const __m256 a0 = _mm256_and_ps(_mm256_loadu_ps(x + i), mask);
    const __m256 a1 = _mm256_and_ps(_mm256_loadu_ps(x + i + 8), mask);
    const __m256 a2 = _mm256_and_ps(_mm256_loadu_ps(x + i + 16), mask);
    const __m256 a3 = _mm256_and_ps(_mm256_loadu_ps(x + i + 24), mask);
    m0 = _mm256_max_ps(a0, m0);
    m1 = _mm256_max_ps(a1, m1);
    m2 = _mm256_max_ps(a2, m2);
    m3 = _mm256_max_ps(a3, m3);
    const __m256 big =
        _mm256_or_ps(_mm256_or_ps(_mm256_cmp_ps(a0, huge, _CMP_NLE_UQ), _mm256_cmp_ps(a1, huge, _CMP_NLE_UQ)),
                     _mm256_or_ps(_mm256_cmp_ps(a2, huge, _CMP_NLE_UQ), _mm256_cmp_ps(a3, huge, _CMP_NLE_UQ)));
    bad = _mm256_or_ps(bad, big);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
  float peak = 0.0f;
  for (float v : lanes) peak = std::max(peak, v);
  bool ok = _mm256_movemask_ps(bad) == 0;
  for (; i < n; ++i) {
    peak = std::max(peak, std::abs(x[i]));
    ok = ok && std::isfinite(x[i]);
  }
  if (finite) *finite = ok;
  return peak;
}

// out[i] = x[i] * gain in double, rounded to float (the scalar loop's bits).
DE_AVX2 void scaleAvx2(const float* x, int64_t n, double gain, float* out) {
  const __m256d g = _mm256_set1_pd(gain);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256d lo = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), g);
    const __m256d hi = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i + 4)), g);
    _mm_storeu_ps(out + i, _mm256_cvtpd_ps(lo));
    _mm_storeu_ps(out + i + 4, _mm256_cvtpd_ps(hi));
  }
  for (; i < n; ++i) out[i] = static_cast<float>(x[i] * gain);
}
#endif

float peakAbs(const float* x, int64_t n, bool* finite) {
#ifdef DE_HAVE_AVX2_KERNELS
  if (dsp::avx2::available()) return peakAbsAvx2(x, n, finite);
#endif
  float peak = 0.0f;
  bool ok = true;
  for (int64_t i = 0; i < n; ++i) {
    peak = std::max(peak, std::abs(x[i]));
    ok = ok && std::isfinite(x[i]);
  }
  if (finite) *finite = ok;
  return peak;
}

void scale(const float* x, int64_t n, double gain, float* out) {
#ifdef DE_HAVE_AVX2_KERNELS
  if (dsp::avx2::available()) {
    scaleAvx2(x, n, gain, out);
    return;
  }
#endif
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(x[i] * gain);
}

// The sample in [t0 - radius, t0 + radius] where the energy of the next ~3 ms most exceeds that of
// the previous ~20 ms (an attack), and that rise.
Attack strongestAttack(const float* x, int64_t n, double sr, double t0, double radius) {
  const int64_t wa = std::max<int64_t>(1, std::llround(0.003 * sr));
  const int64_t wb = std::max<int64_t>(1, std::llround(0.020 * sr));
  const int64_t pc = std::llround(t0 * sr);
  const int64_t r = std::llround(radius * sr);
  const int64_t lo = std::max<int64_t>(0, pc - r), hi = std::min<int64_t>(n - 1, pc + r);
  if (hi <= lo) return {};
  const int64_t s0 = std::max<int64_t>(0, lo - wb), s1 = std::min<int64_t>(n, hi + wa);
  thread_local std::vector<double> pre, ratio;
  pre.assign(static_cast<size_t>(s1 - s0 + 1), 0.0);
  for (int64_t i = s0; i < s1; ++i) pre[i - s0 + 1] = pre[i - s0] + static_cast<double>(x[i]) * x[i];
  auto energy = [&](int64_t a, int64_t b) {  // mean square over [a, b) clipped to the signal
    a = std::max(a, s0);
    b = std::min(b, s1);
    if (b <= a) return 0.0;
    return (pre[b - s0] - pre[a - s0]) / static_cast<double>(b - a);
  };
  constexpr double kFloor = 1e-10;
  ratio.resize(static_cast<size_t>(hi - lo + 1));
  auto scalarRatio = [&](int64_t p) { return (energy(p, p + wa) + kFloor) / (energy(p - wb, p) + kFloor); };
  // Where neither window is clipped, the ratios need no per-sample bounds (the vector path).
  const int64_t inFrom = std::max(lo, s0 + wb), inTo = std::min(hi + 1, s1 - wa + 1);
  int64_t p = lo;
#ifdef DE_HAVE_AVX2_KERNELS
  if (inTo > inFrom && dsp::avx2::available()) {
    for (; p < inFrom; ++p) ratio[p - lo] = scalarRatio(p);
    attackRatiosAvx2(pre.data() + (inFrom - s0), inTo - inFrom, wa, wb, kFloor, ratio.data() + (inFrom - lo));
    p = inTo;
  }
#else
  (void)inFrom;
  (void)inTo;
#endif
  for (; p <= hi; ++p) ratio[p - lo] = scalarRatio(p);
  double best = -1.0;  // the ratio itself (the log is monotonic; taken once at the end)
  int64_t bestP = -1;
  for (int64_t q = lo; q <= hi; ++q) {
    if (ratio[q - lo] > best) {
      best = ratio[q - lo];
      bestP = q;
    }
  }
  if (bestP < 0) return {};
  return {bestP, std::log10(best)};
}

// The attack near t0 if it rises by at least 10 dB; otherwise t0.
double snapToOnset(const float* x, int64_t n, double sr, double t0, double radius) {
  const Attack a = strongestAttack(x, n, sr, t0, radius);
  if (a.sample < 0 || a.rise < 1.0) return t0;
  return static_cast<double>(a.sample) / sr;
}

// Fraction of the beats (frames at fps) with a 10 dB attack within 40 ms: how much of a decoded
// beat grid the audio's onsets support.
double onsetSupport(const std::vector<int64_t>& frames, double fps, const float* x, int64_t n, double sr) {
  if (frames.empty()) return 0.0;
  size_t hit = 0;
  for (int64_t f : frames) {
    if (strongestAttack(x, n, sr, static_cast<double>(f) / fps, 0.04).rise >= 1.0) ++hit;
  }
  return static_cast<double>(hit) / static_cast<double>(frames.size());
}

}  // namespace

std::vector<double> refineBeatTimes(const std::vector<int64_t>& frames, const float* act3, int64_t numFrames,
                                    const float* audio, int64_t n, double sampleRate, double fps) {
  std::vector<double> out;
  out.reserve(frames.size());
  auto s = [&](int64_t t) { return static_cast<double>(act3[3 * t]) + act3[3 * t + 1]; };
  for (int64_t f : frames) {
    double delta = 0.0;
    if (act3 && f > 0 && f + 1 < numFrames) {
      const double ym = s(f - 1), y0 = s(f), yp = s(f + 1);
      const double den = ym - 2.0 * y0 + yp;
      if (y0 >= ym && y0 >= yp && den < 0) delta = std::clamp(0.5 * (ym - yp) / den, -0.5, 0.5);
    }
    double t = (static_cast<double>(f) + delta) / fps;
    if (audio && n > 0) t = snapToOnset(audio, n, sampleRate, t, 1.0 / fps);
    out.push_back(t);
  }
  // The whole grid can sit off the attacks by more than the +-1 frame searched above (a noise-burst
  // click at 90 BPM: every beat 80 ms early). When most beats have a 10 dB attack within a quarter
  // beat (at most 100 ms) at one consistent offset (median absolute deviation under 10 ms) beyond a
  // frame, the grid moves by that offset and each beat snaps again. Dense mixes have attacks
  // everywhere and no consistent offset, and stay as decoded.
  if (audio && n > 0 && out.size() >= 8) {
    std::vector<double> offsets;
    for (size_t i = 0; i < out.size(); ++i) {
      const double ibi = i + 1 < out.size() ? out[i + 1] - out[i] : out[i] - out[i - 1];
      const Attack a = strongestAttack(audio, n, sampleRate, out[i], std::min(0.1, 0.25 * ibi));
      if (a.sample >= 0 && a.rise >= 1.0) offsets.push_back(static_cast<double>(a.sample) / sampleRate - out[i]);
    }
    if (static_cast<double>(offsets.size()) >= 0.6 * static_cast<double>(out.size())) {
      const double shift = median(offsets);
      std::vector<double> dev;
      dev.reserve(offsets.size());
      for (double o : offsets) dev.push_back(std::abs(o - shift));
      if (std::abs(shift) > 1.0 / fps && median(dev) < 0.01) {
        for (double& t : out) t = snapToOnset(audio, n, sampleRate, std::max(0.0, t + shift), 1.0 / fps);
      }
    }
    // A single beat off its click by more than a frame (the CRNN's peak one or more frames early on
    // some beats of sine and woodblock clicks): a beat with no attack of its own (within 5 ms) moves
    // to a clear, isolated attack (15 dB) within a quarter beat.
    for (size_t i = 0; i < out.size(); ++i) {
      if (strongestAttack(audio, n, sampleRate, out[i], 0.005).rise >= 1.0) continue;
      const double ibi = i + 1 < out.size() ? out[i + 1] - out[i] : out[i] - out[i - 1];
      const Attack a = strongestAttack(audio, n, sampleRate, out[i], std::min(0.1, 0.25 * ibi));
      if (a.sample >= 0 && a.rise >= 1.5) out[i] = static_cast<double>(a.sample) / sampleRate;
    }
  }
  // Snapping never reorders beats at >= 55 BPM (intervals > 2 frames), but keep times monotonic.
  for (size_t i = 1; i < out.size(); ++i) out[i] = std::max(out[i], out[i - 1]);
  return out;
}

double tempoFromBeats(const std::vector<double>& beats) {
  const size_t b = beats.size();
  if (b < 2) return 0.0;
  std::vector<double> slopes;
  for (size_t i = 0; i < b; ++i) {
    for (size_t j = i + 1; j < b && j <= i + 32; ++j)
      slopes.push_back((beats[j] - beats[i]) / static_cast<double>(j - i));
  }
  const double period = median(std::move(slopes));
  return period > 0 ? 60.0 / period : 0.0;
}

std::vector<double> tempoCurve(const std::vector<double>& beats) {
  const size_t b = beats.size();
  std::vector<double> out(b, 0.0);
  if (b < 2) return out;
  for (size_t i = 0; i < b; ++i) {
    double interval;
    if (i == 0) interval = beats[1] - beats[0];
    else if (i + 1 == b) interval = beats[b - 1] - beats[b - 2];
    else interval = (beats[i + 1] - beats[i - 1]) / 2.0;
    out[i] = interval > 0 ? 60.0 / interval : 0.0;
  }
  return out;
}

double rhythmConfidence(const DbnResult& r, const float* act3, int64_t numFrames, const float* percussive,
                        const std::vector<int64_t>& beatFrames, double tempoBpm) {
  return calibrateRhythmConfidence(rawRhythmConfidence(r, act3, numFrames, percussive, beatFrames, tempoBpm));
}

double calibrateRhythmConfidence(double raw) {
  // (raw, mean beat F) knots of the isotonic fit on corpus v5; below the lowest raw value seen
  // (0.22) the line runs to 0 (nothing decoded).
  static constexpr double kKnots[][2] = {{0.0, 0.0},   {0.31, 0.57}, {0.45, 0.75}, {0.52, 0.795}, {0.59, 0.80},
                                         {0.67, 0.88}, {0.74, 0.97}, {0.80, 1.0},  {1.0, 1.0}};
  raw = std::clamp(raw, 0.0, 1.0);
  for (size_t i = 1; i < std::size(kKnots); ++i) {
    if (raw <= kKnots[i][0]) {
      const double u = (raw - kKnots[i - 1][0]) / (kKnots[i][0] - kKnots[i - 1][0]);
      return kKnots[i - 1][1] + u * (kKnots[i][1] - kKnots[i - 1][1]);
    }
  }
  return 1.0;
}

double networkConfidence(const DbnResult& r, const float* act3, int64_t numFrames) {
  if (r.beatFrames.empty()) return 0.0;
  double strength = 0.0;
  for (int64_t f : r.beatFrames) {
    if (f >= 0 && f < numFrames) strength += static_cast<double>(act3[3 * f]) + act3[3 * f + 1];
  }
  strength = std::clamp(strength / static_cast<double>(r.beatFrames.size()), 0.0, 1.0);
  double bestLp = -std::numeric_limits<double>::infinity(), second = bestLp;
  for (const MeterScore& m : r.meters) {
    if (m.logProbability > bestLp) {
      second = bestLp;
      bestLp = m.logProbability;
    } else if (m.logProbability > second) {
      second = m.logProbability;
    }
  }
  double meter = 1.0;
  if (r.meters.size() > 1 && std::isfinite(second)) {
    const double d = (bestLp - second) / static_cast<double>(r.beatFrames.size());
    meter = 1.0 - 0.5 * std::exp(-std::max(0.0, d));
  }
  return std::clamp(strength * meter, 0.0, 1.0);
}

double onsetConfidence(const std::vector<int64_t>& beatFrames, const float* percussive, int64_t numFrames) {
  if (!percussive || beatFrames.empty() || numFrames <= 0) return 0.0;
  auto near = [&](int64_t f) {  // the envelopes' mean, its maximum within +-1 frame
    double m = 0.0;
    for (int64_t q = std::max<int64_t>(0, f - 1); q <= std::min<int64_t>(numFrames - 1, f + 1); ++q)
      m = std::max(m, 0.5 * (static_cast<double>(percussive[2 * q]) + percussive[2 * q + 1]));
    return m;
  };
  double atBeats = 0.0, everywhere = 0.0;
  for (int64_t f : beatFrames) atBeats += near(f);
  for (int64_t f = 0; f < numFrames; ++f) everywhere += near(f);
  atBeats /= static_cast<double>(beatFrames.size());
  everywhere /= static_cast<double>(numFrames);
  // How far the beats sit above a random frame, toward the envelope's ceiling of 1: the DBN puts
  // beats on the bumps of noise too, but noise has bumps everywhere.
  return everywhere < 1.0 ? std::clamp((atBeats - everywhere) / (1.0 - everywhere), 0.0, 1.0) : 0.0;
}

double rawRhythmConfidence(const DbnResult& r, const float* act3, int64_t numFrames, const float* percussive,
                           const std::vector<int64_t>& beatFrames, double tempoBpm) {
  const double evidence =
      std::max(networkConfidence(r, act3, numFrames), onsetConfidence(beatFrames, percussive, numFrames));
  if (!(tempoBpm > 0)) return 0.0;
  const double octaves = std::log2(tempoBpm / kConfidenceTempoCentreBpm);
  return std::clamp(evidence * std::exp(-0.5 * octaves * octaves), 0.0, 1.0);
}

std::vector<float> chromaFromLogSpect(const LogSpectFeatures& f, const LogSpectParams& p) {
  std::vector<float> out(static_cast<size_t>(f.frames) * 12, 0.0f);
  const LogFilterbank fb = makeLogFilterbank(p);
  const double binHz = p.sampleRate / (2.0 * fb.numBins);
  std::vector<int> pitchClass(fb.bands.size(), -1);
  for (size_t b = 0; b < fb.bands.size() && static_cast<int>(b) < f.bands; ++b) {
    const auto& w = fb.bands[b].weights;
    if (w.empty()) continue;
    const size_t peak = static_cast<size_t>(std::max_element(w.begin(), w.end()) - w.begin());
    const double hz = (fb.bands[b].start + static_cast<double>(peak)) * binHz;
    if (hz < 130.0 || hz > 2100.0) continue;
    const long semitone = std::lround(12.0 * std::log2(hz / 440.0));
    pitchClass[b] = static_cast<int>(((semitone % 12) + 12) % 12);
  }
  for (int64_t t = 0; t < f.frames; ++t) {
    const float* row = &f.data[static_cast<size_t>(t) * f.dims];
    float* dst = &out[static_cast<size_t>(t) * 12];
    for (size_t b = 0; b < pitchClass.size(); ++b)
      if (pitchClass[b] >= 0) dst[pitchClass[b]] += row[b];
  }
  return out;
}

namespace {

// Onset envelopes [frames x ranges.size()] of the LOG_SPECT bands whose peak frequency lies in each
// [lo, hi) range (see percussiveFromLogSpect).
std::vector<float> bandOnsets(const LogSpectFeatures& f, const LogSpectParams& p,
                              const std::vector<std::pair<double, double>>& ranges, double floor = 1e-9) {
  const size_t nr = ranges.size();
  std::vector<float> out(static_cast<size_t>(f.frames) * nr, 0.0f);
  if (f.frames == 0) return out;
  const LogFilterbank fb = makeLogFilterbank(p);
  const double binHz = p.sampleRate / (2.0 * fb.numBins);
  std::vector<int> band(fb.bands.size(), -1);
  std::vector<int> count(nr, 0);
  for (size_t b = 0; b < fb.bands.size() && static_cast<int>(b) < f.bands; ++b) {
    const auto& w = fb.bands[b].weights;
    if (w.empty()) continue;
    const size_t peak = static_cast<size_t>(std::max_element(w.begin(), w.end()) - w.begin());
    const double hz = (fb.bands[b].start + static_cast<double>(peak)) * binHz;
    for (size_t r = 0; r < nr; ++r) {
      if (hz >= ranges[r].first && hz < ranges[r].second) {
        band[b] = static_cast<int>(r);
        ++count[r];
        break;
      }
    }
  }
  std::vector<std::vector<double>> env(nr, std::vector<double>(static_cast<size_t>(f.frames)));
  // Each frame's range sum adds the range's bands in band order; four frames go side by side, so
  // the four dependent chains of double adds overlap.
  std::vector<std::vector<int>> members(nr);
  for (size_t b = 0; b < band.size(); ++b) {
    if (band[b] >= 0) members[static_cast<size_t>(band[b])].push_back(static_cast<int>(b));
  }
  const auto row = [&](int64_t t) { return &f.data[static_cast<size_t>(t) * f.dims + f.bands]; };
  for (size_t k = 0; k < nr; ++k) {
    const std::vector<int>& m = members[k];
    std::vector<double>& e = env[k];
    if (m.empty()) continue;  // a range without bands stays 0
    const double n = count[k];
    int64_t t = 0;
    for (; t + 4 <= f.frames; t += 4) {
      const float *d0 = row(t), *d1 = row(t + 1), *d2 = row(t + 2), *d3 = row(t + 3);
      double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
      for (const int b : m) {
        s0 += d0[b];
        s1 += d1[b];
        s2 += d2[b];
        s3 += d3[b];
      }
      e[t] = s0 / n;
      e[t + 1] = s1 / n;
      e[t + 2] = s2 / n;
      e[t + 3] = s3 / n;
    }
    for (; t < f.frames; ++t) {
      const float* d = row(t);
      double s = 0.0;
      for (const int b : m) s += d[b];
      e[t] = s / n;
    }
  }
  // Onsets stand out from their surroundings: minus the centred 1-s mean (sustained distortion and
  // noise raise the flux everywhere), then on the song's own scale.
  const int64_t half = std::llround(0.5 * p.sampleRate / p.hopSize);
  for (size_t k = 0; k < nr; ++k) {
    std::vector<double>& e = env[k];
    std::vector<double> pre(e.size() + 1, 0.0);
    for (size_t t = 0; t < e.size(); ++t) pre[t + 1] = pre[t] + e[t];
    std::vector<double> d(e.size());
    for (int64_t t = 0; t < f.frames; ++t) {
      const int64_t a = std::max<int64_t>(0, t - half), b = std::min<int64_t>(f.frames, t + half + 1);
      d[t] = std::max(0.0, e[t] - (pre[b] - pre[a]) / static_cast<double>(b - a));
    }
    std::vector<double> sorted = d;
    const size_t q = std::min(sorted.size() - 1, static_cast<size_t>(0.98 * static_cast<double>(sorted.size())));
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<int64_t>(q), sorted.end());
    const double scale = std::max(sorted[q], floor);
    for (int64_t t = 0; t < f.frames; ++t)
      out[static_cast<size_t>(t) * nr + k] = scale > 1e-9 ? static_cast<float>(std::min(1.0, d[t] / scale)) : 0.0f;
  }
  return out;
}

}  // namespace

std::vector<float> percussiveFromLogSpect(const LogSpectFeatures& f, const LogSpectParams& p) {
  return bandOnsets(f, p, {{0.0, 150.0}, {150.0, 5000.0}});
}

std::vector<float> noiseOnsetsFromLogSpect(const LogSpectFeatures& f, const LogSpectParams& p) {
  // An empty band scaled by its own percentile is noise at full scale; the floor (a 98th
  // percentile flux of 0.02 at the reference peak: sine and woodblock clicks give 0.005, the rock
  // renders 0.021-0.05, a noise click 0.44) keeps it, and an accent on tonal clicks, under the
  // template's minimum score.
  return bandOnsets(f, p, {{5000.0, 1e9}}, 0.02);
}

void fusePercussive(float* act2, int64_t frames, const float* perc, double weight) {
  for (int64_t t = 0; t < frames; ++t) {
    const double b = act2[2 * t], d = act2[2 * t + 1], a = b + d;
    const double o = 0.5 * (static_cast<double>(perc[2 * t]) + perc[2 * t + 1]);
    const double add = weight * o * std::max(0.0, 1.0 - a);
    if (add <= 0.0) continue;
    const double share = a > 1e-6 ? d / a : 0.0;
    act2[2 * t] = static_cast<float>(b + add * (1.0 - share));
    act2[2 * t + 1] = static_cast<float>(d + add * share);
  }
}

GridFix percussiveGridCheck(const std::vector<int64_t>& beatFrames, const float* perc, int64_t frames, double fps,
                            double maxBpm) {
  GridFix fix;
  if (beatFrames.size() < 8 || !perc) return fix;
  auto at = [&](double f, int k) {  // the envelope's maximum within +-1 frame
    const int64_t c = std::llround(f);
    float m = 0.0f;
    for (int64_t q = std::max<int64_t>(0, c - 1); q <= std::min<int64_t>(frames - 1, c + 1); ++q)
      m = std::max(m, perc[2 * q + k]);
    return static_cast<double>(m);
  };
  std::vector<double> ibis;
  const size_t count = beatFrames.size() - 1;
  for (size_t i = 0; i < count; ++i) {
    const double a = static_cast<double>(beatFrames[i]), b = static_cast<double>(beatFrames[i + 1]);
    fix.lowOn += at(a, 0);
    fix.midOn += at(a, 1);
    fix.lowMid += at(0.5 * (a + b), 0);
    fix.midMid += at(0.5 * (a + b), 1);
    ibis.push_back(b - a);
  }
  for (double* v : {&fix.lowOn, &fix.midOn, &fix.lowMid, &fix.midMid}) *v /= static_cast<double>(count);
  if (fix.lowOn + fix.midOn + fix.lowMid + fix.midMid < 0.2) return fix;  // too little percussion to judge
  const double margin = 1.2;
  if (fix.lowMid >= fix.lowOn && fix.midMid >= fix.midOn &&
      fix.lowMid + fix.midMid > margin * (fix.lowOn + fix.midOn)) {
    fix.kind = GridFix::kShift;
    return fix;
  }
  const bool backbeat = (fix.lowOn > margin * fix.lowMid && fix.midMid > margin * fix.midOn) ||
                        (fix.lowMid > margin * fix.lowOn && fix.midOn > margin * fix.midMid);
  const double bpm = 60.0 * fps / median(ibis);
  if (backbeat && 2.0 * bpm <= maxBpm) fix.kind = GridFix::kDouble;
  return fix;
}

std::vector<int64_t> backbeatGrid(const std::vector<int64_t>& beats, BackbeatFix::Kind kind) {
  std::vector<int64_t> g;
  const size_t nb = beats.size();
  if (kind == BackbeatFix::kKeep || nb < 2) return beats;
  for (size_t i = 0; i < nb; ++i) {
    const int64_t next = i + 1 < nb ? beats[i + 1] : -1;
    switch (kind) {
      case BackbeatFix::kShift:
        if (next >= 0) g.push_back((beats[i] + next) / 2);
        break;
      case BackbeatFix::kDouble:
        g.push_back(beats[i]);
        if (next >= 0) g.push_back((beats[i] + next) / 2);
        break;
      case BackbeatFix::kHalveEven:
      case BackbeatFix::kHalveOdd:
        if (static_cast<int>(i % 2) == (kind == BackbeatFix::kHalveOdd ? 1 : 0)) g.push_back(beats[i]);
        break;
      default: break;
    }
  }
  return g;
}

BackbeatFix percussiveBackbeat(const std::vector<int64_t>& beatFrames, const float* perc, const float* noise,
                               int64_t frames, double fps, double minBpm, double maxBpm, double minScore) {
  BackbeatFix fix;
  const size_t nb = beatFrames.size();
  if (nb < 8 || !perc) return fix;
  auto at = [&](int64_t c, int k) {  // the envelope's maximum within +-1 frame (k 0 kick, 1 snare)
    float m = 0.0f;
    for (int64_t q = std::max<int64_t>(0, c - 1); q <= std::min<int64_t>(frames - 1, c + 1); ++q)
      m = std::max(m, k == 1 && noise ? noise[q] : perc[2 * q + k]);
    return static_cast<double>(m);
  };
  // Score and kick parity of one grid. The alternation must also hold bar by bar: in at least
  // kBackbeatConsistency of the beat pairs the snare beat has more snare noise plus less kick than
  // the kick beat. Without that, an accent pattern of another period (a 3/4 click's downbeat) or
  // the normalised noise of an empty band passes for a backbeat on its mean.
  auto score = [&](const std::vector<int64_t>& g, int* parity, double kickTolerance, double* onsets = nullptr) {
    const size_t pairs = g.size() / 2;
    if (pairs < 4) return 0.0;
    std::vector<double> k(2 * pairs), s(2 * pairs);
    for (size_t j = 0; j < 2 * pairs; ++j) {
      k[j] = at(g[j], 0);
      s[j] = at(g[j], 1);
    }
    if (onsets) {
      double sum = 0.0;
      for (size_t j = 0; j < 2 * pairs; ++j) sum += k[j] + s[j];
      *onsets = sum / static_cast<double>(2 * pairs);
    }
    double best = 0.0;
    for (int p = 0; p < 2; ++p) {  // kick parity p: snares on the other parity
      double snare = 0.0, kick = 0.0;
      size_t agree = 0;
      for (size_t i = 0; i < pairs; ++i) {
        const size_t kb = 2 * i + static_cast<size_t>(p), sb = 2 * i + 1 - static_cast<size_t>(p);
        snare += s[sb] - s[kb];
        kick += k[kb] - k[sb];
        agree += (s[sb] - s[kb]) + (k[kb] - k[sb]) > 0.0;
      }
      snare /= static_cast<double>(pairs);
      kick /= static_cast<double>(pairs);
      // the snare carries the cue: a kick alternation alone (a four-on-the-floor with an off-beat
      // bass) is no backbeat
      if (snare < minScore || kick < -kickTolerance * snare) continue;
      if (static_cast<double>(agree) < kBackbeatConsistency * static_cast<double>(pairs)) continue;
      const double v = snare + std::max(0.0, kick);
      if (v > best) {
        best = v;
        *parity = p;
      }
    }
    return best;
  };
  std::vector<double> ibis;
  for (size_t i = 0; i + 1 < nb; ++i) ibis.push_back(static_cast<double>(beatFrames[i + 1] - beatFrames[i]));
  const double bpm = 60.0 * fps / median(ibis);
  int parity = -1;
  double decodedOnsets = 0.0;
  fix.keep = score(beatFrames, &parity, kBackbeatKeepKickTolerance, &decodedOnsets);
  fix.best = fix.keep;
  fix.kickParity = parity;
  auto consider = [&](BackbeatFix::Kind kind, double floor) {
    int p = -1;
    double onsets = 0.0;
    const double v = score(backbeatGrid(beatFrames, kind), &p, kBackbeatMoveKickTolerance, &onsets);
    // Half a beat later the beats may sit on weaker onsets than the decoded ones (a hat pattern
    // between accented beats): the shifted grid's score counts in proportion to the onset strength
    // (kick + snare) it keeps, and must still reach kBackbeatShiftMinScore.
    if (kind == BackbeatFix::kShift &&
        v * std::min(1.0, onsets / std::max(decodedOnsets, 1e-9)) < kBackbeatShiftMinScore)
      return;
    if (v > fix.best && v >= 1.5 * fix.keep && v >= floor) {
      fix.best = v;
      fix.kind = kind;
      fix.kickParity = p;
    }
  };
  consider(BackbeatFix::kShift, 0.0);
  if (2.0 * bpm <= std::min(maxBpm, kBackbeatDoubleMaxBpm)) consider(BackbeatFix::kDouble, kBackbeatDoubleMinScore);
  // Halving undoes a network that counted eighths (a fast grid, >= 160 BPM); below that an accent
  // every other beat (a click's downbeat) would pass for a backbeat at half tempo.
  if (0.5 * bpm >= std::max(minBpm, kBackbeatHalveMinBpm)) {
    consider(BackbeatFix::kHalveEven, 0.0);
    consider(BackbeatFix::kHalveOdd, 0.0);
  }
  if (fix.best < minScore) {
    fix.kind = BackbeatFix::kKeep;
    fix.kickParity = -1;
  }
  return fix;
}

PhaseJumps unifyPhase(const std::vector<int64_t>& beatFrames, const float* act2, int64_t frames) {
  PhaseJumps out;
  out.beatFrames = beatFrames;
  const size_t n = beatFrames.size();
  if (n < 2 * kPhaseContext + kPhaseConfirm) return out;
  const auto& b = beatFrames;
  auto ibiAround = [&](size_t lo, size_t hi) {  // median interval ending at beats [lo, hi), clamped
    std::vector<double> v;
    for (size_t k = std::max<size_t>(lo, 1); k < std::min(hi, n); ++k)
      v.push_back(static_cast<double>(b[k] - b[k - 1]));
    return v.empty() ? 0.0 : median(v);
  };
  // Jumps: after kPhaseContext beats, up to kPhaseSlide beats may slide, and the next
  // kPhaseConfirm beats all sit 0.3-0.5 of a beat off the earlier beats' grid, consistently, on a
  // grid of about the same tempo (the mean of the two intervals spans the gap, so a ramp is no jump).
  std::vector<size_t> at;     // first beat of each new segment
  std::vector<double> shift;  // its offset from the previous segment, in beats (about +-0.5)
  for (size_t i = kPhaseContext; i + kPhaseSlide + kPhaseConfirm <= n;) {
    const double m = ibiAround(i - kPhaseContext + 1, i);
    const size_t c0 = i + kPhaseSlide, c1 = c0 + kPhaseConfirm;
    const double m2 = static_cast<double>(b[c1 - 1] - b[c0]) / static_cast<double>(kPhaseConfirm - 1);
    if (m <= 0 || std::abs(m2 / m - 1.0) > 0.08) {
      ++i;
      continue;
    }
    auto offset = [&](size_t k) {
      const double x = static_cast<double>(b[k] - b[i - 1]) / (0.5 * (m + m2));
      return x - std::round(x);
    };
    double lo = 1.0, hi = -1.0, mean = 0.0;
    for (size_t k = c0; k < c1; ++k) {
      const double d = offset(k);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
      mean += std::abs(d);
    }
    mean /= static_cast<double>(kPhaseConfirm);
    // all on one side, or straddling +-0.5 (the same half-beat offset measured both ways)
    const bool half =
        mean >= 0.3 && ((lo >= 0.3) || (hi <= -0.3) || (lo <= -0.4 && hi >= 0.4 && std::min(std::abs(lo), hi) >= 0.4));
    if (half && (lo * hi < 0 || hi - lo <= 0.2)) {
      // the new segment starts at the first beat nearer the new phase
      size_t first = c0;
      for (size_t k = i; k < c0; ++k) {
        if (std::abs(offset(k)) >= 0.25) {
          first = k;
          break;
        }
      }
      at.push_back(first);
      shift.push_back(offset(c0) >= 0 ? 0.5 : -0.5);
      i = c1;
    } else {
      ++i;
    }
  }
  out.jumps = static_cast<int>(at.size());
  if (at.empty()) return out;
  // Segments and their offsets (in half beats, from the first segment's phase).
  std::vector<size_t> start{0};
  std::vector<int> half{0};
  for (size_t j = 0; j < at.size(); ++j) {
    start.push_back(at[j]);
    half.push_back(half.back() + (shift[j] > 0 ? 1 : -1));
  }
  start.push_back(n);
  auto ev = [&](double f) {
    const int64_t c = std::llround(f);
    float m = 0.0f;
    for (int64_t q = std::max<int64_t>(0, c - 1); q <= std::min<int64_t>(frames - 1, c + 1); ++q)
      m = std::max(m, act2[2 * q] + act2[2 * q + 1]);
    return static_cast<double>(m);
  };
  // Each segment's evidence: its beats' against the points half a beat away (act2 is beat +
  // downbeat). The phase class (even or odd number of half-beat jumps) with the larger summed
  // advantage is the song's; a segment of the other class keeps its phase only when its own beats
  // carry kPhaseKeepRatio times the evidence of its half-beat points (a real shift in the music).
  std::vector<double> on(start.size() - 1, 0.0), off(start.size() - 1, 0.0);
  double advantage[2] = {0.0, 0.0};
  for (size_t j = 0; j + 1 < start.size(); ++j) {
    for (size_t k = start[j]; k < start[j + 1]; ++k) {
      const double m = ibiAround(k > 4 ? k - 4 : 1, k + 5);
      on[j] += ev(static_cast<double>(b[k]));
      off[j] += 0.5 * (ev(static_cast<double>(b[k]) - 0.5 * m) + ev(static_cast<double>(b[k]) + 0.5 * m));
    }
    advantage[(half[j] % 2 + 2) % 2] += on[j] - off[j];
  }
  const int keepClass = advantage[1] > advantage[0] ? 1 : 0;
  for (size_t j = 0; j + 1 < start.size(); ++j) {
    const size_t a = start[j], e = start[j + 1];
    if ((half[j] % 2 + 2) % 2 == keepClass || on[j] > kPhaseKeepRatio * off[j]) continue;
    // Half a beat toward a neighbouring segment (both are of the song's class), so the seam closes.
    const int neighbour = j > 0 ? half[j - 1] : half[j + 1];
    const double dir = 0.5 * (neighbour - half[j]);
    for (size_t k = a; k < e; ++k) {
      const double m = ibiAround(k > 4 ? k - 4 : 1, k + 5);
      out.beatFrames[k] = std::llround(static_cast<double>(b[k]) + dir * m);
    }
    ++out.repaired;
  }
  // Seams: a moved segment can leave two beats closer than half a beat (or a beat past the end).
  std::vector<int64_t> clean;
  const double mAll = ibiAround(1, n);
  for (int64_t f : out.beatFrames) {
    if (f < 0 || f >= frames) continue;
    if (!clean.empty() && static_cast<double>(f - clean.back()) < 0.6 * mAll) continue;
    clean.push_back(f);
  }
  out.beatFrames = std::move(clean);
  return out;
}

std::vector<int64_t> unifyTempoOctave(const std::vector<int64_t>& beatFrames, const float* act2, int64_t frames,
                                      int* sections) {
  *sections = 0;
  const size_t n = beatFrames.size();
  if (n < 3 * kOctaveMinRun) return beatFrames;
  std::vector<double> ibi;
  for (size_t i = 1; i < n; ++i) ibi.push_back(static_cast<double>(beatFrames[i] - beatFrames[i - 1]));
  const double m = median(ibi);
  auto level = [&](double v) { return v > 1.7 * m && v < 2.3 * m ? 2 : (v > 0.4 * m && v < 0.6 * m ? -2 : 0); };
  auto ev = [&](int64_t c) {
    float e = 0.0f;
    for (int64_t q = std::max<int64_t>(0, c - 1); q <= std::min<int64_t>(frames - 1, c + 1); ++q)
      e = std::max(e, act2[2 * q] + act2[2 * q + 1]);
    return static_cast<double>(e);
  };
  std::vector<int64_t> out;
  size_t i = 0;  // intervals [i, i + run) share a level
  out.push_back(beatFrames[0]);
  while (i < ibi.size()) {
    const int lv = level(ibi[i]);
    size_t run = 1;
    while (i + run < ibi.size() && lv != 0 && level(ibi[i + run]) == lv) ++run;
    if (lv == 2 && run >= kOctaveMinRun) {
      // half tempo: a beat halfway through each interval
      for (size_t k = i; k < i + run; ++k) {
        out.push_back((beatFrames[k] + beatFrames[k + 1]) / 2);
        out.push_back(beatFrames[k + 1]);
      }
      ++*sections;
    } else if (lv == -2 && run >= kOctaveMinRun) {
      // double tempo: every other beat, the parity with the stronger activation (the run's first
      // beat, already in out, is parity 0)
      double even = 0.0, odd = 0.0;
      for (size_t k = i; k <= i + run; ++k) ((k - i) % 2 ? odd : even) += ev(beatFrames[k]);
      if (odd > even) out.pop_back();
      for (size_t k = i + 1; k <= i + run; ++k)
        if (((k - i) % 2 == 1) == (odd > even)) out.push_back(beatFrames[k]);
      ++*sections;
    } else {
      for (size_t k = i; k < i + run; ++k) out.push_back(beatFrames[k + 1]);
    }
    i += run;
  }
  return out;
}

BarChoice selectBars(const std::vector<int64_t>& beatFrames, const std::vector<double>& beats, const float* act3,
                     int64_t numFrames, const float* audio, int64_t n, double sampleRate,
                     const std::vector<int>& meters, const float* chroma, int downbeatParity) {
  BarChoice best;
  const size_t count = beats.size();
  if (count < 4 || !audio || n <= 0 || beatFrames.size() != count) return best;
  std::vector<double> net(count), bass(count);
  for (size_t i = 0; i < count; ++i) {
    float peak = 0.0f;
    for (int64_t k = std::max<int64_t>(0, beatFrames[i] - 1); k <= std::min<int64_t>(numFrames - 1, beatFrames[i] + 1);
         ++k) {
      peak = std::max(peak, act3[3 * k + 1]);
    }
    net[i] = peak;
  }
  // One pass of the low-pass over the audio, summing each beat's window (beats are ≥ 279 ms apart
  // at the DBN's fastest tempo, so windows of 100 ms never overlap).
  const double alpha = 1.0 - std::exp(-2.0 * M_PI * 150.0 / sampleRate);
  const int64_t window = static_cast<int64_t>(0.1 * sampleRate);
  std::vector<int64_t> start(count);
  for (size_t i = 0; i < count; ++i) start[i] = static_cast<int64_t>(beats[i] * sampleRate);
  std::vector<double> energy(count, 0.0);
  // The low-pass runs over each window and the 30 ms before it.
  const int64_t kWarmUp = static_cast<int64_t>(0.03 * sampleRate);
  double lp = 0.0;
  int64_t pos = 0;
  size_t b = 0;
  while (pos < n && b < count) {
    if (pos >= start[b] + window) {
      ++b;
      continue;
    }
    if (pos < start[b]) {
      // The filter's time constant is about 1 ms, so it starts afresh 30 ms before the window
      // (e^-28 of the older state would remain) instead of running through the whole gap.
      if (start[b] - kWarmUp > pos) {
        pos = std::min(n, start[b] - kWarmUp);
        lp = 0.0;
      }
      for (const int64_t stop = std::min(n, start[b]); pos < stop; ++pos)
        lp += alpha * (static_cast<double>(audio[pos]) - lp);
      continue;
    }
    double e = energy[b];
    for (const int64_t stop = std::min(n, start[b] + window); pos < stop; ++pos) {
      lp += alpha * (static_cast<double>(audio[pos]) - lp);
      e += lp * lp;
    }
    energy[b] = e;
  }
  for (size_t i = 0; i < count; ++i) bass[i] = std::log(1e-9 + energy[i]);
  auto zscore = [count](std::vector<double>& v) {
    double mean = 0.0, var = 0.0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(count);
    for (double x : v) var += (x - mean) * (x - mean);
    const double sd = std::sqrt(var / static_cast<double>(count));
    for (double& x : v) x = sd > 1e-12 ? (x - mean) / sd : 0.0;
  };
  zscore(net);
  zscore(bass);
  // Harmonic change at each beat: the beat-long profiles before and after it, centred and
  // correlated (the first beat has no "before": it gets the mean change).
  std::vector<double> change(count, 0.0);
  if (chroma) {
    std::vector<double> prof(count * 12, 0.0);
    for (size_t i = 0; i < count; ++i) {
      const int64_t a = std::clamp<int64_t>(beatFrames[i], 0, numFrames);
      const int64_t b = std::clamp<int64_t>(
          i + 1 < count ? beatFrames[i + 1] : beatFrames[i] + (beatFrames[i] - beatFrames[i - 1]), a, numFrames);
      double* v = &prof[i * 12];
      for (int64_t t = a; t < b; ++t)
        for (int k = 0; k < 12; ++k) v[k] += chroma[static_cast<size_t>(t) * 12 + k];
      double mean = 0.0, norm = 0.0;
      for (int k = 0; k < 12; ++k) mean += v[k] / 12.0;
      for (int k = 0; k < 12; ++k) norm += (v[k] - mean) * (v[k] - mean);
      norm = std::sqrt(norm);
      for (int k = 0; k < 12; ++k) v[k] = norm > 1e-12 ? (v[k] - mean) / norm : 0.0;
    }
    double sum = 0.0;
    for (size_t i = 1; i < count; ++i) {
      double dot = 0.0;
      for (int k = 0; k < 12; ++k) dot += prof[i * 12 + k] * prof[(i - 1) * 12 + k];
      sum += (change[i] = 1.0 - dot);
    }
    change[0] = sum / static_cast<double>(count - 1);
    zscore(change);
  }
  std::vector<double> cue(count);
  double total = 0.0;
  for (size_t i = 0; i < count; ++i) total += (cue[i] = net[i] + bass[i] + change[i]);
  auto contrastOf = [&](int m, int phase) {
    double on = 0.0;
    size_t k = 0;
    for (size_t i = static_cast<size_t>(phase); i < count; i += static_cast<size_t>(m), ++k) on += cue[i];
    return on / static_cast<double>(k) - (total - on) / static_cast<double>(count - k);
  };
  best.contrast = -std::numeric_limits<double>::infinity();
  for (int m : meters) {
    if (m < 2 || count < 2 * static_cast<size_t>(m)) continue;
    for (int phase = 0; phase < m; ++phase) {
      // a backbeat alternates every two beats: an even bar, downbeat on a kick beat
      if (downbeatParity >= 0 && (m % 2 == 1 || phase % 2 != downbeatParity)) continue;
      const double contrast = contrastOf(m, phase);
      if (contrast > best.contrast + 1e-12) best = {m, phase, contrast};
    }
  }
  if (best.beatsPerBar == 0) {
    best.contrast = 0.0;
    return best;
  }
  // A bar of m beats whose cues repeat every m beats also fits 2m beats with a third less contrast
  // when every other downbeat is no stronger than the rest (2/4 read as 4/4: on one of four beats
  // against (a + 2n) / 3 elsewhere, 2/3 of a - n). Anything above that is evidence for the longer
  // bar (the harmonic change of 4/4 falls on every other half bar), so the longer bar is taken
  // when its contrast reaches 5/6 of the shorter one's, halfway between 2/3 and 1. Without it a
  // rock song flipped between 2 and 4 beats per bar with a second of leading silence.
  const BarChoice shorter = best;
  const int m = shorter.beatsPerBar;
  if (shorter.contrast > 0 && std::find(meters.begin(), meters.end(), 2 * m) != meters.end() &&
      count >= 4 * static_cast<size_t>(m)) {
    BarChoice longer{2 * m, shorter.phase, contrastOf(2 * m, shorter.phase)};
    const double other = contrastOf(2 * m, shorter.phase + m);
    if (other > longer.contrast) longer = {2 * m, shorter.phase + m, other};
    if (longer.contrast >= shorter.contrast * 5.0 / 6.0) best = longer;
  }
  return best;
}

RhythmResult decodeRhythm(const float* act3, int64_t frames, const float* audio, int64_t n, double sampleRate,
                          const RhythmParams& p, const CancelToken* cancel, const float* chroma,
                          const float* percussive, const float* noise) {
  RhythmResult res;
  res.frames = frames;
  for (int b : p.dbn.beatsPerBar) res.meters.push_back({b, -std::numeric_limits<double>::infinity()});
  if (p.keepActivations) res.activations.assign(act3, act3 + 3 * frames);
  // Digital silence: the network still emits a (constant) beat probability, which would decode
  // into a metronome; there is nothing to track.
  if (audio) {
    if (peakAbs(audio, n, nullptr) <= kSilence) return res;
  }
  auto t0 = std::chrono::steady_clock::now();
  const double c0 = threadCpu();
  std::vector<float> act2(static_cast<size_t>(2 * frames));
  for (int64_t t = 0; t < frames; ++t) {
    act2[2 * t] = act3[3 * t];
    act2[2 * t + 1] = act3[3 * t + 1];
  }
  if (percussive && p.percussiveObservation) fusePercussive(act2.data(), frames, percussive, kPercussiveWeight);
  DbnResult d = decodeDownbeats(act2.data(), frames, p.dbn, cancel);
  const double supportBest = p.barCues && audio && n > 0 && p.dbn.beatsPerBar.size() > 1
                                 ? onsetSupport(d.beatFrames, p.dbn.fps, audio, n, sampleRate)
                                 : 1.0;
  if (supportBest < 0.75) {
    // The most probable path (madmom's choice among the meters' separate paths) is poorly
    // supported by the audio's attacks: each meter's own path is decoded, and one whose beats the
    // attacks support clearly better is kept. On a 3/4 sine click at 90 BPM the most probable path
    // was 2 beats per bar at 60 BPM, half of its beats between the clicks. Dense music has attacks
    // near any beat and skips this.
    double supportChosen = supportBest;
    for (int m : p.dbn.beatsPerBar) {
      if (m == d.beatsPerBar) continue;
      DbnParams one = p.dbn;
      one.beatsPerBar = {m};
      DbnResult path = decodeDownbeats(act2.data(), frames, one, cancel);
      const double support = onsetSupport(path.beatFrames, p.dbn.fps, audio, n, sampleRate);
      if (support >= supportBest + 0.2 && support > supportChosen) {
        supportChosen = support;
        path.meters = d.meters;  // every meter's score, as the joint decode reports them
        path.backpointerBytes = std::max(path.backpointerBytes, d.backpointerBytes);
        d = std::move(path);
      }
    }
  }
  // A moved grid's bar positions follow the old count (i mod beats per bar) until the bar cues.
  auto replaceBeats = [&d](std::vector<int64_t>&& frames2) {
    d.beatFrames = std::move(frames2);
    const size_t m = static_cast<size_t>(std::max(d.beatsPerBar, 1));
    d.beatNumbers.assign(d.beatFrames.size(), 0);
    for (size_t i = 0; i < d.beatFrames.size(); ++i) d.beatNumbers[i] = static_cast<int>(i % m) + 1;
  };
  if (p.sectionRepair) {
    PhaseJumps pj = unifyPhase(d.beatFrames, act2.data(), frames);
    if (pj.repaired > 0) replaceBeats(std::move(pj.beatFrames));
    int sections = 0;
    std::vector<int64_t> g = unifyTempoOctave(d.beatFrames, act2.data(), frames, &sections);
    if (sections > 0) replaceBeats(std::move(g));
  }
  int kickParity = -1;  // of d.beatFrames' indices; -1 no backbeat
  bool backbeatDecided = false;
  if (percussive && p.percussiveBackbeat) {
    const BackbeatFix bb =
        percussiveBackbeat(d.beatFrames, percussive, noise, frames, p.dbn.fps, p.dbn.minBpm, p.dbn.maxBpm);
    if (bb.kickParity >= 0) {
      backbeatDecided = true;
      if (bb.kind != BackbeatFix::kKeep) {
        // A moved grid's old bar count means nothing: its downbeats go on the kick beats. A kept
        // grid keeps the bar cues' free choice (an accented click alternates like a backbeat).
        kickParity = bb.kickParity;
        replaceBeats(backbeatGrid(d.beatFrames, bb.kind));
      }
    }
  }
  if (percussive && p.percussiveGrid && !backbeatDecided) {
    const GridFix fix = percussiveGridCheck(d.beatFrames, percussive, frames, p.dbn.fps, p.dbn.maxBpm);
    if (fix.kind != GridFix::kKeep) {
      // Half a beat later (off-beat lock) or a beat at every half beat (half tempo); the last beat
      // extends by the last interval. Bar positions follow the old count, and the bar cues below
      // choose meter and phase again on the new beats.
      std::vector<int64_t> frames2;
      std::vector<int> numbers2;
      const size_t nb = d.beatFrames.size();
      const int m = std::max(d.beatsPerBar, 1);
      for (size_t i = 0; i < nb; ++i) {
        const int64_t next = i + 1 < nb ? d.beatFrames[i + 1] : 2 * d.beatFrames[i] - d.beatFrames[i - 1];
        const int64_t mid = (d.beatFrames[i] + next) / 2;
        if (fix.kind == GridFix::kDouble) {
          frames2.push_back(d.beatFrames[i]);
          numbers2.push_back(0);
        }
        if (mid < frames) {
          frames2.push_back(mid);
          numbers2.push_back(0);
        }
      }
      for (size_t i = 0; i < numbers2.size(); ++i) numbers2[i] = static_cast<int>(i % static_cast<size_t>(m)) + 1;
      d.beatFrames = std::move(frames2);
      d.beatNumbers = std::move(numbers2);
    }
  }
  res.secondsDecode = seconds(t0);
  res.cpuDecode = threadCpu() - c0;
  res.meters = d.meters;
  res.backpointerBytes = d.backpointerBytes;
  res.beatFrames = d.beatFrames;
  res.cropFirst = d.cropFirst;
  res.cropLast = d.cropLast;
  res.beatsPerBar = d.beatsPerBar;
  res.positions.assign(d.beatNumbers.begin(), d.beatNumbers.end());
  if (p.refine) {
    res.beats = refineBeatTimes(d.beatFrames, act3, frames, audio, n, sampleRate, p.dbn.fps);
  } else {
    for (int64_t f : d.beatFrames) res.beats.push_back(static_cast<double>(f) / p.dbn.fps);
  }
  // The CRNN starts from a zero LSTM state and emits a start-up transient, which over leading
  // digital silence decodes into beats; beats more than 30 ms before the first or after the last
  // audible sample are dropped (mid-song beats are madmom's, whatever the audio there).
  if (audio && n > 0) {
    int64_t firstLoud = 0, lastLoud = n - 1;
    while (firstLoud < n && std::abs(audio[firstLoud]) <= kSilence) ++firstLoud;
    while (lastLoud > firstLoud && std::abs(audio[lastLoud]) <= kSilence) --lastLoud;
    const double lo = static_cast<double>(firstLoud) / sampleRate - 0.03;
    const double hi = static_cast<double>(lastLoud) / sampleRate + 0.03;
    size_t keep = 0;
    int64_t firstKept = -1;
    for (size_t i = 0; i < res.beats.size(); ++i) {
      if (res.beats[i] < lo || res.beats[i] > hi) continue;
      if (firstKept < 0) firstKept = static_cast<int64_t>(i);
      res.beats[keep] = res.beats[i];
      res.positions[keep] = res.positions[i];
      res.beatFrames[keep] = res.beatFrames[i];
      ++keep;
    }
    res.beats.resize(keep);
    res.positions.resize(keep);
    res.beatFrames.resize(keep);
    if (kickParity >= 0 && firstKept > 0) kickParity = static_cast<int>((kickParity + firstKept) % 2);
  }
  const bool detect = p.dbn.beatsPerBar.size() > 1;
  MeterLevel level;
  if (detect && p.compoundMeters && percussive) {
    level = compoundLevel(res.beats, res.beatFrames, percussive, frames, p.dbn.fps, audio, n, sampleRate);
    if (level.releveled) {  // dotted-quarter beats; two a bar until the bar cues say otherwise
      res.beatsPerBar = 2;
      res.positions.resize(res.beats.size());
      for (size_t i = 0; i < res.positions.size(); ++i) res.positions[i] = static_cast<int32_t>(i % 2 + 1);
    }
  }
  if (p.barCues) {
    // Beats moved to dotted quarters take their bars from the pulse accents that moved them: the
    // CRNN's downbeats belonged to the old level (on 6/8 eighth clicks they fell on beat 2).
    BarChoice bars = level.releveled ? accentBars(level.accents, p.dbn.beatsPerBar)
                                     : selectBars(res.beatFrames, res.beats, act3, frames, audio, n, sampleRate,
                                                  p.dbn.beatsPerBar, chroma, kickParity);
    // (Compound bars of 5 or 7 dotted quarters are not considered.)
    if (detect && p.oddMeters && level.subdivision == 2) {
      const std::vector<int> odd = oddMeterCandidates(p.dbn.beatsPerBar);
      const BarChoice oddBars =
          odd.empty() ? BarChoice{}
                      : selectBars(res.beatFrames, res.beats, act3, frames, audio, n, sampleRate, odd, chroma);
      if (preferOddBars(bars, oddBars, res.beats.size())) {
        bars = oddBars;
        // The phase of a bar of 5 or 7 from the beats' accents: the cues put 7/8 clicks' bar
        // lines on a secondary accent of the 2+2+3 grouping.
        if (percussive) {
          const BarChoice byAccent = accentBars(
              pulseAccents(res.beats, percussive, frames, p.dbn.fps, audio, n, sampleRate), {bars.beatsPerBar});
          if (byAccent.beatsPerBar == bars.beatsPerBar && byAccent.contrast > 0) bars.phase = byAccent.phase;
        }
      }
    }
    if (bars.beatsPerBar > 0) {
      res.beatsPerBar = bars.beatsPerBar;
      for (size_t i = 0; i < res.positions.size(); ++i) {
        const int64_t k = static_cast<int64_t>(i) - bars.phase;
        res.positions[i] = static_cast<int32_t>(((k % bars.beatsPerBar) + bars.beatsPerBar) % bars.beatsPerBar + 1);
      }
    }
  }
  for (size_t i = 0; i < res.beats.size(); ++i) {
    if (res.positions[i] == 1) res.downbeats.push_back(res.beats[i]);
  }
  res.tempoBpm = tempoFromBeats(res.beats);
  res.tempoCurve = tempoCurve(res.beats);
  res.subdivision = level.subdivision;
  const MeterSpelling spelled =
      detect ? spellMeter(res.beatsPerBar, level.subdivision, res.tempoBpm) : MeterSpelling{res.beatsPerBar, 4};
  res.meterNumerator = spelled.numerator;
  res.meterDenominator = spelled.denominator;
  res.confidence = rhythmConfidence(d, act3, frames, percussive, res.beatFrames, res.tempoBpm);
  return res;
}

RhythmResult trackRhythm(const ml::Session* session, const BeatNetCrnn* builtin, const float* audio, int64_t n,
                         const RhythmParams& p, const CancelToken* cancel) {
  if (!session && !builtin) throw Error(code::kInvalidArgument, "trackRhythm: no network");
  LogSpectParams lp;
  auto t0 = std::chrono::steady_clock::now();
  double c0 = threadCpu();
  bool finite = true;
  const float peak = peakAbs(audio, n, &finite);
  if (!finite) throw Error(code::kNonFiniteSamples, "trackRhythm: the audio contains a non-finite sample");
  // Level: everything downstream (features, onset snapping, bar cues) sees the song at the
  // reference peak. Peak is degree-1 homogeneous, so any gain gives the same scaled signal.
  std::vector<float> scaled;
  if (p.normalizeLevel && peak > kSilence) {
    const double gain = kReferencePeak / static_cast<double>(peak);
    if (std::abs(gain - 1.0) > 1e-6) {
      scaled.resize(static_cast<size_t>(n));
      scale(audio, n, gain, scaled.data());
      audio = scaled.data();
    }
  }
  LogSpectFeatures feats = logSpect(audio, n, lp, cancel);
  const double tFeat = seconds(t0), cFeat = threadCpu() - c0;
  if (feats.frames == 0) {
    RhythmResult empty = decodeRhythm(nullptr, 0, audio, n, lp.sampleRate, p, cancel);
    empty.secondsFeatures = tFeat;
    empty.cpuFeatures = cFeat;
    return empty;
  }
  if (cancel) cancel->throwIfRequested("trackRhythm");
  t0 = std::chrono::steady_clock::now();
  c0 = threadCpu();
  std::vector<float> act3;
  if (session) {
    ml::InputView in{"features", {1, feats.frames, feats.dims}, feats.data.data(), feats.data.size()};
    std::vector<ml::Tensor> out = session->run({in}, {"activations"}, cancel);
    if (out.size() != 1 || out[0].data.size() != static_cast<size_t>(feats.frames) * 3) {
      throw Error(code::kModelInvalid, "trackRhythm: the model must map features [1, T, 272] to activations [1, T, 3]");
    }
    act3 = std::move(out[0].data);
  } else {
    act3 = builtin->run(feats.data.data(), feats.frames, cancel);
  }
  const double tModel = seconds(t0), cModel = threadCpu() - c0;
  const std::vector<float> chroma = p.barCues ? chromaFromLogSpect(feats, lp) : std::vector<float>{};
  const std::vector<float> perc = p.percussiveObservation || p.percussiveGrid || p.percussiveBackbeat
                                      ? percussiveFromLogSpect(feats, lp)
                                      : std::vector<float>{};
  const std::vector<float> noise = p.percussiveBackbeat ? noiseOnsetsFromLogSpect(feats, lp) : std::vector<float>{};
  feats.data.clear();
  feats.data.shrink_to_fit();
  RhythmResult res = decodeRhythm(act3.data(), feats.frames, audio, n, lp.sampleRate, p, cancel,
                                  chroma.empty() ? nullptr : chroma.data(), perc.empty() ? nullptr : perc.data(),
                                  noise.empty() ? nullptr : noise.data());
  res.secondsFeatures = tFeat;
  res.secondsModel = tModel;
  res.cpuFeatures = cFeat;
  res.cpuModel = cModel;
  return res;
}

}  // namespace de::beat
