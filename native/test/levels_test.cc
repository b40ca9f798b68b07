// Unit tests of the level passes (audio/levels.h) against the per-sample expressions of the
// JavaScript loops they replaced: the overview's segment walk must give the slices and step sums
// that evaluating floor(i / perPoint) and the step bounds per sample gives.
#include "audio/levels.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "test.h"

using namespace de::audio;

namespace {

std::vector<float> randomSamples(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = u(rng);
  return x;
}

bool sameBits(float a, float b) {
  uint32_t x = 0, y = 0;
  std::memcpy(&x, &a, sizeof a);
  std::memcpy(&y, &b, sizeof b);
  return x == y;
}

}  // namespace

TEST_CASE("signalOverview: the slices of floor(i / perPoint), for lengths around the point count") {
  const std::vector<float> x = randomSamples(9001, 1);
  for (int64_t n : {1, 2, 3, 7, 2999, 3000, 3001, 6001, 9001}) {
    for (int64_t points : {1, 2, 3, 7, 3000}) {
      const SignalOverview o = signalOverview(x.data(), n, points, nullptr);
      const int64_t count = std::min(points, n);
      CHECK(static_cast<int64_t>(o.min.size()) == count);
      std::vector<float> lo(count, std::numeric_limits<float>::infinity());
      std::vector<float> hi(count, -std::numeric_limits<float>::infinity());
      const double perPoint = static_cast<double>(n) / static_cast<double>(count);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t p = std::min<int64_t>(count - 1, static_cast<int64_t>(std::floor(i / perPoint)));
        if (x[i] < lo[p]) lo[p] = x[i];
        if (x[i] > hi[p]) hi[p] = x[i];
      }
      for (int64_t p = 0; p < count; ++p) CHECK(sameBits(o.min[p], lo[p]) && sameBits(o.max[p], hi[p]));
    }
  }
  CHECK(signalOverview(x.data(), 0, 3000, nullptr).min.empty());
}

TEST_CASE("signalOverview: window RMS from step sums equals each window summed on its own") {
  const std::vector<float> x = randomSamples(22050 * 2 + 13, 2);
  SilenceWindows w;
  w.sampleRate = 22050;
  w.minSilenceMs = 100;
  w.seekStepMs = 10;
  const double lengthMs = std::round(1000.0 * static_cast<double>(x.size()) / w.sampleRate);
  for (double ms = 0; ms <= lengthMs - 100; ms += 10) w.starts.push_back(ms);
  w.starts.push_back(lengthMs - 100);  // off the grid: summed directly
  const SignalOverview o = signalOverview(x.data(), static_cast<int64_t>(x.size()), 0, &w);
  CHECK(o.windowRms.size() == w.starts.size());
  for (size_t i = 0; i < w.starts.size(); ++i) {
    const auto bound = [&](double ms) {
      return std::min<int64_t>(static_cast<int64_t>(x.size()),
                               static_cast<int64_t>(std::floor(ms * w.sampleRate / 1000)));
    };
    const int64_t a = bound(w.starts[i]), b = bound(w.starts[i] + 100);
    double sum = 0;
    for (int64_t k = a; k < b; ++k) sum += (x[k] * 32768.0) * (x[k] * 32768.0);
    // Grid windows add ten step sums, so the last bits may differ from one running sum; floor() hides that.
    CHECK_NEAR(o.windowRms[i], std::floor(std::sqrt(sum / static_cast<double>(b - a))), 1);
  }
}

TEST_CASE("normalizePeak: clamps to ±1, keeps NaN, leaves silence alone") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {0.5f, -0.25f, nan, 0.125f};
  const Normalized n = normalizePeak(x.data(), 4, 2.5);
  CHECK(n.peak == 0.5 && n.gain == 5);
  CHECK(n.audio[0] == 1 && n.audio[1] == -1 && std::isnan(n.audio[2]) && n.audio[3] == 0.625f);
  const std::vector<float> silent(3, 0.f);
  const Normalized s = normalizePeak(silent.data(), 3, 1);
  CHECK(s.peak == 0 && s.gain == 1 && s.audio.empty());
}

TEST_CASE("sampleLevels: ±1 counts as clipped, NaN is skipped by the peak") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {1.f, -1.f, 0.5f, -2.f};
  const SampleLevels l = sampleLevels(x.data(), 4);
  CHECK(l.clipped == 3 && l.peak == 2 && l.sumSquares == 1 + 1 + 0.25 + 4);
  const std::vector<float> y = {nan, 0.25f};
  const SampleLevels m = sampleLevels(y.data(), 2);
  CHECK(m.clipped == 0 && m.peak == 0.25 && std::isnan(m.sumSquares));
  CHECK(sampleLevels(nullptr, 0).sumSquares == 0);
}
