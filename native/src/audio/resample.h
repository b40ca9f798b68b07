// Sample-rate conversion. libsoxr HQ is the default (the resampler librosa and basic-pitch use,
// so our numbers can match theirs); libsamplerate's sinc converters are the alternatives.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/cancel.h"

namespace de::audio {

enum class ResampleEngine { SoxrHQ, SoxrVHQ, SoxrMQ, SoxrLQ, SincBest, SincMedium, SincFastest };

ResampleEngine parseResampleEngine(const std::string& name);  // "soxr_hq", "sinc_best", ...

// Output frame count for `frames` input frames: ceil(frames * outRate / inRate), as python-soxr.
int64_t resampledLength(int64_t frames, double inRate, double outRate);

// `input` holds frames * channels interleaved samples; returns resampledLength(...) * channels.
std::vector<float> resample(const float* input, int64_t frames, int channels, double inRate, double outRate,
                            ResampleEngine engine, const CancelToken* cancel);

std::string soxrVersion();
std::string samplerateVersion();

}  // namespace de::audio
