// N-API glue for decoding, WAV writing and resampling. Arguments are read on the main thread,
// the work runs in a task on a worker thread (napi::queueTask), results are built back on the main
// thread.
#include "audio/audio_binding.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "audio/decode.h"
#include "audio/encode.h"
#include "audio/levels.h"
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

Napi::Value SampleLevelsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  napi::PinnedFloats samples = napi::pinFloat32(env, info[0], "sampleLevels", "samples");
  return napi::queueTask(
      env, "sampleLevels",
      [samples = std::move(samples)] { return sampleLevels(samples.data, static_cast<int64_t>(samples.size)); },
      [](Napi::Env env, const SampleLevels& levels) {
        Napi::Object out = Napi::Object::New(env);
        out.Set("clipped", Napi::Number::New(env, static_cast<double>(levels.clipped)));
        out.Set("peak", Napi::Number::New(env, levels.peak));
        out.Set("sumSquares", Napi::Number::New(env, levels.sumSquares));
        return out;
      });
}

Napi::Value SignalOverviewJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "signalOverview";
  napi::PinnedFloats samples = napi::pinFloat32(env, info[0], op, "samples");
  Napi::Object opts = napi::objectArg(env, info, 1, op);
  const int64_t points = napi::intField(env, opts, "points", op, 0, int64_t{1} << 40);
  std::optional<SilenceWindows> windows;
  Napi::Value w = opts.Get("windows");
  if (!w.IsNull() && !w.IsUndefined()) {
    if (!w.IsObject()) napi::throwInvalidArgument(env, op, "option 'windows' must be an object or null");
    Napi::Object wo = w.As<Napi::Object>();
    SilenceWindows sw;
    sw.sampleRate = napi::rangeField(env, wo, "sampleRate", op, 1e-6, limits::kMaxSampleRate);
    sw.minSilenceMs = napi::rangeField(env, wo, "minSilenceMs", op, 1e-6, 1e12);
    sw.seekStepMs = napi::rangeField(env, wo, "seekStepMs", op, 1e-6, 1e12);
    Napi::Value starts = wo.Get("starts");
    if (!starts.IsTypedArray() || starts.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      napi::throwInvalidArgument(env, op, "option 'starts' must be a Float64Array");
    }
    Napi::Float64Array s = starts.As<Napi::Float64Array>();
    sw.starts.assign(s.Data(), s.Data() + s.ElementLength());
    for (size_t i = 0; i < sw.starts.size(); ++i) {
      if (!(sw.starts[i] >= 0) || (i > 0 && !(sw.starts[i] > sw.starts[i - 1]))) {
        napi::throwInvalidArgument(env, op, "window starts must be non-negative and ascending");
      }
    }
    windows = std::move(sw);
  }
  // Read before the move below: the two lambdas' captures are unsequenced.
  const bool hasWindows = windows.has_value();
  return napi::queueTask(
      env, "signalOverview",
      [samples = std::move(samples), points, windows = std::move(windows)] {
        return signalOverview(samples.data, static_cast<int64_t>(samples.size), points, windows ? &*windows : nullptr);
      },
      [hasWindows](Napi::Env env, SignalOverview& o) {
        Napi::Object out = Napi::Object::New(env);
        out.Set("min", napi::toFloat32Array(env, std::move(o.min)));
        out.Set("max", napi::toFloat32Array(env, std::move(o.max)));
        out.Set("windowRms", hasWindows ? Napi::Value(napi::toFloat64Array(env, o.windowRms)) : env.Null());
        return out;
      });
}

Napi::Value NormalizePeakJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "normalizePeak";
  napi::PinnedFloats samples = napi::pinFloat32(env, info[0], op, "samples");
  Napi::Object opts = napi::objectArg(env, info, 1, op);
  const double targetPeak = napi::rangeField(env, opts, "targetPeak", op, 0, 1e300);
  return napi::queueTask(
      env, "normalizePeak",
      [samples = std::move(samples), targetPeak] {
        return normalizePeak(samples.data, static_cast<int64_t>(samples.size), targetPeak);
      },
      [](Napi::Env env, Normalized& n) {
        Napi::Object out = Napi::Object::New(env);
        out.Set("peak", Napi::Number::New(env, n.peak));
        out.Set("gain", Napi::Number::New(env, n.gain));
        out.Set("audio", n.peak == 0 ? env.Null() : Napi::Value(napi::toFloat32Array(env, std::move(n.audio))));
        return out;
      });
}

Napi::Value RangeEnergiesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "rangeEnergies";
  if (info.Length() < 2 || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    napi::throwInvalidArgument(env, op, "ranges must be a Float64Array");
  }
  Napi::Float64Array r = info[1].As<Napi::Float64Array>();
  if (r.ElementLength() % 2 != 0) napi::throwInvalidArgument(env, op, "ranges must hold start/end pairs");
  std::vector<int64_t> ranges(r.ElementLength());
  for (size_t i = 0; i < ranges.size(); ++i) {
    const double v = r[i];
    if (!(v >= 0 && v <= 9007199254740991.0) || v != std::floor(v)) {
      napi::throwInvalidArgument(env, op, "ranges must be non-negative integers");
    }
    ranges[i] = static_cast<int64_t>(v);
  }
  auto toJs = [](Napi::Env env, const std::vector<double>& e) { return napi::toFloat64Array(env, e); };
  if (info[0].IsTypedArray() && info[0].As<Napi::TypedArray>().TypedArrayType() == napi_float64_array) {
    Napi::Float64Array samples = info[0].As<Napi::Float64Array>();
    return napi::queueTask(
        env, "rangeEnergies",
        [pin = Napi::Persistent(samples), data = samples.Data(), n = static_cast<int64_t>(samples.ElementLength()),
         ranges = std::move(ranges)] { return rangeEnergies(data, n, ranges); },
        toJs);
  }
  napi::PinnedFloats samples = napi::pinFloat32(env, info[0], op, "samples");
  return napi::queueTask(
      env, "rangeEnergies",
      [samples = std::move(samples), ranges = std::move(ranges)] {
        return rangeEnergies(samples.data, static_cast<int64_t>(samples.size), ranges);
      },
      toJs);
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
  exports.Set("sampleLevels", Napi::Function::New(env, SampleLevelsJs, "sampleLevels"));
  exports.Set("signalOverview", Napi::Function::New(env, SignalOverviewJs, "signalOverview"));
  exports.Set("normalizePeak", Napi::Function::New(env, NormalizePeakJs, "normalizePeak"));
  exports.Set("rangeEnergies", Napi::Function::New(env, RangeEnergiesJs, "rangeEnergies"));
  exports.Set("libraryVersions", Napi::Function::New(env, LibraryVersions, "libraryVersions"));
}

}  // namespace de::audio
