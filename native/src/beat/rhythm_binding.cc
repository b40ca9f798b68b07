// N-API glue for the learned rhythm tracker. rhythmOpen() creates an ONNX Runtime session for a
// BeatNet CRNN and checks its contract; the session is a model handle like the other models'
// (napi/handle.h: leases, modelClose, DE_CLOSED). trackRhythm() runs features -> CRNN -> DBN ->
// refinement on one worker thread with no JS in between.
#include "beat/rhythm_binding.h"

#include <cmath>
#include <limits>

#include "beat/beatnet_crnn.h"
#include "beat/rhythm.h"
#include "ml/model_binding.h"
#include "ml/ort.h"
#include "napi/args.h"
#include "napi/handle.h"
#include "napi/worker.h"

namespace de::beat {
namespace {

constexpr const char* kKind = "rhythm";

// Exactly one of the two runs the CRNN.
struct Engine {
  std::shared_ptr<ml::Session> session;
  std::unique_ptr<BeatNetCrnn> builtin;
};

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
  out.Set("beats", napi::toFloat64Array(env, r.beats));
  out.Set("downbeats", napi::toFloat64Array(env, r.downbeats));
  Napi::Int32Array pos = Napi::Int32Array::New(env, r.positions.size());
  for (size_t i = 0; i < r.positions.size(); ++i) pos[i] = r.positions[i];
  out.Set("beatPositions", pos);
  out.Set("beatsPerBar", Napi::Number::New(env, r.beatsPerBar));
  Napi::Object meter = Napi::Object::New(env);
  meter.Set("numerator", Napi::Number::New(env, r.meterNumerator));
  meter.Set("denominator", Napi::Number::New(env, r.meterDenominator));
  out.Set("meter", meter);
  out.Set("subdivision", Napi::Number::New(env, r.subdivision));
  out.Set("confidence", Napi::Number::New(env, r.confidence));
  out.Set("tempoBpm", Napi::Number::New(env, r.tempoBpm));
  out.Set("tempoCurve", napi::toFloat64Array(env, r.tempoCurve));
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
  p.compoundMeters = napi::boolField(env, opts, "compoundMeters", op);
  p.oddMeters = napi::boolField(env, opts, "oddMeters", op);
  p.percussiveBackbeat = napi::boolField(env, opts, "percussiveBackbeat", op);
  p.sectionRepair = napi::boolField(env, opts, "sectionRepair", op);
  return p;
}

// --- rhythmOpen -------------------------------------------------------------------------------

std::shared_ptr<Engine> openEngine(const ml::ModelSource& model, const ml::SessionOptions& options, bool builtin,
                                   RecurrentPrecision precision) {
  auto engine = std::make_shared<Engine>();
  if (builtin) {
    std::string why;
    engine->builtin = model.path.empty()
                          ? BeatNetCrnn::fromOnnx(model.bytes.data(), model.bytes.size(), precision, &why)
                          : BeatNetCrnn::fromOnnxFile(model.path, precision, &why);
    if (!engine->builtin) throw Error(code::kModelInvalid, "rhythmOpen: not for the built-in CRNN: " + why);
    return engine;
  }
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
  Napi::Object opts = napi::objectArg(env, info, 1, op);
  // 'builtin': the addon's own kernels (BeatNetCrnn), without ONNX Runtime; else a session.
  const bool builtin = opts.Has("runtime") && opts.Get("runtime").IsString() &&
                       opts.Get("runtime").As<Napi::String>().Utf8Value() == "builtin";
  RecurrentPrecision precision = RecurrentPrecision::kFloat16;
  if (opts.Has("recurrentPrecision")) {
    const Napi::Value v = opts.Get("recurrentPrecision");
    const std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
    if (s != "float16" && s != "float32")
      napi::throwInvalidArgument(env, op, "option 'recurrentPrecision' must be 'float16' or 'float32'");
    if (s == "float32") precision = RecurrentPrecision::kFloat32;
  }
  // Every song has its own length T, so the memory-pattern planner would keep one plan per length.
  ml::SessionOptions defaults;
  defaults.memoryPattern = false;
  ml::SessionOptions options = ml::sessionOptionsField(env, opts, op, defaults);
  return ml::openModel<Engine>(
      env, "rhythmOpen", kKind, std::move(model), std::move(options),
      [builtin, precision](const ml::ModelSource& m, const ml::SessionOptions& o) {
        return openEngine(m, o, builtin, precision);
      },
      [](Napi::Env env, const Engine& engine, Napi::Object& out) {
        out.Set("providers", engine.session ? napi::stringsToJs(env, engine.session->activeProviders())
                                            : napi::stringsToJs(env, {"cpu"}));
        out.Set("runtime", Napi::String::New(env, engine.session ? "onnxruntime" : "builtin"));
      });
}

// --- trackRhythm ------------------------------------------------------------------------------

Napi::Value TrackRhythm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "trackRhythm";
  napi::Lease lease = napi::acquireHandle(env, info, 0, kKind, op);
  napi::PinnedFloats audio = napi::pinFloat32(env, info[1], op, "audio");
  Napi::Object opts = napi::objectArg(env, info, 2, op);
  RhythmParams p = readRhythmParams(env, opts, op);
  CancelTokenPtr cancel = napi::cancelTokenArg(env, info, 3, op);
  return napi::queueModelTask<Engine>(
      env, "trackRhythm", std::move(lease),
      [audio = std::move(audio), p = std::move(p), cancel = std::move(cancel)](Engine& engine) {
        return trackRhythm(engine.session.get(), engine.builtin.get(), audio.data, static_cast<int64_t>(audio.size), p,
                           cancel.get());
      },
      rhythmToJs);
}

// --- logSpectFeatures -------------------------------------------------------------------------

Napi::Value logSpectToJs(Napi::Env env, LogSpectFeatures& features) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("frames", Napi::Number::New(env, static_cast<double>(features.frames)));
  out.Set("dims", Napi::Number::New(env, features.dims));
  out.Set("data", napi::toFloat32Array(env, std::move(features.data)));
  return out;
}

Napi::Value LogSpectFeaturesFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "logSpectFeatures";
  napi::PinnedFloats audio = napi::pinFloat32(env, info[0], op, "audio");
  return napi::queueTask(
      env, "logSpectFeatures",
      [audio = std::move(audio), cancel = napi::cancelTokenArg(env, info, 1, op)] {
        for (size_t i = 0; i < audio.size; ++i) {
          if (!std::isfinite(audio.data[i]))
            throw Error(code::kNonFiniteSamples, "logSpectFeatures: the audio contains a non-finite sample");
        }
        return logSpect(audio.data, static_cast<int64_t>(audio.size), LogSpectParams{}, cancel.get());
      },
      logSpectToJs);
}

// --- decodeDownbeats --------------------------------------------------------------------------

// Decodes beats and downbeats from [frames][columns] activations (2 columns: beat, downbeat; the
// third, no beat, is 1 minus their sum).
RhythmResult decodeActivations(const float* act, int columns, int64_t frames, const RhythmParams& p,
                               const CancelToken* cancel) {
  std::vector<float> act3(static_cast<size_t>(frames) * 3, 0.0f);
  for (int64_t t = 0; t < frames; ++t) {
    for (int c = 0; c < columns; ++c) act3[3 * t + c] = act[columns * t + c];
    if (columns == 2) act3[3 * t + 2] = 1.0f - act3[3 * t] - act3[3 * t + 1];
  }
  for (float v : act3) {
    if (!std::isfinite(v))
      throw Error(code::kNonFiniteSamples, "decodeDownbeats: activations contain a non-finite value");
  }
  return decodeRhythm(act3.data(), frames, nullptr, 0, 22050.0, p, cancel);
}

Napi::Value DecodeDownbeatsFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "decodeDownbeats";
  napi::PinnedFloats act = napi::pinFloat32(env, info[0], op, "activations");
  Napi::Object opts = napi::objectArg(env, info, 1, op);
  const int columns = static_cast<int>(napi::intField(env, opts, "columns", op, 2, 3));
  if (act.size % static_cast<size_t>(columns) != 0)
    napi::throwInvalidArgument(env, op, "activations length must be a multiple of columns");
  RhythmParams p = readRhythmParams(env, opts, op);
  return napi::queueTask(
      env, "decodeDownbeats",
      [act = std::move(act), columns, p = std::move(p), cancel = napi::cancelTokenArg(env, info, 2, op)] {
        return decodeActivations(act.data, columns, static_cast<int64_t>(act.size / columns), p, cancel.get());
      },
      rhythmToJs);
}

}  // namespace

void RegisterRhythm(Napi::Env env, Napi::Object exports) {
  exports.Set("rhythmOpen", Napi::Function::New(env, RhythmOpen, "rhythmOpen"));
  exports.Set("trackRhythm", Napi::Function::New(env, TrackRhythm, "trackRhythm"));
  exports.Set("logSpectFeatures", Napi::Function::New(env, LogSpectFeaturesFn, "logSpectFeatures"));
  exports.Set("decodeDownbeats", Napi::Function::New(env, DecodeDownbeatsFn, "decodeDownbeats"));
}

}  // namespace de::beat
