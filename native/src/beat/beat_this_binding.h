#pragma once
#include <napi.h>

namespace de::beat {
// beatThisOpen / trackBeatThis (Beat This!: log-mel front end, chunked network, minimal
// postprocessor in one worker) and beatThisSpectrogram (the front end alone, for the parity test).
void RegisterBeatThis(Napi::Env env, Napi::Object exports);
}  // namespace de::beat
