// Argument readers shared by the model bindings (ml_binding.cc, basic_pitch_binding.cc,
// demucs_binding.cc): the model (path or bytes), the session options and the audio input.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ml/ort.h"
#include "napi/worker.h"

namespace de::napi {

// Exactly one of path / bytes is set, as ml::Session::create expects.
struct ModelSource {
  std::string path;
  std::vector<uint8_t> bytes;  // copied: ORT reads it on a worker thread
};
ModelSource modelArg(Napi::Env env, const Napi::CallbackInfo& info, size_t i, const std::string& op);

// {intraOpThreads, interOpThreads, providers, memoryPattern?}; `memoryPattern` keeps the default
// passed in unless the object sets it.
ml::SessionOptions sessionOptionsField(Napi::Env env, const Napi::Object& opts, const std::string& op,
                                       ml::SessionOptions defaults = {});

// {path} | {samples, sampleRate, channels} (interleaved frames, pinned while a worker reads them).
struct AudioArg {
  std::string path;  // empty when samples are given
  PinnedFloats pinned;
  double sampleRate = 0;
  int channels = 0;
};
AudioArg audioArg(Napi::Env env, const Napi::CallbackInfo& info, size_t i, const std::string& op);

Napi::Array stringsToJs(Napi::Env env, const std::vector<std::string>& values);

}  // namespace de::napi
