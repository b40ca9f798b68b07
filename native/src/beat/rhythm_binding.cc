// N-API glue for the learned rhythm tracker. rhythmOpen() creates an ONNX Runtime session for a
// BeatNet CRNN and checks its contract; trackRhythm() runs features -> CRNN -> DBN -> refinement on
// one worker thread with no JS in between.
#include "beat/rhythm_binding.h"

#include <cmath>
#include <limits>

#include "beat/rhythm.h"
#include "ml/ort.h"
#include "napi/worker.h"

namespace de::beat {
namespace {

using napi::PromiseWorker;

constexpr napi_type_tag kRhythmTag = {0x4b1d7a93e2c8f065ULL, 0x8a3f5e1c7b2d9064ULL};

struct Engine {
  std::shared_ptr<ml::Session> session;
};

Napi::Float64Array toFloat64(Napi::Env env, const std::vector<double>& v) {
  Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = v[i];
  return a;
}

Napi::Array metersToJs(Napi::Env env, const std::vector<MeterScore>& meters) {
  Napi::Array out = Napi::Array::New(env, meters.size());
  for (size_t i = 0; i < meters.size(); ++i) {
    Napi::Object m = Napi::Object::New(env);
    m.Set("beatsPerBar", Napi::Number::New(env, meters[i].beatsPerBar));
    // -Infinity (no decodable path) crosses as null so the value survives JSON.
    if (std::isfinite(meters[i].logProbability))
      m.Set("logProbability", Napi::Number::New(env, meters[i].logProbability));
    else m.Set("logProbability", env.Null());
    out.Set(static_cast<uint32_t>(i), m);
  }
  return out;
}

DbnParams readDbnParams(Napi::Env env, const Napi::Object& opts, const std::string& op) {
  DbnParams p;
  Napi::Value meters = opts.Get("meters");
  if (!meters.IsArray()) napi::throwInvalidArgument(env, op, "option 'meters' must be an array");
  Napi::Array arr = meters.As<Napi::Array>();
  p.beatsPerBar.clear();
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value v = arr.Get(i);
    if (!v.IsNumber()) napi::throwInvalidArgument(env, op, "meters must be numbers");
    const int b = v.As<Napi::Number>().Int32Value();
    if (b < 1 || b > kMaxBeatsPerBar) napi::throwInvalidArgument(env, op, "meters must be 1..12 beats per bar");
    p.beatsPerBar.push_back(b);
  }
  if (p.beatsPerBar.empty()) napi::throwInvalidArgument(env, op, "meters must not be empty");
  p.minBpm = napi::numberField(env, opts, "minBpm", op);
  p.maxBpm = napi::numberField(env, opts, "maxBpm", op);
  p.numTempi = static_cast<int>(napi::numberField(env, opts, "numTempi", op));
  p.transitionLambda = napi::numberField(env, opts, "transitionLambda", op);
  p.observationLambda = napi::numberField(env, opts, "observationLambda", op);
  p.threshold = napi::numberField(env, opts, "threshold", op);
  p.correct = napi::boolField(env, opts, "correct", op);
  p.fps = napi::numberField(env, opts, "fps", op);
  if (!(p.minBpm > 0) || !(p.maxBpm > p.minBpm) || !(p.fps > 0) || !(p.observationLambda > 1) ||
      !(p.transitionLambda > 0)) {
    napi::throwInvalidArgument(env, op, "invalid tempo range, fps or lambda");
  }
  return p;
}

Napi::Object rhythmToJs(Napi::Env env, RhythmResult& r) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("beats", toFloat64(env, r.beats));
  out.Set("downbeats", toFloat64(env, r.downbeats));
  Napi::Int32Array pos = Napi::Int32Array::New(env, r.positions.size());
  for (size_t i = 0; i < r.positions.size(); ++i) pos[i] = r.positions[i];
  out.Set("beatPositions", pos);
  out.Set("beatsPerBar", Napi::Number::New(env, r.beatsPerBar));
  out.Set("confidence", Napi::Number::New(env, r.confidence));
  out.Set("tempoBpm", Napi::Number::New(env, r.tempoBpm));
  out.Set("tempoCurve", toFloat64(env, r.tempoCurve));
  out.Set("meterScores", metersToJs(env, r.meters));
  out.Set("frames", Napi::Number::New(env, static_cast<double>(r.frames)));
  out.Set("backpointerBytes", Napi::Number::New(env, static_cast<double>(r.backpointerBytes)));
  Napi::Object timings = Napi::Object::New(env);
  timings.Set("features", Napi::Number::New(env, r.secondsFeatures));
  timings.Set("model", Napi::Number::New(env, r.secondsModel));
  timings.Set("decode", Napi::Number::New(env, r.secondsDecode));
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("features", Napi::Number::New(env, r.cpuFeatures));
  cpu.Set("model", Napi::Number::New(env, r.cpuModel));
  cpu.Set("decode", Napi::Number::New(env, r.cpuDecode));
  timings.Set("cpu", cpu);
  out.Set("timings", timings);
  Napi::Int32Array frames = Napi::Int32Array::New(env, r.beatFrames.size());
  for (size_t i = 0; i < r.beatFrames.size(); ++i) frames[i] = static_cast<int32_t>(r.beatFrames[i]);
  out.Set("beatFrames", frames);
  Napi::Array crop = Napi::Array::New(env, 2);
  crop.Set(0u, Napi::Number::New(env, static_cast<double>(r.cropFirst)));
  crop.Set(1u, Napi::Number::New(env, static_cast<double>(r.cropLast)));
  out.Set("cropFrames", crop);
  if (!r.activations.empty()) out.Set("activations", napi::toFloat32Array(env, std::move(r.activations)));
  return out;
}

RhythmParams readRhythmParams(Napi::Env env, const Napi::Object& opts, const std::string& op) {
  RhythmParams p;
  p.dbn = readDbnParams(env, opts, op);
  p.refine = napi::boolField(env, opts, "refine", op);
  p.keepActivations = napi::boolField(env, opts, "keepActivations", op);
  p.barCues = napi::boolField(env, opts, "barCues", op);
  p.normalizeLevel = napi::boolField(env, opts, "normalizeLevel", op);
  return p;
}

// --- rhythmOpen -------------------------------------------------------------------------------

class OpenWorker : public PromiseWorker {
 public:
  OpenWorker(Napi::Env env, std::string path, std::vector<uint8_t> bytes, ml::SessionOptions options)
      : PromiseWorker(env, "rhythmOpen"),
        path_(std::move(path)),
        bytes_(std::move(bytes)),
        options_(std::move(options)) {}

 protected:
  void Run() override {
    engine_ = std::make_shared<Engine>();
    engine_->session = ml::Session::create(path_, bytes_, options_);
    bytes_.clear();
    bytes_.shrink_to_fit();
    const auto& ins = engine_->session->inputs();
    const auto& outs = engine_->session->outputs();
    bool okIn = false, okOut = false;
    for (const auto& s : ins)
      okIn = okIn || (s.name == "features" && s.elementType == "float32" && s.shape.size() == 3);
    for (const auto& s : outs)
      okOut = okOut || (s.name == "activations" && s.elementType == "float32" && s.shape.size() == 3);
    if (!okIn || !okOut) {
      throw Error(
          code::kModelInvalid,
          "rhythmOpen: expected a BeatNet CRNN with input 'features' [1, T, 272] and output 'activations' [1, T, 3]");
    }
  }
  Napi::Value Result(Napi::Env env) override {
    auto* owned = new std::shared_ptr<Engine>(engine_);
    auto handle = Napi::External<std::shared_ptr<Engine>>::New(env, owned,
                                                               [](Napi::Env, std::shared_ptr<Engine>* p) { delete p; });
    handle.TypeTag(&kRhythmTag);
    Napi::Object out = Napi::Object::New(env);
    out.Set("handle", handle);
    Napi::Array providers = Napi::Array::New(env, engine_->session->activeProviders().size());
    for (size_t i = 0; i < engine_->session->activeProviders().size(); ++i) {
      providers.Set(static_cast<uint32_t>(i), Napi::String::New(env, engine_->session->activeProviders()[i]));
    }
    out.Set("providers", providers);
    return out;
  }

 private:
  std::string path_;
  std::vector<uint8_t> bytes_;
  ml::SessionOptions options_;
  std::shared_ptr<Engine> engine_;
};

Napi::Value RhythmOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "rhythmOpen";
  std::string path;
  std::vector<uint8_t> bytes;
  if (info.Length() > 0 && info[0].IsString()) {
    path = info[0].As<Napi::String>().Utf8Value();
  } else if (info.Length() > 0 && info[0].IsTypedArray() &&
             info[0].As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    Napi::Uint8Array arr = info[0].As<Napi::Uint8Array>();
    bytes.assign(arr.Data(), arr.Data() + arr.ByteLength());
  } else {
    napi::throwInvalidArgument(env, op, "model must be a path or a Uint8Array");
  }
  Napi::Object opts = napi::objectArg(env, info, 1, op);
  ml::SessionOptions options;
  options.intraOpThreads = static_cast<int>(napi::numberField(env, opts, "intraOpThreads", op));
  options.interOpThreads = static_cast<int>(napi::numberField(env, opts, "interOpThreads", op));
  // Every song has its own length T, so the memory-pattern planner would keep one plan per length.
  options.memoryPattern = false;
  Napi::Value providers = opts.Get("providers");
  if (!providers.IsArray()) napi::throwInvalidArgument(env, op, "option 'providers' must be an array");
  options.providers.clear();
  Napi::Array arr = providers.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) options.providers.push_back(arr.Get(i).As<Napi::String>().Utf8Value());
  auto* worker = new OpenWorker(env, std::move(path), std::move(bytes), options);
  worker->Queue();
  return worker->Promise();
}

std::shared_ptr<Engine> engineArg(Napi::Env env, const Napi::Value& v, const std::string& op) {
  if (!v.IsExternal() || !v.As<Napi::Object>().CheckTypeTag(&kRhythmTag)) {
    napi::throwInvalidArgument(env, op, "the first argument must be a handle from rhythmOpen()");
  }
  return *v.As<Napi::External<std::shared_ptr<Engine>>>().Data();
}

// --- trackRhythm ------------------------------------------------------------------------------

class TrackWorker : public PromiseWorker {
 public:
  TrackWorker(Napi::Env env, std::shared_ptr<Engine> engine, napi::PinnedFloats audio, RhythmParams p,
              CancelTokenPtr cancel)
      : PromiseWorker(env, "trackRhythm"),
        engine_(std::move(engine)),
        audio_(std::move(audio)),
        p_(std::move(p)),
        cancel_(std::move(cancel)) {}

 protected:
  void Run() override {
    result_ = trackRhythm(*engine_->session, audio_.data, static_cast<int64_t>(audio_.size), p_, cancel_.get());
  }
  Napi::Value Result(Napi::Env env) override { return rhythmToJs(env, result_); }

 private:
  std::shared_ptr<Engine> engine_;
  napi::PinnedFloats audio_;
  RhythmParams p_;
  CancelTokenPtr cancel_;
  RhythmResult result_;
};

Napi::Value TrackRhythm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "trackRhythm";
  std::shared_ptr<Engine> engine = engineArg(env, info[0], op);
  napi::PinnedFloats audio = napi::pinFloat32(env, info[1], op, "audio");
  Napi::Object opts = napi::objectArg(env, info, 2, op);
  RhythmParams p = readRhythmParams(env, opts, op);
  auto* worker =
      new TrackWorker(env, std::move(engine), std::move(audio), std::move(p), napi::cancelTokenArg(env, info, 3, op));
  worker->Queue();
  return worker->Promise();
}

// --- logSpectFeatures -------------------------------------------------------------------------

class FeaturesWorker : public PromiseWorker {
 public:
  FeaturesWorker(Napi::Env env, napi::PinnedFloats audio, CancelTokenPtr cancel)
      : PromiseWorker(env, "logSpectFeatures"), audio_(std::move(audio)), cancel_(std::move(cancel)) {}

 protected:
  void Run() override {
    for (size_t i = 0; i < audio_.size; ++i) {
      if (!std::isfinite(audio_.data[i]))
        throw Error(code::kNonFiniteSamples, "logSpectFeatures: the audio contains a non-finite sample");
    }
    result_ = logSpect(audio_.data, static_cast<int64_t>(audio_.size), LogSpectParams{}, cancel_.get());
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("frames", Napi::Number::New(env, static_cast<double>(result_.frames)));
    out.Set("dims", Napi::Number::New(env, result_.dims));
    out.Set("data", napi::toFloat32Array(env, std::move(result_.data)));
    return out;
  }

 private:
  napi::PinnedFloats audio_;
  CancelTokenPtr cancel_;
  LogSpectFeatures result_;
};

Napi::Value LogSpectFeaturesFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "logSpectFeatures";
  napi::PinnedFloats audio = napi::pinFloat32(env, info[0], op, "audio");
  auto* worker = new FeaturesWorker(env, std::move(audio), napi::cancelTokenArg(env, info, 1, op));
  worker->Queue();
  return worker->Promise();
}

// --- decodeDownbeats --------------------------------------------------------------------------

class DecodeWorker : public PromiseWorker {
 public:
  DecodeWorker(Napi::Env env, napi::PinnedFloats act, int columns, RhythmParams p, CancelTokenPtr cancel)
      : PromiseWorker(env, "decodeDownbeats"),
        act_(std::move(act)),
        columns_(columns),
        p_(std::move(p)),
        cancel_(std::move(cancel)) {}

 protected:
  void Run() override {
    const int64_t frames = static_cast<int64_t>(act_.size / columns_);
    std::vector<float> act3(static_cast<size_t>(frames) * 3, 0.0f);
    for (int64_t t = 0; t < frames; ++t) {
      for (int c = 0; c < columns_; ++c) act3[3 * t + c] = act_.data[columns_ * t + c];
      if (columns_ == 2) act3[3 * t + 2] = 1.0f - act3[3 * t] - act3[3 * t + 1];
    }
    for (float v : act3) {
      if (!std::isfinite(v))
        throw Error(code::kNonFiniteSamples, "decodeDownbeats: activations contain a non-finite value");
    }
    result_ = decodeRhythm(act3.data(), frames, nullptr, 0, 22050.0, p_, cancel_.get());
  }
  Napi::Value Result(Napi::Env env) override { return rhythmToJs(env, result_); }

 private:
  napi::PinnedFloats act_;
  int columns_;
  RhythmParams p_;
  CancelTokenPtr cancel_;
  RhythmResult result_;
};

Napi::Value DecodeDownbeatsFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "decodeDownbeats";
  napi::PinnedFloats act = napi::pinFloat32(env, info[0], op, "activations");
  Napi::Object opts = napi::objectArg(env, info, 1, op);
  const int columns = static_cast<int>(napi::numberField(env, opts, "columns", op));
  if (columns != 2 && columns != 3) napi::throwInvalidArgument(env, op, "columns must be 2 or 3");
  if (act.size % static_cast<size_t>(columns) != 0)
    napi::throwInvalidArgument(env, op, "activations length must be a multiple of columns");
  RhythmParams p = readRhythmParams(env, opts, op);
  auto* worker = new DecodeWorker(env, std::move(act), columns, std::move(p), napi::cancelTokenArg(env, info, 2, op));
  worker->Queue();
  return worker->Promise();
}

}  // namespace

void RegisterRhythm(Napi::Env env, Napi::Object exports) {
  exports.Set("rhythmOpen", Napi::Function::New(env, RhythmOpen, "rhythmOpen"));
  exports.Set("trackRhythm", Napi::Function::New(env, TrackRhythm, "trackRhythm"));
  exports.Set("logSpectFeatures", Napi::Function::New(env, LogSpectFeaturesFn, "logSpectFeatures"));
  exports.Set("decodeDownbeats", Napi::Function::New(env, DecodeDownbeatsFn, "decodeDownbeats"));
}

}  // namespace de::beat
