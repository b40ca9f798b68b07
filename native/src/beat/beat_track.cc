#include "beat/beat_track.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "common/error.h"
#include "common/limits.h"

namespace de::beat {

namespace {

// numpy.ma.median: middle value, or the mean of the two middle values.
double medianD(std::vector<double> v) {
  const size_t n = v.size();
  const size_t mid = n / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  const double hi = v[mid];
  if (n % 2 == 1) return hi;
  const double lo = *std::max_element(v.begin(), v.begin() + mid);
  return (lo + hi) / 2.0;
}

// The steps of librosa.beat.__beat_tracker, one function each.

// 1. The envelope divided by its sample standard deviation (ddof = 1).
std::vector<float> normalizeEnvelope(const float* env, int64_t n) {
  double mean = 0.0;
  for (int64_t i = 0; i < n; ++i) mean += env[i];
  mean /= static_cast<double>(n);
  double ss = 0.0;
  for (int64_t i = 0; i < n; ++i) ss += (env[i] - mean) * (env[i] - mean);
  const float sd =
      n > 1 ? static_cast<float>(std::sqrt(ss / static_cast<double>(n - 1))) : std::numeric_limits<float>::quiet_NaN();
  const float denom = sd + std::numeric_limits<float>::min();
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) x[i] = env[i] / denom;
  return x;
}

// 2. __beat_local_score: Gaussian-weighted correlation. numba's guvectorize dispatches on the
//    float64 frames-per-beat array, so the normalised float32 envelope is promoted and every score
//    below is float64.
std::vector<double> localScore(const std::vector<float>& x, double fpb, const CancelToken* cancel) {
  const int64_t n = static_cast<int64_t>(x.size());
  const int64_t P = static_cast<int64_t>(fpb);
  const int64_t K = 2 * P + 1;
  std::vector<double> window(static_cast<size_t>(K));
  for (int64_t j = 0; j < K; ++j) {
    const double z = static_cast<double>(j - P) * 32.0 / fpb;
    window[j] = std::exp(-0.5 * z * z);
  }
  std::vector<double> local(static_cast<size_t>(n));
  const int64_t h = K / 2;
  for (int64_t i = 0; i < n; ++i) {
    if ((i & 4095) == 0 && cancel) cancel->throwIfRequested("beatTrack");
    double acc = 0.0;
    const int64_t kLo = std::max<int64_t>(0, i + h - n + 1);
    const int64_t kHi = std::min<int64_t>(i + h, K);
    for (int64_t k = kLo; k < kHi; ++k) acc += window[k] * static_cast<double>(x[i + h - k]);
    local[i] = acc;
  }
  return local;
}

// 3. __beat_track_dp: the cumulative score and each frame's best predecessor (-1: none).
void dynamicProgramme(const std::vector<double>& local, double fpb, double tightness, const CancelToken* cancel,
                      std::vector<double>& cum, std::vector<int64_t>& back) {
  const int64_t n = static_cast<int64_t>(local.size());
  cum.assign(static_cast<size_t>(n), 0.0);
  back.assign(static_cast<size_t>(n), 0);
  const double scoreThresh = 0.01 * *std::max_element(local.begin(), local.end());
  bool firstBeat = true;
  const double logP = std::log(fpb);
  const int64_t near = static_cast<int64_t>(std::nearbyint(fpb / 2.0));
  const int64_t far = 2 * static_cast<int64_t>(fpb);
  // penalty depends only on the distance d = i - loc
  std::vector<double> penalty(static_cast<size_t>(far + 1), 0.0);
  for (int64_t d = 1; d <= far; ++d) {
    const double l = std::log(static_cast<double>(d)) - logP;
    penalty[d] = static_cast<double>(static_cast<float>(tightness)) * l * l;
  }
  for (int64_t i = 0; i < n; ++i) {
    if ((i & 4095) == 0 && cancel) cancel->throwIfRequested("beatTrack");
    double best = -std::numeric_limits<double>::infinity();
    int64_t loc = -1;
    for (int64_t l = i - near; l > i - far - 1; --l) {
      if (l < 0) break;
      const double score = cum[l] - penalty[i - l];
      if (score > best) {
        best = score;
        loc = l;
      }
    }
    cum[i] = loc >= 0 ? local[i] + best : local[i];
    if (firstBeat && local[i] < scoreThresh) {
      back[i] = -1;
    } else {
      back[i] = loc;
      firstBeat = false;
    }
  }
}

// 4. __last_beat: the last local maximum of cum with cum >= 0.5 * median(cum at local maxima).
int64_t lastBeat(const std::vector<double>& cum) {
  const int64_t n = static_cast<int64_t>(cum.size());
  std::vector<char> isMax(static_cast<size_t>(n), 0);
  std::vector<double> peaks;
  for (int64_t i = 1; i < n; ++i) {
    bool m;
    if (i == n - 1) m = cum[i] > cum[i - 1];
    else m = cum[i] > cum[i - 1] && cum[i] >= cum[i + 1];
    if (m) {
      isMax[i] = 1;
      peaks.push_back(cum[i]);
    }
  }
  int64_t tail = n - 1;
  if (!peaks.empty()) {
    const double threshold = 0.5 * medianD(peaks);
    for (int64_t i = n - 1; i >= 0; --i) {
      if (isMax[i] && cum[i] >= threshold) {
        tail = i;
        break;
      }
    }
  }
  return tail;
}

// 5. __trim_beats (librosa >= 0.10.2): leading and trailing beats whose local score is at most
//    half the RMS of the Hann-smoothed beat scores are dropped; this returns that threshold.
double trimThreshold(const std::vector<double>& local, const std::vector<char>& beats) {
  const int64_t n = static_cast<int64_t>(local.size());
  std::vector<double> bl;
  for (int64_t i = 0; i < n; ++i)
    if (beats[i]) bl.push_back(local[i]);
  if (bl.empty()) return 0.0;
  const double w[5] = {0.0, 0.5, 1.0, 0.5, 0.0};  // numpy.hanning(5)
  const int64_t B = static_cast<int64_t>(bl.size());
  const int64_t fullLen = B + 4;
  const int64_t lo = 2, hi = std::min<int64_t>(fullLen, n + 2);
  double sq = 0.0;
  int64_t cnt = 0;
  for (int64_t j = lo; j < hi; ++j) {
    double s = 0.0;  // full convolution element j
    for (int q = 0; q < 5; ++q) {
      const int64_t b = j - q;
      if (b >= 0 && b < B) s += bl[b] * w[q];
    }
    sq += s * s;
    ++cnt;
  }
  return cnt > 0 ? 0.5 * std::sqrt(sq / cnt) : 0.0;
}

}  // namespace

std::vector<double> localTempo(const std::vector<int64_t>& beats, double frameRate, double fallbackBpm) {
  std::vector<double> out(beats.size(), fallbackBpm);
  const size_t b = beats.size();
  if (b < 2) return out;
  for (size_t i = 0; i < b; ++i) {
    double interval;
    if (i == 0) interval = static_cast<double>(beats[1] - beats[0]);
    else if (i + 1 == b) interval = static_cast<double>(beats[b - 1] - beats[b - 2]);
    else interval = static_cast<double>(beats[i + 1] - beats[i - 1]) / 2.0;
    out[i] = interval > 0 ? 60.0 * frameRate / interval : fallbackBpm;
  }
  return out;
}

BeatResult beatTrack(const float* env, int64_t n, const BeatParams& p, const CancelToken* cancel) {
  if (!(p.tightness > 0) || !std::isfinite(p.tightness))
    throw Error(code::kInvalidArgument, "beatTrack: tightness must be strictly positive");
  if (!(p.bpm >= 0) || !std::isfinite(p.bpm))
    throw Error(code::kInvalidArgument, "beatTrack: bpm must be strictly positive");
  limits::requireRate(p.tempo.sr, "beatTrack", "sampleRate");
  if (p.tempo.hopLength < 1 || p.tempo.hopLength > limits::kMaxHop)
    throw Error(code::kInvalidArgument, "beatTrack: hopLength must be in [1, 2^20]");
  BeatResult res;
  bool any = false;
  for (int64_t i = 0; i < n; ++i)
    if (env[i] != 0.0f) {
      any = true;
      break;
    }
  if (!any) return res;  // librosa: tempo 0.0, no beats

  res.bpm = p.bpm > 0 ? p.bpm : estimateTempo(env, n, p.tempo, cancel).bpm;
  if (cancel) cancel->throwIfRequested("beatTrack");
  const double frameRate = p.tempo.sr / p.tempo.hopLength;
  const double fpb = std::nearbyint(frameRate * 60.0 / res.bpm);  // half-to-even under the default mode
  if (!(fpb >= 1.0)) {
    throw Error(code::kInvalidArgument,
                "beatTrack: bpm (" + std::to_string(res.bpm) + ") is faster than one beat per frame at this hop");
  }
  // A very slow tempo makes the Gaussian window and the penalty table (about 3 * fpb doubles)
  // huge; 2^24 frames per beat is far beyond any music.
  if (fpb > static_cast<double>(1 << 24)) {
    throw Error(code::kInvalidArgument,
                "beatTrack: bpm (" + std::to_string(res.bpm) + ") is slower than 2^24 frames per beat at this hop");
  }
  limits::checkAlloc(3.0 * fpb + 4.0 * static_cast<double>(n), sizeof(double), "beatTrack", "the tracker buffers");

  const std::vector<float> x = normalizeEnvelope(env, n);
  const std::vector<double> local = localScore(x, fpb, cancel);
  std::vector<double> cum;
  std::vector<int64_t> back;
  dynamicProgramme(local, fpb, p.tightness, cancel, cum, back);
  std::vector<char> beats(static_cast<size_t>(n), 0);
  for (int64_t i = lastBeat(cum); i >= 0; i = back[i]) beats[i] = 1;
  const double threshold = p.trim ? trimThreshold(local, beats) : 0.0;
  for (int64_t i = 0; i < n && local[i] <= threshold; ++i) beats[i] = 0;
  for (int64_t i = n - 1; i >= 0 && local[i] <= threshold; --i) beats[i] = 0;

  for (int64_t i = 0; i < n; ++i)
    if (beats[i]) res.beats.push_back(i);
  res.localBpm = localTempo(res.beats, frameRate, res.bpm);
  return res;
}

}  // namespace de::beat
