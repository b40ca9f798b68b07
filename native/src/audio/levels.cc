#include "audio/levels.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace de::audio {
namespace {

constexpr double kInt16FullScale = 32768.0;

// pydub slices at frame = ms * rate / 1000, truncated (lib/music/preprocess.ts msToSamples).
int64_t boundAt(double ms, double sampleRate, int64_t n) {
  const double frame = std::floor((ms * sampleRate) / 1000);
  return frame >= static_cast<double>(n) ? n : static_cast<int64_t>(frame);
}

double sumSquaresInt16(const float* x, int64_t a, int64_t b) {
  double sum = 0;
  for (int64_t i = a; i < b; ++i) {
    const double s = static_cast<double>(x[i]) * kInt16FullScale;
    sum += s * s;
  }
  return sum;
}

// First sample of overview point q: the smallest i with floor(i / perPoint) >= q. The estimate is
// corrected with the very expression the JS loop evaluated per sample, so the slices are identical.
int64_t pointStart(int64_t q, double perPoint, int64_t n) {
  const double target = static_cast<double>(q);
  auto reached = [&](int64_t i) { return std::floor(static_cast<double>(i) / perPoint) >= target; };
  int64_t i = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(target * perPoint)), 0, n);
  while (i > 0 && reached(i - 1)) --i;
  while (i < n && !reached(i)) ++i;
  return i;
}

}  // namespace

SampleLevels sampleLevels(const float* x, int64_t n) {
  SampleLevels out;
  for (int64_t i = 0; i < n; ++i) {
    const double s = x[i];
    if (s >= 1 || s <= -1) ++out.clipped;
    const double a = std::fabs(s);
    if (a > out.peak) out.peak = a;
    out.sumSquares += s * s;
  }
  return out;
}

SignalOverview signalOverview(const float* x, int64_t n, int64_t points, const SilenceWindows* windows) {
  SignalOverview out;
  const int64_t count = std::max<int64_t>(0, std::min(points, n));
  out.min.assign(static_cast<size_t>(count), std::numeric_limits<float>::infinity());
  out.max.assign(static_cast<size_t>(count), -std::numeric_limits<float>::infinity());
  const double perPoint = count > 0 ? static_cast<double>(n) / static_cast<double>(count) : 0;

  // The trim's 10-ms step sums, when its windows lie on the step grid (each window adds whole steps).
  std::vector<double> stepSums;
  bool onGrid = false;
  if (windows && !windows->starts.empty()) {
    onGrid = std::fmod(windows->minSilenceMs, windows->seekStepMs) == 0;
    if (onGrid) {
      const double lastStart = windows->starts.back();
      stepSums.assign(static_cast<size_t>(std::ceil((lastStart + windows->minSilenceMs) / windows->seekStepMs)), 0.0);
    }
  }
  const int64_t steps = static_cast<int64_t>(stepSums.size());
  auto stepEnd = [&](int64_t k) {
    return boundAt(static_cast<double>(k + 1) * windows->seekStepMs, windows->sampleRate, n);
  };

  // One walk over the samples in segments on which neither the overview point nor the step changes.
  int64_t p = 0;
  int64_t pointEnd = count > 1 ? pointStart(1, perPoint, n) : n;
  int64_t k = 0;
  while (k < steps && stepEnd(k) <= 0) ++k;  // empty leading steps (sum 0)
  int64_t kEnd = k < steps ? stepEnd(k) : n;
  for (int64_t pos = 0; pos < n;) {
    const int64_t end = std::min(pointEnd, kEnd);
    if (count > 0) {
      float lo = out.min[p], hi = out.max[p];
      for (int64_t i = pos; i < end; ++i) {
        const float s = x[i];
        if (s < lo) lo = s;
        if (s > hi) hi = s;
      }
      out.min[p] = lo;
      out.max[p] = hi;
    }
    if (k < steps) {
      double sum = stepSums[k];
      for (int64_t i = pos; i < end; ++i) {
        const double s = static_cast<double>(x[i]) * kInt16FullScale;
        sum += s * s;
      }
      stepSums[k] = sum;
    }
    pos = end;
    if (pos == pointEnd && p + 1 < count) {
      ++p;
      pointEnd = p + 1 < count ? pointStart(p + 1, perPoint, n) : n;
    }
    if (k < steps && pos == kEnd) {
      ++k;
      while (k < steps && stepEnd(k) <= pos) ++k;
      kEnd = k < steps ? stepEnd(k) : n;
    }
  }

  if (windows) {
    const SilenceWindows& w = *windows;
    const double perWindow = w.minSilenceMs / w.seekStepMs;
    out.windowRms.resize(w.starts.size());
    for (size_t i = 0; i < w.starts.size(); ++i) {
      const double ms = w.starts[i];
      const int64_t a = boundAt(ms, w.sampleRate, n);
      const int64_t len = boundAt(ms + w.minSilenceMs, w.sampleRate, n) - a;
      double sum = 0;
      if (onGrid && std::fmod(ms, w.seekStepMs) == 0) {
        const double first = ms / w.seekStepMs;
        for (double j = first; j < first + perWindow; ++j) {
          // Out of the table the JS read undefined (NaN); the starts never reach there.
          sum += j < static_cast<double>(steps) ? stepSums[static_cast<size_t>(j)] : std::nan("");
        }
      } else {
        sum = sumSquaresInt16(x, a, a + len);
      }
      out.windowRms[i] = len > 0 ? std::floor(std::sqrt(sum / static_cast<double>(len))) : 0;
    }
  }
  return out;
}

Normalized normalizePeak(const float* x, int64_t n, double targetPeak) {
  Normalized out;
  for (int64_t i = 0; i < n; ++i) {
    const double a = std::fabs(static_cast<double>(x[i]));
    if (a > out.peak) out.peak = a;
  }
  if (out.peak == 0) return out;
  out.gain = targetPeak / out.peak;
  out.audio.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(x[i]) * out.gain;
    // Math.max(-1, Math.min(1, v)): NaN passes through.
    out.audio[i] = static_cast<float>(v > 1 ? 1 : (v < -1 ? -1 : v));
  }
  return out;
}

template <class T>
std::vector<double> rangeEnergies(const T* x, int64_t n, const std::vector<int64_t>& ranges) {
  std::vector<double> out(ranges.size() / 2, 0.0);
  for (size_t r = 0; r < out.size(); ++r) {
    const int64_t a = std::clamp<int64_t>(ranges[2 * r], 0, n);
    const int64_t b = std::clamp<int64_t>(ranges[2 * r + 1], a, n);
    double energy = 0;
    for (int64_t i = a; i < b; ++i) energy += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    out[r] = energy;
  }
  return out;
}

template std::vector<double> rangeEnergies<float>(const float*, int64_t, const std::vector<int64_t>&);
template std::vector<double> rangeEnergies<double>(const double*, int64_t, const std::vector<int64_t>&);

}  // namespace de::audio
