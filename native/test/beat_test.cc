// Unit tests of the beat core: tempogram against a direct computation, click tracks, silence.
#include <cmath>
#include <random>
#include <vector>

#include "beat/beat_track.h"
#include "beat/onset.h"
#include "beat/tempo.h"
#include "common/error.h"
#include "dsp/features.h"
#include "test.h"

using namespace de::beat;

namespace {

// The tempogram as librosa computes it, directly (O(n W^2)).
std::vector<double> naiveMeanTempogram(const std::vector<float>& env, int W) {
  const int64_t n = static_cast<int64_t>(env.size());
  const int L = W / 2;
  std::vector<double> e(n + 2 * L, 0.0);
  for (int i = 0; i < L; ++i) {
    e[i] = static_cast<float>(i * (static_cast<double>(env[0]) / L));
    e[L + n + i] = static_cast<float>((L - 1 - i) * (static_cast<double>(env[n - 1]) / L));
  }
  for (int64_t i = 0; i < n; ++i) e[L + i] = env[i];
  std::vector<double> w(W);
  for (int j = 0; j < W; ++j) w[j] = 0.5 - 0.5 * std::cos(2 * M_PI * j / W);
  std::vector<double> out(W, 0.0), fr(W);
  for (int64_t t = 0; t < n; ++t) {
    for (int j = 0; j < W; ++j) fr[j] = e[t + j] * w[j];
    std::vector<double> r(W, 0.0);
    double mx = 0.0;
    for (int k = 0; k < W; ++k) {
      for (int j = 0; j + k < W; ++j) r[k] += fr[j] * fr[j + k];
      mx = std::max(mx, std::fabs(r[k]));
    }
    if (mx < 1e-300) mx = 1.0;
    for (int k = 0; k < W; ++k) out[k] += r[k] / mx;
  }
  for (double& v : out) v /= static_cast<double>(n);
  return out;
}

std::vector<float> clickTrack(double bpm, double sr, double seconds) {
  std::vector<float> x(static_cast<size_t>(sr * seconds), 0.0f);
  const double period = 60.0 / bpm * sr;
  for (double pos = 0.25 * sr; pos < x.size(); pos += period) {
    const size_t s = static_cast<size_t>(pos);
    for (size_t i = 0; i < 400 && s + i < x.size(); ++i)
      x[s + i] += static_cast<float>(0.8 * std::exp(-static_cast<double>(i) / 60.0) * std::sin(0.3 * i));
  }
  return x;
}

std::vector<float> envelopeOf(const std::vector<float>& x, double sr) {
  de::dsp::FeatureParams p;
  p.sr = sr;
  p.melDb = true;
  const de::dsp::FeatureSet f = de::dsp::computeFeatures(x.data(), static_cast<int64_t>(x.size()), p, nullptr);
  OnsetParams op;
  op.aggregate = Aggregate::Median;
  return onsetStrengthFromDb(f.melDb.data(), f.nMels, f.frames, op);
}

}  // namespace

TEST_CASE("tempogram: sliding DFT equals the direct computation") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> d(0.0f, 1.0f);
  for (int W : {37, 64}) {
    std::vector<float> env(3000);
    for (float& v : env) v = d(rng) < 0.1f ? d(rng) * 5 : 0.0f;
    const std::vector<double> fast = meanTempogram(env.data(), static_cast<int64_t>(env.size()), W, nullptr);
    const std::vector<double> slow = naiveMeanTempogram(env, W);
    for (int k = 0; k < W; ++k) CHECK_NEAR(fast[k], slow[k], 1e-10);
    const std::vector<double> threaded = meanTempogram(env.data(), static_cast<int64_t>(env.size()), W, nullptr, 3);
    CHECK(threaded == fast);  // bit-identical for any thread count
  }
}

TEST_CASE("tempo lands on the lag grid of a 120 BPM click track") {
  const double sr = 22050;
  const std::vector<float> env = envelopeOf(clickTrack(120.0, sr, 30.0), sr);
  TempoParams tp;
  tp.sr = sr;
  const TempoEstimate t = estimateTempo(env.data(), static_cast<int64_t>(env.size()), tp, nullptr);
  CHECK(t.lag == 22 || t.lag == 21);  // 117.45 or 123.05 BPM around 120
  CHECK_NEAR(t.bpm, 60.0 * sr / (512.0 * t.lag), 1e-9);
}

TEST_CASE("beat tracker: evenly spaced beats on a click track") {
  const double sr = 22050;
  const std::vector<float> env = envelopeOf(clickTrack(100.0, sr, 20.0), sr);
  BeatParams bp;
  bp.tempo.sr = sr;
  const BeatResult r = beatTrack(env.data(), static_cast<int64_t>(env.size()), bp, nullptr);
  CHECK(r.bpm > 90 && r.bpm < 110);
  CHECK(r.beats.size() > 25);
  const double period = 60.0 / 100.0 * sr / 512.0;
  for (size_t i = 1; i < r.beats.size(); ++i) CHECK_NEAR(r.beats[i] - r.beats[i - 1], period, 1.5);
  CHECK(r.localBpm.size() == r.beats.size());
}

TEST_CASE("beat tracker: silence gives tempo 0 and no beats") {
  std::vector<float> env(500, 0.0f);
  BeatParams bp;
  const BeatResult r = beatTrack(env.data(), 500, bp, nullptr);
  CHECK(r.bpm == 0.0);
  CHECK(r.beats.empty());
}

TEST_CASE("onset strength: delay and lag-1 positive difference") {
  // two bands, 6 frames
  const float db[12] = {0, 1, 3, 2, 2, 5, 0, 0, 1, 1, 4, 4};
  OnsetParams p;
  p.aggregate = Aggregate::Mean;
  const std::vector<float> env = onsetStrengthFromDb(db, 2, 6, p);
  CHECK(env.size() == 6u);
  CHECK(env[0] == 0.0f && env[1] == 0.0f && env[2] == 0.0f);
  CHECK_NEAR(env[3], (1 + 0) / 2.0, 1e-7);
  CHECK_NEAR(env[4], (2 + 1) / 2.0, 1e-7);
  CHECK_NEAR(env[5], (0 + 0) / 2.0, 1e-7);
}
