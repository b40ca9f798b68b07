// Glue shared by the model bindings (ml_binding.cc, basic_pitch_binding.cc, demucs_binding.cc,
// beat/rhythm_binding.cc): reading the model, the session options and the audio input, and the one
// task that opens a model and hands it to JS as a shared handle (napi/handle.h).
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/cancel.h"
#include "ml/ort.h"
#include "napi/args.h"
#include "napi/handle.h"
#include "napi/worker.h"

namespace de::ml {

// Exactly one of path / bytes is set, as Session::create expects.
struct ModelSource {
  std::string path;
  std::vector<uint8_t> bytes;  // copied: ORT reads it on a worker thread
};
ModelSource modelArg(Napi::Env env, const Napi::CallbackInfo& info, size_t i, const std::string& op);

// {intraOpThreads, interOpThreads, providers, memoryPattern?}; `memoryPattern` keeps the default
// passed in unless the object sets it.
SessionOptions sessionOptionsField(Napi::Env env, const Napi::Object& opts, const std::string& op,
                                   SessionOptions defaults = {});

// The audio of a model call (napi::AudioArg), read on the worker thread: the file of a {path}
// argument decoded, or the pinned samples of {samples, sampleRate, channels} read in place.
struct AudioInput {
  std::vector<float> decoded;    // the decoded file; empty when samples were given
  const float* given = nullptr;  // the pinned samples
  int64_t frames = 0;
  double sampleRate = 0;
  int channels = 0;

  const float* samples() const { return given != nullptr ? given : decoded.data(); }
  // Frees the decoded file once the model has its own copy of the audio.
  void release() {
    decoded.clear();
    decoded.shrink_to_fit();
  }
};
AudioInput readAudio(const napi::AudioArg& arg, const CancelToken* cancel);

// Opens a model on a worker thread and resolves {handle, ...}: `open(model, options)` runs there
// (it creates the session and checks the model's contract, returning a std::shared_ptr<E>; a coded
// error rejects), `describe(env, engine, out)` adds the rest of the result on the JS thread. The
// handle is of `kind` (a string literal) and owns the engine.
template <class E, class Open, class Describe>
Napi::Value openModel(Napi::Env env, const char* op, const char* kind, ModelSource model, SessionOptions options,
                      Open open, Describe describe) {
  return napi::queueTask(
      env, op,
      [model = std::move(model), options = std::move(options), open = std::move(open)]() mutable {
        std::shared_ptr<E> engine = open(model, options);
        model.bytes.clear();
        model.bytes.shrink_to_fit();
        return engine;
      },
      [kind, describe = std::move(describe)](Napi::Env env, std::shared_ptr<E>& engine) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        describe(env, static_cast<const E&>(*engine), out);
        out.Set("handle", napi::makeHandle(env, kind, std::move(engine)));
        return out;
      });
}

}  // namespace de::ml
