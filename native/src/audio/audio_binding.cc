// N-API glue for decoding, WAV writing and resampling. Arguments are read on the main thread,
// the work runs in PromiseWorkers, results are built in Result().
#include "audio/audio_binding.h"

#include "audio/decode.h"
#include "audio/encode.h"
#include "audio/resample.h"
#include "napi/worker.h"

namespace de::audio {
namespace {

using napi::PromiseWorker;

Napi::Object decodedToJs(Napi::Env env, DecodedAudio&& audio) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("sampleRate", Napi::Number::New(env, audio.sampleRate));
  out.Set("channels", Napi::Number::New(env, audio.channels));
  out.Set("sourceChannels", Napi::Number::New(env, audio.sourceChannels));
  out.Set("frames", Napi::Number::New(env, static_cast<double>(audio.frames)));
  out.Set("container", Napi::String::New(env, audio.container));
  out.Set("sampleFormat", Napi::String::New(env, audio.sampleFormat));
  if (audio.truncated) {
    Napi::Object t = Napi::Object::New(env);
    t.Set("expectedFrames", audio.expectedFrames >= 0
                                ? Napi::Value(Napi::Number::New(env, static_cast<double>(audio.expectedFrames)))
                                : env.Null());
    t.Set("actualFrames", Napi::Number::New(env, static_cast<double>(audio.frames)));
    out.Set("truncated", t);
  } else {
    out.Set("truncated", env.Null());
  }
  out.Set("samples", napi::toFloat32Array(env, std::move(audio.samples)));
  return out;
}

DecodeOptions readDecodeOptions(Napi::Env env, const Napi::Object& opts, const std::string& op) {
  DecodeOptions options;
  options.mono = napi::boolField(env, opts, "mono", op);
  options.planar = napi::boolField(env, opts, "planar", op);
  // optional: older callers (the pipeline) pass only mono/planar
  Napi::Value strict = opts.Get("strict");
  options.strict = strict.IsBoolean() && strict.As<Napi::Boolean>().Value();
  return options;
}

class DecodeFileWorker : public PromiseWorker {
 public:
  DecodeFileWorker(Napi::Env env, std::string path, DecodeOptions options, CancelTokenPtr cancel)
      : PromiseWorker(env, "decode"), path_(std::move(path)), options_(options), cancel_(std::move(cancel)) {}

 protected:
  void Run() override { audio_ = decodeFile(path_, options_, cancel_.get()); }
  Napi::Value Result(Napi::Env env) override { return decodedToJs(env, std::move(audio_)); }

 private:
  std::string path_;
  DecodeOptions options_;
  CancelTokenPtr cancel_;
  DecodedAudio audio_;
};

class DecodeBufferWorker : public PromiseWorker {
 public:
  DecodeBufferWorker(Napi::Env env, Napi::Uint8Array bytes, DecodeOptions options, CancelTokenPtr cancel)
      : PromiseWorker(env, "decode"),
        ref_(Napi::Persistent(bytes)),
        data_(bytes.Data()),
        size_(bytes.ByteLength()),
        options_(options),
        cancel_(std::move(cancel)) {}

 protected:
  void Run() override { audio_ = decodeMemory(data_, size_, options_, cancel_.get()); }
  Napi::Value Result(Napi::Env env) override { return decodedToJs(env, std::move(audio_)); }

 private:
  Napi::Reference<Napi::Uint8Array> ref_;
  const uint8_t* data_;
  size_t size_;
  DecodeOptions options_;
  CancelTokenPtr cancel_;
  DecodedAudio audio_;
};

Napi::Value DecodeFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) napi::throwInvalidArgument(env, "decode", "path must be a string");
  DecodeOptions options = readDecodeOptions(env, napi::objectArg(env, info, 1, "decode"), "decode");
  auto* worker = new DecodeFileWorker(env, info[0].As<Napi::String>().Utf8Value(), options,
                                      napi::cancelTokenArg(env, info, 2, "decode"));
  worker->Queue();
  return worker->Promise();
}

Napi::Value DecodeBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    napi::throwInvalidArgument(env, "decode", "buffer must be a Uint8Array or Buffer");
  }
  DecodeOptions options = readDecodeOptions(env, napi::objectArg(env, info, 1, "decode"), "decode");
  auto* worker = new DecodeBufferWorker(env, info[0].As<Napi::Uint8Array>(), options,
                                        napi::cancelTokenArg(env, info, 2, "decode"));
  worker->Queue();
  return worker->Promise();
}

class ProbeFileWorker : public PromiseWorker {
 public:
  ProbeFileWorker(Napi::Env env, std::string path) : PromiseWorker(env, "probe"), path_(std::move(path)) {}

 protected:
  void Run() override { probe_ = probeFile(path_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("sampleRate", Napi::Number::New(env, probe_.sampleRate));
    out.Set("channels", Napi::Number::New(env, probe_.channels));
    out.Set("frames",
            probe_.frames >= 0 ? Napi::Value(Napi::Number::New(env, static_cast<double>(probe_.frames))) : env.Null());
    out.Set("exact", Napi::Boolean::New(env, probe_.exact));
    out.Set("container", Napi::String::New(env, probe_.container));
    out.Set("sampleFormat", Napi::String::New(env, probe_.sampleFormat));
    return out;
  }

 private:
  std::string path_;
  AudioProbe probe_;
};

Napi::Value ProbeFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) napi::throwInvalidArgument(env, "probe", "path must be a string");
  auto* worker = new ProbeFileWorker(env, info[0].As<Napi::String>().Utf8Value());
  worker->Queue();
  return worker->Promise();
}

class WriteWavWorker : public PromiseWorker {
 public:
  WriteWavWorker(Napi::Env env, std::string path, napi::PinnedFloats samples, int channels, int sampleRate,
                 WavSubtype subtype)
      : PromiseWorker(env, "writeWav"),
        path_(std::move(path)),
        samples_(std::move(samples)),
        channels_(channels),
        sampleRate_(sampleRate),
        subtype_(subtype) {}

 protected:
  void Run() override {
    result_ = writeWavAtomic(path_, samples_.data, static_cast<int64_t>(samples_.size / channels_), channels_,
                             sampleRate_, subtype_);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("frames", Napi::Number::New(env, static_cast<double>(result_.frames)));
    out.Set("clippedSamples", Napi::Number::New(env, static_cast<double>(result_.clippedSamples)));
    out.Set("bytes", Napi::Number::New(env, static_cast<double>(result_.bytes)));
    return out;
  }

 private:
  std::string path_;
  napi::PinnedFloats samples_;
  int channels_;
  int sampleRate_;
  WavSubtype subtype_;
  EncodeResult result_;
};

Napi::Value WriteWav(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "writeWav";
  if (info.Length() < 1 || !info[0].IsString()) napi::throwInvalidArgument(env, op, "path must be a string");
  napi::PinnedFloats samples = napi::pinFloat32(env, info[1], op, "samples");
  Napi::Object opts = napi::objectArg(env, info, 2, op);
  const int channels = static_cast<int>(napi::intField(env, opts, "channels", op, 1, limits::kMaxChannels));
  const int sampleRate =
      static_cast<int>(napi::intField(env, opts, "sampleRate", op, static_cast<int64_t>(limits::kMinSampleRate),
                                      static_cast<int64_t>(limits::kMaxSampleRate)));
  const std::string subtypeName = napi::stringField(env, opts, "subtype", op);
  WavSubtype subtype;
  if (subtypeName == "PCM_16") subtype = WavSubtype::Pcm16;
  else if (subtypeName == "PCM_24") subtype = WavSubtype::Pcm24;
  else if (subtypeName == "FLOAT") subtype = WavSubtype::Float32;
  else napi::throwInvalidArgument(env, op, "subtype must be PCM_16, PCM_24 or FLOAT");
  if (channels <= 0 || samples.size % static_cast<size_t>(channels) != 0) {
    napi::throwInvalidArgument(env, op, "samples length must be a multiple of channels");
  }
  auto* worker = new WriteWavWorker(env, info[0].As<Napi::String>().Utf8Value(), std::move(samples), channels,
                                    sampleRate, subtype);
  worker->Queue();
  return worker->Promise();
}

class ResampleWorker : public PromiseWorker {
 public:
  ResampleWorker(Napi::Env env, napi::PinnedFloats samples, int channels, double inRate, double outRate,
                 ResampleEngine engine, CancelTokenPtr cancel)
      : PromiseWorker(env, "resample"),
        samples_(std::move(samples)),
        channels_(channels),
        inRate_(inRate),
        outRate_(outRate),
        engine_(engine),
        cancel_(std::move(cancel)) {}

 protected:
  void Run() override {
    output_ = resample(samples_.data, static_cast<int64_t>(samples_.size / channels_), channels_, inRate_, outRate_,
                       engine_, cancel_.get());
  }
  Napi::Value Result(Napi::Env env) override { return napi::toFloat32Array(env, std::move(output_)); }

 private:
  napi::PinnedFloats samples_;
  int channels_;
  double inRate_, outRate_;
  ResampleEngine engine_;
  CancelTokenPtr cancel_;
  std::vector<float> output_;
};

Napi::Value Resample(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "resample";
  napi::PinnedFloats samples = napi::pinFloat32(env, info[0], op, "samples");
  Napi::Object opts = napi::objectArg(env, info, 1, op);
  const int channels = static_cast<int>(napi::intField(env, opts, "channels", op, 1, limits::kMaxChannels));
  const double inRate = napi::rateField(env, opts, "inRate", op);
  const double outRate = napi::rateField(env, opts, "outRate", op);
  ResampleEngine engine;
  try {
    engine = parseResampleEngine(napi::stringField(env, opts, "engine", op));
  } catch (const Error& e) {
    napi::throwInvalidArgument(env, op, e.what());
  }
  if (channels <= 0 || samples.size % static_cast<size_t>(channels) != 0) {
    napi::throwInvalidArgument(env, op, "samples length must be a multiple of channels");
  }
  auto* worker = new ResampleWorker(env, std::move(samples), channels, inRate, outRate, engine,
                                    napi::cancelTokenArg(env, info, 2, op));
  worker->Queue();
  return worker->Promise();
}

Napi::Value LibraryVersions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("sndfile", Napi::String::New(env, sndfileVersion()));
  out.Set("soxr", Napi::String::New(env, soxrVersion()));
  out.Set("samplerate", Napi::String::New(env, samplerateVersion()));
  return out;
}

}  // namespace

void RegisterAudio(Napi::Env env, Napi::Object exports) {
  exports.Set("decodeFile", Napi::Function::New(env, DecodeFile, "decodeFile"));
  exports.Set("decodeBuffer", Napi::Function::New(env, DecodeBuffer, "decodeBuffer"));
  exports.Set("probeFile", Napi::Function::New(env, ProbeFile, "probeFile"));
  exports.Set("writeWav", Napi::Function::New(env, WriteWav, "writeWav"));
  exports.Set("resample", Napi::Function::New(env, Resample, "resample"));
  exports.Set("libraryVersions", Napi::Function::New(env, LibraryVersions, "libraryVersions"));
}

}  // namespace de::audio
