#include "beat/onset.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.h"
#include "common/limits.h"

namespace de::beat {

namespace {

// scipy.ndimage "reflect" (half-sample symmetric) index.
int reflectIndex(int i, int n) {
  if (n == 1) return 0;
  const int period = 2 * n;
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - 1 - i;
}

}  // namespace

std::vector<float> onsetStrengthFromDb(const float* db, int bands, int64_t frames, const OnsetParams& p) {
  // bounded like the binding's options: an INT_MAX maxSize (found by fuzz_audio) meant a loop of
  // bands * frames * 2^31 steps, an INT_MAX lag a 8 GiB envelope
  if (p.lag < 1 || p.lag > (1 << 20)) throw Error(code::kInvalidArgument, "onsetStrength: lag must be in [1, 2^20]");
  if (p.maxSize < 1 || p.maxSize > 4096)
    throw Error(code::kInvalidArgument, "onsetStrength: maxSize must be in [1, 4096]");
  if (bands < 1) throw Error(code::kInvalidArgument, "onsetStrength: at least one band is needed");
  if (frames < 0) throw Error(code::kInvalidArgument, "onsetStrength: negative frame count");
  if (p.center && (p.hopLength < 1 || p.nFft < 0))
    throw Error(code::kInvalidArgument, "onsetStrength: hopLength must be >= 1 and nFft >= 0");
  const int64_t T = frames;
  const int64_t diffs = std::max<int64_t>(0, T - p.lag);
  int64_t padWidth = p.lag;
  if (p.center) padWidth += p.nFft / (2 * static_cast<int64_t>(p.hopLength));
  const int64_t total = padWidth + diffs;
  // difference tiles of kTile frames (row-wise reads, one page per row per tile)
  constexpr int64_t kTile = 64;
  // The per-band work buffers are sized by `bands` even without frames: an INT_MAX band count
  // with no frames (found by fuzz_audio) overflowed `bands + maxSize - 1` and asked for 8 GiB.
  const double perBand = (p.maxSize > 1 ? 3.0 * (static_cast<double>(bands) + p.maxSize) : 0.0) +
                         (2.0 + kTile) * static_cast<double>(bands);
  limits::checkAlloc(static_cast<double>(total) + (p.maxSize > 1 ? static_cast<double>(bands) * T : 0.0) + perBand,
                     sizeof(float), "onsetStrength", "the envelope");
  std::vector<float> env(static_cast<size_t>(total), 0.0f);

  // Reference spectrum: S itself, or its maximum filter across frequency.
  std::vector<float> refBuf;
  const float* ref = db;
  if (p.maxSize > 1) {
    refBuf.resize(static_cast<size_t>(bands) * T);
    // Sliding maximum over the reflected column (van Herk / Gil-Werman: block prefix and suffix
    // maxima), O(bands + maxSize) per frame. The direct loop cost bands * maxSize per frame, hours
    // for nMels = maxSize = 4096 on a song (seen while chasing fuzz_audio's slow inputs). Maxima
    // are exact either way.
    const int k = p.maxSize;
    const int lo = k / 2;
    const int64_t len = static_cast<int64_t>(bands) + k - 1;
    std::vector<float> col(static_cast<size_t>(len)), pre(static_cast<size_t>(len)), suf(static_cast<size_t>(len));
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t i = 0; i < len; ++i)
        col[i] = db[static_cast<size_t>(reflectIndex(static_cast<int>(i - lo), bands)) * T + t];
      for (int64_t i = 0; i < len; ++i) pre[i] = (i % k == 0) ? col[i] : std::max(pre[i - 1], col[i]);
      for (int64_t i = len - 1; i >= 0; --i)
        suf[i] = (i == len - 1 || (i + 1) % k == 0) ? col[i] : std::max(suf[i + 1], col[i]);
      // window [f, f + k - 1]: the suffix of f's block and the prefix of the block ending it
      for (int f = 0; f < bands; ++f) refBuf[static_cast<size_t>(f) * T + t] = std::max(suf[f], pre[f + k - 1]);
    }
    ref = refBuf.data();
  }

  std::vector<float> col(static_cast<size_t>(bands)), pos(static_cast<size_t>(bands));
  std::vector<float> tile(static_cast<size_t>(kTile) * bands);
  for (int64_t t = 0; t < diffs; ++t) {
    const int64_t j = t % kTile;
    if (j == 0) {
      const int64_t cnt = std::min(kTile, diffs - t);
      for (int f = 0; f < bands; ++f) {
        const float* cur = db + static_cast<size_t>(f) * T + t + p.lag;
        const float* prev = ref + static_cast<size_t>(f) * T + t;
        for (int64_t q = 0; q < cnt; ++q) tile[static_cast<size_t>(q) * bands + f] = std::max(0.0f, cur[q] - prev[q]);
      }
    }
    std::copy(tile.begin() + j * bands, tile.begin() + (j + 1) * bands, col.begin());
    float v = 0.0f;
    switch (p.aggregate) {
      case Aggregate::Mean: {
        double s = 0.0;
        for (float c : col) s += c;
        v = static_cast<float>(s / bands);
        break;
      }
      case Aggregate::Median: {
        // values are >= 0 and mostly 0: the sorted column is z zeros then the positives
        float* pp = pos.data();
        size_t np = 0;
        for (int f = 0; f < bands; ++f) {
          const float c = col[f];
          pp[np] = c;
          np += c > 0.0f;  // branch-free compaction of the positives
        }
        const size_t z = col.size() - np;
        auto sortedAt = [&](size_t i) -> float {
          if (i < z) return 0.0f;
          std::nth_element(pp, pp + (i - z), pp + np);
          return pp[i - z];
        };
        const size_t mid = col.size() / 2;
        const float hi = sortedAt(mid);
        if (col.size() % 2 == 1) {
          v = hi;
        } else if (mid - 1 < z) {
          v = (0.0f + hi) / 2.0f;
        } else {
          // after nth_element at mid - z, the elements before it are <= it: take their max
          const float lo = *std::max_element(pp, pp + (mid - z));
          v = (lo + hi) / 2.0f;
        }
        break;
      }
      case Aggregate::Max: v = *std::max_element(col.begin(), col.end()); break;
      case Aggregate::Min: v = *std::min_element(col.begin(), col.end()); break;
    }
    env[padWidth + t] = v;
  }
  if (p.detrend) {
    // scipy.signal.lfilter([1, -1], [1, -0.99], env)
    double prevX = 0.0, prevY = 0.0;
    for (float& e : env) {
      const double y = e - prevX + 0.99 * prevY;
      prevX = e;
      prevY = y;
      e = static_cast<float>(y);
    }
  }
  if (p.center) env.resize(static_cast<size_t>(T));
  return env;
}

}  // namespace de::beat
