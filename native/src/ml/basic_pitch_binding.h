// N-API glue for Basic Pitch (native/src/ml/basic_pitch.h).
#pragma once
#include <napi.h>
namespace de::ml {
void RegisterBasicPitch(Napi::Env env, Napi::Object exports);
}
