// N-API glue for the Beat This! tracker (beat/beat_this.h): beatThisOpen() creates an ONNX Runtime
// session for a converted network and checks its contract (a model handle like the others');
// trackBeatThis() runs front end -> network -> postprocessor on one worker thread;
// beatThisSpectrogram() is the front end alone, beatThisPostprocess() the postprocessor alone
// (on given logits).
#include "beat/beat_this_binding.h"

#include <chrono>
#include <cmath>

#include "beat/beat_this.h"
#include "common/error.h"
#include "common/limits.h"
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

// --- trackBeatThis ----------------------------------------------------------------------------

Napi::Array metersToJs(Napi::Env env, const std::vector<MeterScore>& meters) {
  Napi::Array out = Napi::Array::New(env, meters.size());
  for (size_t i = 0; i < meters.size(); ++i) {
    Napi::Object m = Napi::Object::New(env);
    m.Set("beatsPerBar", Napi::Number::New(env, meters[i].beatsPerBar));
    if (std::isfinite(meters[i].logProbability))
      m.Set("logProbability", Napi::Number::New(env, meters[i].logProbability));
    else m.Set("logProbability", env.Null());
    out.Set(static_cast<uint32_t>(i), m);
  }
  return out;
}

// {postprocess: 'minimal' | 'dbn', meters: number[]} (lib/models/beatThis.ts validates them first).
void readDecodeOptions(Napi::Env env, const Napi::Object& opts, const std::string& op, BeatThisPostprocess& post,
                       std::vector<int>& meters) {
  const std::string name = napi::stringField(env, opts, "postprocess", op);
  if (name == "minimal") post = BeatThisPostprocess::kMinimal;
  else if (name == "dbn") post = BeatThisPostprocess::kDbn;
  else napi::throwInvalidArgument(env, op, "option 'postprocess' must be 'minimal' or 'dbn'");
  Napi::Value v = opts.Get("meters");
  if (!v.IsArray()) napi::throwInvalidArgument(env, op, "option 'meters' must be an array");
  Napi::Array arr = v.As<Napi::Array>();
  meters.clear();
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value m = arr.Get(i);
    if (!m.IsNumber()) napi::throwInvalidArgument(env, op, "meters must be numbers");
    const double beats = m.As<Napi::Number>().DoubleValue();
    meters.push_back(static_cast<int>(napi::checkedField(
        env, op, [&] { return limits::requireInt(beats, 1, kMaxBeatsPerBar, op.c_str(), "meters (beats per bar)"); })));
  }
  if (meters.empty()) napi::throwInvalidArgument(env, op, "meters must not be empty");
}

Napi::Value trackToJs(Napi::Env env, BeatThisResult& r, bool keepLogits) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("beats", napi::toFloat64Array(env, r.beats));
  out.Set("downbeats", napi::toFloat64Array(env, r.downbeats));
  Napi::Int32Array pos = Napi::Int32Array::New(env, r.positions.size());
  for (size_t i = 0; i < r.positions.size(); ++i) pos[i] = r.positions[i];
  out.Set("beatPositions", pos);
  out.Set("beatsPerBar", Napi::Number::New(env, r.beatsPerBar));
  out.Set("confidence", Napi::Number::New(env, r.confidence));
  out.Set("tempoBpm", Napi::Number::New(env, r.tempoBpm));
  out.Set("tempoCurve", napi::toFloat64Array(env, r.tempoCurve));
  out.Set("frames", Napi::Number::New(env, static_cast<double>(r.frames)));
  out.Set("chunks", Napi::Number::New(env, static_cast<double>(r.chunks)));
  out.Set("meters", metersToJs(env, r.meters));
  Napi::Object timings = Napi::Object::New(env);
  timings.Set("features", Napi::Number::New(env, r.secondsFeatures));
  timings.Set("model", Napi::Number::New(env, r.secondsModel));
  timings.Set("decode", Napi::Number::New(env, r.secondsDecode));
  out.Set("timings", timings);
  if (keepLogits) {
    out.Set("beatLogits", napi::toFloat32Array(env, std::move(r.beatLogits)));
    out.Set("downbeatLogits", napi::toFloat32Array(env, std::move(r.downbeatLogits)));
  }
  return out;
}

Napi::Value TrackBeatThisFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "trackBeatThis";
  napi::Lease lease = napi::acquireHandle(env, info, 0, kKind, op);
  napi::PinnedFloats audio = napi::pinFloat32(env, info[1], op, "audio");
  Napi::Object opts = napi::objectArg(env, info, 2, op);
  BeatThisParams p;
  p.keepLogits = napi::boolField(env, opts, "keepLogits", op);
  readDecodeOptions(env, opts, op, p.postprocess, p.meters);
  CancelTokenPtr cancel = napi::cancelTokenArg(env, info, 3, op);
  const bool keepLogits = p.keepLogits;
  return napi::queueModelTask<Engine>(
      env, "trackBeatThis", std::move(lease),
      [audio = std::move(audio), p, cancel = std::move(cancel)](Engine& engine) {
        return trackBeatThis(*engine.session, audio.data, static_cast<int64_t>(audio.size), p, cancel.get());
      },
      [keepLogits](Napi::Env env, BeatThisResult& r) { return trackToJs(env, r, keepLogits); });
}

// --- beatThisSpectrogram ----------------------------------------------------------------------

Napi::Value spectToJs(Napi::Env env, BeatThisSpect& s) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("frames", Napi::Number::New(env, static_cast<double>(s.frames)));
  out.Set("mels", Napi::Number::New(env, s.mels));
  out.Set("data", napi::toFloat32Array(env, std::move(s.data)));
  return out;
}

Napi::Value BeatThisSpectrogramFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "beatThisSpectrogram";
  napi::PinnedFloats audio = napi::pinFloat32(env, info[0], op, "audio");
  return napi::queueTask(
      env, "beatThisSpectrogram",
      [audio = std::move(audio), cancel = napi::cancelTokenArg(env, info, 1, op)] {
        for (size_t i = 0; i < audio.size; ++i) {
          if (!std::isfinite(audio.data[i]))
            throw Error(code::kNonFiniteSamples, "beatThisSpectrogram: the audio contains a non-finite sample");
        }
        return beatThisSpect(audio.data, static_cast<int64_t>(audio.size), BeatThisFrontendParams{}, cancel.get());
      },
      spectToJs);
}

// --- beatThisPostprocess ----------------------------------------------------------------------

struct DecodeJob {
  BeatThisDecoded decoded;
  std::vector<float> activations;  // the DBN's input, when asked for
  double seconds = 0;
};

Napi::Value BeatThisPostprocessFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "beatThisPostprocess";
  napi::PinnedFloats beat = napi::pinFloat32(env, info[0], op, "beatLogits");
  napi::PinnedFloats downbeat = napi::pinFloat32(env, info[1], op, "downbeatLogits");
  if (beat.size != downbeat.size) napi::throwInvalidArgument(env, op, "beatLogits and downbeatLogits differ in length");
  BeatThisDecodeParams p;
  Napi::Object opts = napi::objectArg(env, info, 2, op);
  readDecodeOptions(env, opts, op, p.postprocess, p.meters);
  const bool keepActivations = napi::boolField(env, opts, "keepActivations", op);
  return napi::queueTask(
      env, "beatThisPostprocess",
      [beat = std::move(beat), downbeat = std::move(downbeat), p, keepActivations,
       cancel = napi::cancelTokenArg(env, info, 3, op)] {
        for (size_t i = 0; i < beat.size; ++i) {
          if (!std::isfinite(beat.data[i]) || !std::isfinite(downbeat.data[i]))
            throw Error(code::kInvalidArgument, "beatThisPostprocess: the logits contain a non-finite value");
        }
        const auto t0 = std::chrono::steady_clock::now();
        DecodeJob job;
        job.decoded = beatThisDecode(beat.data, downbeat.data, static_cast<int64_t>(beat.size), p, cancel.get());
        job.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (keepActivations)
          job.activations = beatThisDbnActivations(beat.data, downbeat.data, static_cast<int64_t>(beat.size));
        return job;
      },
      [keepActivations](Napi::Env env, DecodeJob& j) {
        Napi::Object out = Napi::Object::New(env);
        out.Set("beats", napi::toFloat64Array(env, j.decoded.beats));
        out.Set("downbeats", napi::toFloat64Array(env, j.decoded.downbeats));
        Napi::Int32Array pos = Napi::Int32Array::New(env, j.decoded.positions.size());
        for (size_t i = 0; i < j.decoded.positions.size(); ++i) pos[i] = j.decoded.positions[i];
        out.Set("beatPositions", pos);
        out.Set("beatsPerBar", Napi::Number::New(env, j.decoded.beatsPerBar));
        out.Set("confidence", Napi::Number::New(env, j.decoded.confidence));
        out.Set("meters", metersToJs(env, j.decoded.meters));
        out.Set("seconds", Napi::Number::New(env, j.seconds));
        if (keepActivations) out.Set("activations", napi::toFloat32Array(env, std::move(j.activations)));
        return out;
      });
}

}  // namespace

void RegisterBeatThis(Napi::Env env, Napi::Object exports) {
  exports.Set("beatThisOpen", Napi::Function::New(env, BeatThisOpen, "beatThisOpen"));
  exports.Set("trackBeatThis", Napi::Function::New(env, TrackBeatThisFn, "trackBeatThis"));
  exports.Set("beatThisSpectrogram", Napi::Function::New(env, BeatThisSpectrogramFn, "beatThisSpectrogram"));
  exports.Set("beatThisPostprocess", Napi::Function::New(env, BeatThisPostprocessFn, "beatThisPostprocess"));
}

}  // namespace de::beat
