#include "audio/resample.h"

#include <samplerate.h>
#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "common/error.h"
#include "common/limits.h"

namespace de::audio {
namespace {

constexpr int64_t kBlockFrames = 1 << 16;

unsigned long soxrRecipe(ResampleEngine engine) {
  switch (engine) {
    case ResampleEngine::SoxrVHQ: return SOXR_VHQ;
    case ResampleEngine::SoxrMQ: return SOXR_MQ;
    case ResampleEngine::SoxrLQ: return SOXR_LQ;
    default: return SOXR_HQ;
  }
}

std::vector<float> resampleSoxr(const float* input, int64_t frames, int channels, double inRate, double outRate,
                                ResampleEngine engine, const CancelToken* cancel) {
  const int64_t outFrames = resampledLength(frames, inRate, outRate);
  std::vector<float> output(static_cast<size_t>(outFrames) * channels);
  soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  soxr_quality_spec_t quality = soxr_quality_spec(soxrRecipe(engine), 0);
  soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
  soxr_error_t err = nullptr;
  std::unique_ptr<soxr, decltype(&soxr_delete)> state(
      soxr_create(inRate, outRate, static_cast<unsigned>(channels), &err, &io, &quality, &runtime), &soxr_delete);
  if (!state || err) throw Error(code::kResampleFailed, std::string("resample: soxr_create failed (") + err + ")");

  // Feed the input block by block (so cancellation is prompt), then flush with a null input until
  // exactly outFrames have been produced, the way python-soxr's resample() does.
  int64_t produced = 0;
  for (int64_t start = 0; start < frames; start += kBlockFrames) {
    if (cancel) cancel->throwIfRequested("resample");
    const int64_t n = std::min(kBlockFrames, frames - start);
    size_t consumed = 0, done = 0;
    err = soxr_process(state.get(), input + start * channels, static_cast<size_t>(n), &consumed,
                       output.data() + produced * channels, static_cast<size_t>(outFrames - produced), &done);
    if (err) throw Error(code::kResampleFailed, std::string("resample: ") + err);
    produced += static_cast<int64_t>(done);
  }
  while (produced < outFrames) {
    size_t done = 0;
    err = soxr_process(state.get(), nullptr, 0, nullptr, output.data() + produced * channels,
                       static_cast<size_t>(outFrames - produced), &done);
    if (err) throw Error(code::kResampleFailed, std::string("resample: ") + err);
    if (done == 0) break;
    produced += static_cast<int64_t>(done);
  }
  return output;  // any unfilled tail (never seen in practice) stays zero
}

int srcConverter(ResampleEngine engine) {
  switch (engine) {
    case ResampleEngine::SincMedium: return SRC_SINC_MEDIUM_QUALITY;
    case ResampleEngine::SincFastest: return SRC_SINC_FASTEST;
    default: return SRC_SINC_BEST_QUALITY;
  }
}

std::vector<float> resampleSrc(const float* input, int64_t frames, int channels, double inRate, double outRate,
                               ResampleEngine engine, const CancelToken* cancel) {
  const int64_t outFrames = resampledLength(frames, inRate, outRate);
  std::vector<float> output(static_cast<size_t>(outFrames) * channels);
  int err = 0;
  std::unique_ptr<SRC_STATE, decltype(&src_delete)> state(src_new(srcConverter(engine), channels, &err), &src_delete);
  if (!state) throw Error(code::kResampleFailed, std::string("resample: src_new failed (") + src_strerror(err) + ")");

  // libsamplerate compensates its own delay; after end_of_input it may stop a frame short of
  // ceil(n * ratio), so keep asking until it has nothing more and leave the rest zero.
  const double ratio = outRate / inRate;
  int64_t consumed = 0, produced = 0;
  while (produced < outFrames) {
    if (cancel) cancel->throwIfRequested("resample");
    const int64_t n = std::min(kBlockFrames, frames - consumed);
    SRC_DATA data{};
    data.data_in = input + consumed * channels;
    data.input_frames = static_cast<long>(n);
    data.data_out = output.data() + produced * channels;
    data.output_frames = static_cast<long>(outFrames - produced);
    data.end_of_input = consumed + n >= frames ? 1 : 0;
    data.src_ratio = ratio;
    err = src_process(state.get(), &data);
    if (err) throw Error(code::kResampleFailed, std::string("resample: ") + src_strerror(err));
    consumed += data.input_frames_used;
    produced += data.output_frames_gen;
    if (data.end_of_input && data.output_frames_gen == 0) break;
  }
  return output;
}

}  // namespace

ResampleEngine parseResampleEngine(const std::string& name) {
  if (name == "soxr_hq") return ResampleEngine::SoxrHQ;
  if (name == "soxr_vhq") return ResampleEngine::SoxrVHQ;
  if (name == "soxr_mq") return ResampleEngine::SoxrMQ;
  if (name == "soxr_lq") return ResampleEngine::SoxrLQ;
  if (name == "sinc_best") return ResampleEngine::SincBest;
  if (name == "sinc_medium") return ResampleEngine::SincMedium;
  if (name == "sinc_fastest") return ResampleEngine::SincFastest;
  throw Error(code::kInvalidArgument, "resample: unknown engine '" + name + "'");
}

int64_t resampledLength(int64_t frames, double inRate, double outRate) {
  return static_cast<int64_t>(std::ceil(static_cast<double>(frames) * outRate / inRate));
}

std::vector<float> resample(const float* input, int64_t frames, int channels, double inRate, double outRate,
                            ResampleEngine engine, const CancelToken* cancel) {
  // Bounded rates also bound the ratio (1/768 .. 768): an absurd outRate once made soxr allocate
  // gigabytes and abort the process.
  limits::requireRate(inRate, "resample", "inRate");
  limits::requireRate(outRate, "resample", "outRate");
  if (channels <= 0 || channels > limits::kMaxChannels) {
    throw Error(code::kInvalidArgument, "resample: channels must be in [1, 1024]");
  }
  if (frames < 0) throw Error(code::kInvalidArgument, "resample: frames must not be negative");
  if (frames == 0) return {};
  limits::checkAlloc(std::ceil(static_cast<double>(frames) * outRate / inRate) * channels, sizeof(float), "resample",
                     "the output");
  // Like decode/stft/analyze: NaN or infinity would come out as silence or noise, not an error.
  for (int64_t i = 0, n = frames * channels; i < n; ++i) {
    if (!std::isfinite(input[i])) {
      throw Error(code::kNonFiniteSamples, "resample: the input contains a non-finite sample (" +
                                               std::to_string(input[i]) + " at frame " + std::to_string(i / channels) +
                                               ")");
    }
  }
  if (inRate == outRate) return std::vector<float>(input, input + frames * channels);
  switch (engine) {
    case ResampleEngine::SincBest:
    case ResampleEngine::SincMedium:
    case ResampleEngine::SincFastest: return resampleSrc(input, frames, channels, inRate, outRate, engine, cancel);
    default: return resampleSoxr(input, frames, channels, inRate, outRate, engine, cancel);
  }
}

std::string soxrVersion() { return soxr_version(); }
std::string samplerateVersion() { return src_get_version(); }

}  // namespace de::audio
