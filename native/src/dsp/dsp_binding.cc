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

using napi::PromiseWorker;

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

class StftWorker : public PromiseWorker {
 public:
  StftWorker(Napi::Env env, napi::PinnedFloats input, StftParams p, int mode, CancelTokenPtr cancel)
      : PromiseWorker(env, "stft"), input_(std::move(input)), p_(p), mode_(mode), cancel_(std::move(cancel)) {}

 protected:
  void Run() override {
    requireFinite(input_.data, static_cast<int64_t>(input_.size), "stft");
    const Spectrogram s = stft(input_.data, static_cast<int64_t>(input_.size), p_, cancel_.get());
    bins_ = s.bins;
    frames_ = s.frames;
    if (mode_ == 0) {
      // complex, [bins][frames][re, im]
      data_.resize(static_cast<size_t>(s.bins) * s.frames * 2);
      for (int64_t t = 0; t < s.frames; ++t)
        for (int k = 0; k < s.bins; ++k) {
          const std::complex<float> c = s.data[t * s.bins + k];
          const size_t o = (static_cast<size_t>(k) * s.frames + t) * 2;
          data_[o] = c.real();
          data_[o + 1] = c.imag();
        }
    } else {
      data_ = transposeMag(s, mode_);
    }
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("bins", Napi::Number::New(env, bins_));
    out.Set("frames", Napi::Number::New(env, static_cast<double>(frames_)));
    out.Set("data", napi::toFloat32Array(env, std::move(data_)));
    return out;
  }

 private:
  napi::PinnedFloats input_;
  StftParams p_;
  int mode_;
  CancelTokenPtr cancel_;
  int bins_ = 0;
  int64_t frames_ = 0;
  std::vector<float> data_;
};

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
  auto* worker = new StftWorker(env, std::move(input), p, mode, napi::cancelTokenArg(env, info, 2, op));
  worker->Queue();
  return worker->Promise();
}

class IstftWorker : public PromiseWorker {
 public:
  IstftWorker(Napi::Env env, napi::PinnedFloats spec, int bins, int64_t frames, StftParams p, int64_t length,
              CancelTokenPtr cancel)
      : PromiseWorker(env, "istft"),
        spec_(std::move(spec)),
        bins_(bins),
        frames_(frames),
        p_(p),
        length_(length),
        cancel_(std::move(cancel)) {}

 protected:
  void Run() override {
    // [bins][frames][re, im] -> frame-major complex
    std::vector<std::complex<float>> s(static_cast<size_t>(bins_) * frames_);
    for (int k = 0; k < bins_; ++k)
      for (int64_t t = 0; t < frames_; ++t) {
        const size_t o = (static_cast<size_t>(k) * frames_ + t) * 2;
        s[t * bins_ + k] = {spec_.data[o], spec_.data[o + 1]};
      }
    out_ = istft(s.data(), bins_, frames_, p_, length_, cancel_.get());
  }
  Napi::Value Result(Napi::Env env) override { return napi::toFloat32Array(env, std::move(out_)); }

 private:
  napi::PinnedFloats spec_;
  int bins_;
  int64_t frames_;
  StftParams p_;
  int64_t length_;
  CancelTokenPtr cancel_;
  std::vector<float> out_;
};

Napi::Value Istft(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "istft";
  napi::PinnedFloats spec = napi::pinFloat32(env, info[0], op, "spectrogram");
  Napi::Object opts = napi::objectArg(env, info, 1, op);
  const StftParams p = readStftParams(env, opts, op);
  const int bins = static_cast<int>(napi::intField(env, opts, "bins", op, 1, limits::kMaxFftSize / 2 + 1));
  const double frames = static_cast<double>(napi::intField(env, opts, "frames", op, 0, int64_t{1} << 40));
  const double length = static_cast<double>(napi::intField(env, opts, "length", op, -1, int64_t{1} << 40));
  if (bins < 1 || frames < 0 || static_cast<double>(spec.size) != 2.0 * bins * frames)
    napi::throwInvalidArgument(env, op, "spectrogram length must be bins * frames * 2");
  auto* worker = new IstftWorker(env, std::move(spec), bins, static_cast<int64_t>(frames), p,
                                 static_cast<int64_t>(length), napi::cancelTokenArg(env, info, 2, op));
  worker->Queue();
  return worker->Promise();
}

struct AnalyzeJob {
  FeatureParams features;
  bool onset = false, beats = false;
  beat::OnsetParams onsetParams;
  beat::BeatParams beatParams;
};

class AnalyzeWorker : public PromiseWorker {
 public:
  AnalyzeWorker(Napi::Env env, napi::PinnedFloats input, AnalyzeJob job, CancelTokenPtr cancel)
      : PromiseWorker(env, "analyze"), input_(std::move(input)), job_(std::move(job)), cancel_(std::move(cancel)) {}

 protected:
  void Run() override {
    const int64_t n = static_cast<int64_t>(input_.size);
    if (n == 0) throw Error(code::kInvalidArgument, "analyze: the input is empty");
    FeatureParams fp = job_.features;
    const bool needOnset = job_.onset || job_.beats;
    if (needOnset) {
      // onset strength reads the shared dB mel matrix in place, before it is released
      fp.onMelDb = [this](const float* db, int bands, int64_t frames) {
        onset_ = beat::onsetStrengthFromDb(db, bands, frames, job_.onsetParams);
      };
    }
    set_ = computeFeatures(input_.data, n, fp, cancel_.get());
    if (needOnset) {
      if (job_.beats) {
        beat_ = beat::beatTrack(onset_.data(), static_cast<int64_t>(onset_.size()), job_.beatParams, cancel_.get());
      }
    }
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("frames", Napi::Number::New(env, static_cast<double>(set_.frames)));
    out.Set("frameFrames", Napi::Number::New(env, static_cast<double>(set_.frameFrames)));
    auto put = [&](const char* key, std::vector<float>& v, bool want) {
      if (want) out.Set(key, napi::toFloat32Array(env, std::move(v)));
    };
    const FeatureParams& f = job_.features;
    put("melPower", set_.melPower, f.melPower);
    put("melDb", set_.melDb, f.melDb);
    put("mfcc", set_.mfcc, f.mfcc);
    put("chroma", set_.chroma, f.chroma);
    put("centroid", set_.centroid, f.centroid);
    put("bandwidth", set_.bandwidth, f.bandwidth);
    put("rolloff", set_.rolloff, f.rolloff);
    put("zcr", set_.zcr, f.zcr);
    put("rms", set_.rms, f.rms);
    if (f.chroma) out.Set("tuning", Napi::Number::New(env, set_.tuning));
    put("onset", onset_, job_.onset);
    if (job_.beats) out.Set("beat", beat::beatResultToJs(env, beat_));
    return out;
  }

 private:
  napi::PinnedFloats input_;
  AnalyzeJob job_;
  CancelTokenPtr cancel_;
  FeatureSet set_;
  std::vector<float> onset_;
  beat::BeatResult beat_;
};

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
  auto* worker = new AnalyzeWorker(env, std::move(input), std::move(job), napi::cancelTokenArg(env, info, 2, op));
  worker->Queue();
  return worker->Promise();
}

}  // namespace

void RegisterDsp(Napi::Env env, Napi::Object exports) {
  exports.Set("stft", Napi::Function::New(env, Stft, "stft"));
  exports.Set("istft", Napi::Function::New(env, Istft, "istft"));
  exports.Set("analyze", Napi::Function::New(env, Analyze, "analyze"));
}

}  // namespace de::dsp
