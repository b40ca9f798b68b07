#include "ml/demucs.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "audio/resample.h"
#include "common/error.h"

namespace de::ml::demucs {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int64_t kCenterPad = kNfft / 2;     // torch.stft(center=True)
constexpr int64_t kDemucsPad = kHop / 2 * 3;  // HTDemucs._spec: 1536

const std::vector<std::string> kDefaultNames4{"drums", "bass", "other", "vocals"};
const std::vector<std::string> kDefaultNames6{"drums", "bass", "other", "vocals", "guitar", "piano"};

[[noreturn]] void invalid(const std::string& what) { throw Error(code::kModelInvalid, "demucs: " + what); }

std::string shapeText(const std::vector<int64_t>& shape) {
  std::ostringstream s;
  s << '[';
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
  s << ']';
  return s.str();
}

// Minimal protobuf reader over either a file or bytes.
class ProtoReader {
 public:
  ProtoReader(const std::string& path, const std::vector<uint8_t>& bytes) : bytes_(bytes) {
    if (bytes_.empty()) {
      file_.open(path, std::ios::binary);
      if (!file_) throw Error(code::kModelNotFound, "demucs: cannot open model " + path);
    }
  }
  bool next(uint64_t* tag) {
    if (bytes_.empty()) {
      if (file_.peek() == EOF) return false;
    } else if (pos_ >= bytes_.size()) {
      return false;
    }
    *tag = varint();
    return true;
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int b = byte();
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    invalid("malformed ONNX protobuf");
  }
  std::string take(uint64_t n) {
    if (n > (64u << 20)) invalid("malformed ONNX protobuf (metadata too large)");
    std::string s(n, '\0');
    if (bytes_.empty()) {
      file_.read(s.data(), static_cast<std::streamsize>(n));
      if (static_cast<uint64_t>(file_.gcount()) != n) invalid("truncated ONNX file");
    } else {
      if (pos_ + n > bytes_.size()) invalid("truncated ONNX bytes");
      std::memcpy(s.data(), bytes_.data() + pos_, n);
      pos_ += n;
    }
    return s;
  }
  void skip(uint64_t wire) {
    uint64_t n = 0;
    switch (wire) {
      case 0: varint(); return;
      case 1: n = 8; break;
      case 2: n = varint(); break;
      case 5: n = 4; break;
      default: invalid("malformed ONNX protobuf (wire type " + std::to_string(wire) + ")");
    }
    if (bytes_.empty()) {
      file_.seekg(static_cast<std::streamoff>(n), std::ios::cur);
      if (!file_) invalid("truncated ONNX file");
    } else {
      if (pos_ + n > bytes_.size()) invalid("truncated ONNX bytes");
      pos_ += n;
    }
  }

 private:
  int byte() {
    if (bytes_.empty()) {
      int c = file_.get();
      if (c == EOF) invalid("truncated ONNX file");
      return c;
    }
    if (pos_ >= bytes_.size()) invalid("truncated ONNX bytes");
    return bytes_[pos_++];
  }
  const std::vector<uint8_t>& bytes_;
  size_t pos_ = 0;
  std::ifstream file_;
};

std::pair<std::string, std::string> parseEntry(const std::string& raw) {
  std::vector<uint8_t> bytes(raw.begin(), raw.end());
  if (bytes.empty()) return {};
  ProtoReader r("", bytes);
  std::pair<std::string, std::string> kv;
  uint64_t tag;
  while (r.next(&tag)) {
    if ((tag & 7) == 2 && (tag >> 3) == 1) {
      kv.first = r.take(r.varint());
    } else if ((tag & 7) == 2 && (tag >> 3) == 2) {
      kv.second = r.take(r.varint());
    } else {
      r.skip(tag & 7);
    }
  }
  return kv;
}

std::vector<std::string> splitNames(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    if (ch == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (ch != ' ' && ch != '"' && ch != '[' && ch != ']' && ch != '\'') {
      cur += ch;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// Triangular transition weights of demucs.apply.apply_model, normalised and raised to `power`.
std::vector<float> transitionWeights(int64_t segment, double power) {
  std::vector<float> w(static_cast<size_t>(segment));
  const int64_t half = segment / 2;
  const double peak = static_cast<double>(std::max(half, segment - half));
  for (int64_t i = 0; i < segment; ++i) {
    double v = (i < half ? i + 1 : segment - i) / peak;
    w[static_cast<size_t>(i)] = static_cast<float>(std::pow(v, power));
  }
  return w;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> readOnnxMetadata(const std::string& path,
                                                                  const std::vector<uint8_t>& bytes) {
  ProtoReader r(path, bytes);
  std::vector<std::pair<std::string, std::string>> out;
  uint64_t tag;
  while (r.next(&tag)) {
    if ((tag >> 3) == 14 && (tag & 7) == 2) {
      out.push_back(parseEntry(r.take(r.varint())));
    } else {
      r.skip(tag & 7);
    }
  }
  return out;
}

ModelInfo inspectModel(const Session& session, const std::vector<std::pair<std::string, std::string>>& metadata) {
  ModelInfo info;
  const auto& ins = session.inputs();
  const auto& outs = session.outputs();
  if (ins.size() != 2 || outs.size() != 2) {
    invalid("expected 2 inputs (mix [B,2,L], spectrogram [B,4,2048,T]) and 2 outputs, the model has " +
            std::to_string(ins.size()) + " and " + std::to_string(outs.size()));
  }
  const TensorSpec* mix = nullptr;
  const TensorSpec* spec = nullptr;
  for (const auto& t : ins) {
    if (t.elementType != "float32") invalid("input '" + t.name + "' must be float32, not " + t.elementType);
    if (t.shape.size() == 3) mix = &t;
    if (t.shape.size() == 4) spec = &t;
  }
  if (!mix || !spec) invalid("inputs must be a rank-3 mix and a rank-4 spectrogram");
  const TensorSpec* specOut = nullptr;
  const TensorSpec* timeOut = nullptr;
  for (const auto& t : outs) {
    if (t.elementType != "float32") invalid("output '" + t.name + "' must be float32, not " + t.elementType);
    if (t.shape.size() == 5) specOut = &t;
    if (t.shape.size() == 4) timeOut = &t;
  }
  if (!specOut || !timeOut) invalid("outputs must be a rank-5 spectral branch and a rank-4 time branch");
  if (mix->shape[1] != kChannels) invalid("mix input must be stereo [B,2,L], got " + shapeText(mix->shape));
  if (mix->shape[2] <= 0) invalid("mix input needs a fixed segment length, got " + shapeText(mix->shape));
  info.segment = mix->shape[2];
  info.frames = (info.segment + kHop - 1) / kHop;
  if (spec->shape[1] != 2 * kChannels || spec->shape[2] != kBins || spec->shape[3] != info.frames) {
    invalid("spectrogram input must be [B,4,2048," + std::to_string(info.frames) + "] for segments of " +
            std::to_string(info.segment) + " samples, got " + shapeText(spec->shape));
  }
  // Output dims may be symbolic in an export (-1): check the known ones; run() re-checks sizes.
  auto dimOk = [](int64_t have, int64_t want) { return have < 0 || have == want; };
  if (!dimOk(specOut->shape[2], 2 * kChannels) || !dimOk(specOut->shape[3], kBins) ||
      !dimOk(specOut->shape[4], info.frames)) {
    invalid("spectral output must be [B,S,4,2048," + std::to_string(info.frames) + "], got " +
            shapeText(specOut->shape));
  }
  if (!dimOk(timeOut->shape[2], kChannels) || !dimOk(timeOut->shape[3], info.segment)) {
    invalid("time output must be [B,S,2," + std::to_string(info.segment) + "], got " + shapeText(timeOut->shape));
  }
  int64_t batch = mix->shape[0];
  if (spec->shape[0] != batch) invalid("batch dimensions of the two inputs disagree");
  for (int64_t b : {specOut->shape[0], timeOut->shape[0]}) {
    if (b > 0 && batch > 0 && b != batch) invalid("batch dimensions disagree between inputs and outputs");
  }
  info.batch = batch > 0 ? batch : -1;
  if (info.batch > 1) invalid("a fixed batch dimension must be 1 or dynamic, got " + std::to_string(batch));

  std::vector<std::string> names;
  for (const auto& [key, value] : metadata) {
    if (key == "sources") names = splitNames(value);
    if (key == "sample_rate" || key == "samplerate") {
      int rate = 0;
      try {
        rate = std::stoi(value);
      } catch (...) {
        invalid("metadata sample_rate '" + value + "' is not a number");
      }
      if (rate != kSampleRate) {
        invalid("model is for " + std::to_string(rate) + " Hz; this engine runs 44100 Hz htdemucs models");
      }
      info.sampleRate = rate;
    }
    if (key == "audio_channels" && value != "2") invalid("model has audio_channels " + value + ", expected 2");
  }
  int64_t s = specOut->shape[1];
  if (s > 0 && timeOut->shape[1] > 0 && s != timeOut->shape[1]) {
    invalid("spectral and time outputs disagree on the source count");
  }
  if (s <= 0) s = timeOut->shape[1];
  if (s <= 0) s = static_cast<int64_t>(names.size());
  if (s <= 0) invalid("source count is neither in the output shapes nor in metadata 'sources'");
  if (!names.empty() && static_cast<int64_t>(names.size()) != s) {
    invalid("metadata lists " + std::to_string(names.size()) + " sources, the outputs have " + std::to_string(s));
  }
  if (names.empty()) {
    if (s == 4) names = kDefaultNames4;
    else if (s == 6) names = kDefaultNames6;
    else
      for (int64_t i = 0; i < s; ++i) names.push_back("source" + std::to_string(i));
  }
  info.sources = static_cast<int>(s);
  info.sourceNames = names;
  info.mixName = mix->name;
  info.specName = spec->name;
  info.specOutName = specOut->name;
  info.timeOutName = timeOut->name;
  return info;
}

// ---- Spectral transforms ------------------------------------------------------------------------

Spectral::Spectral(int64_t segment) : segment_(segment), frame_(kNfft), spec_(kNfft / 2 + 1), fft_(kNfft) {
  frames_ = (segment + kHop - 1) / kHop;
  padLeft_ = kDemucsPad;
  padded_ = frames_ * kHop + 2 * kDemucsPad;  // == segment + 1536 + (1536 + frames*hop - segment)
  window_.resize(kNfft);
  for (int i = 0; i < kNfft; ++i) window_[i] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * kPi * i / kNfft));
  // torch.istft's window envelope over all frames+4 frames (the 2 zero frames per side included),
  // in padded coordinates (the centre padding removed).
  std::vector<double> env(static_cast<size_t>(padded_), 0.0);
  for (int64_t t = 0; t < frames_ + 4; ++t) {
    int64_t start = t * kHop - kCenterPad;
    for (int k = 0; k < kNfft; ++k) {
      int64_t n = start + k;
      if (n >= 0 && n < padded_) env[static_cast<size_t>(n)] += static_cast<double>(window_[k]) * window_[k];
    }
  }
  envelopeInv_.resize(static_cast<size_t>(segment_));
  for (int64_t i = 0; i < segment_; ++i) {
    envelopeInv_[static_cast<size_t>(i)] = static_cast<float>(1.0 / env[static_cast<size_t>(i + padLeft_)]);
  }
}

void Spectral::forward(const float* x, float* re, float* im, int64_t stride) {
  // Reflect-pad by 1536 left and 1536 + (frames*hop - segment) right (HTDemucs._spec). The kept
  // frames 2..frames+1 of torch's centred STFT never reach into the centre padding.
  std::vector<float> xp(static_cast<size_t>(padded_));
  std::memcpy(xp.data() + padLeft_, x, static_cast<size_t>(segment_) * sizeof(float));
  for (int64_t k = 0; k < padLeft_; ++k) xp[static_cast<size_t>(padLeft_ - 1 - k)] = x[k + 1];
  const int64_t right = padded_ - padLeft_ - segment_;
  for (int64_t k = 0; k < right; ++k) xp[static_cast<size_t>(padLeft_ + segment_ + k)] = x[segment_ - 2 - k];
  // normalized=True: the forward transform scaled by 1/sqrt(N).
  const float scale = 1.0f / std::sqrt(static_cast<float>(kNfft));
  for (int64_t f = 0; f < frames_; ++f) {
    const float* src = xp.data() + f * kHop;
    for (int k = 0; k < kNfft; ++k) frame_[k] = src[k] * window_[k];
    fft_.forward(frame_.data(), spec_.data());
    for (int b = 0; b < kBins; ++b) {
      re[b * stride + f] = spec_[b].real() * scale;
      im[b * stride + f] = spec_[b].imag() * scale;
    }
  }
}

void Spectral::inverse(const float* re, const float* im, int64_t stride, float* out) {
  std::vector<float> acc(static_cast<size_t>(padded_), 0.0f);
  // irfft's 1/N with normalized=True's sqrt(N): 1/sqrt(N).
  const float scale = 1.0f / std::sqrt(static_cast<float>(kNfft));
  for (int64_t f = 0; f < frames_; ++f) {
    // The dropped Nyquist bin is zero; the inverse ignores the imaginary part of DC, as c2r does.
    for (int b = 0; b < kBins; ++b) spec_[b] = {re[b * stride + f], im[b * stride + f]};
    spec_[kBins] = {0.0f, 0.0f};
    fft_.inverse(spec_.data(), frame_.data(), scale);
    float* dst = acc.data() + f * kHop;
    for (int k = 0; k < kNfft; ++k) dst[k] += frame_[k] * window_[k];
  }
  for (int64_t i = 0; i < segment_; ++i) {
    out[i] += acc[static_cast<size_t>(i + padLeft_)] * envelopeInv_[static_cast<size_t>(i)];
  }
}

// ---- Input conversion ---------------------------------------------------------------------------

std::vector<float> toModelInput(const float* interleaved, int64_t frames, int channels, double sampleRate,
                                int64_t* outFrames, const CancelToken* cancel) {
  if (channels < 1) throw Error(code::kInvalidArgument, "demucs: audio has no channels");
  if (frames < 2)
    throw Error(code::kInvalidArgument, "demucs: audio is too short (" + std::to_string(frames) + " frames)");
  // Demucs' convert_audio_channels: mono is duplicated, more than two channels keep the first two.
  const int keep = std::min(channels, kChannels);
  std::vector<float> kept(static_cast<size_t>(frames) * keep);
  for (int64_t i = 0; i < frames; ++i) {
    for (int c = 0; c < keep; ++c) kept[static_cast<size_t>(i * keep + c)] = interleaved[i * channels + c];
  }
  int64_t n = frames;
  if (sampleRate != kSampleRate) {
    kept = audio::resample(kept.data(), frames, keep, sampleRate, kSampleRate, audio::ResampleEngine::SoxrHQ, cancel);
    n = static_cast<int64_t>(kept.size()) / keep;
  }
  if (keep == kChannels) {
    *outFrames = n;
    return kept;
  }
  std::vector<float> stereo(static_cast<size_t>(n) * kChannels);
  for (int64_t i = 0; i < n; ++i)
    stereo[static_cast<size_t>(2 * i)] = stereo[static_cast<size_t>(2 * i + 1)] = kept[static_cast<size_t>(i)];
  *outFrames = n;
  return stereo;
}

bool needsConversion(int channels, double sampleRate) { return channels != kChannels || sampleRate != kSampleRate; }

// ---- Separation ---------------------------------------------------------------------------------

namespace {

// The pieces of demucs.apply.apply_model that separate() strings together.

// The segmenting of one separate() call (apply_model's split, overlap and batch), checked.
struct Plan {
  int sources = 0;
  int64_t modelSeg = 0;    // samples the model takes per segment
  int64_t segLen = 0;      // samples of the mix per chunk (<= modelSeg: centred and padded into it)
  int64_t stride = 0;      // samples from one chunk's start to the next
  int64_t specFrames = 0;  // STFT frames per segment
  int batch = 1;           // chunks per session run
  size_t mixSize = 0;      // floats of one chunk's mix tensor [2, modelSeg]
  size_t specSize = 0;     // floats of one chunk's spectrogram tensor [4, kBins, specFrames]
};

void checkMix(const float* mix, int64_t frames) {
  if (frames < 2) throw Error(code::kInvalidArgument, "demucs: audio is too short");
  for (int64_t i = 0; i < frames * kChannels; ++i) {
    if (!std::isfinite(mix[i])) throw Error(code::kNonFiniteSamples, "demucs: input has non-finite samples");
  }
}

Plan planSegments(const ModelInfo& model, const SeparateOptions& options) {
  if (!(options.overlap >= 0 && options.overlap < 1))
    throw Error(code::kInvalidArgument, "demucs: overlap must be in [0, 1)");
  if (options.transitionPower < 1) throw Error(code::kInvalidArgument, "demucs: transitionPower must be >= 1");
  Plan plan;
  plan.sources = model.sources;
  plan.modelSeg = model.segment;
  plan.segLen = model.segment;
  if (options.segmentSeconds > 0) {
    plan.segLen = static_cast<int64_t>(options.segmentSeconds * kSampleRate);
    if (plan.segLen > plan.modelSeg || plan.segLen < kNfft) {
      throw Error(code::kInvalidArgument, "demucs: segment must be between 4096 samples and the model's " +
                                              std::to_string(plan.modelSeg) + " samples");
    }
  }
  plan.stride = static_cast<int64_t>((1.0 - options.overlap) * static_cast<double>(plan.segLen));
  if (plan.stride < 1) throw Error(code::kInvalidArgument, "demucs: overlap leaves no stride");
  plan.specFrames = model.frames;
  plan.batch = model.batch == 1 ? 1 : std::max(1, options.batch);
  plan.mixSize = static_cast<size_t>(kChannels * plan.modelSeg);
  plan.specSize = static_cast<size_t>(2 * kChannels) * kBins * static_cast<size_t>(plan.specFrames);
  return plan;
}

// Normalisation by the mix statistics (demucs.separate / api.separate_tensor): reference = mean of
// the channels, unbiased std (+ 1e-8). at() is the mix as the model reads it: zero outside the song.
struct NormalisedMix {
  const float* mix;
  int64_t frames;
  float mean, stdev, inv;

  NormalisedMix(const float* x, int64_t n) : mix(x), frames(n) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += 0.5 * (static_cast<double>(x[2 * i]) + x[2 * i + 1]);
    const double m = sum / static_cast<double>(n);
    double sq = 0;
    for (int64_t i = 0; i < n; ++i) {
      double d = 0.5 * (static_cast<double>(x[2 * i]) + x[2 * i + 1]) - m;
      sq += d * d;
    }
    const double sd = std::sqrt(sq / static_cast<double>(n - 1)) + 1e-8;
    mean = static_cast<float>(m);
    stdev = static_cast<float>(sd);
    inv = static_cast<float>(1.0 / sd);
  }
  float at(int c, int64_t pos) const { return (pos >= 0 && pos < frames) ? (mix[2 * pos + c] - mean) * inv : 0.0f; }
};

// Views: (start in mix coordinates, length). shifts = 0 is the mix itself; each shift looks at the
// mix padded with 0.5 s of zeros on both sides, from a random offset (apply_model's shifts).
struct View {
  int64_t start, length;
};
std::vector<View> shiftViews(const SeparateOptions& options, int64_t frames) {
  std::vector<View> views;
  const int64_t maxShift = kSampleRate / 2;
  if (options.shifts <= 0) {
    views.push_back({0, frames});
  } else {
    std::mt19937_64 rng(options.seed);
    std::uniform_int_distribution<int64_t> pick(0, maxShift);
    for (int i = 0; i < options.shifts; ++i) {
      int64_t o = pick(rng);
      views.push_back({o - maxShift, frames + maxShift - o});
    }
  }
  return views;
}

// The chunks of one view (every `stride` samples, `segLen` long or what is left) and their
// cross-fade: each chunk's transition weights over the sum of the weights covering each position.
class ViewChunks {
 public:
  ViewChunks(const View& view, const Plan& plan, const std::vector<float>& weight)
      : view_(view), plan_(plan), weight_(weight) {
    for (int64_t off = 0; off < view.length; off += plan.stride) offsets_.push_back(off);
  }
  int64_t count() const { return static_cast<int64_t>(offsets_.size()); }
  int64_t offset(int64_t k) const { return offsets_[k]; }
  int64_t length(int64_t k) const { return std::min(view_.length - offsets_[k], plan_.segLen); }

  // gain[j] for j < length(k): chunk k's share of view position offset(k) + j, times `viewScale`.
  void gains(int64_t k, float viewScale, float* gain) const {
    const int64_t off = offsets_[k];
    for (int64_t j = 0; j < length(k); ++j) {
      gain[static_cast<size_t>(j)] = weight_[static_cast<size_t>(j)] / weightSum(off + j) * viewScale;
    }
  }

 private:
  // Sum of the weights covering view position p (every chunk that reaches it).
  float weightSum(int64_t p) const {
    float s = 0;
    const int64_t kFirst = p >= plan_.segLen ? (p - plan_.segLen) / plan_.stride : 0;
    for (int64_t k = kFirst; k < count() && offsets_[k] <= p; ++k) {
      if (p < offsets_[k] + length(k)) s += weight_[static_cast<size_t>(p - offsets_[k])];
    }
    return s;
  }

  View view_;
  const Plan& plan_;
  const std::vector<float>& weight_;
  std::vector<int64_t> offsets_;
};

// The network's inputs for one batch slot: the chunk as TensorChunk.padded gives it (centred in the
// model's segment, real neighbours where they exist, zeros beyond the song) and its spectrogram.
void fillChunk(const NormalisedMix& input, const Plan& plan, Spectral& spectral, int64_t start, float* mix,
               float* spec) {
  const int64_t seg = plan.modelSeg;
  for (int c = 0; c < kChannels; ++c) {
    for (int64_t i = 0; i < seg; ++i) mix[c * seg + i] = input.at(c, start + i);
  }
  const int64_t T = plan.specFrames;
  for (int c = 0; c < kChannels; ++c) {
    float* re = spec + static_cast<size_t>(2 * c) * kBins * T;
    float* im = spec + static_cast<size_t>(2 * c + 1) * kBins * T;
    spectral.forward(mix + c * seg, re, im, T);
  }
}

// The network on `nb` chunks: the spectral branch [nb, S, 4, kBins, T] and the time branch
// [nb, S, 2, modelSeg], their sizes checked.
std::vector<Tensor> runNetwork(const Session& session, const ModelInfo& model, const Plan& plan, int nb,
                               const std::vector<float>& mixIn, const std::vector<float>& specIn,
                               const CancelToken* cancel) {
  const int64_t T = plan.specFrames;
  std::vector<InputView> inputs{{model.mixName, {nb, kChannels, plan.modelSeg}, mixIn.data(), plan.mixSize * nb},
                                {model.specName, {nb, 2 * kChannels, kBins, T}, specIn.data(), plan.specSize * nb}};
  std::vector<Tensor> outs = session.run(inputs, {model.specOutName, model.timeOutName}, cancel);
  const size_t zExpect = static_cast<size_t>(nb) * plan.sources * plan.specSize;
  const size_t tExpect = static_cast<size_t>(nb) * plan.sources * kChannels * plan.modelSeg;
  if (outs[0].data.size() != zExpect || outs[1].data.size() != tExpect) {
    throw Error(code::kInferenceFailed, "demucs: model outputs have unexpected sizes " + shapeText(outs[0].shape) +
                                            " and " + shapeText(outs[1].shape));
  }
  return outs;
}

// Overlap-add of batch slot b, a chunk of `length` samples at song position `pos0`: per source and
// channel, the iSTFT of the spectral branch plus the time branch, trimmed to the chunk
// (center_trim), de-normalised (out * std + mean) and added with its cross-fade gain.
void addChunk(const Plan& plan, const NormalisedMix& input, const std::vector<Tensor>& outs, int b, int64_t pos0,
              int64_t length, const float* gain, Spectral& spectral, std::vector<float>& chunkOut, Stems& stems) {
  const int64_t seg = plan.modelSeg;
  const int64_t T = plan.specFrames;
  const int64_t trim = (seg - length) / 2;
  for (int s = 0; s < plan.sources; ++s) {
    for (int c = 0; c < kChannels; ++c) {
      const float* zb = outs[0].data.data() + (static_cast<size_t>(b) * plan.sources + s) * plan.specSize;
      const float* re = zb + static_cast<size_t>(2 * c) * kBins * T;
      const float* im = zb + static_cast<size_t>(2 * c + 1) * kBins * T;
      const float* tb = outs[1].data.data() + ((static_cast<size_t>(b) * plan.sources + s) * kChannels + c) * seg;
      std::memcpy(chunkOut.data(), tb, static_cast<size_t>(seg) * sizeof(float));
      spectral.inverse(re, im, T, chunkOut.data());
      float* dst = stems.data[static_cast<size_t>(s)].data() + c;
      for (int64_t j = 0; j < length; ++j) {
        const int64_t pos = pos0 + j;
        if (pos < 0 || pos >= input.frames) continue;
        dst[2 * pos] += (chunkOut[static_cast<size_t>(trim + j)] * input.stdev + input.mean) * gain[j];
      }
    }
  }
}

}  // namespace

Stems separate(const Session& session, const ModelInfo& model, const float* mix, int64_t frames,
               const SeparateOptions& options, const CancelToken* cancel, const Progress& progress) {
  checkMix(mix, frames);
  const Plan plan = planSegments(model, options);
  const NormalisedMix input(mix, frames);

  Stems stems;
  stems.sources = plan.sources;
  stems.frames = frames;
  stems.data.assign(static_cast<size_t>(plan.sources),
                    std::vector<float>(static_cast<size_t>(frames) * kChannels, 0.0f));

  const std::vector<View> views = shiftViews(options, frames);
  const float viewScale = 1.0f / static_cast<float>(views.size());
  const std::vector<float> weight = transitionWeights(plan.segLen, options.transitionPower);
  int64_t total = 0;
  for (const View& v : views) total += (v.length + plan.stride - 1) / plan.stride;
  int64_t done = 0;

  Spectral spectral(plan.modelSeg);
  std::vector<float> mixIn(plan.mixSize * plan.batch), specIn(plan.specSize * plan.batch);
  std::vector<float> chunkOut(static_cast<size_t>(plan.modelSeg)), gain(static_cast<size_t>(plan.segLen));
  for (const View& view : views) {
    const ViewChunks chunks(view, plan, weight);
    for (int64_t first = 0; first < chunks.count(); first += plan.batch) {
      if (cancel) cancel->throwIfRequested("separate");
      const int nb = static_cast<int>(std::min<int64_t>(plan.batch, chunks.count() - first));
      for (int b = 0; b < nb; ++b) {
        const int64_t k = first + b;
        const int64_t start = view.start + chunks.offset(k) - (plan.modelSeg - chunks.length(k)) / 2;
        fillChunk(input, plan, spectral, start, mixIn.data() + b * plan.mixSize, specIn.data() + b * plan.specSize);
      }
      const std::vector<Tensor> outs = runNetwork(session, model, plan, nb, mixIn, specIn, cancel);
      for (int b = 0; b < nb; ++b) {
        const int64_t k = first + b;
        chunks.gains(k, viewScale, gain.data());
        addChunk(plan, input, outs, b, view.start + chunks.offset(k), chunks.length(k), gain.data(), spectral, chunkOut,
                 stems);
      }
      done += nb;
      if (progress) progress(done, total);
    }
  }
  return stems;
}

}  // namespace de::ml::demucs
