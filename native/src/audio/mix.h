// The one mono down-mix of the engine: the mean over the channels of interleaved frames.
#pragma once

#include <cstdint>

namespace de::audio {

// Two roundings are kept because two callers must stay bit-identical to what they match:
// Float32 is numpy's float32 mean over channels (librosa.to_mono, which basic-pitch calls): the
// channels summed in order in float, divided by the count in float. Float64 sums in double and
// scales by 1/channels (the decoder's mono). For one and two channels both give the same floats.
enum class MixPrecision { Float32, Float64 };

// out[f] = mean of interleaved[f * channels + c] over c; `out` holds `frames` floats and may not
// alias the input unless channels == 1.
void mixToMono(const float* interleaved, int64_t frames, int channels, float* out, MixPrecision precision);

}  // namespace de::audio
