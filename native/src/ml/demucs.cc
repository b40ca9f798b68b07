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

// Normalisation by the mix statistics (demucs.separate / api.separate_tensor): reference = mean of
// the channels, unbiased std (+ 1e-8).
struct MixStats {
  double mean, stdev;
};
MixStats mixStats(const float* mix, int64_t frames) {
  double sum = 0;
  for (int64_t i = 0; i < frames; ++i) sum += 0.5 * (static_cast<double>(mix[2 * i]) + mix[2 * i + 1]);
  const double mean = sum / static_cast<double>(frames);
  double sq = 0;
  for (int64_t i = 0; i < frames; ++i) {
    double d = 0.5 * (static_cast<double>(mix[2 * i]) + mix[2 * i + 1]) - mean;
    sq += d * d;
  }
  return {mean, std::sqrt(sq / static_cast<double>(frames - 1)) + 1e-8};
}

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

}  // namespace

Stems separate(const Session& session, const ModelInfo& model, const float* mix, int64_t frames,
               const SeparateOptions& options, const CancelToken* cancel, const Progress& progress) {
  const char* op = "separate";
  if (frames < 2) throw Error(code::kInvalidArgument, "demucs: audio is too short");
  for (int64_t i = 0; i < frames * kChannels; ++i) {
    if (!std::isfinite(mix[i])) throw Error(code::kNonFiniteSamples, "demucs: input has non-finite samples");
  }
  if (!(options.overlap >= 0 && options.overlap < 1))
    throw Error(code::kInvalidArgument, "demucs: overlap must be in [0, 1)");
  if (options.transitionPower < 1) throw Error(code::kInvalidArgument, "demucs: transitionPower must be >= 1");
  const int S = model.sources;
  const int64_t modelSeg = model.segment;
  int64_t segLen = modelSeg;
  if (options.segmentSeconds > 0) {
    segLen = static_cast<int64_t>(options.segmentSeconds * kSampleRate);
    if (segLen > modelSeg || segLen < kNfft) {
      throw Error(code::kInvalidArgument, "demucs: segment must be between 4096 samples and the model's " +
                                              std::to_string(modelSeg) + " samples");
    }
  }
  const int64_t stride = static_cast<int64_t>((1.0 - options.overlap) * static_cast<double>(segLen));
  if (stride < 1) throw Error(code::kInvalidArgument, "demucs: overlap leaves no stride");
  const int64_t T = model.frames;
  const int batch = model.batch == 1 ? 1 : std::max(1, options.batch);

  const MixStats stats = mixStats(mix, frames);
  const double mean = stats.mean;
  const double stdev = stats.stdev;
  const float fmean = static_cast<float>(mean);
  const float finv = static_cast<float>(1.0 / stdev);
  auto sample = [&](int c, int64_t pos) -> float {
    return (pos >= 0 && pos < frames) ? (mix[2 * pos + c] - fmean) * finv : 0.0f;
  };

  Stems stems;
  stems.sources = S;
  stems.frames = frames;
  stems.data.assign(static_cast<size_t>(S), std::vector<float>(static_cast<size_t>(frames) * kChannels, 0.0f));

  const std::vector<View> views = shiftViews(options, frames);
  const float viewScale = 1.0f / static_cast<float>(views.size());
  const std::vector<float> weight = transitionWeights(segLen, options.transitionPower);

  int64_t total = 0;
  for (const View& v : views) total += (v.length + stride - 1) / stride;
  int64_t done = 0;

  Spectral spectral(modelSeg);
  const size_t mixSize = static_cast<size_t>(kChannels * modelSeg);
  const size_t specSize = static_cast<size_t>(2 * kChannels) * kBins * static_cast<size_t>(T);
  std::vector<float> mixIn(mixSize * batch), specIn(specSize * batch);
  std::vector<float> chunkOut(static_cast<size_t>(modelSeg)), gain(static_cast<size_t>(segLen));
  const float fstd = static_cast<float>(stdev);

  for (const View& view : views) {
    std::vector<int64_t> offsets;
    for (int64_t off = 0; off < view.length; off += stride) offsets.push_back(off);
    const int64_t nChunks = static_cast<int64_t>(offsets.size());
    // Sum of the weights covering view position p (every chunk that reaches it).
    auto weightSum = [&](int64_t p) -> float {
      float s = 0;
      int64_t kFirst = p >= segLen ? (p - segLen) / stride : 0;
      for (int64_t k = kFirst; k < nChunks && offsets[k] <= p; ++k) {
        int64_t len = std::min(view.length - offsets[k], segLen);
        if (p < offsets[k] + len) s += weight[static_cast<size_t>(p - offsets[k])];
      }
      return s;
    };
    for (int64_t first = 0; first < nChunks; first += batch) {
      if (cancel) cancel->throwIfRequested(op);
      const int nb = static_cast<int>(std::min<int64_t>(batch, nChunks - first));
      for (int b = 0; b < nb; ++b) {
        const int64_t off = offsets[first + b];
        const int64_t chunkLen = std::min(view.length - off, segLen);
        // TensorChunk.padded: centred in the model's segment, real neighbours where they exist.
        const int64_t start = view.start + off - (modelSeg - chunkLen) / 2;
        float* m = mixIn.data() + b * mixSize;
        for (int c = 0; c < kChannels; ++c) {
          for (int64_t i = 0; i < modelSeg; ++i) m[c * modelSeg + i] = sample(c, start + i);
        }
        float* sp = specIn.data() + b * specSize;
        for (int c = 0; c < kChannels; ++c) {
          float* re = sp + static_cast<size_t>(2 * c) * kBins * T;
          float* im = sp + static_cast<size_t>(2 * c + 1) * kBins * T;
          spectral.forward(m + c * modelSeg, re, im, T);
        }
      }
      std::vector<InputView> inputs{{model.mixName, {nb, kChannels, modelSeg}, mixIn.data(), mixSize * nb},
                                    {model.specName, {nb, 2 * kChannels, kBins, T}, specIn.data(), specSize * nb}};
      std::vector<Tensor> outs = session.run(inputs, {model.specOutName, model.timeOutName}, cancel);
      const Tensor& zOut = outs[0];
      const Tensor& tOut = outs[1];
      const size_t zExpect = static_cast<size_t>(nb) * S * specSize;
      const size_t tExpect = static_cast<size_t>(nb) * S * kChannels * modelSeg;
      if (zOut.data.size() != zExpect || tOut.data.size() != tExpect) {
        throw Error(code::kInferenceFailed, "demucs: model outputs have unexpected sizes " + shapeText(zOut.shape) +
                                                " and " + shapeText(tOut.shape));
      }
      for (int b = 0; b < nb; ++b) {
        const int64_t off = offsets[first + b];
        const int64_t chunkLen = std::min(view.length - off, segLen);
        const int64_t trim = (modelSeg - chunkLen) / 2;  // center_trim
        for (int64_t j = 0; j < chunkLen; ++j) {
          gain[static_cast<size_t>(j)] = weight[static_cast<size_t>(j)] / weightSum(off + j) * viewScale;
        }
        for (int s = 0; s < S; ++s) {
          for (int c = 0; c < kChannels; ++c) {
            const float* zb = zOut.data.data() + (static_cast<size_t>(b) * S + s) * specSize;
            const float* re = zb + static_cast<size_t>(2 * c) * kBins * T;
            const float* im = zb + static_cast<size_t>(2 * c + 1) * kBins * T;
            const float* tb = tOut.data.data() + ((static_cast<size_t>(b) * S + s) * kChannels + c) * modelSeg;
            std::memcpy(chunkOut.data(), tb, static_cast<size_t>(modelSeg) * sizeof(float));
            spectral.inverse(re, im, T, chunkOut.data());
            float* dst = stems.data[static_cast<size_t>(s)].data() + c;
            for (int64_t j = 0; j < chunkLen; ++j) {
              const int64_t pos = view.start + off + j;
              if (pos < 0 || pos >= frames) continue;
              // De-normalise (out * std + mean), cross-fade, average over the views.
              dst[2 * pos] += (chunkOut[static_cast<size_t>(trim + j)] * fstd + fmean) * gain[static_cast<size_t>(j)];
            }
          }
        }
      }
      done += nb;
      if (progress) progress(done, total);
    }
  }
  return stems;
}

}  // namespace de::ml::demucs
