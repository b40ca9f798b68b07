// Offline joint beat / downbeat / meter decoding: the bar-pointer DBN of Krebs, Böck & Widmer
// (2015) exactly as madmom 0.16.1's DBNDownBeatTrackingProcessor builds and decodes it (one
// BarStateSpace + BarTransitionModel + RNNDownBeatTrackingObservationModel per candidate meter,
// Viterbi per meter, the best final log-probability wins, threshold crop, `correct` peak snapping).
#pragma once

#include <cstdint>
#include <vector>

#include "common/cancel.h"

namespace de::beat {

struct DbnParams {
  std::vector<int> beatsPerBar{2, 3, 4};  // candidate meters, 1..kMaxBeatsPerBar; one = fixed meter
  double minBpm = 55.0;
  double maxBpm = 215.0;
  int numTempi = 60;
  double transitionLambda = 100.0;
  double observationLambda = 16.0;
  double threshold = 0.05;
  bool correct = true;
  double fps = 50.0;
  bool simd = true;  // false: the scalar Viterbi step even where AVX2 is available (tests compare the two)
};

inline constexpr int kMaxBeatsPerBar = 12;

// madmom's BeatStateSpace intervals (beat periods in frames) for a tempo range.
std::vector<int> beatIntervals(double minInterval, double maxInterval, int numIntervals);

struct MeterScore {
  int beatsPerBar = 0;
  double logProbability = 0.0;  // -inf when no path was decodable
};

struct DbnResult {
  std::vector<int64_t> beatFrames;  // absolute frame indices, ascending
  std::vector<int> beatNumbers;     // 1 = downbeat
  int beatsPerBar = 0;              // chosen meter; 0 when nothing was decoded
  std::vector<MeterScore> meters;   // one per candidate, in the given order
  int64_t cropFirst = 0;            // frames [cropFirst, cropLast) were decoded
  int64_t cropLast = 0;
  size_t backpointerBytes = 0;  // peak bytes of stored back-pointers (largest meter)
};

// act: frame-major [frames x 2] (beat, downbeat) probabilities, as madmom's processor takes them.
DbnResult decodeDownbeats(const float* act, int64_t frames, const DbnParams& p, const CancelToken* cancel);

}  // namespace de::beat
