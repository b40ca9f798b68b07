// libFuzzer target: the pure C++ entry points behind the addon's exports, with arguments drawn
// from the input. Byte 0 picks the entry point: resample, stft + istft, computeFeatures (every
// feature switch), onset strength, tempo, beat tracking, Basic Pitch note extraction.
// Numbers are either plausible (so real work runs) or picked from a table of hostile values
// (NaN, infinities, zero, negatives, huge); a coded de::Error is the only acceptable failure.
// Work whose size the harness estimates above kMaxWork is skipped: it would only be slow.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <vector>

#include "audio/resample.h"
#include "beat/beat_track.h"
#include "beat/onset.h"
#include "beat/tempo.h"
#include "common/error.h"
#include "dsp/features.h"
#include "dsp/stft.h"
#include "ml/basic_pitch.h"

namespace {

namespace bp = de::ml::basic_pitch;
constexpr double kMaxWork = 3e7;

double hostileDouble(FuzzedDataProvider& in) {
  static const double table[] = {std::numeric_limits<double>::quiet_NaN(),
                                 std::numeric_limits<double>::infinity(),
                                 -std::numeric_limits<double>::infinity(),
                                 0.0,
                                 -1.0,
                                 1e-300,
                                 1e300,
                                 2147483648.0,
                                 9.3e18,
                                 1e12,
                                 999.0,
                                 768001.0,
                                 0.5};
  return table[in.ConsumeIntegralInRange<size_t>(0, sizeof(table) / sizeof(table[0]) - 1)];
}

// A double in [lo, hi], or (one time in eight) a hostile one.
double num(FuzzedDataProvider& in, double lo, double hi) {
  if (in.ConsumeIntegralInRange<int>(0, 7) == 0) return hostileDouble(in);
  return in.ConsumeFloatingPointInRange<double>(lo, hi);
}

int integer(FuzzedDataProvider& in, int lo, int hi) {
  if (in.ConsumeIntegralInRange<int>(0, 7) == 0) {
    static const int table[] = {std::numeric_limits<int>::min(),
                                -1,
                                0,
                                1,
                                std::numeric_limits<int>::max(),
                                1 << 16,
                                (1 << 16) + 1,
                                1 << 20,
                                (1 << 20) + 1};
    return table[in.ConsumeIntegralInRange<size_t>(0, sizeof(table) / sizeof(table[0]) - 1)];
  }
  return in.ConsumeIntegralInRange<int>(lo, hi);
}

std::vector<float> signal(FuzzedDataProvider& in, size_t maxLen, bool allowNonFinite) {
  const size_t n = in.ConsumeIntegralInRange<size_t>(0, maxLen);
  std::vector<float> x(n);
  const int kind = in.ConsumeIntegralInRange<int>(0, 3);
  for (size_t i = 0; i < n; ++i) {
    switch (kind) {
      case 0: x[i] = static_cast<float>(std::sin(0.01 * i * (1 + (i % 97 == 0)))); break;
      case 1: x[i] = (i % 512 < 20) ? 0.9f : 0.0f; break;  // clicks: a non-zero onset envelope
      case 2: x[i] = 0.0f; break;
      default: x[i] = in.ConsumeFloatingPointInRange<float>(-1.5f, 1.5f); break;
    }
  }
  if (allowNonFinite && n > 0 && in.ConsumeIntegralInRange<int>(0, 15) == 0) {
    x[in.ConsumeIntegralInRange<size_t>(0, n - 1)] = in.ConsumeBool() ? NAN : INFINITY;
  }
  return x;
}

de::dsp::StftParams stftParams(FuzzedDataProvider& in) {
  de::dsp::StftParams p;
  p.nFft = integer(in, 1, 4096);
  p.winLength = in.ConsumeBool() ? p.nFft : integer(in, 1, 4096);
  p.hopLength = integer(in, 1, 2048);
  p.window = static_cast<de::dsp::WindowType>(in.ConsumeIntegralInRange<int>(0, 4));
  p.center = in.ConsumeBool();
  p.padMode = static_cast<de::dsp::PadMode>(in.ConsumeIntegralInRange<int>(0, 2));
  return p;
}

bool stftTooBig(int64_t n, const de::dsp::StftParams& p) {
  if (p.nFft < 1 || p.hopLength < 1) return false;  // rejected cheaply
  const double frames = (static_cast<double>(n) + p.nFft) / p.hopLength + 1.0;
  return frames * std::max(p.nFft, 64) * 8.0 > kMaxWork;
}

double tempoWindow(const de::beat::TempoParams& t) {
  return std::floor(std::trunc(t.acSize * t.sr) / std::max(1, t.hopLength));
}

de::beat::BeatParams beatParams(FuzzedDataProvider& in) {
  de::beat::BeatParams p;
  p.tempo.sr = num(in, 1000, 96000);
  p.tempo.hopLength = integer(in, 1, 2048);
  p.tempo.startBpm = num(in, 30, 300);
  p.tempo.stdBpm = num(in, 0.1, 4);
  p.tempo.acSize = num(in, 0.5, 16);
  p.tempo.maxTempo = in.ConsumeBool() ? -1.0 : num(in, 30, 400);
  p.tempo.threads = in.ConsumeIntegralInRange<int>(1, 2);
  p.tightness = num(in, 1, 1000);
  p.trim = in.ConsumeBool();
  p.bpm = in.ConsumeBool() ? 0.0 : num(in, 20, 400);
  return p;
}

bool beatTooBig(int64_t n, const de::beat::BeatParams& p) {
  const double w = tempoWindow(p.tempo);
  if (std::isfinite(w) && w > 0 && w <= de::beat::kMaxTempogramWindow && (static_cast<double>(n) + w) * w > kMaxWork)
    return true;
  const double bpm = p.bpm > 0 ? p.bpm : 30.0;  // the slowest tempo the estimate can plausibly give
  const double fpb = p.tempo.sr / std::max(1, p.tempo.hopLength) * 60.0 / bpm;
  return std::isfinite(fpb) && fpb >= 1 && fpb <= (1 << 24) && static_cast<double>(n) * fpb * 3.0 > kMaxWork;
}

void fuzzResample(FuzzedDataProvider& in) {
  const int channels = integer(in, 1, 4);
  const double inRate = num(in, 1000, 192000), outRate = num(in, 1000, 192000);
  const auto engine = static_cast<de::audio::ResampleEngine>(in.ConsumeIntegralInRange<int>(0, 6));
  std::vector<float> x = signal(in, 4096, true);
  const int64_t frames = channels > 0 ? static_cast<int64_t>(x.size()) / channels : 0;
  if (std::isfinite(inRate) && std::isfinite(outRate) && inRate >= 1000 && outRate >= 1000 &&
      static_cast<double>(frames) * (outRate / inRate) * std::max(channels, 1) > kMaxWork / 4) {
    return;
  }
  const std::vector<float> y = de::audio::resample(x.data(), frames, channels, inRate, outRate, engine, nullptr);
  if (frames > 0 && inRate != outRate &&
      static_cast<int64_t>(y.size()) != de::audio::resampledLength(frames, inRate, outRate) * channels) {
    std::abort();
  }
}

void fuzzStft(FuzzedDataProvider& in) {
  const de::dsp::StftParams p = stftParams(in);
  std::vector<float> x = signal(in, 8192, false);
  if (stftTooBig(static_cast<int64_t>(x.size()), p)) return;
  const de::dsp::Spectrogram s = de::dsp::stft(x.data(), static_cast<int64_t>(x.size()), p, nullptr);
  const int64_t length = in.ConsumeBool() ? -1 : static_cast<int64_t>(integer(in, 0, 20000));
  const std::vector<float> y = de::dsp::istft(s.data.data(), s.bins, s.frames, p, length, nullptr);
  if (length >= 0 && static_cast<int64_t>(y.size()) != length) std::abort();
}

void fuzzFeatures(FuzzedDataProvider& in) {
  de::dsp::FeatureParams p;
  p.sr = num(in, 1000, 96000);
  p.stft = stftParams(in);
  p.melPower = in.ConsumeBool();
  p.melDb = in.ConsumeBool();
  p.mfcc = in.ConsumeBool();
  p.chroma = in.ConsumeBool();
  p.centroid = in.ConsumeBool();
  p.bandwidth = in.ConsumeBool();
  p.rolloff = in.ConsumeBool();
  p.zcr = in.ConsumeBool();
  p.rms = in.ConsumeBool();
  p.nMels = integer(in, 1, 256);
  p.fmin = num(in, 0, 2000);
  p.fmax = in.ConsumeBool() ? -1.0 : num(in, 100, 48000);
  p.htk = in.ConsumeBool();
  p.melNorm.kind = static_cast<de::dsp::MelNorm::Kind>(in.ConsumeIntegralInRange<int>(0, 2));
  p.melNorm.p = num(in, 0.5, 4);
  p.melPowerExp = num(in, 0.5, 3);
  p.dbRef = num(in, 1e-3, 10);
  p.dbAmin = num(in, 1e-12, 1e-3);
  p.dbTopDb = in.ConsumeBool() ? -1.0 : num(in, 0, 120);
  p.nMfcc = integer(in, 1, 40);
  p.lifter = num(in, 0, 50);
  p.nChroma = integer(in, 1, 48);
  p.tuning = in.ConsumeBool() ? std::numeric_limits<double>::quiet_NaN() : num(in, -0.5, 0.5);
  p.ctroct = num(in, 1, 8);
  p.octwidth = num(in, -1, 4);
  p.chromaNorm = in.ConsumeBool() ? std::numeric_limits<double>::infinity() : num(in, 0, 4);
  p.bandwidthP = num(in, 0.5, 4);
  p.rollPercent = num(in, 0.01, 0.99);
  p.frameLength = integer(in, 1, 4096);
  p.frameHop = integer(in, 1, 2048);
  p.frameCenter = in.ConsumeBool();
  p.threads = in.ConsumeIntegralInRange<int>(0, 3);
  const bool onset = in.ConsumeBool();
  de::beat::OnsetParams op;
  op.lag = integer(in, 1, 8);
  op.maxSize = integer(in, 1, 8);
  op.detrend = in.ConsumeBool();
  op.center = p.stft.center;
  op.nFft = p.stft.nFft;
  op.hopLength = p.stft.hopLength;
  op.aggregate = static_cast<de::beat::Aggregate>(in.ConsumeIntegralInRange<int>(0, 3));
  std::vector<float> x = signal(in, 16384, true);
  const int64_t n = static_cast<int64_t>(x.size());
  if (stftTooBig(n, p.stft)) return;
  if (p.frameHop >= 1 && p.frameLength >= 1 &&
      (static_cast<double>(n) / p.frameHop + 1) * std::min(p.frameLength, 1 << 16) > kMaxWork)
    return;
  if (p.nMels >= 1 && p.nMels <= 4096 && p.stft.hopLength >= 1 &&
      (static_cast<double>(n) / p.stft.hopLength + 1) * p.nMels * 64 > kMaxWork) {
    return;
  }
  std::vector<float> env;
  if (onset) {
    p.onMelDb = [&](const float* db, int bands, int64_t frames) {
      env = de::beat::onsetStrengthFromDb(db, bands, frames, op);
    };
  }
  const de::dsp::FeatureSet f = de::dsp::computeFeatures(x.data(), n, p, nullptr);
  // as in fuzzOnsetFromDb: an uncentred envelope keeps the lag's padding (librosa does too)
  if (onset && f.frames > 0 &&
      static_cast<int64_t>(env.size()) != (op.center ? f.frames : std::max<int64_t>(f.frames, op.lag)))
    std::abort();
  if (p.mfcc && f.mfcc.size() != static_cast<size_t>(p.nMfcc) * f.frames) std::abort();
}

void fuzzOnsetFromDb(FuzzedDataProvider& in) {
  de::beat::OnsetParams op;
  op.lag = integer(in, 1, 16);
  op.maxSize = integer(in, 1, 16);
  op.detrend = in.ConsumeBool();
  op.center = in.ConsumeBool();
  op.nFft = integer(in, 1, 4096);
  op.hopLength = integer(in, 1, 1024);
  op.aggregate = static_cast<de::beat::Aggregate>(in.ConsumeIntegralInRange<int>(0, 3));
  const int bands = integer(in, 1, 64);
  const int64_t frames = in.ConsumeIntegralInRange<int64_t>(0, 512);
  if (bands < 0 || static_cast<double>(bands) * frames > 1 << 16) return;
  std::vector<float> db(static_cast<size_t>(bands) * frames);
  for (float& v : db) v = in.ConsumeFloatingPointInRange<float>(-100.0f, 20.0f);
  const std::vector<float> env = de::beat::onsetStrengthFromDb(db.data(), bands, frames, op);
  // librosa: centred envelopes are cut to the frame count; uncentred ones keep the lag's padding
  const int64_t expected = op.center ? frames : std::max<int64_t>(frames, op.lag);
  if (static_cast<int64_t>(env.size()) != expected) std::abort();
}

std::vector<float> envelope(FuzzedDataProvider& in) {
  std::vector<float> env = signal(in, 4096, false);
  for (float& v : env) v = std::fabs(v);
  return env;
}

void fuzzTempo(FuzzedDataProvider& in) {
  const de::beat::BeatParams p = beatParams(in);
  const std::vector<float> env = envelope(in);
  if (beatTooBig(static_cast<int64_t>(env.size()), p)) return;
  const de::beat::TempoEstimate t =
      de::beat::estimateTempo(env.data(), static_cast<int64_t>(env.size()), p.tempo, nullptr);
  (void)t;
}

void fuzzBeats(FuzzedDataProvider& in) {
  const de::beat::BeatParams p = beatParams(in);
  const std::vector<float> env = envelope(in);
  if (beatTooBig(static_cast<int64_t>(env.size()), p)) return;
  const de::beat::BeatResult r = de::beat::beatTrack(env.data(), static_cast<int64_t>(env.size()), p, nullptr);
  for (int64_t b : r.beats) {
    if (b < 0 || b >= static_cast<int64_t>(env.size())) std::abort();
  }
}

void fuzzNotes(FuzzedDataProvider& in) {
  bp::NoteOptions o;
  o.onsetThreshold = num(in, 0, 1);
  o.frameThreshold = num(in, 0, 1);
  o.minNoteLength = integer(in, 0, 30);
  o.inferOnsets = in.ConsumeBool();
  if (in.ConsumeBool()) o.minFrequency = num(in, 0, 4000);
  if (in.ConsumeBool()) o.maxFrequency = num(in, 0, 8000);
  o.melodiaTrick = in.ConsumeBool();
  o.energyTolerance = integer(in, 0, 30);
  o.includePitchBends = in.ConsumeBool();
  const int64_t frames = in.ConsumeIntegralInRange<int64_t>(0, 48);
  std::vector<float> note(static_cast<size_t>(frames) * bp::kNotes), onset(note.size()),
      contour(static_cast<size_t>(frames) * bp::kContourBins);
  for (float& v : note) v = in.ConsumeProbability<float>();
  for (float& v : onset) v = in.ConsumeProbability<float>();
  for (float& v : contour) v = in.ConsumeProbability<float>();
  const auto notes = bp::outputToNotes(note.data(), onset.data(), contour.data(), frames, o);
  for (const auto& ev : notes) {
    if (ev.startFrame < 0 || ev.endFrame > frames || ev.startFrame > ev.endFrame) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ::setenv("DIDACTIC_MAX_BYTES", "67108864", 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const int target = in.ConsumeIntegralInRange<int>(0, 7);
  try {
    switch (target) {
      case 0: fuzzResample(in); break;
      case 1: fuzzStft(in); break;
      case 2:
      case 3: fuzzFeatures(in); break;
      case 4: fuzzOnsetFromDb(in); break;
      case 5: fuzzTempo(in); break;
      case 6: fuzzBeats(in); break;
      default: fuzzNotes(in); break;
    }
  } catch (const de::Error&) {
  }
  return 0;
}
