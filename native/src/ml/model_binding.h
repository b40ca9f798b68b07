// Glue shared by the model bindings (ml_binding.cc, basic_pitch_binding.cc, demucs_binding.cc,
// beat/rhythm_binding.cc): reading the model and the session options, and the one worker that
// opens a model and hands it to JS as a shared handle (napi/handle.h).
#pragma once

#include <napi.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ml/ort.h"
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

// Opens a model on a worker thread and resolves {handle, ...}: `open` runs there (it creates the
// session and checks the model's contract; throwing a coded error rejects), `describe` adds the
// rest of the result on the JS thread. The handle is of `kind` (a string literal) and owns the
// engine `E`.
template <class E>
class OpenModelWorker : public napi::PromiseWorker {
 public:
  using Open = std::function<std::shared_ptr<E>(const ModelSource&, const SessionOptions&)>;
  using Describe = std::function<void(Napi::Env, const E&, Napi::Object&)>;

  OpenModelWorker(Napi::Env env, const char* op, const char* kind, ModelSource model, SessionOptions options, Open open,
                  Describe describe)
      : napi::PromiseWorker(env, op),
        kind_(kind),
        model_(std::move(model)),
        options_(std::move(options)),
        open_(std::move(open)),
        describe_(std::move(describe)) {}

 protected:
  void Run() override {
    engine_ = open_(model_, options_);
    model_.bytes.clear();
    model_.bytes.shrink_to_fit();
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    describe_(env, *engine_, out);
    out.Set("handle", napi::makeHandle(env, kind_, std::move(engine_)));
    return out;
  }

 private:
  const char* kind_;
  ModelSource model_;
  SessionOptions options_;
  Open open_;
  Describe describe_;
  std::shared_ptr<E> engine_;
};

// Queues an OpenModelWorker and returns its promise.
template <class E>
Napi::Value openModel(Napi::Env env, const char* op, const char* kind, ModelSource model, SessionOptions options,
                      typename OpenModelWorker<E>::Open open, typename OpenModelWorker<E>::Describe describe) {
  auto* worker =
      new OpenModelWorker<E>(env, op, kind, std::move(model), std::move(options), std::move(open), std::move(describe));
  worker->Queue();
  return worker->Promise();
}

}  // namespace de::ml
