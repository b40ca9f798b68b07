#include "ml/model_binding.h"

#include "audio/decode.h"

namespace de::ml {

ModelSource modelArg(Napi::Env env, const Napi::CallbackInfo& info, size_t i, const std::string& op) {
  ModelSource source;
  if (info.Length() > i && info[i].IsString()) {
    source.path = info[i].As<Napi::String>().Utf8Value();
  } else if (info.Length() > i && info[i].IsTypedArray() &&
             info[i].As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    Napi::Uint8Array arr = info[i].As<Napi::Uint8Array>();
    source.bytes.assign(arr.Data(), arr.Data() + arr.ByteLength());
  } else {
    napi::throwInvalidArgument(env, op, "model must be a path or a Uint8Array");
  }
  return source;
}

SessionOptions sessionOptionsField(Napi::Env env, const Napi::Object& opts, const std::string& op,
                                   SessionOptions defaults) {
  SessionOptions options = std::move(defaults);
  options.intraOpThreads = static_cast<int>(napi::intField(env, opts, "intraOpThreads", op, 1, 256));
  options.interOpThreads = static_cast<int>(napi::intField(env, opts, "interOpThreads", op, 1, 256));
  Napi::Value memoryPattern = opts.Get("memoryPattern");
  if (memoryPattern.IsBoolean()) options.memoryPattern = memoryPattern.As<Napi::Boolean>().Value();
  Napi::Value providers = opts.Get("providers");
  if (!providers.IsArray()) napi::throwInvalidArgument(env, op, "option 'providers' must be an array");
  options.providers.clear();
  Napi::Array arr = providers.As<Napi::Array>();
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value provider = arr.Get(k);
    if (!provider.IsString()) napi::throwInvalidArgument(env, op, "option 'providers' must hold strings");
    options.providers.push_back(provider.As<Napi::String>().Utf8Value());
  }
  return options;
}

AudioInput readAudio(const napi::AudioArg& arg, const CancelToken* cancel) {
  AudioInput input;
  if (!arg.path.empty()) {
    audio::DecodedAudio a = audio::decodeFile(arg.path, {}, cancel);
    input.decoded = std::move(a.samples);
    input.frames = a.frames;
    input.sampleRate = a.sampleRate;
    input.channels = a.channels;
  } else {
    input.given = arg.pinned.data;
    input.frames = static_cast<int64_t>(arg.pinned.size) / arg.channels;
    input.sampleRate = arg.sampleRate;
    input.channels = arg.channels;
  }
  return input;
}

}  // namespace de::ml
