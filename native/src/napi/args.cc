#include "napi/args.h"

#include "common/limits.h"

namespace de::napi {

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
    // rateField and intField have checked the rate and the channel count.
    if (audio.pinned.size % static_cast<size_t>(audio.channels) != 0) {
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
