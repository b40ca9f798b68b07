// N-API glue for the analysis core: stft, istft and analyze (one STFT shared by every requested
// feature, then onset strength, tempo and beats). Options arrive fully resolved from TypeScript.
#include "dsp/dsp_binding.h"

#include <cmath>

#include "beat/beat_binding.h"
#include "dsp/features.h"
#include "dsp/stft.h"
#include "napi/worker.h"

namespace de::dsp {
namespace {

StftParams readStftParams(Napi::Env env, const Napi::Object& o, const std::string& op) {
  StftParams p;
  p.nFft = static_cast<int>(napi::intField(env, o, "nFft", op, 1, limits::kMaxFftSize));
  p.hopLength = static_cast<int>(napi::intField(env, o, "hopLength", op, 1, limits::kMaxHop));
  p.winLength = static_cast<int>(napi::intField(env, o, "winLength", op, 1, limits::kMaxFftSize));
  p.center = napi::boolField(env, o, "center", op);
  try {
    p.window = parseWindow(napi::stringField(env, o, "window", op));
    p.padMode = parsePadMode(napi::stringField(env, o, "padMode", op));
    validateStftParams(p, op.c_str());
  } catch (const Error& e) {
    napi::throwInvalidArgument(env, op, e.what());
  }
  return p;
}

// Transposes frame-major float data [frames][rows] to row-major [rows][frames].
std::vector<float> transposeMag(const Spectrogram& s, int mode) {
  std::vector<float> out(static_cast<size_t>(s.bins) * s.frames);
  for (int64_t t = 0; t < s.frames; ++t) {
    const std::complex<float>* f = s.data.data() + t * s.bins;
    for (int k = 0; k < s.bins; ++k) {
      const float re = f[k].real(), im = f[k].imag();
      const float m = std::sqrt(re * re + im * im);
      out[static_cast<size_t>(k) * s.frames + t] = mode == 1 ? m : m * m;
    }
  }
  return out;
}

// A spectrogram as it crosses to JS: [bins][frames][re, im] (complex) or [bins][frames].
struct StftOut {
  int bins = 0;
  int64_t frames = 0;
  std::vector<float> data;
};

StftOut stftOut(const Spectrogram& s, int mode) {
  StftOut out{s.bins, s.frames, {}};
  if (mode == 0) {
    // complex, [bins][frames][re, im]
    out.data.resize(static_cast<size_t>(s.bins) * s.frames * 2);
    for (int64_t t = 0; t < s.frames; ++t)
      for (int k = 0; k < s.bins; ++k) {
        const std::complex<float> c = s.data[t * s.bins + k];
        const size_t o = (static_cast<size_t>(k) * s.frames + t) * 2;
        out.data[o] = c.real();
        out.data[o + 1] = c.imag();
      }
  } else {
    out.data = transposeMag(s, mode);
  }
  return out;
}

Napi::Value stftToJs(Napi::Env env, StftOut& s) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("bins", Napi::Number::New(env, s.bins));
  out.Set("frames", Napi::Number::New(env, static_cast<double>(s.frames)));
  out.Set("data", napi::toFloat32Array(env, std::move(s.data)));
  return out;
}

Napi::Value Stft(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "stft";
  napi::PinnedFloats input = napi::pinFloat32(env, info[0], op, "samples");
  Napi::Object opts = napi::objectArg(env, info, 1, op);
  const StftParams p = readStftParams(env, opts, op);
  const std::string output = napi::stringField(env, opts, "output", op);
  int mode = 0;
  if (output == "complex") mode = 0;
  else if (output == "magnitude") mode = 1;
  else if (output == "power") mode = 2;
  else napi::throwInvalidArgument(env, op, "output must be complex, magnitude or power");
  return napi::queueTask(
      env, "stft",
      [input = std::move(input), p, mode, cancel = napi::cancelTokenArg(env, info, 2, op)] {
        requireFinite(input.data, static_cast<int64_t>(input.size), "stft");
        return stftOut(stft(input.data, static_cast<int64_t>(input.size), p, cancel.get()), mode);
      },
      stftToJs);
}

Napi::Value Istft(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "istft";
  napi::PinnedFloats spec = napi::pinFloat32(env, info[0], op, "spectrogram");
  Napi::Object opts = napi::objectArg(env, info, 1, op);
  const StftParams p = readStftParams(env, opts, op);
  const int bins = static_cast<int>(napi::intField(env, opts, "bins", op, 1, limits::kMaxFftSize / 2 + 1));
  const double frames = static_cast<double>(napi::intField(env, opts, "frames", op, 0, int64_t{1} << 40));
  const double length = static_cast<double>(napi::intField(env, opts, "length", op, -1, int64_t{1} << 40));
  if (static_cast<double>(spec.size) != 2.0 * bins * frames)
    napi::throwInvalidArgument(env, op, "spectrogram length must be bins * frames * 2");
  return napi::queueTask(
      env, "istft",
      [spec = std::move(spec), bins, frames = static_cast<int64_t>(frames), p, length = static_cast<int64_t>(length),
       cancel = napi::cancelTokenArg(env, info, 2, op)] {
        // [bins][frames][re, im] -> frame-major complex
        std::vector<std::complex<float>> s(static_cast<size_t>(bins) * frames);
        for (int k = 0; k < bins; ++k)
          for (int64_t t = 0; t < frames; ++t) {
            const size_t o = (static_cast<size_t>(k) * frames + t) * 2;
            s[t * bins + k] = {spec.data[o], spec.data[o + 1]};
          }
        return istft(s.data(), bins, frames, p, length, cancel.get());
      },
      [](Napi::Env env, std::vector<float>& out) { return napi::toFloat32Array(env, std::move(out)); });
}

struct AnalyzeJob {
  FeatureParams features;
  bool onset = false, beats = false;
  beat::OnsetParams onsetParams;
  beat::BeatParams beatParams;
};

// What one analyze() call computed: the features, and the onset envelope and beats when asked.
struct Analysis {
  FeatureSet set;
  std::vector<float> onset;
  beat::BeatResult beat;
};

Analysis runAnalysis(const float* samples, int64_t n, const AnalyzeJob& job, const CancelToken* cancel) {
  if (n == 0) throw Error(code::kInvalidArgument, "analyze: the input is empty");
  Analysis a;
  FeatureParams fp = job.features;
  const bool needOnset = job.onset || job.beats;
  if (needOnset) {
    // onset strength reads the shared dB mel matrix in place, before it is released
    fp.onMelDb = [&a, &job](const float* db, int bands, int64_t frames) {
      a.onset = beat::onsetStrengthFromDb(db, bands, frames, job.onsetParams);
    };
  }
  a.set = computeFeatures(samples, n, fp, cancel);
  if (needOnset) {
    if (job.beats)
      a.beat = beat::beatTrack(a.onset.data(), static_cast<int64_t>(a.onset.size()), job.beatParams, cancel);
  }
  return a;
}

Napi::Value analysisToJs(Napi::Env env, Analysis& a, const AnalyzeJob& job) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("frames", Napi::Number::New(env, static_cast<double>(a.set.frames)));
  out.Set("frameFrames", Napi::Number::New(env, static_cast<double>(a.set.frameFrames)));
  auto put = [&](const char* key, std::vector<float>& v, bool want) {
    if (want) out.Set(key, napi::toFloat32Array(env, std::move(v)));
  };
  const FeatureParams& f = job.features;
  FeatureSet& set = a.set;
  put("melPower", set.melPower, f.melPower);
  put("melDb", set.melDb, f.melDb);
  put("mfcc", set.mfcc, f.mfcc);
  put("chroma", set.chroma, f.chroma);
  put("centroid", set.centroid, f.centroid);
  put("bandwidth", set.bandwidth, f.bandwidth);
  put("rolloff", set.rolloff, f.rolloff);
  put("zcr", set.zcr, f.zcr);
  put("rms", set.rms, f.rms);
  if (f.chroma) out.Set("tuning", Napi::Number::New(env, set.tuning));
  put("onset", a.onset, job.onset);
  if (job.beats) out.Set("beat", beat::beatResultToJs(env, a.beat));
  return out;
}

Napi::Value Analyze(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "analyze";
  napi::PinnedFloats input = napi::pinFloat32(env, info[0], op, "samples");
  Napi::Object o = napi::objectArg(env, info, 1, op);
  AnalyzeJob job;
  FeatureParams& p = job.features;
  p.sr = napi::rateField(env, o, "sampleRate", op);
  p.stft = readStftParams(env, o, op);
  p.melPower = napi::boolField(env, o, "melPower", op);
  p.melDb = napi::boolField(env, o, "melDb", op);
  p.mfcc = napi::boolField(env, o, "mfcc", op);
  p.chroma = napi::boolField(env, o, "chroma", op);
  p.centroid = napi::boolField(env, o, "centroid", op);
  p.bandwidth = napi::boolField(env, o, "bandwidth", op);
  p.rolloff = napi::boolField(env, o, "rolloff", op);
  p.zcr = napi::boolField(env, o, "zcr", op);
  p.rms = napi::boolField(env, o, "rms", op);
  job.onset = napi::boolField(env, o, "onset", op);
  job.beats = napi::boolField(env, o, "beats", op);
  p.nMels = static_cast<int>(napi::intField(env, o, "nMels", op, 1, 4096));
  p.fmin = napi::numberField(env, o, "fmin", op);
  p.fmax = napi::numberField(env, o, "fmax", op);
  p.htk = napi::boolField(env, o, "htk", op);
  const double melNorm = napi::numberField(env, o, "melNorm", op);  // -1 slaney, 0 none, p > 0
  if (melNorm < 0) p.melNorm.kind = MelNorm::Slaney;
  else if (melNorm == 0) p.melNorm.kind = MelNorm::None;
  else {
    p.melNorm.kind = MelNorm::PNorm;
    p.melNorm.p = melNorm;
  }
  p.melPowerExp = napi::numberField(env, o, "power", op);
  p.dbRef = napi::numberField(env, o, "ref", op);
  p.dbAmin = napi::numberField(env, o, "amin", op);
  p.dbTopDb = napi::numberField(env, o, "topDb", op);  // < 0: none
  p.nMfcc = static_cast<int>(napi::intField(env, o, "nMfcc", op, 1, 4096));
  p.lifter = napi::numberField(env, o, "lifter", op);
  p.nChroma = static_cast<int>(napi::intField(env, o, "nChroma", op, 1, 120));
  p.tuning = napi::numberField(env, o, "tuning", op);  // NaN: estimate
  p.ctroct = napi::numberField(env, o, "ctroct", op);
  p.octwidth = napi::numberField(env, o, "octwidth", op);
  p.chromaNorm = napi::numberField(env, o, "chromaNorm", op);
  p.bandwidthP = napi::numberField(env, o, "bandwidthP", op);
  p.rollPercent = napi::numberField(env, o, "rollPercent", op);
  p.frameLength = static_cast<int>(napi::intField(env, o, "frameLength", op, 1, limits::kMaxFftSize));
  p.frameHop = static_cast<int>(napi::intField(env, o, "frameHop", op, 1, limits::kMaxHop));
  p.frameCenter = p.stft.center;
  p.threads = static_cast<int>(napi::intField(env, o, "threads", op, 1, 64));
  job.onsetParams.aggregate = beat::parseAggregate(env, napi::stringField(env, o, "onsetAggregate", op), op);
  job.onsetParams.lag = static_cast<int>(napi::intField(env, o, "lag", op, 1, 1 << 20));
  job.onsetParams.maxSize = static_cast<int>(napi::intField(env, o, "maxSize", op, 1, 4096));
  job.onsetParams.detrend = napi::boolField(env, o, "detrend", op);
  job.onsetParams.center = p.stft.center;
  job.onsetParams.nFft = p.stft.nFft;
  job.onsetParams.hopLength = p.stft.hopLength;
  if (job.beats) {
    job.beatParams = beat::readBeatParams(env, o, p.sr, p.stft.hopLength, op);
    job.beatParams.tempo.threads = p.threads;
  }
  auto shared = std::make_shared<const AnalyzeJob>(std::move(job));
  return napi::queueTask(
      env, "analyze",
      [input = std::move(input), job = shared, cancel = napi::cancelTokenArg(env, info, 2, op)] {
        return runAnalysis(input.data, static_cast<int64_t>(input.size), *job, cancel.get());
      },
      [job = shared](Napi::Env env, Analysis& a) { return analysisToJs(env, a, *job); });
}

}  // namespace

void RegisterDsp(Napi::Env env, Napi::Object exports) {
  exports.Set("stft", Napi::Function::New(env, Stft, "stft"));
  exports.Set("istft", Napi::Function::New(env, Istft, "istft"));
  exports.Set("analyze", Napi::Function::New(env, Analyze, "analyze"));
}

}  // namespace de::dsp
