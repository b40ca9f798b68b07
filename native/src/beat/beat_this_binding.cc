// N-API glue for the Beat This! tracker (beat/beat_this.h): beatThisOpen() creates an ONNX Runtime
// session for a converted network and checks its contract (a model handle like the others');
// trackBeatThis() runs front end -> network -> postprocessor on one worker thread;
// beatThisSpectrogram() is the front end alone.
#include "beat/beat_this_binding.h"

#include <cmath>

#include "beat/beat_this.h"
#include "ml/model_binding.h"
#include "ml/ort.h"
#include "napi/args.h"
#include "napi/handle.h"
#include "napi/worker.h"

namespace de::beat {
namespace {

constexpr const char* kKind = "beat-this";

struct Engine {
  std::shared_ptr<ml::Session> session;
};

Napi::Float64Array toFloat64(Napi::Env env, const std::vector<double>& v) {
  Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = v[i];
  return a;
}

std::shared_ptr<Engine> openEngine(const ml::ModelSource& model, const ml::SessionOptions& options) {
  auto engine = std::make_shared<Engine>();
  engine->session = ml::Session::create(model.path, model.bytes, options);
  bool okIn = false;
  int okOut = 0;
  for (const auto& s : engine->session->inputs())
    okIn = okIn || (s.name == "spect" && s.elementType == "float32" && s.shape.size() == 3);
  for (const auto& s : engine->session->outputs())
    okOut += (s.name == "beat" || s.name == "downbeat") && s.elementType == "float32" && s.shape.size() == 2 ? 1 : 0;
  if (!okIn || okOut != 2) {
    throw Error(code::kModelInvalid,
                "beatThisOpen: expected a Beat This! network with input 'spect' [1, T, 128] and outputs 'beat', "
                "'downbeat' [1, T] (install it with `didactic-engine models fetch beat-this`)");
  }
  return engine;
}

Napi::Value BeatThisOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "beatThisOpen";
  ml::ModelSource model = ml::modelArg(env, info, 0, op);
  // Chunks are 1500 frames except a short song's single one: few shapes, but not one.
  ml::SessionOptions defaults;
  defaults.memoryPattern = false;
  ml::SessionOptions options = ml::sessionOptionsField(env, napi::objectArg(env, info, 1, op), op, defaults);
  return ml::openModel<Engine>(env, "beatThisOpen", kKind, std::move(model), std::move(options), openEngine,
                               [](Napi::Env env, const Engine& engine, Napi::Object& out) {
                                 out.Set("providers", napi::stringsToJs(env, engine.session->activeProviders()));
                               });
}

class TrackWorker : public napi::ModelWorker {
 public:
  TrackWorker(Napi::Env env, napi::Lease lease, napi::PinnedFloats audio, BeatThisParams p, CancelTokenPtr cancel)
      : napi::ModelWorker(env, "trackBeatThis", std::move(lease)),
        audio_(std::move(audio)),
        p_(p),
        cancel_(std::move(cancel)) {}

 protected:
  void Run() override {
    r_ = trackBeatThis(*engine<Engine>().session, audio_.data, static_cast<int64_t>(audio_.size), p_, cancel_.get());
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("beats", toFloat64(env, r_.beats));
    out.Set("downbeats", toFloat64(env, r_.downbeats));
    Napi::Int32Array pos = Napi::Int32Array::New(env, r_.positions.size());
    for (size_t i = 0; i < r_.positions.size(); ++i) pos[i] = r_.positions[i];
    out.Set("beatPositions", pos);
    out.Set("beatsPerBar", Napi::Number::New(env, r_.beatsPerBar));
    out.Set("confidence", Napi::Number::New(env, r_.confidence));
    out.Set("tempoBpm", Napi::Number::New(env, r_.tempoBpm));
    out.Set("tempoCurve", toFloat64(env, r_.tempoCurve));
    out.Set("frames", Napi::Number::New(env, static_cast<double>(r_.frames)));
    out.Set("chunks", Napi::Number::New(env, static_cast<double>(r_.chunks)));
    Napi::Object timings = Napi::Object::New(env);
    timings.Set("features", Napi::Number::New(env, r_.secondsFeatures));
    timings.Set("model", Napi::Number::New(env, r_.secondsModel));
    timings.Set("decode", Napi::Number::New(env, r_.secondsDecode));
    out.Set("timings", timings);
    if (p_.keepLogits) {
      out.Set("beatLogits", napi::toFloat32Array(env, std::move(r_.beatLogits)));
      out.Set("downbeatLogits", napi::toFloat32Array(env, std::move(r_.downbeatLogits)));
    }
    return out;
  }

 private:
  napi::PinnedFloats audio_;
  BeatThisParams p_;
  CancelTokenPtr cancel_;
  BeatThisResult r_;
};

Napi::Value TrackBeatThisFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "trackBeatThis";
  napi::Lease lease = napi::acquireHandle(env, info, 0, kKind, op);
  napi::PinnedFloats audio = napi::pinFloat32(env, info[1], op, "audio");
  Napi::Object opts = napi::objectArg(env, info, 2, op);
  BeatThisParams p;
  p.keepLogits = napi::boolField(env, opts, "keepLogits", op);
  CancelTokenPtr cancel = napi::cancelTokenArg(env, info, 3, op);
  auto* worker = new TrackWorker(env, std::move(lease), std::move(audio), p, std::move(cancel));
  worker->Queue();
  return worker->Promise();
}

class SpectWorker : public napi::PromiseWorker {
 public:
  SpectWorker(Napi::Env env, napi::PinnedFloats audio, CancelTokenPtr cancel)
      : napi::PromiseWorker(env, "beatThisSpectrogram"), audio_(std::move(audio)), cancel_(std::move(cancel)) {}

 protected:
  void Run() override {
    for (size_t i = 0; i < audio_.size; ++i) {
      if (!std::isfinite(audio_.data[i]))
        throw Error(code::kNonFiniteSamples, "beatThisSpectrogram: the audio contains a non-finite sample");
    }
    s_ = beatThisSpect(audio_.data, static_cast<int64_t>(audio_.size), BeatThisFrontendParams{}, cancel_.get());
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("frames", Napi::Number::New(env, static_cast<double>(s_.frames)));
    out.Set("mels", Napi::Number::New(env, s_.mels));
    out.Set("data", napi::toFloat32Array(env, std::move(s_.data)));
    return out;
  }

 private:
  napi::PinnedFloats audio_;
  CancelTokenPtr cancel_;
  BeatThisSpect s_;
};

Napi::Value BeatThisSpectrogramFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "beatThisSpectrogram";
  napi::PinnedFloats audio = napi::pinFloat32(env, info[0], op, "audio");
  auto* worker = new SpectWorker(env, std::move(audio), napi::cancelTokenArg(env, info, 1, op));
  worker->Queue();
  return worker->Promise();
}

}  // namespace

void RegisterBeatThis(Napi::Env env, Napi::Object exports) {
  exports.Set("beatThisOpen", Napi::Function::New(env, BeatThisOpen, "beatThisOpen"));
  exports.Set("trackBeatThis", Napi::Function::New(env, TrackBeatThisFn, "trackBeatThis"));
  exports.Set("beatThisSpectrogram", Napi::Function::New(env, BeatThisSpectrogramFn, "beatThisSpectrogram"));
}

}  // namespace de::beat
