// Whole-signal level passes (clipping, peak, energy, the report's waveform, the silence trim's
// windows, peak normalisation). They replace JavaScript loops that must keep their numbers:
// every float64 sum adds in sample order, exactly as the loops it replaces did (lib/audio/levels.ts).
#pragma once

#include <cstdint>
#include <vector>

namespace de::audio {

// One pass over any samples: samples at or beyond full scale (|x| >= 1), the largest |x| (NaN is
// skipped) and the float64 sum of x² in order.
struct SampleLevels {
  int64_t clipped = 0;
  double peak = 0;
  double sumSquares = 0;
};
SampleLevels sampleLevels(const float* x, int64_t n);

// pydub's detect_nonsilent windows: `starts` (ms, ascending) each open a window of minSilenceMs;
// a window's samples are [bound(ms), bound(ms + minSilenceMs)) with bound(ms) =
// min(n, floor(ms * sampleRate / 1000)). Sums of squares are on the int16 scale (x * 32768).
struct SilenceWindows {
  double sampleRate = 0;
  double minSilenceMs = 0;
  double seekStepMs = 0;
  std::vector<double> starts;
};

// The waveform overview (min/max of `points` equal slices, fewer when the audio is shorter) and,
// when `windows` is given, each window's RMS truncated like audioop.rms (0 for an empty window),
// from one pass over the samples.
struct SignalOverview {
  std::vector<float> min, max;
  std::vector<double> windowRms;
};
SignalOverview signalOverview(const float* x, int64_t n, int64_t points, const SilenceWindows* windows);

// Peak normalisation: gain = targetPeak / peak, out = clamp(x * gain, -1, 1) in float64, stored as
// float. A silent signal (peak 0) gets gain 1 and no output.
struct Normalized {
  double peak = 0;
  double gain = 1;
  std::vector<float> audio;
};
Normalized normalizePeak(const float* x, int64_t n, double targetPeak);

// Float64 sums of x² over the half-open ranges [ranges[2i], ranges[2i+1]) (each within [0, n]).
template <class T>
std::vector<double> rangeEnergies(const T* x, int64_t n, const std::vector<int64_t>& ranges);

}  // namespace de::audio
