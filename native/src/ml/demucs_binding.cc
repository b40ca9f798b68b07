// N-API glue for Demucs: demucsOpen() creates a session and checks the contract, demucsSeparate()
// decodes / converts the input and separates it on a worker thread, reporting progress per segment.
#include "ml/demucs_binding.h"

#include <memory>

#include "ml/demucs.h"
#include "ml/model_binding.h"
#include "napi/args.h"
#include "napi/handle.h"
#include "napi/worker.h"

namespace de::ml {
namespace {

constexpr const char* kKind = "demucs";

struct Engine {
  std::shared_ptr<Session> session;
  demucs::ModelInfo info;
};

Napi::Object infoToJs(Napi::Env env, const Engine& engine) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("sources", napi::stringsToJs(env, engine.info.sourceNames));
  out.Set("sampleRate", Napi::Number::New(env, engine.info.sampleRate));
  out.Set("segment", Napi::Number::New(env, static_cast<double>(engine.info.segment)));
  out.Set("frames", Napi::Number::New(env, static_cast<double>(engine.info.frames)));
  out.Set("batch", Napi::Number::New(env, static_cast<double>(engine.info.batch)));
  out.Set("providers", napi::stringsToJs(env, engine.session->activeProviders()));
  out.Set("warnings", napi::stringsToJs(env, engine.session->warnings()));
  return out;
}

Napi::Value DemucsOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "demucsOpen";
  ModelSource model = modelArg(env, info, 0, op);
  // Off unless asked: measured 1676 -> 980 MiB resident per htdemucs segment run (docs/models.md).
  SessionOptions defaults;
  defaults.memoryPattern = false;
  SessionOptions options = sessionOptionsField(env, napi::objectArg(env, info, 1, op), op, defaults);
  return openModel<Engine>(
      env, "demucsOpen", kKind, std::move(model), std::move(options),
      [](const ModelSource& source, const SessionOptions& sessionOptions) {
        auto metadata = demucs::readOnnxMetadata(source.path, source.bytes);
        auto engine = std::make_shared<Engine>();
        engine->session = Session::create(source.path, source.bytes, sessionOptions);
        engine->info = demucs::inspectModel(*engine->session, metadata);
        return engine;
      },
      [](Napi::Env env, const Engine& engine, Napi::Object& out) { out.Set("info", infoToJs(env, engine)); });
}

// Forwards per-segment progress from the worker thread to a JS callback. It stays in place (report()
// hands out `this`) and is released on the JS thread with the task; no callback, no function.
class ProgressSink {
 public:
  ProgressSink(Napi::Env env, const Napi::Function& onProgress) {
    if (!onProgress.IsEmpty()) {
      fn_ = Napi::ThreadSafeFunction::New(env, onProgress, "demucsProgress", 0, 1);
      active_ = true;
    }
  }
  ProgressSink(const ProgressSink&) = delete;
  ProgressSink& operator=(const ProgressSink&) = delete;
  ~ProgressSink() {
    if (active_) fn_.Release();
  }

  // The callback demucs::separate reports to (empty without a JS callback).
  demucs::Progress report() {
    if (!active_) return {};
    return [this](int64_t done, int64_t total) {
      auto* data = new Counts{done, total};
      if (fn_.NonBlockingCall(data, [](Napi::Env env, Napi::Function fn, Counts* d) {
            fn.Call({Napi::Number::New(env, static_cast<double>(d->done)),
                     Napi::Number::New(env, static_cast<double>(d->total))});
            delete d;
          }) != napi_ok) {
        delete data;
      }
    };
  }

 private:
  struct Counts {
    int64_t done, total;
  };
  Napi::ThreadSafeFunction fn_;
  bool active_ = false;
};

// What demucsSeparate() resolves with, before it crosses to JS.
struct Separation {
  demucs::Stems stems;
  double sourceRate = 0;
  int sourceChannels = 0;
};

// Decode / convert the input, then separate: the whole call on the worker thread.
Separation separateInput(const Engine& engine, const napi::AudioArg& arg, const demucs::SeparateOptions& options,
                         const CancelToken* cancel, const demucs::Progress& progress) {
  AudioInput input = readAudio(arg, cancel);
  Separation r;
  r.sourceRate = input.sampleRate;
  r.sourceChannels = input.channels;
  // 44.1 kHz stereo is read in place; anything else is converted once.
  const float* mix = input.samples();
  int64_t frames = input.frames;
  std::vector<float> converted;
  if (demucs::needsConversion(input.channels, input.sampleRate)) {
    converted = demucs::toModelInput(mix, input.frames, input.channels, input.sampleRate, &frames, cancel);
    input.release();
    mix = converted.data();
  }
  r.stems = demucs::separate(*engine.session, engine.info, mix, frames, options, cancel, progress);
  return r;
}

Napi::Value separationToJs(Napi::Env env, Separation& r) {
  Napi::Object out = Napi::Object::New(env);
  std::vector<std::vector<float>>& data = r.stems.data;
  Napi::Array stems = Napi::Array::New(env, data.size());
  for (size_t i = 0; i < data.size(); ++i)
    stems.Set(static_cast<uint32_t>(i), napi::toFloat32Array(env, std::move(data[i])));
  out.Set("stems", stems);
  out.Set("frames", Napi::Number::New(env, static_cast<double>(r.stems.frames)));
  out.Set("sourceSampleRate", Napi::Number::New(env, r.sourceRate));
  out.Set("sourceChannels", Napi::Number::New(env, r.sourceChannels));
  return out;
}

// demucsSeparate(handle, input: {path} | {samples, sampleRate, channels}, options, cancel?, onProgress?)
Napi::Value DemucsSeparate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "separate";
  napi::Lease lease = napi::acquireHandle(env, info, 0, kKind, op);
  napi::AudioArg input = napi::audioArg(env, info, 1, op);
  Napi::Object opts = napi::objectArg(env, info, 2, op);
  demucs::SeparateOptions options;
  options.overlap = napi::rangeField(env, opts, "overlap", op, 0.0, 0.99);
  options.transitionPower = napi::rangeField(env, opts, "transitionPower", op, 1e-6, 1e6);
  options.shifts = static_cast<int>(napi::intField(env, opts, "shifts", op, 0, 20));
  options.seed = static_cast<uint64_t>(napi::intField(env, opts, "seed", op, 0, int64_t{1} << 53));
  options.batch = static_cast<int>(napi::intField(env, opts, "batch", op, 1, 4096));
  options.segmentSeconds = napi::rangeField(env, opts, "segmentSeconds", op, 0.0, 3600.0);
  CancelTokenPtr cancel = napi::cancelTokenArg(env, info, 3, op);
  Napi::Function onProgress;
  if (info.Length() > 4 && info[4].IsFunction()) onProgress = info[4].As<Napi::Function>();
  return napi::queueModelTask<Engine>(
      env, "separate", std::move(lease),
      [input = std::move(input), options, cancel = std::move(cancel),
       progress = std::make_unique<ProgressSink>(env, onProgress)](Engine& engine) {
        return separateInput(engine, input, options, cancel.get(), progress->report());
      },
      separationToJs);
}

}  // namespace

void RegisterDemucs(Napi::Env env, Napi::Object exports) {
  exports.Set("demucsOpen", Napi::Function::New(env, DemucsOpen, "demucsOpen"));
  exports.Set("demucsSeparate", Napi::Function::New(env, DemucsSeparate, "demucsSeparate"));
}

}  // namespace de::ml
