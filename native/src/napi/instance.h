// Per-environment addon state (worker threads each get their own), set up in addon.cc.
#pragma once

#include <napi.h>

namespace de::napi {

struct InstanceData {
  Napi::FunctionReference cancelTokenCtor;
  bool isCancelToken(const Napi::Object& obj) const { return obj.InstanceOf(cancelTokenCtor.Value()); }
};

inline InstanceData& instanceData(Napi::Env env) { return *env.GetInstanceData<InstanceData>(); }

}  // namespace de::napi
