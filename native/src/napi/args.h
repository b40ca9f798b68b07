// Argument readers shared by the bindings that take audio (basic_pitch_binding.cc,
// demucs_binding.cc). Model and session arguments are read in ml/model_binding.h.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "napi/worker.h"

namespace de::napi {

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
