// See beat_this.h. Sources transcribed: beat_this 1.1.0 preprocessing.py, inference.py,
// model/postprocessor.py; torchaudio's spectrogram / melscale_fbanks (functional.py).
#include "beat/beat_this.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <limits>
#include <map>

#include "beat/rhythm.h"
#include "common/error.h"
#include "ml/ort.h"

namespace de::beat {
namespace {

// torchaudio's slaney mel scale (librosa's): linear below 1 kHz, logarithmic above.
constexpr double kPi = 3.14159265358979323846;
constexpr double kFSp = 200.0 / 3.0;
constexpr double kMinLogHz = 1000.0;
constexpr double kMinLogMel = kMinLogHz / kFSp;
const double kLogStep = std::log(6.4) / 27.0;

double hzToMel(double f) { return f >= kMinLogHz ? kMinLogMel + std::log(f / kMinLogHz) / kLogStep : f / kFSp; }
double melToHz(double m) { return m >= kMinLogMel ? kMinLogHz * std::exp(kLogStep * (m - kMinLogMel)) : kFSp * m; }

// In-place iterative radix-2 FFT in double precision. The front end runs its STFT in double: the
// quiet top bands of a loud frame (x ~ 1e-6, where log1p(1000 x) ~ 1000 x) amplify float32 FFT
// rounding past 1e-4; torchaudio's own float32 result is 2e-4 from the exact one there.
void fftDouble(std::vector<std::complex<double>>& a) {
  const size_t n = a.size();
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    const double ang = -2.0 * kPi / static_cast<double>(len);
    const std::complex<double> wl(std::cos(ang), std::sin(ang));
    for (size_t i = 0; i < n; i += len) {
      std::complex<double> w(1.0, 0.0);
      for (size_t k = 0; k < len / 2; ++k) {
        const std::complex<double> u = a[i + k], v = a[i + k + len / 2] * w;
        a[i + k] = u + v;
        a[i + k + len / 2] = u - v;
        w *= wl;
      }
    }
  }
}

}  // namespace

namespace {
std::vector<double> melFilterbankDouble(const BeatThisFrontendParams& p) {
  const int bins = p.nFft / 2 + 1;
  // torch.linspace(0, sample_rate // 2, n_freqs): the integer Nyquist.
  const double nyquist = std::floor(p.sampleRate / 2.0);
  std::vector<double> freqs(bins), fPts(p.nMels + 2);
  for (int k = 0; k < bins; ++k) freqs[k] = nyquist * k / (bins - 1);
  const double mMin = hzToMel(p.fMin), mMax = hzToMel(p.fMax);
  for (int i = 0; i < p.nMels + 2; ++i) fPts[i] = melToHz(mMin + (mMax - mMin) * i / (p.nMels + 1));
  std::vector<double> fb(static_cast<size_t>(bins) * p.nMels, 0.0);
  for (int k = 0; k < bins; ++k) {
    for (int m = 0; m < p.nMels; ++m) {
      const double down = (freqs[k] - fPts[m]) / (fPts[m + 1] - fPts[m]);
      const double up = (fPts[m + 2] - freqs[k]) / (fPts[m + 2] - fPts[m + 1]);
      fb[static_cast<size_t>(k) * p.nMels + m] = std::max(0.0, std::min(down, up));
    }
  }
  return fb;
}
}  // namespace

std::vector<float> beatThisMelFilterbank(const BeatThisFrontendParams& p) {
  const std::vector<double> fb = melFilterbankDouble(p);
  return std::vector<float>(fb.begin(), fb.end());
}

BeatThisSpect beatThisSpect(const float* x, int64_t n, const BeatThisFrontendParams& p, const CancelToken* cancel) {
  BeatThisSpect out;
  out.mels = p.nMels;
  const int nFft = p.nFft, half = nFft / 2, bins = half + 1;
  if (n <= half) return out;  // reflect padding needs more samples than the pad
  out.frames = 1 + n / p.hop;
  out.data.assign(static_cast<size_t>(out.frames) * p.nMels, 0.0f);
  // torch.hann_window(n_fft) (periodic) below; the filterbank in double.
  const std::vector<double> fb = melFilterbankDouble(p);
  // Only the bins some band uses.
  std::vector<int> firstBin(p.nMels, bins), lastBin(p.nMels, -1);
  for (int k = 0; k < bins; ++k) {
    for (int m = 0; m < p.nMels; ++m) {
      if (fb[static_cast<size_t>(k) * p.nMels + m] > 0.0) {
        firstBin[m] = std::min(firstBin[m], k);
        lastBin[m] = std::max(lastBin[m], k);
      }
    }
  }
  if ((nFft & (nFft - 1)) != 0) throw Error(code::kInvalidArgument, "beatThisSpect: n_fft must be a power of two");
  std::vector<double> window(nFft);
  for (int i = 0; i < nFft; ++i) window[i] = 0.5 - 0.5 * std::cos(2.0 * kPi * i / nFft);
  std::vector<std::complex<double>> buf(nFft);
  std::vector<double> mag(bins);
  const double scale = 1.0 / std::sqrt(static_cast<double>(nFft));  // normalized="frame_length"
  auto sample = [&](int64_t i) -> double {
    // Reflect padding (numpy "reflect": the edge sample is not repeated).
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i;
    return x[i];
  };
  for (int64_t t = 0; t < out.frames; ++t) {
    if (cancel && (t & 255) == 0) cancel->throwIfRequested("beatThisSpect");
    const int64_t s0 = t * p.hop - half;
    for (int i = 0; i < nFft; ++i) buf[i] = {sample(s0 + i) * window[i], 0.0};
    fftDouble(buf);
    for (int k = 0; k < bins; ++k) mag[k] = std::abs(buf[k]) * scale;
    float* row = out.data.data() + t * p.nMels;
    for (int m = 0; m < p.nMels; ++m) {
      double acc = 0.0;
      for (int k = firstBin[m]; k <= lastBin[m]; ++k) acc += mag[k] * fb[static_cast<size_t>(k) * p.nMels + m];
      row[m] = static_cast<float>(std::log1p(static_cast<double>(p.logMultiplier) * acc));
    }
  }
  return out;
}

std::vector<BeatThisChunk> beatThisChunks(int64_t frames, int64_t chunk, int64_t border) {
  std::vector<BeatThisChunk> starts;
  const int64_t step = chunk - 2 * border;
  if (frames <= 0 || step <= 0) return starts;
  // np.arange(-border, frames - border, step)
  for (int64_t s = -border; s < frames - border; s += step) starts.push_back({s});
  if (frames > step) starts.back().start = frames - (chunk - border);
  return starts;
}

BeatThisLogits beatThisLogits(const ml::Session& session, const BeatThisSpect& spect, int64_t chunk, int64_t border,
                              const CancelToken* cancel) {
  BeatThisLogits out;
  const int64_t T = spect.frames, F = spect.mels;
  out.beat.assign(static_cast<size_t>(T), -1000.0f);
  out.downbeat.assign(static_cast<size_t>(T), -1000.0f);
  const std::vector<BeatThisChunk> chunks = beatThisChunks(T, chunk, border);
  out.chunks = static_cast<int64_t>(chunks.size());
  std::vector<float> buf;
  // keep_first: the reference writes the chunks in reverse so earlier ones overwrite later ones.
  for (auto it = chunks.rbegin(); it != chunks.rend(); ++it) {
    if (cancel) cancel->throwIfRequested("beatThis");
    const int64_t start = it->start;
    const int64_t lo = std::max<int64_t>(start, 0), hi = std::min(start + chunk, T);
    const int64_t left = std::max<int64_t>(0, -start);
    const int64_t right = std::max<int64_t>(0, std::min(border, start + chunk - T));
    const int64_t len = left + (hi - lo) + right;
    buf.assign(static_cast<size_t>(len * F), 0.0f);
    std::copy(spect.data.begin() + lo * F, spect.data.begin() + hi * F, buf.begin() + left * F);
    ml::InputView in{"spect", {1, len, F}, buf.data(), buf.size()};
    std::vector<ml::Tensor> res = session.run({in}, {"beat", "downbeat"}, cancel);
    if (res.size() != 2 || res[0].data.size() != static_cast<size_t>(len) ||
        res[1].data.size() != static_cast<size_t>(len)) {
      throw Error(code::kModelInvalid, "beatThis: the model must map spect [1, T, 128] to beat and downbeat [1, T]");
    }
    // Drop `border` frames at both ends of the chunk's prediction, write the rest at start + border.
    for (int64_t j = border; j < len - border; ++j) {
      const int64_t t = start + j;
      if (t < 0 || t >= T) continue;
      out.beat[static_cast<size_t>(t)] = res[0].data[static_cast<size_t>(j)];
      out.downbeat[static_cast<size_t>(t)] = res[1].data[static_cast<size_t>(j)];
    }
  }
  return out;
}

namespace {

std::vector<double> peakFrames(const float* v, int64_t n) {
  std::vector<int64_t> peaks;
  for (int64_t t = 0; t < n; ++t) {
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t j = std::max<int64_t>(0, t - 3); j <= std::min(n - 1, t + 3); ++j) mx = std::max(mx, v[j]);
    if (v[t] == mx && v[t] > 0.0f) peaks.push_back(t);
  }
  // deduplicate_peaks(width=1): adjacent frames merged into their running mean.
  std::vector<double> out;
  if (peaks.empty()) return out;
  double p = static_cast<double>(peaks[0]);
  int c = 1;
  for (size_t i = 1; i < peaks.size(); ++i) {
    const double p2 = static_cast<double>(peaks[i]);
    if (p2 - p <= 1.0) {
      ++c;
      p += (p2 - p) / c;
    } else {
      out.push_back(p);
      p = p2;
      c = 1;
    }
  }
  out.push_back(p);
  return out;
}

}  // namespace

BeatThisPeaks beatThisMinimalPostprocess(const float* beat, const float* downbeat, int64_t frames, double fps) {
  BeatThisPeaks out;
  for (double f : peakFrames(beat, frames)) out.beats.push_back(f / fps);
  std::vector<double> db;
  for (double f : peakFrames(downbeat, frames)) db.push_back(f / fps);
  if (!out.beats.empty()) {
    for (double& d : db) {
      size_t best = 0;
      double bestDist = std::abs(out.beats[0] - d);
      for (size_t i = 1; i < out.beats.size(); ++i) {
        const double dist = std::abs(out.beats[i] - d);
        if (dist < bestDist) {
          bestDist = dist;
          best = i;
        }
      }
      d = out.beats[best];
    }
  }
  std::sort(db.begin(), db.end());
  db.erase(std::unique(db.begin(), db.end()), db.end());
  out.downbeats = std::move(db);
  return out;
}

BeatThisMeter beatThisMeter(const std::vector<double>& beats, const std::vector<double>& downbeats) {
  BeatThisMeter out;
  out.positions.assign(beats.size(), 0);
  // Downbeats are beat times (snapped), so they are found exactly.
  std::vector<size_t> dbIdx;
  size_t j = 0;
  for (double d : downbeats) {
    while (j < beats.size() && beats[j] < d) ++j;
    if (j < beats.size() && beats[j] == d) dbIdx.push_back(j);
  }
  std::map<int, int> counts;
  for (size_t i = 1; i < dbIdx.size(); ++i) ++counts[static_cast<int>(dbIdx[i] - dbIdx[i - 1])];
  int best = 0, bestCount = 0;
  for (const auto& [len, c] : counts) {
    if (c > bestCount) {
      best = len;
      bestCount = c;
    }
  }
  out.beatsPerBar = best;
  if (dbIdx.empty()) return out;
  for (size_t k = 0; k < dbIdx.size(); ++k) {
    const size_t end = k + 1 < dbIdx.size() ? dbIdx[k + 1] : beats.size();
    for (size_t i = dbIdx[k]; i < end; ++i) out.positions[i] = static_cast<int32_t>(i - dbIdx[k] + 1);
  }
  const int lead = best > 0 ? best : static_cast<int>(dbIdx.size() > 1 ? dbIdx[1] - dbIdx[0] : dbIdx[0] + 1);
  for (size_t i = 0; i < dbIdx[0]; ++i) {
    const int back = static_cast<int>(dbIdx[0] - i);  // beats before the first downbeat
    out.positions[i] = static_cast<int32_t>(((lead - back) % lead + lead) % lead + 1);
  }
  return out;
}

namespace {
double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

std::vector<float> beatThisDbnActivations(const float* beatLogits, const float* downbeatLogits, int64_t frames) {
  constexpr double kEps = 1e-5;  // Postprocessor.postp_dbn: 0 and 1 break the DBN's logs
  auto prob = [](float logit) {
    return (1.0 / (1.0 + std::exp(-static_cast<double>(logit)))) * (1.0 - kEps) + kEps / 2;
  };
  std::vector<float> act(static_cast<size_t>(2 * std::max<int64_t>(frames, 0)));
  for (int64_t t = 0; t < frames; ++t) {
    const double b = prob(beatLogits[t]), d = prob(downbeatLogits[t]);
    act[2 * t] = static_cast<float>(std::max(b - d, kEps / 2));
    act[2 * t + 1] = static_cast<float>(d);
  }
  return act;
}

BeatThisDecoded beatThisDecode(const float* beatLogits, const float* downbeatLogits, int64_t frames,
                               const BeatThisDecodeParams& p, const CancelToken* cancel) {
  BeatThisDecoded out;
  if (frames <= 0) return out;
  std::vector<int64_t> beatFrames;
  if (p.postprocess == BeatThisPostprocess::kDbn) {
    const std::vector<float> act = beatThisDbnActivations(beatLogits, downbeatLogits, frames);
    DbnParams dp;  // Postprocessor(type="dbn"): min_bpm 55, max_bpm 215, transition_lambda 100
    dp.beatsPerBar = p.meters;
    dp.minBpm = 55.0;
    dp.maxBpm = 215.0;
    dp.transitionLambda = 100.0;
    dp.fps = p.fps;
    DbnResult d = decodeDownbeats(act.data(), frames, dp, cancel);
    out.meters = std::move(d.meters);
    out.beatsPerBar = d.beatsPerBar;
    for (size_t i = 0; i < d.beatFrames.size(); ++i) {
      const double t = static_cast<double>(d.beatFrames[i]) / p.fps;
      out.beats.push_back(t);
      out.positions.push_back(d.beatNumbers[i]);
      if (d.beatNumbers[i] == 1) out.downbeats.push_back(t);
    }
    beatFrames = std::move(d.beatFrames);
  } else {
    BeatThisPeaks peaks = beatThisMinimalPostprocess(beatLogits, downbeatLogits, frames, p.fps);
    BeatThisMeter meter = beatThisMeter(peaks.beats, peaks.downbeats);
    for (double b : peaks.beats) beatFrames.push_back(std::llround(b * p.fps));
    out.beats = std::move(peaks.beats);
    out.downbeats = std::move(peaks.downbeats);
    out.positions = std::move(meter.positions);
    out.beatsPerBar = meter.beatsPerBar;
  }
  double conf = 0.0;
  for (int64_t f : beatFrames) {
    const int64_t g = std::clamp<int64_t>(f, 0, frames - 1);
    conf += 1.0 / (1.0 + std::exp(-static_cast<double>(beatLogits[g])));
  }
  out.confidence = beatFrames.empty() ? 0.0 : conf / static_cast<double>(beatFrames.size());
  return out;
}

BeatThisResult trackBeatThis(const ml::Session& session, const float* audio, int64_t n, const BeatThisParams& p,
                             const CancelToken* cancel) {
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(audio[i]))
      throw Error(code::kNonFiniteSamples, "trackBeatThis: the audio contains a non-finite sample");
  }
  BeatThisResult res;
  auto t0 = std::chrono::steady_clock::now();
  const BeatThisSpect spect = beatThisSpect(audio, n, BeatThisFrontendParams{}, cancel);
  res.secondsFeatures = secondsSince(t0);
  res.frames = spect.frames;
  if (spect.frames == 0) return res;
  t0 = std::chrono::steady_clock::now();
  BeatThisLogits logits = beatThisLogits(session, spect, p.chunk, p.border, cancel);
  res.secondsModel = secondsSince(t0);
  res.chunks = logits.chunks;
  t0 = std::chrono::steady_clock::now();
  BeatThisDecodeParams dp;
  dp.postprocess = p.postprocess;
  dp.meters = p.meters;
  dp.fps = p.fps;
  BeatThisDecoded dec = beatThisDecode(logits.beat.data(), logits.downbeat.data(), spect.frames, dp, cancel);
  res.confidence = dec.confidence;
  res.tempoBpm = tempoFromBeats(dec.beats);
  res.tempoCurve = tempoCurve(dec.beats);
  res.beats = std::move(dec.beats);
  res.downbeats = std::move(dec.downbeats);
  res.positions = std::move(dec.positions);
  res.beatsPerBar = dec.beatsPerBar;
  res.meters = std::move(dec.meters);
  if (p.keepLogits) {
    res.beatLogits = std::move(logits.beat);
    res.downbeatLogits = std::move(logits.downbeat);
  }
  res.secondsDecode = secondsSince(t0);
  return res;
}

}  // namespace de::beat
