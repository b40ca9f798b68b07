// N-API glue for decoding, WAV writing and resampling. Arguments are read on the main thread,
// the work runs in a task on a worker thread (napi::queueTask), results are built back on the main
// thread.
#include "audio/audio_binding.h"

#include "audio/decode.h"
#include "audio/encode.h"
#include "audio/resample.h"
#include "napi/worker.h"

namespace de::audio {
namespace {

Napi::Value decodedToJs(Napi::Env env, DecodedAudio& audio) {
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

Napi::Value DecodeFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) napi::throwInvalidArgument(env, "decode", "path must be a string");
  DecodeOptions options = readDecodeOptions(env, napi::objectArg(env, info, 1, "decode"), "decode");
  return napi::queueTask(
      env, "decode",
      [path = info[0].As<Napi::String>().Utf8Value(), options, cancel = napi::cancelTokenArg(env, info, 2, "decode")] {
        return decodeFile(path, options, cancel.get());
      },
      decodedToJs);
}

Napi::Value DecodeBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    napi::throwInvalidArgument(env, "decode", "buffer must be a Uint8Array or Buffer");
  }
  DecodeOptions options = readDecodeOptions(env, napi::objectArg(env, info, 1, "decode"), "decode");
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  return napi::queueTask(
      env, "decode",
      [pin = Napi::Persistent(bytes), data = bytes.Data(), size = bytes.ByteLength(), options,
       cancel = napi::cancelTokenArg(env, info, 2, "decode")] {
        return decodeMemory(data, size, options, cancel.get());
      },
      decodedToJs);
}

Napi::Value probeToJs(Napi::Env env, const AudioProbe& probe) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("sampleRate", Napi::Number::New(env, probe.sampleRate));
  out.Set("channels", Napi::Number::New(env, probe.channels));
  out.Set("frames",
          probe.frames >= 0 ? Napi::Value(Napi::Number::New(env, static_cast<double>(probe.frames))) : env.Null());
  out.Set("exact", Napi::Boolean::New(env, probe.exact));
  out.Set("container", Napi::String::New(env, probe.container));
  out.Set("sampleFormat", Napi::String::New(env, probe.sampleFormat));
  return out;
}

Napi::Value ProbeFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) napi::throwInvalidArgument(env, "probe", "path must be a string");
  return napi::queueTask(
      env, "probe", [path = info[0].As<Napi::String>().Utf8Value()] { return probeFile(path); }, probeToJs);
}

Napi::Value encodeResultToJs(Napi::Env env, const EncodeResult& result) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("frames", Napi::Number::New(env, static_cast<double>(result.frames)));
  out.Set("clippedSamples", Napi::Number::New(env, static_cast<double>(result.clippedSamples)));
  out.Set("bytes", Napi::Number::New(env, static_cast<double>(result.bytes)));
  return out;
}

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
  if (samples.size % static_cast<size_t>(channels) != 0) {
    napi::throwInvalidArgument(env, op, "samples length must be a multiple of channels");
  }
  return napi::queueTask(
      env, "writeWav",
      [path = info[0].As<Napi::String>().Utf8Value(), samples = std::move(samples), channels, sampleRate, subtype] {
        return writeWavAtomic(path, samples.data, static_cast<int64_t>(samples.size / channels), channels, sampleRate,
                              subtype);
      },
      encodeResultToJs);
}

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
  if (samples.size % static_cast<size_t>(channels) != 0) {
    napi::throwInvalidArgument(env, op, "samples length must be a multiple of channels");
  }
  return napi::queueTask(
      env, "resample",
      [samples = std::move(samples), channels, inRate, outRate, engine,
       cancel = napi::cancelTokenArg(env, info, 2, op)] {
        return resample(samples.data, static_cast<int64_t>(samples.size / channels), channels, inRate, outRate, engine,
                        cancel.get());
      },
      [](Napi::Env env, std::vector<float>& output) { return napi::toFloat32Array(env, std::move(output)); });
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
