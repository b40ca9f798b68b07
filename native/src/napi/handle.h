// One handle type for every opened model (generic ONNX sessions, Basic Pitch, Demucs, BeatNet): a
// type-tagged External that owns a shared HandleState. Calls take a Lease (the engine plus an
// in-flight count) for the life of their worker; close() marks the handle closed, waits until no
// lease is out, then frees the engine on a worker thread. Nothing is freed under a running worker:
// each lease holds its own reference to the engine. State is only touched on the JS thread.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "napi/worker.h"

namespace de::napi {

struct HandleState {
  Napi::Env env;
  const char* kind;              // "session", "basicPitch", "demucs", "rhythm": each binding accepts its own kind only
  std::shared_ptr<void> engine;  // reset once closed and idle
  int inFlight = 0;
  bool closed = false;
  bool released = false;
  std::vector<Napi::Promise::Deferred> closers;  // close() promises, resolved once the engine is freed

  HandleState(Napi::Env e, const char* k, std::shared_ptr<void> eng) : env(e), kind(k), engine(std::move(eng)) {}
};

// A worker's claim on an open handle; release() (JS thread) ends it, the destructor too.
class Lease {
 public:
  Lease() = default;
  explicit Lease(std::shared_ptr<HandleState> state);
  Lease(Lease&& other) noexcept = default;
  Lease& operator=(Lease&& other) = delete;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

  template <class T>
  T& engine() const {
    return *static_cast<T*>(engine_.get());
  }
  void release();

 private:
  std::shared_ptr<HandleState> state_;
  std::shared_ptr<void> engine_;
};

// The JS value of a new handle of `kind` (kind must be a string literal) owning `engine`.
Napi::Value makeHandle(Napi::Env env, const char* kind, std::shared_ptr<void> engine);

// Argument i as an open handle of `kind`: TypeError when it is not one, DE_CLOSED once closed.
Lease acquireHandle(Napi::Env env, const Napi::CallbackInfo& info, size_t i, const char* kind, const std::string& op);

// modelClose(handle): Promise<void> settled once in-flight calls have finished and the engine is
// freed. Closing again returns the same outcome.
Napi::Value ModelClose(const Napi::CallbackInfo& info);

// A PromiseWorker that holds a lease on a model handle until its promise is settled.
class ModelWorker : public PromiseWorker {
 public:
  ModelWorker(Napi::Env env, const char* op, Lease lease) : PromiseWorker(env, op), lease_(std::move(lease)) {}

 protected:
  template <class T>
  T& engine() const {
    return lease_.engine<T>();
  }
  void Settled() override { lease_.release(); }

 private:
  Lease lease_;
};

}  // namespace de::napi
