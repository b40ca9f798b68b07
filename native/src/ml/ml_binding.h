#pragma once
#include <napi.h>
namespace de::ml {
void RegisterMl(Napi::Env env, Napi::Object exports);
}
