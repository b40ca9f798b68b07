// Unit tests of the learned rhythm tracker's pure cores: LOG_SPECT against a direct double DFT,
// the filterbank's madmom facts, the bar-pointer DBN on synthetic activations, refinement, tempo.
#include "beat/rhythm.h"

#include <cmath>
#include <random>
#include <vector>

#include "beat/dbn.h"
#include "beat/log_spect.h"
#include "common/error.h"
#include "test.h"

using namespace de::beat;

namespace {

// Synthetic activations: a beat every `period` frames from `offset`, every `meter`-th a downbeat.
std::vector<float> pulses(int64_t frames, int period, int offset, int meter, float peak = 0.8f) {
  std::vector<float> act(static_cast<size_t>(2 * frames), 0.01f);
  int k = 0;
  for (int64_t t = offset; t < frames; t += period, ++k) {
    if (k % meter == 0) act[2 * t + 1] = peak;
    else act[2 * t] = peak;
  }
  return act;
}

}  // namespace

TEST_CASE("logSpect: madmom's filterbank facts for BeatNet (136 bands, unit area, diff_frames 1)") {
  LogSpectParams p;
  LogFilterbank fb = makeLogFilterbank(p);
  CHECK(fb.numBins == 705);
  CHECK(fb.bands.size() == 136);
  for (const auto& band : fb.bands) {
    double sum = 0.0;
    for (float w : band.weights) sum += w;
    CHECK_NEAR(sum, 1.0, 1e-5);
    CHECK(band.start >= 0 && band.start + static_cast<int>(band.weights.size()) <= fb.numBins);
  }
  CHECK(diffFrames(p) == 1);
}

TEST_CASE("logSpect: prime-factor and Bluestein frames match a direct double-precision DFT (<= 1e-4 relative)") {
  for (bool primeFactor : {true, false}) {
    LogSpectParams p;
    p.primeFactor = primeFactor;
    const int64_t n = 22050 / 4;
    std::vector<float> x(static_cast<size_t>(n));
    std::mt19937 rng(7);
    std::normal_distribution<float> g(0.0f, 0.2f);
    for (int64_t i = 0; i < n; ++i) x[i] = g(rng) + 0.3f * std::sin(2 * M_PI * 440.0 * i / 22050.0);
    LogSpectFeatures f = logSpect(x.data(), n, p, nullptr);
    CHECK(f.frames == (n + 440) / 441);
    CHECK(f.dims == 272);
    LogFilterbank fb = makeLogFilterbank(p);
    std::vector<double> win(1411);
    for (int i = 0; i < 1411; ++i) win[i] = 0.5 - 0.5 * std::cos(2 * M_PI * i / 1410.0);
    std::vector<double> prevRow;
    double worst = 0.0;
    for (int64_t t = 0; t < f.frames; t += 3) {
      std::vector<double> frame(1411, 0.0), mag(705);
      for (int i = 0; i < 1411; ++i) {
        const int64_t j = t * 441 - 705 + i;
        frame[i] = (j >= 0 && j < n) ? x[j] * win[i] : 0.0;
      }
      for (int k = 0; k < 705; ++k) {
        double re = 0, im = 0;
        for (int i = 0; i < 1411; ++i) {
          const double a = -2 * M_PI * static_cast<double>((static_cast<int64_t>(k) * i) % 1411) / 1411.0;
          re += frame[i] * std::cos(a);
          im += frame[i] * std::sin(a);
        }
        mag[k] = std::hypot(re, im);
      }
      for (size_t b = 0; b < fb.bands.size(); ++b) {
        double acc = 0;
        for (size_t k = 0; k < fb.bands[b].weights.size(); ++k)
          acc += mag[fb.bands[b].start + k] * fb.bands[b].weights[k];
        const double ref = std::log10(1.0 + acc);
        const double got = f.data[static_cast<size_t>(t) * 272 + b];
        worst = std::max(worst, std::fabs(got - ref) / std::max(ref, 1e-3));
      }
    }
    CHECK(worst <= 1e-4);
    // The difference half: max(spec[t] - spec[t - 1], 0), zero on the first frame.
    for (int b = 0; b < 136; ++b) CHECK(f.data[136 + b] == 0.0f);
    for (int b = 0; b < 136; ++b) {
      const float d = std::max(f.data[272 + b] - f.data[b], 0.0f);
      CHECK(f.data[272 + 136 + b] == d);
    }
  }
}

TEST_CASE(
    "logSpect: even factors fold their middle terms: prime-factor matches Bluestein (1000 = 8 x 125, 960 = 15 x 64)") {
  const int64_t n = 22050;
  std::vector<float> x(static_cast<size_t>(n));
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.0f, 0.2f);
  for (int64_t i = 0; i < n; ++i) x[i] = g(rng) + 0.4f * std::sin(2 * M_PI * 330.0 * i / 22050.0);
  for (int frameSize : {1000, 960}) {
    LogSpectParams bluestein;
    bluestein.frameSize = frameSize;
    bluestein.primeFactor = false;
    const LogSpectFeatures ref = logSpect(x.data(), n, bluestein, nullptr);
    for (bool simd : {true, false}) {
      LogSpectParams p = bluestein;
      p.primeFactor = true;
      p.simd = simd;
      const LogSpectFeatures f = logSpect(x.data(), n, p, nullptr);
      CHECK(f.frames == ref.frames);
      CHECK(f.dims == ref.dims);
      double worst = 0.0;
      const int bands = ref.dims / 2;
      for (int64_t t = 0; t < f.frames; ++t)
        for (int b = 0; b < bands; ++b) {
          const double r = ref.data[static_cast<size_t>(t) * ref.dims + b];
          worst = std::max(worst, std::fabs(f.data[static_cast<size_t>(t) * f.dims + b] - r) / std::max(r, 1e-3));
        }
      CHECK(worst <= 1e-4);
    }
  }
}

TEST_CASE("logSpect: the prime-factor DFT's AVX2 and portable paths give bit-identical features") {
  const int64_t n = 22050 * 2 + 123;  // a partial last block of eight frames
  std::vector<float> x(static_cast<size_t>(n));
  std::mt19937 rng(11);
  std::normal_distribution<float> g(0.0f, 0.1f);
  for (int64_t i = 0; i < n; ++i) x[i] = g(rng) + 0.5f * std::sin(2 * M_PI * 97.0 * i / 22050.0);
  for (int64_t i = 5000; i < 9000; ++i) x[i] = 0.0f;  // digital silence inside
  LogSpectParams vec, portable;
  portable.simd = false;
  const LogSpectFeatures a = logSpect(x.data(), n, vec, nullptr);
  const LogSpectFeatures b = logSpect(x.data(), n, portable, nullptr);
  CHECK(a.frames == b.frames);
  CHECK(a.data == b.data);
}

TEST_CASE("logSpect: empty input gives no frames; a lone sample one frame") {
  LogSpectParams p;
  CHECK(logSpect(nullptr, 0, p, nullptr).frames == 0);
  float one = 0.5f;
  LogSpectFeatures f = logSpect(&one, 1, p, nullptr);
  CHECK(f.frames == 1);
  CHECK(f.data[0] >= 0.0f);
}

TEST_CASE("dbn: madmom's tempo grid at 50 fps, 55-215 BPM is every interval 14..55") {
  std::vector<int> iv = beatIntervals(60.0 * 50 / 215, 60.0 * 50 / 55, 60);
  CHECK(iv.size() == 42);
  CHECK(iv.front() == 14 && iv.back() == 55);
  // Fewer tempi than integer intervals: log-spaced, unique, exactly the requested count.
  std::vector<int> few = beatIntervals(60.0 * 50 / 215, 60.0 * 50 / 55, 20);
  CHECK(few.size() == 20);
  for (size_t i = 1; i < few.size(); ++i) CHECK(few[i] > few[i - 1]);
}

TEST_CASE("dbn: a 4/4 and a 3/4 pulse are decoded with their meter, beats and downbeats") {
  for (int meter : {3, 4}) {
    const int64_t frames = 1500;  // 30 s
    std::vector<float> act = pulses(frames, 25, 10, meter);
    DbnParams p;
    DbnResult r = decodeDownbeats(act.data(), frames, p, nullptr);
    CHECK(r.beatsPerBar == meter);
    CHECK(r.beatFrames.size() >= 55);
    for (size_t i = 0; i < r.beatFrames.size(); ++i) {
      CHECK((r.beatFrames[i] - 10) % 25 == 0);
      const int k = static_cast<int>((r.beatFrames[i] - 10) / 25);
      CHECK(r.beatNumbers[i] == (k % meter) + 1);
    }
    CHECK(r.meters.size() == 3);
    CHECK(r.backpointerBytes > 0);
  }
}

TEST_CASE("dbn: fixed meter, meters up to 7, and silence") {
  const int64_t frames = 1200;
  std::vector<float> act = pulses(frames, 20, 5, 7);
  DbnParams p;
  p.beatsPerBar = {2, 3, 4, 5, 6, 7};
  DbnResult r = decodeDownbeats(act.data(), frames, p, nullptr);
  CHECK(r.beatsPerBar == 7);
  p.beatsPerBar = {4};
  r = decodeDownbeats(act.data(), frames, p, nullptr);
  CHECK(r.beatsPerBar == 4);
  CHECK(!r.beatFrames.empty());
  std::vector<float> zeros(static_cast<size_t>(2 * frames), 0.0f);
  r = decodeDownbeats(zeros.data(), frames, p, nullptr);
  CHECK(r.beatFrames.empty());
  CHECK(r.beatsPerBar == 0);
  p.beatsPerBar = {13};
  CHECK_THROWS_CODE(decodeDownbeats(act.data(), frames, p, nullptr), "DE_INVALID_ARGUMENT");
}

TEST_CASE("dbn: back-pointers are stored only at beat boundaries (a byte per first state)") {
  const int64_t frames = 3000;
  std::vector<float> act = pulses(frames, 25, 0, 4);
  DbnParams p;
  p.beatsPerBar = {4};
  DbnResult r = decodeDownbeats(act.data(), frames, p, nullptr);
  // 4 beats x 42 tempi first states per frame (the dense table would be 4 x 1449 x 4 bytes).
  CHECK(r.backpointerBytes == static_cast<size_t>(r.cropLast - r.cropFirst) * 4 * 42);
}

TEST_CASE("rhythm: tempo from beat times is precise and robust; the curve is 60 / interval") {
  std::vector<double> beats;
  beats.reserve(60);
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> jitter(-0.004, 0.004);
  for (int i = 0; i < 60; ++i) beats.push_back(0.25 + 0.5 * i + jitter(rng));
  CHECK_NEAR(tempoFromBeats(beats), 120.0, 0.2);
  beats[30] += 0.2;  // a stray beat
  CHECK_NEAR(tempoFromBeats(beats), 120.0, 0.3);
  std::vector<double> c = tempoCurve({0.0, 0.5, 1.0, 1.6});
  CHECK(c.size() == 4);
  CHECK_NEAR(c[0], 120.0, 1e-9);
  CHECK_NEAR(c[3], 100.0, 1e-9);
  CHECK(tempoFromBeats({1.0}) == 0.0);
}

TEST_CASE("rhythm: refinement snaps frame-grid beats onto click attacks (within 1 ms)") {
  const double sr = 22050;
  const int64_t n = static_cast<int64_t>(sr * 6);
  std::vector<float> audio(static_cast<size_t>(n), 0.0f);
  std::vector<double> clicks;
  for (double t = 0.513; t < 5.5; t += 0.5) {
    clicks.push_back(t);
    const int64_t c = static_cast<int64_t>(std::llround(t * sr));
    for (int i = 0; i < 600 && c + i < n; ++i)
      audio[c + i] = 0.8f * std::exp(-i / 150.0f) * std::sin(2 * M_PI * 1000 * i / sr);
  }
  std::vector<int64_t> frames;
  frames.reserve(clicks.size());
  for (double t : clicks) frames.push_back(static_cast<int64_t>(std::llround(t * 50)));
  std::vector<double> refined = refineBeatTimes(frames, nullptr, 0, audio.data(), n, sr, 50.0);
  CHECK(refined.size() == clicks.size());
  for (size_t i = 0; i < clicks.size(); ++i) CHECK_NEAR(refined[i], clicks[i], 0.001);
}

namespace {

// Percussive envelopes [frames x 2]: a kick (low band) every `period` frames from `kickAt`, a
// snare (mid band) every `period` frames from `snareAt`.
std::vector<float> drums(int64_t frames, int period, int kickAt, int snareAt) {
  std::vector<float> perc(static_cast<size_t>(2 * frames), 0.0f);
  for (int64_t t = kickAt; t < frames; t += period) perc[2 * t] = 1.0f;
  for (int64_t t = snareAt; t < frames; t += period) perc[2 * t + 1] = 1.0f;
  return perc;
}

std::vector<int64_t> grid(int64_t frames, int period, int offset) {
  std::vector<int64_t> out;
  for (int64_t t = offset; t < frames; t += period) out.push_back(t);
  return out;
}

}  // namespace

TEST_CASE("rhythm: percussive grid check keeps a grid on the kicks and snares") {
  // 120 BPM (25 frames a beat): kick on 1 and 3, snare on 2 and 4.
  const int64_t frames = 1500;
  const std::vector<float> perc = drums(frames, 50, 10, 35);
  const GridFix fix = percussiveGridCheck(grid(frames, 25, 10), perc.data(), frames, 50.0, 215.0);
  CHECK(fix.kind == GridFix::kKeep);
  CHECK(fix.lowOn > 0.4 && fix.midOn > 0.4);
}

TEST_CASE("rhythm: percussive grid check shifts a grid locked on the off-beats") {
  const int64_t frames = 1500;
  const std::vector<float> perc = drums(frames, 50, 10, 35);
  // the same song's beats half a beat late (12 frames: the midpoints land on the kicks and snares)
  const GridFix fix = percussiveGridCheck(grid(frames, 25, 23), perc.data(), frames, 50.0, 215.0);
  CHECK(fix.kind == GridFix::kShift);
}

TEST_CASE("rhythm: percussive grid check doubles a backbeat read at half tempo, within maxBpm") {
  // 180 BPM backbeat (period 33.3 frames, kick/snare alternate) tracked at 90 BPM on the kicks.
  const int64_t frames = 1500;
  std::vector<float> perc(static_cast<size_t>(2 * frames), 0.0f);
  std::vector<int64_t> half;
  for (int k = 0;; ++k) {
    const int64_t t = 5 + std::llround(k * 50.0 / 3.0);
    if (t >= frames) break;
    perc[2 * t + (k % 2)] = 1.0f;
    if (k % 2 == 0) half.push_back(t);
  }
  CHECK(percussiveGridCheck(half, perc.data(), frames, 50.0, 215.0).kind == GridFix::kDouble);
  // 180 BPM is beyond a 170 BPM ceiling: the half-tempo reading stays.
  CHECK(percussiveGridCheck(half, perc.data(), frames, 50.0, 170.0).kind == GridFix::kKeep);
  // no percussion: nothing to judge
  const std::vector<float> none(static_cast<size_t>(2 * frames), 0.0f);
  CHECK(percussiveGridCheck(half, none.data(), frames, 50.0, 215.0).kind == GridFix::kKeep);
}

TEST_CASE("rhythm: backbeat template picks the grid whose beats alternate kick and snare") {
  // 140 BPM (about 21.4 frames a beat): kick on 1 and 3, snare on 2 and 4, and a guitar / hat hit
  // on every off-beat eighth loud in both bands (the off-beat stabs of a metal mix).
  const int64_t frames = 3000;
  const double beat = 60.0 * 50.0 / 140.0;
  std::vector<float> perc(static_cast<size_t>(2 * frames), 0.0f);
  std::vector<int64_t> on, off, halfOn;
  for (int k = 0;; ++k) {
    const int64_t t = 10 + std::llround(k * beat), u = 10 + std::llround((k + 0.5) * beat);
    if (u >= frames) break;
    perc[2 * t + (k % 2)] = 1.0f;  // kick on even beats, snare on odd
    perc[2 * u] = std::max(perc[2 * u], 0.9f);
    perc[2 * u + 1] = 1.0f;
    on.push_back(t);
    off.push_back(u);
    if (k % 2 == 0) halfOn.push_back(t);
  }
  // on the beats: kept, kicks on the even beats
  BackbeatFix fix = percussiveBackbeat(on, perc.data(), nullptr, frames, 50.0, 55.0, 215.0);
  CHECK(fix.kind == BackbeatFix::kKeep);
  CHECK(fix.kickParity == 0);
  CHECK(fix.keep > 0.9);
  // locked on the off-beats (where the loudest hits are): shifted by half a beat; the shifted grid
  // starts at the first off-beat's next beat, a snare, so the kicks are its odd beats
  fix = percussiveBackbeat(off, perc.data(), nullptr, frames, 50.0, 55.0, 215.0);
  CHECK(fix.kind == BackbeatFix::kShift);
  CHECK(fix.kickParity == 1);
  CHECK(fix.keep < 0.1);
  // at half tempo on the kicks: doubled, unless 140 BPM is beyond maxBpm (then nothing to fix the
  // parity with: the half grid has no backbeat of its own)
  fix = percussiveBackbeat(halfOn, perc.data(), nullptr, frames, 50.0, 55.0, 215.0);
  CHECK(fix.kind == BackbeatFix::kDouble);
  CHECK(fix.kickParity == 0);
  CHECK(percussiveBackbeat(halfOn, perc.data(), nullptr, frames, 50.0, 55.0, 130.0).kind == BackbeatFix::kKeep);
  // no percussion: keep, no parity
  const std::vector<float> none(static_cast<size_t>(2 * frames), 0.0f);
  fix = percussiveBackbeat(on, none.data(), nullptr, frames, 50.0, 55.0, 215.0);
  CHECK(fix.kind == BackbeatFix::kKeep);
  CHECK(fix.kickParity == -1);
}

TEST_CASE("rhythm: backbeat template halves a double-tempo grid and ignores double kicks and a waltz") {
  // 96 BPM double-kick metal (31.25 frames a beat): kick on every sixteenth, snare on 2 and 4,
  // tracked at 192 BPM (a beat every eighth).
  const int64_t frames = 3000;
  const double beat = 31.25;
  std::vector<float> perc(static_cast<size_t>(2 * frames), 0.0f);
  std::vector<int64_t> eighths;
  for (int k = 0;; ++k) {
    const int64_t t = 7 + std::llround(k * beat / 4.0);
    if (t >= frames) break;
    perc[2 * t] = 1.0f;
    if (k % 8 == 4) perc[2 * t + 1] = 1.0f;  // snare on the odd beats
    if (k % 2 == 0) eighths.push_back(t);
  }
  const BackbeatFix fix = percussiveBackbeat(eighths, perc.data(), nullptr, frames, 50.0, 55.0, 215.0);
  CHECK(fix.kind == BackbeatFix::kHalveEven);
  CHECK(fix.kickParity == 0);
  // a waltz: kick on 1, snares on 2 and 3 (no two-beat alternation): the grid stays
  std::vector<float> waltz(static_cast<size_t>(2 * frames), 0.0f);
  std::vector<int64_t> beats;
  for (int k = 0;; ++k) {
    const int64_t t = 5 + 25 * k;
    if (t >= frames) break;
    waltz[2 * t + (k % 3 == 0 ? 0 : 1)] = 1.0f;
    beats.push_back(t);
  }
  CHECK(percussiveBackbeat(beats, waltz.data(), nullptr, frames, 50.0, 55.0, 215.0).kind == BackbeatFix::kKeep);
}

TEST_CASE("rhythm: fusePercussive adds beat probability at onsets only, below 1, in the network's split") {
  std::vector<float> act = {0.2f, 0.6f, 0.3f, 0.0f, 0.05f, 0.05f};
  const std::vector<float> perc = {1.0f, 1.0f, 0.0f, 0.0f, 0.5f, 0.5f};
  fusePercussive(act.data(), 3, perc.data(), 0.5);
  CHECK_NEAR(act[0] + act[1], 0.8 + 0.5 * 0.2, 1e-6);
  CHECK_NEAR(act[1] / (act[0] + act[1]), 0.75, 1e-6);
  CHECK_NEAR(act[2], 0.3, 1e-7);  // no onset: unchanged
  CHECK(act[4] + act[5] < 1.0f);
  CHECK_NEAR(act[4] + act[5], 0.1 + 0.25 * 0.9, 1e-6);
}

TEST_CASE("rhythm: decodeRhythm with percussive evidence moves an off-beat lock onto the drums") {
  // The network's activation peaks halfway between the drum hits (what a dense mix with loud
  // off-beat guitars and hats gave); the kicks and snares fall on the true beats.
  const int64_t frames = 1500;
  const int period = 25;
  std::vector<float> act3(static_cast<size_t>(3 * frames), 0.0f);
  for (int64_t t = 0; t < frames; ++t) {
    act3[3 * t] = act3[3 * t + 1] = 0.01f;
    act3[3 * t + 2] = 0.98f;
  }
  int k = 0;
  for (int64_t t = 22; t < frames; t += period, ++k) {
    act3[3 * t + (k % 4 == 0 ? 1 : 0)] = 0.7f;
    act3[3 * t + 2] = 0.29f;
  }
  const std::vector<float> perc = drums(frames, 2 * period, 10, 35);
  RhythmParams p;
  p.barCues = false;
  p.dbn.beatsPerBar = {4};
  const RhythmResult before = decodeRhythm(act3.data(), frames, nullptr, 0, 22050.0, p, nullptr);
  const RhythmResult after = decodeRhythm(act3.data(), frames, nullptr, 0, 22050.0, p, nullptr, nullptr, perc.data());
  CHECK(before.beatFrames.size() > 40);
  CHECK(after.beatFrames.size() > 40);
  auto onDrums = [](const std::vector<int64_t>& f) {
    size_t hit = 0;
    for (int64_t x : f) hit += ((x - 10) % 25 + 25) % 25 <= 1 || ((x - 10) % 25 + 25) % 25 >= 24;
    return static_cast<double>(hit) / static_cast<double>(f.size());
  };
  CHECK(onDrums(before.beatFrames) < 0.1);
  CHECK(onDrums(after.beatFrames) > 0.9);
  p.percussiveGrid = false;
  p.percussiveObservation = false;
  p.percussiveBackbeat = false;
  const RhythmResult off = decodeRhythm(act3.data(), frames, nullptr, 0, 22050.0, p, nullptr, nullptr, perc.data());
  CHECK(off.beatFrames == before.beatFrames);  // the ablation flags switch the evidence off
}

namespace {

// Beat + downbeat activation 0.8 at the given frames, 0.01 elsewhere ([frames x 2]).
std::vector<float> peaksAt(int64_t frames, const std::vector<int64_t>& at) {
  std::vector<float> act(static_cast<size_t>(2 * frames), 0.01f);
  for (int64_t t : at)
    if (t >= 0 && t < frames) act[2 * t] = 0.8f;
  return act;
}

// Share of `got` within one frame of a beat of `truth`.
double onGrid(const std::vector<int64_t>& got, const std::vector<int64_t>& truth) {
  size_t hit = 0;
  for (int64_t g : got) {
    for (int64_t t : truth) {
      if (std::llabs(g - t) <= 1) {
        ++hit;
        break;
      }
    }
  }
  return got.empty() ? 0.0 : static_cast<double>(hit) / static_cast<double>(got.size());
}

}  // namespace

TEST_CASE("rhythm: unifyPhase moves a section decoded half a beat off back onto the song's beats") {
  // 120 BPM (25 frames a beat); the activation is on the beats throughout, but the decoded beats
  // slide over three beats onto the off-beats from beat 40 on (a syncopated passage).
  const int64_t frames = 1600;
  const std::vector<int64_t> truth = grid(frames, 25, 10);
  std::vector<int64_t> decoded;
  for (size_t i = 0; i < truth.size(); ++i) {
    const int64_t slide = i < 40 ? 0 : (i < 43 ? static_cast<int64_t>(4 * (i - 39)) : 12);
    if (truth[i] + slide < frames) decoded.push_back(truth[i] + slide);
  }
  const std::vector<float> act = peaksAt(frames, truth);
  const PhaseJumps fixed = unifyPhase(decoded, act.data(), frames);
  CHECK(fixed.jumps == 1);
  CHECK(fixed.repaired == 1);
  CHECK(onGrid(decoded, truth) < 0.7);
  CHECK(onGrid(fixed.beatFrames, truth) > 0.95);
  CHECK(fixed.beatFrames.size() + 2 >= truth.size());
  for (size_t i = 1; i < fixed.beatFrames.size(); ++i) CHECK(fixed.beatFrames[i] - fixed.beatFrames[i - 1] >= 15);
}

TEST_CASE("rhythm: unifyPhase keeps a half-beat shift the music makes, and a tempo ramp") {
  const int64_t frames = 1600;
  // The shift is in the music: the activation moves with the decoded beats (9:1 against the
  // points half a beat away), so nothing moves.
  std::vector<int64_t> decoded;
  for (int64_t t = 10, i = 0; t < frames; t += 25, ++i) decoded.push_back(i < 40 ? t : t + 12);
  while (!decoded.empty() && decoded.back() >= frames) decoded.pop_back();
  const std::vector<float> act = peaksAt(frames, decoded);
  const PhaseJumps kept = unifyPhase(decoded, act.data(), frames);
  CHECK(kept.jumps == 1);
  CHECK(kept.repaired == 0);
  CHECK(kept.beatFrames == decoded);
  // A ramp from 100 to 150 BPM (30 to 20 frames a beat) has no jump.
  std::vector<int64_t> ramp;
  double t = 5.0;
  for (int i = 0; i < 64; ++i, t += 30.0 - 10.0 * i / 63.0) ramp.push_back(std::llround(t));
  const std::vector<float> rampAct = peaksAt(static_cast<int64_t>(t) + 10, ramp);
  const PhaseJumps none = unifyPhase(ramp, rampAct.data(), static_cast<int64_t>(t) + 10);
  CHECK(none.jumps == 0);
  CHECK(none.beatFrames == ramp);
}

TEST_CASE("rhythm: unifyTempoOctave brings a half- and a double-tempo section to the song's level") {
  const int64_t frames = 2000;
  const std::vector<int64_t> truth = grid(frames, 25, 10);
  std::vector<int64_t> decoded;
  // beats 0-29 at the song's tempo, 30-49 at half (every other beat), 50-69 again, then twice as
  // fast (a beat at every half beat) to the end
  for (size_t i = 0; i < truth.size(); ++i) {
    if (i >= 30 && i < 50 && i % 2 == 1) continue;
    decoded.push_back(truth[i]);
    if (i >= 70 && truth[i] + 12 < frames) decoded.push_back(truth[i] + 12);
  }
  const std::vector<float> act = peaksAt(frames, truth);
  int sections = 0;
  const std::vector<int64_t> fixed = unifyTempoOctave(decoded, act.data(), frames, &sections);
  CHECK(sections == 2);
  CHECK(onGrid(fixed, truth) > 0.97);
  CHECK(fixed.size() + 1 >= truth.size());
  CHECK(fixed.size() <= truth.size());
  // A song at one level is left alone.
  int none = 0;
  CHECK(unifyTempoOctave(truth, act.data(), frames, &none) == truth);
  CHECK(none == 0);
}

TEST_CASE("rhythm: backbeat template refuses a shift onto weaker onsets and doubling past 195 BPM") {
  // 120 BPM: accents on 1 and 3 (kick and noise strongest there, no backbeat on the beats) and a
  // hat alternating between the beats, half as strong: a backbeat only on its face.
  const int64_t frames = 1500;
  const std::vector<int64_t> beats = grid(frames, 25, 10);
  auto song = [&](float offKick, float offHatA, float offHatB, std::vector<float>& perc, std::vector<float>& noise) {
    perc.assign(static_cast<size_t>(2 * frames), 0.0f);
    noise.assign(static_cast<size_t>(frames), 0.0f);
    for (size_t i = 0; i < beats.size(); ++i) {
      const int64_t t = beats[i], u = t + 12;
      perc[2 * t] = i % 2 ? 0.4f : 0.8f;
      noise[t] = i % 2 ? 0.2f : 0.7f;
      if (u < frames) {
        perc[2 * u] = offKick;
        noise[u] = i % 2 ? offHatB : offHatA;
      }
    }
  };
  std::vector<float> perc, noise;
  song(0.24f, 0.5f, 0.2f, perc, noise);
  BackbeatFix fix = percussiveBackbeat(beats, perc.data(), noise.data(), frames, 50.0, 55.0, 215.0);
  CHECK(fix.kind == BackbeatFix::kKeep);
  // The same shift with the kicks and a loud snare half a beat later is taken.
  song(0.9f, 0.95f, 0.1f, perc, noise);
  fix = percussiveBackbeat(beats, perc.data(), noise.data(), frames, 50.0, 55.0, 215.0);
  CHECK(fix.kind == BackbeatFix::kShift);

  // Kick and snare alternating at 200 BPM (15 frames), decoded at 100 BPM on the kicks: doubling
  // would give 200 BPM, past the 195 BPM a doubled backbeat may reach; at 180 BPM it doubles.
  for (const double bpm : {200.0, 180.0}) {
    const double period = 60.0 * 50.0 / bpm;
    std::vector<float> p2(static_cast<size_t>(2 * frames), 0.0f), n2(static_cast<size_t>(frames), 0.0f);
    std::vector<int64_t> half;
    for (int k = 0;; ++k) {
      const int64_t t = 5 + std::llround(k * period);
      if (t >= frames) break;
      if (k % 2 == 0) {
        p2[2 * t] = 1.0f;
        half.push_back(t);
      } else {
        n2[t] = 1.0f;
      }
    }
    const BackbeatFix d = percussiveBackbeat(half, p2.data(), n2.data(), frames, 50.0, 55.0, 215.0);
    CHECK((d.kind == BackbeatFix::kDouble) == (bpm < 195.0));
  }
}

TEST_CASE("rhythm: the confidence's onset term rewards beats on onsets, not beats on noise, and its tempo prior") {
  const int64_t frames = 1500;
  // Kicks and snares every 25 frames (120 BPM), one band at a time (the mean of the two is 0.5
  // there): beats on them stand halfway to the ceiling above a random frame.
  const std::vector<float> perc = drums(frames, 50, 10, 35);
  const std::vector<int64_t> on = grid(frames, 25, 10), between = grid(frames, 25, 22);
  CHECK(onsetConfidence(on, perc.data(), frames) > 0.45);
  CHECK(onsetConfidence(between, perc.data(), frames) < 0.05);
  // Noise: bumps everywhere, so even beats placed on its local maxima gain little.
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> noise(static_cast<size_t>(2 * frames));
  for (float& v : noise) v = u(rng);
  std::vector<int64_t> bumps;
  for (int64_t t = 10; t < frames; t += 25) {
    int64_t best = t;
    for (int64_t q = t - 3; q <= t + 3; ++q)
      if (noise[2 * q] + noise[2 * q + 1] > noise[2 * best] + noise[2 * best + 1]) best = q;
    bumps.push_back(best);
  }
  CHECK(onsetConfidence(bumps, noise.data(), frames) < 0.4);
  CHECK(onsetConfidence(on, nullptr, frames) == 0.0);
  // The same evidence at 120 and at 240 BPM: an octave from 120 costs exp(-1/2).
  DbnResult none;
  const double at120 = rawRhythmConfidence(none, nullptr, frames, perc.data(), on, 120.0);
  const double at240 = rawRhythmConfidence(none, nullptr, frames, perc.data(), on, 240.0);
  CHECK_NEAR(at240 / at120, std::exp(-0.5), 1e-9);
  CHECK(rawRhythmConfidence(none, nullptr, frames, perc.data(), on, 0.0) == 0.0);
  // Calibrated, it reads as an expected beat F: monotonic, 0 at 0, 1 from raw 0.8.
  CHECK(calibrateRhythmConfidence(0.0) == 0.0);
  CHECK(calibrateRhythmConfidence(0.8) == 1.0);
  double last = 0.0;
  for (double r = 0.0; r <= 1.0; r += 0.01) {
    const double c = calibrateRhythmConfidence(r);
    CHECK(c >= last);
    last = c;
  }
}
