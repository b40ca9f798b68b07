// N-API glue for Demucs: demucsOpen() creates a session and checks the contract, demucsSeparate()
// decodes / converts the input and separates it on a worker thread, reporting progress per segment.
#include "ml/demucs_binding.h"

#include <atomic>

#include "audio/decode.h"
#include "ml/demucs.h"
#include "napi/worker.h"

namespace de::ml {
namespace {

using napi::PromiseWorker;

// Type tag of the handle Externals, so a foreign External is rejected instead of dereferenced.
constexpr napi_type_tag kHandleTag = {0x6d3c1e0b5a7f4d21ULL, 0x9e2f8c4b1a6d5e37ULL};

struct Engine {
  std::shared_ptr<Session> session;
  demucs::ModelInfo info;
};

Napi::Object infoToJs(Napi::Env env, const Engine& engine) {
  Napi::Object out = Napi::Object::New(env);
  Napi::Array names = Napi::Array::New(env, engine.info.sourceNames.size());
  for (size_t i = 0; i < engine.info.sourceNames.size(); ++i) {
    names.Set(static_cast<uint32_t>(i), Napi::String::New(env, engine.info.sourceNames[i]));
  }
  out.Set("sources", names);
  out.Set("sampleRate", Napi::Number::New(env, engine.info.sampleRate));
  out.Set("segment", Napi::Number::New(env, static_cast<double>(engine.info.segment)));
  out.Set("frames", Napi::Number::New(env, static_cast<double>(engine.info.frames)));
  out.Set("batch", Napi::Number::New(env, static_cast<double>(engine.info.batch)));
  Napi::Array providers = Napi::Array::New(env, engine.session->activeProviders().size());
  for (size_t i = 0; i < engine.session->activeProviders().size(); ++i) {
    providers.Set(static_cast<uint32_t>(i), Napi::String::New(env, engine.session->activeProviders()[i]));
  }
  out.Set("providers", providers);
  Napi::Array warnings = Napi::Array::New(env, engine.session->warnings().size());
  for (size_t i = 0; i < engine.session->warnings().size(); ++i) {
    warnings.Set(static_cast<uint32_t>(i), Napi::String::New(env, engine.session->warnings()[i]));
  }
  out.Set("warnings", warnings);
  return out;
}

class OpenWorker : public PromiseWorker {
 public:
  OpenWorker(Napi::Env env, std::string path, std::vector<uint8_t> bytes, SessionOptions options)
      : PromiseWorker(env, "demucsOpen"), path_(std::move(path)), bytes_(std::move(bytes)), options_(options) {}

 protected:
  void Run() override {
    auto metadata = demucs::readOnnxMetadata(path_, bytes_);
    engine_ = std::make_shared<Engine>();
    engine_->session = Session::create(path_, bytes_, options_);
    bytes_.clear();
    bytes_.shrink_to_fit();
    engine_->info = demucs::inspectModel(*engine_->session, metadata);
  }
  Napi::Value Result(Napi::Env env) override {
    auto* owned = new std::shared_ptr<Engine>(engine_);
    auto handle = Napi::External<std::shared_ptr<Engine>>::New(
        env, owned, [](Napi::Env, std::shared_ptr<Engine>* p) { delete p; });
    handle.TypeTag(&kHandleTag);
    Napi::Object out = Napi::Object::New(env);
    out.Set("handle", handle);
    out.Set("info", infoToJs(env, *engine_));
    return out;
  }

 private:
  std::string path_;
  std::vector<uint8_t> bytes_;
  SessionOptions options_;
  std::shared_ptr<Engine> engine_;
};

Napi::Value DemucsOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "demucsOpen";
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
  SessionOptions options;
  options.intraOpThreads = static_cast<int>(napi::intField(env, opts, "intraOpThreads", op, 1, 256));
  options.interOpThreads = static_cast<int>(napi::intField(env, opts, "interOpThreads", op, 1, 256));
  // Off unless asked: measured 1676 -> 980 MiB resident per htdemucs segment run (docs/models.md).
  Napi::Value memoryPattern = opts.Get("memoryPattern");
  options.memoryPattern = memoryPattern.IsBoolean() && memoryPattern.As<Napi::Boolean>().Value();
  Napi::Value providers = opts.Get("providers");
  if (!providers.IsArray()) napi::throwInvalidArgument(env, op, "option 'providers' must be an array");
  options.providers.clear();
  Napi::Array arr = providers.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) options.providers.push_back(arr.Get(i).As<Napi::String>().Utf8Value());
  auto* worker = new OpenWorker(env, std::move(path), std::move(bytes), options);
  worker->Queue();
  return worker->Promise();
}

struct ProgressData {
  int64_t done, total;
};

class SeparateWorker : public PromiseWorker {
 public:
  SeparateWorker(Napi::Env env, std::shared_ptr<Engine> engine, std::string path, napi::PinnedFloats pinned,
                 double sampleRate, int channels, demucs::SeparateOptions options, CancelTokenPtr cancel,
                 Napi::Function onProgress)
      : PromiseWorker(env, "separate"),
        engine_(std::move(engine)),
        path_(std::move(path)),
        pinned_(std::move(pinned)),
        sampleRate_(sampleRate),
        channels_(channels),
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
    demucs::Stems stems = demucs::separate(*engine_->session, engine_->info, input, n, options_, cancel_.get(), report);
    frames_ = stems.frames;
    out_ = std::move(stems.data);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    Napi::Array stems = Napi::Array::New(env, out_.size());
    for (size_t i = 0; i < out_.size(); ++i) stems.Set(static_cast<uint32_t>(i), napi::toFloat32Array(env, std::move(out_[i])));
    out.Set("stems", stems);
    out.Set("frames", Napi::Number::New(env, static_cast<double>(frames_)));
    out.Set("sourceSampleRate", Napi::Number::New(env, sourceRate_));
    out.Set("sourceChannels", Napi::Number::New(env, sourceChannels_));
    return out;
  }

 private:
  std::shared_ptr<Engine> engine_;
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

std::shared_ptr<Engine> engineArg(Napi::Env env, const Napi::CallbackInfo& info, const std::string& op) {
  if (info.Length() < 1 || !info[0].IsExternal()) napi::throwInvalidArgument(env, op, "handle must come from demucsOpen()");
  auto ext = info[0].As<Napi::External<std::shared_ptr<Engine>>>();
  if (!ext.CheckTypeTag(&kHandleTag)) napi::throwInvalidArgument(env, op, "handle must come from demucsOpen()");
  return *ext.Data();
}

// demucsSeparate(handle, input: {path} | {samples, sampleRate, channels}, options, cancel?, onProgress?)
Napi::Value DemucsSeparate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "separate";
  std::shared_ptr<Engine> engine = engineArg(env, info, op);
  Napi::Object input = napi::objectArg(env, info, 1, op);
  std::string path;
  napi::PinnedFloats pinned;
  double sampleRate = 0;
  int channels = 0;
  if (input.Get("path").IsString()) {
    path = input.Get("path").As<Napi::String>().Utf8Value();
    if (path.empty()) napi::throwInvalidArgument(env, op, "path must not be empty");
  } else {
    pinned = napi::pinFloat32(env, input.Get("samples"), op, "samples");
    sampleRate = napi::rateField(env, input, "sampleRate", op);
    channels = static_cast<int>(napi::intField(env, input, "channels", op, 1, limits::kMaxChannels));
    if (!(sampleRate > 0) || channels < 1 || pinned.size % static_cast<size_t>(channels) != 0) {
      napi::throwInvalidArgument(env, op, "samples must be interleaved frames of `channels` at a positive rate");
    }
  }
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
  auto* worker = new SeparateWorker(env, std::move(engine), std::move(path), std::move(pinned), sampleRate, channels,
                                    options, std::move(cancel), onProgress);
  worker->Queue();
  return worker->Promise();
}

}  // namespace

void RegisterDemucs(Napi::Env env, Napi::Object exports) {
  exports.Set("demucsOpen", Napi::Function::New(env, DemucsOpen, "demucsOpen"));
  exports.Set("demucsSeparate", Napi::Function::New(env, DemucsSeparate, "demucsSeparate"));
}

}  // namespace de::ml
