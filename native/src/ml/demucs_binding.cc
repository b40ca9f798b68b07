// N-API glue for Demucs: demucsOpen() creates a session and checks the contract, demucsSeparate()
// decodes / converts the input and separates it on a worker thread, reporting progress per segment.
#include "ml/demucs_binding.h"

#include <atomic>

#include "audio/decode.h"
#include "ml/demucs.h"
#include "ml/model_binding.h"
#include "napi/args.h"
#include "napi/handle.h"
#include "napi/worker.h"

namespace de::ml {
namespace {

using napi::PromiseWorker;

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

struct ProgressData {
  int64_t done, total;
};

class SeparateWorker : public napi::ModelWorker {
 public:
  SeparateWorker(Napi::Env env, napi::Lease lease, napi::AudioArg input, demucs::SeparateOptions options,
                 CancelTokenPtr cancel, Napi::Function onProgress)
      : napi::ModelWorker(env, "separate", std::move(lease)),
        path_(std::move(input.path)),
        pinned_(std::move(input.pinned)),
        sampleRate_(input.sampleRate),
        channels_(input.channels),
        options_(options),
        cancel_(std::move(cancel)) {
    if (!onProgress.IsEmpty()) {
      progress_ = Napi::ThreadSafeFunction::New(env, onProgress, "demucsProgress", 0, 1);
      hasProgress_ = true;
    }
  }
  ~SeparateWorker() override {
    if (hasProgress_) progress_.Release();
  }

 protected:
  void Run() override {
    const float* input;
    int64_t frames;
    std::vector<float> decoded;
    if (!path_.empty()) {
      audio::DecodedAudio a = audio::decodeFile(path_, {}, cancel_.get());
      decoded = std::move(a.samples);
      input = decoded.data();
      frames = a.frames;
      sampleRate_ = a.sampleRate;
      channels_ = a.channels;
    } else {
      input = pinned_.data;
      frames = static_cast<int64_t>(pinned_.size) / channels_;
    }
    sourceRate_ = sampleRate_;
    sourceChannels_ = channels_;
    // 44.1 kHz stereo is read in place; anything else is converted once.
    std::vector<float> converted;
    int64_t n = frames;
    if (demucs::needsConversion(channels_, sampleRate_)) {
      converted = demucs::toModelInput(input, frames, channels_, sampleRate_, &n, cancel_.get());
      decoded.clear();
      decoded.shrink_to_fit();
      input = converted.data();
    }
    demucs::Progress report;
    if (hasProgress_) {
      report = [this](int64_t done, int64_t total) {
        auto* data = new ProgressData{done, total};
        if (progress_.NonBlockingCall(data, [](Napi::Env env, Napi::Function fn, ProgressData* d) {
              fn.Call({Napi::Number::New(env, static_cast<double>(d->done)),
                       Napi::Number::New(env, static_cast<double>(d->total))});
              delete d;
            }) != napi_ok) {
          delete data;
        }
      };
    }
    demucs::Stems stems =
        demucs::separate(*engine<Engine>().session, engine<Engine>().info, input, n, options_, cancel_.get(), report);
    frames_ = stems.frames;
    out_ = std::move(stems.data);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    Napi::Array stems = Napi::Array::New(env, out_.size());
    for (size_t i = 0; i < out_.size(); ++i)
      stems.Set(static_cast<uint32_t>(i), napi::toFloat32Array(env, std::move(out_[i])));
    out.Set("stems", stems);
    out.Set("frames", Napi::Number::New(env, static_cast<double>(frames_)));
    out.Set("sourceSampleRate", Napi::Number::New(env, sourceRate_));
    out.Set("sourceChannels", Napi::Number::New(env, sourceChannels_));
    return out;
  }

 private:
  std::string path_;
  napi::PinnedFloats pinned_;
  double sampleRate_;
  int channels_;
  demucs::SeparateOptions options_;
  CancelTokenPtr cancel_;
  Napi::ThreadSafeFunction progress_;
  bool hasProgress_ = false;
  std::vector<std::vector<float>> out_;
  int64_t frames_ = 0;
  double sourceRate_ = 0;
  int sourceChannels_ = 0;
};

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
  auto* worker = new SeparateWorker(env, std::move(lease), std::move(input), options, std::move(cancel), onProgress);
  worker->Queue();
  return worker->Promise();
}

}  // namespace

void RegisterDemucs(Napi::Env env, Napi::Object exports) {
  exports.Set("demucsOpen", Napi::Function::New(env, DemucsOpen, "demucsOpen"));
  exports.Set("demucsSeparate", Napi::Function::New(env, DemucsSeparate, "demucsSeparate"));
}

}  // namespace de::ml
