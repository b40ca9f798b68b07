// N-API glue for the Demucs engine (native/src/ml/demucs.h).
#pragma once
#include <napi.h>
namespace de::ml {
void RegisterDemucs(Napi::Env env, Napi::Object exports);
}
