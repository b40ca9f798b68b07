#include "napi/args.h"

#include "common/limits.h"

namespace de::napi {

ModelSource modelArg(Napi::Env env, const Napi::CallbackInfo& info, size_t i, const std::string& op) {
  ModelSource source;
  if (info.Length() > i && info[i].IsString()) {
    source.path = info[i].As<Napi::String>().Utf8Value();
  } else if (info.Length() > i && info[i].IsTypedArray() &&
             info[i].As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    Napi::Uint8Array arr = info[i].As<Napi::Uint8Array>();
    source.bytes.assign(arr.Data(), arr.Data() + arr.ByteLength());
  } else {
    throwInvalidArgument(env, op, "model must be a path or a Uint8Array");
  }
  return source;
}

ml::SessionOptions sessionOptionsField(Napi::Env env, const Napi::Object& opts, const std::string& op,
                                       ml::SessionOptions defaults) {
  ml::SessionOptions options = std::move(defaults);
  options.intraOpThreads = static_cast<int>(intField(env, opts, "intraOpThreads", op, 1, 256));
  options.interOpThreads = static_cast<int>(intField(env, opts, "interOpThreads", op, 1, 256));
  Napi::Value memoryPattern = opts.Get("memoryPattern");
  if (memoryPattern.IsBoolean()) options.memoryPattern = memoryPattern.As<Napi::Boolean>().Value();
  Napi::Value providers = opts.Get("providers");
  if (!providers.IsArray()) throwInvalidArgument(env, op, "option 'providers' must be an array");
  options.providers.clear();
  Napi::Array arr = providers.As<Napi::Array>();
  for (uint32_t k = 0; k < arr.Length(); ++k) options.providers.push_back(arr.Get(k).As<Napi::String>().Utf8Value());
  return options;
}

AudioArg audioArg(Napi::Env env, const Napi::CallbackInfo& info, size_t i, const std::string& op) {
  Napi::Object input = objectArg(env, info, i, op);
  AudioArg audio;
  if (input.Get("path").IsString()) {
    audio.path = input.Get("path").As<Napi::String>().Utf8Value();
    if (audio.path.empty()) throwInvalidArgument(env, op, "path must not be empty");
  } else {
    audio.pinned = pinFloat32(env, input.Get("samples"), op, "samples");
    audio.sampleRate = rateField(env, input, "sampleRate", op);
    audio.channels = static_cast<int>(intField(env, input, "channels", op, 1, limits::kMaxChannels));
    if (!(audio.sampleRate > 0) || audio.channels < 1 || audio.pinned.size % static_cast<size_t>(audio.channels) != 0) {
      throwInvalidArgument(env, op, "samples must be interleaved frames of `channels` at a positive rate");
    }
  }
  return audio;
}

Napi::Array stringsToJs(Napi::Env env, const std::vector<std::string>& values) {
  Napi::Array out = Napi::Array::New(env, values.size());
  for (size_t k = 0; k < values.size(); ++k) out.Set(static_cast<uint32_t>(k), Napi::String::New(env, values[k]));
  return out;
}

}  // namespace de::napi
