// The bar-pointer DBN's AVX2 Viterbi step against its scalar step (beat/dbn.cc): the two must
// decode bit-identically, so this compares them exactly on activations that reach every branch.
#include "beat/dbn.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "test.h"

using namespace de::beat;

namespace {

// Activations like the network's: soft peaks on a drifting tempo with noise, the meter changing
// from 4 to 3, plus the cases the Viterbi step treats apart: a0 + a1 >= 1 (d0 = -inf, the offset
// folded), exact zeros (-inf beat densities) and a constant stretch (ties between predecessors).
std::vector<float> driftingActivations(int64_t frames, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> noise(0.0f, 0.03f);
  std::vector<float> act(static_cast<size_t>(2 * frames));
  for (float& x : act) x = noise(rng);
  double t = 7.0, period = 23.0;
  for (int k = 0; t < static_cast<double>(frames); ++k) {
    const int meter = t < static_cast<double>(frames) / 2 ? 4 : 3;
    const int64_t c = static_cast<int64_t>(t);
    for (int64_t q = std::max<int64_t>(c - 2, 0); q <= std::min(c + 2, frames - 1); ++q) {
      const float peak = 0.9f / static_cast<float>(1 + 2 * std::abs(q - c));
      act[2 * q + (k % meter == 0 ? 1 : 0)] += peak;
    }
    period = std::clamp(period + std::uniform_real_distribution<double>(-0.4, 0.4)(rng), 18.0, 32.0);
    t += period;
  }
  for (int64_t q = frames / 5; q < frames / 5 + 40; ++q) act[2 * q] = act[2 * q + 1] = 0.0f;
  for (int64_t q = frames / 3; q < frames / 3 + 60; ++q) act[2 * q] = act[2 * q + 1] = 0.02f;
  for (int64_t q = frames / 2; q < frames; q += 97) act[2 * q] = act[2 * q + 1] = 0.6f;
  return act;
}

void checkSimdMatchesScalar(const std::vector<float>& act, int64_t frames, DbnParams p) {
  p.simd = true;
  const DbnResult v = decodeDownbeats(act.data(), frames, p, nullptr);
  p.simd = false;
  const DbnResult s = decodeDownbeats(act.data(), frames, p, nullptr);
  CHECK(!s.beatFrames.empty());
  CHECK(v.beatFrames == s.beatFrames);
  CHECK(v.beatNumbers == s.beatNumbers);
  CHECK(v.beatsPerBar == s.beatsPerBar);
  CHECK(v.backpointerBytes == s.backpointerBytes);
  CHECK(v.meters.size() == s.meters.size());
  for (size_t c = 0; c < v.meters.size() && c < s.meters.size(); ++c) {
    // exactly equal (finite and non-zero: the same bits), not merely within a tolerance
    CHECK(std::isfinite(s.meters[c].logProbability) && s.meters[c].logProbability != 0.0);
    CHECK(v.meters[c].logProbability == s.meters[c].logProbability);
  }
}

}  // namespace

TEST_CASE("dbn: the AVX2 Viterbi step decodes exactly as the scalar step (beats, meter, log-probabilities)") {
  // Where the CPU has no AVX2 both runs take the scalar step and this compares it with itself.
  const int64_t frames = 3000;  // a minute at 50 fps
  for (uint32_t seed : {1u, 2u, 3u}) {
    const std::vector<float> act = driftingActivations(frames, seed);
    checkSimdMatchesScalar(act, frames, DbnParams{});
    DbnParams p;
    p.numTempi = 20;  // log-spaced tempi: uneven predecessor bands
    p.beatsPerBar = {2, 3, 4, 5, 6, 7};
    checkSimdMatchesScalar(act, frames, p);
    p = DbnParams{};
    p.transitionLambda = 10.0;  // wide bands: every interval reaches most others
    p.observationLambda = 4.0;  // longer beat regions
    p.threshold = 0.0;
    checkSimdMatchesScalar(act, frames, p);
  }
  // More than 255 predecessors (two-byte back-pointers) and many four-interval groups.
  const int64_t shortFrames = 400;
  const std::vector<float> act = driftingActivations(shortFrames, 4);
  DbnParams wide;
  wide.fps = 150.0;
  wide.minBpm = 20.0;
  wide.maxBpm = 200.0;
  wide.numTempi = 0;
  wide.transitionLambda = 1.0;
  wide.beatsPerBar = {2};
  checkSimdMatchesScalar(act, shortFrames, wide);
}
