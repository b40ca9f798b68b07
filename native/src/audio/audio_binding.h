#pragma once
#include <napi.h>
namespace de::audio {
void RegisterAudio(Napi::Env env, Napi::Object exports);
}
