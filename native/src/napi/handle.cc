#include "napi/handle.h"

#include "common/error.h"

namespace de::napi {
namespace {

// One tag for every model handle, so a foreign External is refused instead of dereferenced.
constexpr napi_type_tag kHandleTag = {0x5f1c9e0a7d3b4c62ULL, 0x8a2e6b1f4c7d9035ULL};

using StatePtr = std::shared_ptr<HandleState>;

// Frees the engine off the JS thread (a session of a large model takes a while to tear down),
// then resolves every close() promise.
class ReleaseWorker : public Napi::AsyncWorker {
 public:
  ReleaseWorker(Napi::Env env, StatePtr state)
      : Napi::AsyncWorker(env, "modelClose"), state_(std::move(state)), engine_(std::move(state_->engine)) {}

 protected:
  void Execute() override { engine_.reset(); }
  void OnOK() override {
    Napi::Env env = Env();
    state_->released = true;
    std::vector<Napi::Promise::Deferred> closers = std::move(state_->closers);
    state_->closers.clear();
    for (auto& d : closers) d.Resolve(env.Undefined());
  }

 private:
  StatePtr state_;
  std::shared_ptr<void> engine_;
};

void releaseIfIdle(const StatePtr& state) {
  if (!state->closed || state->inFlight > 0 || state->released || !state->engine) return;
  Napi::HandleScope scope(state->env);
  auto* worker = new ReleaseWorker(state->env, state);
  worker->Queue();
}

StatePtr stateArg(Napi::Env env, const Napi::CallbackInfo& info, size_t i, const char* kind, const std::string& op) {
  const std::string what =
      kind ? std::string("handle must be an open ") + kind + " handle" : "handle must be a model handle";
  if (info.Length() <= i || !info[i].IsExternal()) throwInvalidArgument(env, op, what);
  auto ext = info[i].As<Napi::External<StatePtr>>();
  if (!ext.CheckTypeTag(&kHandleTag)) throwInvalidArgument(env, op, what);
  StatePtr state = *ext.Data();
  if (kind && std::string(state->kind) != kind) throwInvalidArgument(env, op, what);
  return state;
}

}  // namespace

Lease::Lease(std::shared_ptr<HandleState> state) : state_(std::move(state)), engine_(state_->engine) {
  ++state_->inFlight;
}

Lease::~Lease() {
  // Normally released in ModelTaskWorker::Settled; a destructor must not throw (at environment
  // teardown queueing the release can fail: the engine is then freed with the handle's state).
  try {
    release();
  } catch (...) {
  }
}

void Lease::release() {
  if (!state_) return;
  engine_.reset();
  StatePtr state = std::move(state_);
  state_.reset();
  --state->inFlight;
  releaseIfIdle(state);
}

Napi::Value makeHandle(Napi::Env env, const char* kind, std::shared_ptr<void> engine) {
  auto* owned = new StatePtr(std::make_shared<HandleState>(env, kind, std::move(engine)));
  auto handle = Napi::External<StatePtr>::New(env, owned, [](Napi::Env, StatePtr* p) { delete p; });
  handle.TypeTag(&kHandleTag);
  return handle;
}

Lease acquireHandle(Napi::Env env, const Napi::CallbackInfo& info, size_t i, const char* kind, const std::string& op) {
  StatePtr state = stateArg(env, info, i, kind, op);
  if (state->closed) throw makeCodedError(env, code::kClosed, op + ": the model was closed", op);
  return Lease(std::move(state));
}

Napi::Value ModelClose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StatePtr state = stateArg(env, info, 0, nullptr, "close");
  auto deferred = Napi::Promise::Deferred::New(env);
  if (state->released) {
    deferred.Resolve(env.Undefined());
    return deferred.Promise();
  }
  state->closers.push_back(deferred);
  state->closed = true;
  releaseIfIdle(state);
  return deferred.Promise();
}

}  // namespace de::napi
