// Bounds on caller-supplied numbers and on allocations sized by input. A server process must turn
// an absurd argument or a hostile file header into a coded error, never into a multi-gigabyte
// allocation, an integer overflow or an abort.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/error.h"

namespace de::limits {

// Plausible audio sample rates: 1 kHz (below any real recording) to 768 kHz (the highest rate
// common converters offer). Decoded files outside it are DE_UNSUPPORTED_FORMAT, arguments
// DE_INVALID_ARGUMENT.
inline constexpr double kMinSampleRate = 1000.0;
inline constexpr double kMaxSampleRate = 768000.0;
// libsndfile's own channel ceiling (SF_MAX_CHANNELS).
inline constexpr int kMaxChannels = 1024;
// FFT and frame sizes (2^16 = 1.5 s at 44.1 kHz; librosa's defaults are 2048/512).
inline constexpr int kMaxFftSize = 1 << 16;
inline constexpr int kMaxHop = 1 << 20;
// Default ceiling of one allocation sized by input: 4 GiB, i.e. 2^30 float32 samples (3.4 hours
// of stereo 44.1 kHz). The environment variable DIDACTIC_MAX_BYTES overrides it (bytes, >= 1 MiB).
inline constexpr double kDefaultMaxBytes = 4.0 * 1024 * 1024 * 1024;

inline double maxBytes() {
  static const double value = [] {
    const char* env = std::getenv("DIDACTIC_MAX_BYTES");
    if (env != nullptr && *env != '\0') {
      char* end = nullptr;
      const double v = std::strtod(env, &end);
      if (end != env && *end == '\0' && std::isfinite(v) && v >= 1024.0 * 1024.0) return v;
    }
    return kDefaultMaxBytes;
  }();
  return value;
}

// Throws DE_RESOURCE_LIMIT when `count` elements of `elementBytes` each exceed the ceiling.
// Computed in double so that absurd counts cannot overflow before the comparison.
inline void checkAlloc(double count, double elementBytes, const char* op, const char* what) {
  const double bytes = count * elementBytes;
  if (!(bytes <= maxBytes())) {
    throw Error(code::kResourceLimit, std::string(op) + ": " + what + " would need " +
                                          std::to_string(static_cast<double>(bytes) / (1024.0 * 1024.0)) +
                                          " MiB, over the limit of " + std::to_string(maxBytes() / (1024.0 * 1024.0)) +
                                          " MiB (DIDACTIC_MAX_BYTES)");
  }
}

inline bool plausibleRate(double sr) { return sr >= kMinSampleRate && sr <= kMaxSampleRate; }

// DE_INVALID_ARGUMENT unless `sr` is a finite rate in [kMinSampleRate, kMaxSampleRate].
inline void requireRate(double sr, const char* op, const char* what) {
  if (!plausibleRate(sr)) {
    throw Error(code::kInvalidArgument,
                std::string(op) + ": " + what + " (" + std::to_string(sr) + ") must be within 1000..768000 Hz");
  }
}

// DE_INVALID_ARGUMENT unless `v` is an integer in [lo, hi]; returns it (never casts NaN or an
// out-of-range double to int, which is undefined behaviour).
inline int64_t requireInt(double v, int64_t lo, int64_t hi, const char* op, const char* what) {
  if (!(v >= static_cast<double>(lo) && v <= static_cast<double>(hi)) || std::trunc(v) != v) {
    throw Error(code::kInvalidArgument, std::string(op) + ": " + what + " (" + std::to_string(v) +
                                            ") must be an integer in [" + std::to_string(lo) + ", " +
                                            std::to_string(hi) + "]");
  }
  return static_cast<int64_t>(v);
}

// DE_INVALID_ARGUMENT unless lo <= v <= hi (NaN fails).
inline double requireRange(double v, double lo, double hi, const char* op, const char* what) {
  if (!(v >= lo && v <= hi)) {
    throw Error(code::kInvalidArgument, std::string(op) + ": " + what + " (" + std::to_string(v) +
                                            ") must be within [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                            "]");
  }
  return v;
}

}  // namespace de::limits
