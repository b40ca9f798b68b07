// N-API glue for the learned rhythm tracker. rhythmOpen() creates an ONNX Runtime session for a
// BeatNet CRNN and checks its contract; the session is a model handle like the other models'
// (napi/handle.h: leases, modelClose, DE_CLOSED). trackRhythm() runs features -> CRNN -> DBN ->
// refinement on one worker thread with no JS in between.
#include "beat/rhythm_binding.h"

#include <cmath>
#include <limits>

#include "beat/rhythm.h"
#include "ml/model_binding.h"
#include "ml/ort.h"
#include "napi/args.h"
#include "napi/handle.h"
#include "napi/worker.h"

namespace de::beat {
namespace {

using napi::PromiseWorker;

constexpr const char* kKind = "rhythm";

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
    const double beats = v.As<Napi::Number>().DoubleValue();
    const int b = static_cast<int>(napi::checkedField(
        env, op, [&] { return limits::requireInt(beats, 1, kMaxBeatsPerBar, op.c_str(), "meters (beats per bar)"); }));
    p.beatsPerBar.push_back(b);
  }
  if (p.beatsPerBar.empty()) napi::throwInvalidArgument(env, op, "meters must not be empty");
  p.minBpm = napi::numberField(env, opts, "minBpm", op);
  p.maxBpm = napi::numberField(env, opts, "maxBpm", op);
  p.numTempi = static_cast<int>(napi::intField(env, opts, "numTempi", op, 1, 1000));
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
  p.percussiveObservation = napi::boolField(env, opts, "percussiveObservation", op);
  p.percussiveGrid = napi::boolField(env, opts, "percussiveGrid", op);
  return p;
}

// --- rhythmOpen -------------------------------------------------------------------------------

std::shared_ptr<Engine> openEngine(const ml::ModelSource& model, const ml::SessionOptions& options) {
  auto engine = std::make_shared<Engine>();
  engine->session = ml::Session::create(model.path, model.bytes, options);
  bool okIn = false, okOut = false;
  for (const auto& s : engine->session->inputs())
    okIn = okIn || (s.name == "features" && s.elementType == "float32" && s.shape.size() == 3);
  for (const auto& s : engine->session->outputs())
    okOut = okOut || (s.name == "activations" && s.elementType == "float32" && s.shape.size() == 3);
  if (!okIn || !okOut) {
    throw Error(code::kModelInvalid,
                "rhythmOpen: expected a BeatNet CRNN with input 'features' [1, T, 272] and output 'activations' [1, "
                "T, 3]");
  }
  return engine;
}

Napi::Value RhythmOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "rhythmOpen";
  ml::ModelSource model = ml::modelArg(env, info, 0, op);
  // Every song has its own length T, so the memory-pattern planner would keep one plan per length.
  ml::SessionOptions defaults;
  defaults.memoryPattern = false;
  ml::SessionOptions options = ml::sessionOptionsField(env, napi::objectArg(env, info, 1, op), op, defaults);
  return ml::openModel<Engine>(env, "rhythmOpen", kKind, std::move(model), std::move(options), openEngine,
                               [](Napi::Env env, const Engine& engine, Napi::Object& out) {
                                 out.Set("providers", napi::stringsToJs(env, engine.session->activeProviders()));
                               });
}

// --- trackRhythm ------------------------------------------------------------------------------

class TrackWorker : public napi::ModelWorker {
 public:
  TrackWorker(Napi::Env env, napi::Lease lease, napi::PinnedFloats audio, RhythmParams p, CancelTokenPtr cancel)
      : napi::ModelWorker(env, "trackRhythm", std::move(lease)),
        audio_(std::move(audio)),
        p_(std::move(p)),
        cancel_(std::move(cancel)) {}

 protected:
  void Run() override {
    result_ = trackRhythm(*engine<Engine>().session, audio_.data, static_cast<int64_t>(audio_.size), p_, cancel_.get());
  }
  Napi::Value Result(Napi::Env env) override { return rhythmToJs(env, result_); }

 private:
  napi::PinnedFloats audio_;
  RhythmParams p_;
  CancelTokenPtr cancel_;
  RhythmResult result_;
};

Napi::Value TrackRhythm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "trackRhythm";
  napi::Lease lease = napi::acquireHandle(env, info, 0, kKind, op);
  napi::PinnedFloats audio = napi::pinFloat32(env, info[1], op, "audio");
  Napi::Object opts = napi::objectArg(env, info, 2, op);
  RhythmParams p = readRhythmParams(env, opts, op);
  CancelTokenPtr cancel = napi::cancelTokenArg(env, info, 3, op);
  auto* worker = new TrackWorker(env, std::move(lease), std::move(audio), std::move(p), std::move(cancel));
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
