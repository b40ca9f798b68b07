// One handle type for every opened model (generic ONNX sessions, Basic Pitch, Demucs, BeatNet): a
// type-tagged External that owns a shared HandleState. Calls take a Lease (the engine plus an
// in-flight count) for the life of their worker; close() marks the handle closed, waits until no
// lease is out, then frees the engine on a worker thread. Nothing is freed under a running worker:
// each lease holds its own reference to the engine. State is only touched on the JS thread.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <utility>
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

// A TaskWorker that holds a lease on a model handle until its promise is settled.
template <class Work, class ToJs>
class ModelTaskWorker : public TaskWorker<Work, ToJs> {
 public:
  ModelTaskWorker(Napi::Env env, const char* op, Lease lease, Work work, ToJs toJs)
      : TaskWorker<Work, ToJs>(env, op, std::move(work), std::move(toJs)), lease_(std::move(lease)) {}

 protected:
  void Settled() override { lease_.release(); }

 private:
  Lease lease_;
};

// Queues `work(engine)` on the model of `lease` (an engine of type E) and returns its promise; the
// lease, and with it the engine, is held until the promise is settled.
template <class E, class Work, class ToJs>
Napi::Value queueModelTask(Napi::Env env, const char* op, Lease lease, Work work, ToJs toJs) {
  // A plain pointer: the worker's lease keeps the engine alive until after work() has returned, and
  // holding no reference of its own means the engine is never freed on the JS thread.
  E* engine = &lease.engine<E>();
  auto bound = [engine, work = std::move(work)]() mutable { return work(*engine); };
  auto* worker =
      new ModelTaskWorker<decltype(bound), ToJs>(env, op, std::move(lease), std::move(bound), std::move(toJs));
  worker->Queue();
  return worker->Promise();
}

}  // namespace de::napi
