#include "beat/beatnet_crnn.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

#include "common/error.h"
#include "ml/onnx_reader.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define DE_CRNN_KERNELS 1
#define DE_AVX2_FMA __attribute__((target("avx2,fma,f16c")))
#endif

namespace de::beat {

namespace {

constexpr int kInput = 272;    // LOG_SPECT dims
constexpr int kTaps = 10;      // conv kernel
constexpr int kConvOut = 263;  // 272 - 10 + 1
constexpr int kPooled = 131;   // floor(263 / 2)
constexpr int kFlat = 2 * kPooled;
constexpr int kHidden = 150;
constexpr int kHiddenPad = 152;               // a multiple of 8: each gate's block of columns
constexpr int kGates = 4 * kHiddenPad;        // i, o, f, c (ONNX's order), each padded; 608, a multiple of 16
constexpr int kInputPad = 160;                // Linear(262 -> 150)'s output columns, a multiple of 16
constexpr int kRecBlock = 64;                 // recurrence columns per register block (8 vectors)
constexpr int kRecTail = kGates % kRecBlock;  // the last block's columns (4 vectors)
// Frames per pass: the gates (78 KB) and one layer's recurrent weights (365 KB in float32, half in
// float16) stay in a 512 KB L2.
constexpr int kChunk = 32;
constexpr int kPaddedInput = 288;  // the conv reads 8 lanes past the last output
constexpr int kPanel = 16;         // GEMM columns per register block

// Where input-weight (k, col) lives in a K x N matrix packed in panels of kPanel columns: each
// panel's K x 16 block is contiguous, so it stays in L1 across the rows. (Row-major, its rows sat
// 640 or 2560 bytes apart and fell into a few L1 sets, which evicted the block every pass.)
inline size_t panelIndex(int k, int col, int K) {
  return (static_cast<size_t>(col / kPanel) * K + k) * kPanel + col % kPanel;
}

inline size_t recIndex(int k, int col) {
  const int start = col - col % kRecBlock;
  const int width = std::min(kRecBlock, kGates - start);
  return static_cast<size_t>(start) * kHidden + static_cast<size_t>(k) * width + (col - start);
}

}  // namespace

struct BeatNetCrnn::Weights {
  RecurrentPrecision precision = RecurrentPrecision::kFloat32;
  float convW[2][kTaps];
  float convB[2];
  std::vector<float> w0;  // kFlat x kInputPad in column panels (panelIndex)
  std::vector<float> b0;  // [kInputPad]
  struct Layer {
    std::vector<float> wt;    // input weights, kHidden x kGates in column panels (panelIndex)
    std::vector<float> bias;  // [kGates]: ONNX's Wb + Rb
    // Recurrent weights by blocks of kRecBlock columns (the last one kRecTail wide): block b's
    // kHidden x width matrix, row-major, starts at b * kRecBlock * kHidden (recIndex). Float16
    // precision keeps them as IEEE halves in recHalf (same layout) and rec is empty.
    std::vector<float> rec;
    std::vector<uint16_t> recHalf;
  } layers[2];
  float outW[kHidden][3];
  float outB[3];
};

BeatNetCrnn::BeatNetCrnn(std::unique_ptr<Weights> w) : w_(std::move(w)) {}
BeatNetCrnn::~BeatNetCrnn() = default;

bool BeatNetCrnn::supported() {
#ifdef DE_CRNN_KERNELS
  // F16C from CPUID leaf 1 (ECX bit 29): clang's __builtin_cpu_supports does not know the name.
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
  }();
  return yes;
#else
  return false;
#endif
}

// --- recognising the export ------------------------------------------------------------------

namespace {

using ml::OnnxGraph;
using ml::OnnxInitializer;
using ml::OnnxNode;
using Weights = BeatNetCrnn::Weights;

// Shape-plumbing ops the exporter emits around the compute nodes; they carry no weights.
bool isPlumbing(const std::string& op) {
  static const char* const kOps[] = {"Shape", "Constant",        "Gather",    "Unsqueeze", "Concat",  "Reshape",
                                     "Slice", "ConstantOfShape", "Transpose", "Squeeze",   "Flatten", "Identity"};
  for (const char* k : kOps) {
    if (op == k) return true;
  }
  return false;
}

const OnnxInitializer* initializer(const OnnxGraph& g, const OnnxNode& n, size_t input,
                                   const std::vector<int64_t>& dims) {
  if (input >= n.inputs.size()) return nullptr;
  auto it = g.initializers.find(n.inputs[input]);
  if (it == g.initializers.end() || it->second.external || it->second.dataType != 1 || it->second.dims != dims)
    return nullptr;
  size_t count = 1;
  for (int64_t d : dims) count *= static_cast<size_t>(d);
  return it->second.data.size() == count ? &it->second : nullptr;
}

// An attribute absent or equal to `want`.
bool intsAre(const OnnxNode& n, const char* name, const std::vector<int64_t>& want) {
  auto it = n.attributes.find(name);
  return it == n.attributes.end() || it->second.ints == want;
}

bool emptyInput(const OnnxNode& n, size_t i) { return i >= n.inputs.size() || n.inputs[i].empty(); }

// Initial LSTM states: empty, or made (through slices) of a ConstantOfShape of zeros.
bool zeroState(const OnnxGraph& g, const OnnxNode& n, size_t i) {
  if (emptyInput(n, i)) return true;
  std::string name = n.inputs[i];
  for (int hops = 0; hops < 4; ++hops) {
    const OnnxNode* producer = nullptr;
    for (const auto& m : g.nodes) {
      if (std::find(m.outputs.begin(), m.outputs.end(), name) != m.outputs.end()) producer = &m;
    }
    if (!producer) return false;
    if (producer->opType == "ConstantOfShape") {
      auto it = producer->attributes.find("value");
      if (it == producer->attributes.end()) return true;  // default value 0
      return std::all_of(it->second.floats.begin(), it->second.floats.end(), [](float v) { return v == 0.0f; });
    }
    if (producer->opType != "Slice" || producer->inputs.empty()) return false;
    name = producer->inputs[0];
  }
  return false;
}

std::string recognise(const OnnxGraph& g, Weights& w) {
  if (g.inputs != std::vector<std::string>{"features"} || g.outputs != std::vector<std::string>{"activations"})
    return "not input 'features' and output 'activations'";
  std::map<std::string, std::vector<const OnnxNode*>> ops;
  for (const auto& n : g.nodes) {
    if (!n.domain.empty() && n.domain != "ai.onnx") return "a node outside the default ONNX domain";
    if (!isPlumbing(n.opType)) ops[n.opType].push_back(&n);
  }
  const std::map<std::string, size_t> expected{{"Conv", 1}, {"Relu", 1},   {"MaxPool", 1}, {"Gemm", 1},
                                               {"LSTM", 2}, {"MatMul", 1}, {"Add", 1},     {"Softmax", 1}};
  if (ops.size() != expected.size()) return "other operators than BDA's";
  for (const auto& [op, count] : expected) {
    if (ops[op].size() != count) return "other operators than BDA's";
  }
  const OnnxNode& conv = *ops["Conv"][0];
  const OnnxInitializer* cw = initializer(g, conv, 1, {2, 1, kTaps});
  const OnnxInitializer* cb = initializer(g, conv, 2, {2});
  if (!cw || !cb || !intsAre(conv, "kernel_shape", {kTaps}) || !intsAre(conv, "strides", {1}) ||
      !intsAre(conv, "pads", {0, 0}) || !intsAre(conv, "dilations", {1}) || !intsAre(conv, "group", {1}) ||
      conv.attributes.count("auto_pad"))
    return "Conv is not Conv1d(1, 2, 10)";
  const OnnxNode& pool = *ops["MaxPool"][0];
  if (!intsAre(pool, "kernel_shape", {2}) || !intsAre(pool, "strides", {2}) || !intsAre(pool, "pads", {0, 0}) ||
      !intsAre(pool, "ceil_mode", {0}) || !intsAre(pool, "dilations", {1}) || pool.attributes.count("auto_pad") ||
      pool.outputs.size() != 1)
    return "MaxPool is not MaxPool1d(2)";
  const OnnxNode& gemm = *ops["Gemm"][0];
  const OnnxInitializer* w0 = initializer(g, gemm, 1, {kHidden, kFlat});
  const OnnxInitializer* b0 = initializer(g, gemm, 2, {kHidden});
  auto alphaBeta = [&](const char* name) {
    auto it = gemm.attributes.find(name);
    return it == gemm.attributes.end() || it->second.floats == std::vector<float>{1.0f};
  };
  if (!w0 || !b0 || !intsAre(gemm, "transB", {1}) || !intsAre(gemm, "transA", {0}) || !alphaBeta("alpha") ||
      !alphaBeta("beta"))
    return "Gemm is not Linear(262, 150)";
  const OnnxNode* lstm[2] = {ops["LSTM"][0], ops["LSTM"][1]};
  // Layer 2 reads layer 1's output through a Squeeze (the exporter's node order is not relied on).
  auto feeds = [&](const OnnxNode& a, const OnnxNode& b) {
    if (a.outputs.empty() || b.inputs.empty()) return false;
    for (const auto& n : g.nodes) {
      if (n.opType == "Squeeze" && !n.inputs.empty() && n.inputs[0] == a.outputs[0] && !n.outputs.empty() &&
          n.outputs[0] == b.inputs[0])
        return true;
    }
    return false;
  };
  if (feeds(*lstm[1], *lstm[0])) std::swap(lstm[0], lstm[1]);
  if (!feeds(*lstm[0], *lstm[1])) return "the two LSTMs are not stacked";
  for (int l = 0; l < 2; ++l) {
    const OnnxNode& n = *lstm[l];
    const OnnxInitializer* W = initializer(g, n, 1, {1, 4 * kHidden, kHidden});
    const OnnxInitializer* R = initializer(g, n, 2, {1, 4 * kHidden, kHidden});
    const OnnxInitializer* B = initializer(g, n, 3, {1, 8 * kHidden});
    for (const auto& [name, attr] : n.attributes) {
      if (name == "hidden_size") continue;
      if (name == "direction" && attr.s == "forward") continue;
      if (name == "input_forget" && attr.ints == std::vector<int64_t>{0}) continue;
      if (name == "layout" && attr.ints == std::vector<int64_t>{0}) continue;
      return "an LSTM with attributes BDA's does not have";
    }
    if (!W || !R || !B || !intsAre(n, "hidden_size", {kHidden}) || !emptyInput(n, 4) || !zeroState(g, n, 5) ||
        !zeroState(g, n, 6) || !emptyInput(n, 7))
      return "an LSTM is not BDA's (150 cells, zero initial state, no peepholes)";
    Weights::Layer& L = w.layers[l];
    L.wt.assign(static_cast<size_t>(kHidden) * kGates, 0.0f);
    L.bias.assign(kGates, 0.0f);
    L.rec.assign(static_cast<size_t>(kHidden) * kGates, 0.0f);
    for (int gate = 0; gate < 4; ++gate) {
      for (int j = 0; j < kHidden; ++j) {
        const int row = gate * kHidden + j, col = gate * kHiddenPad + j;
        L.bias[col] = B->data[row] + B->data[4 * kHidden + row];
        for (int k = 0; k < kHidden; ++k) {
          L.wt[panelIndex(k, col, kHidden)] = W->data[static_cast<size_t>(row) * kHidden + k];
          L.rec[recIndex(k, col)] = R->data[static_cast<size_t>(row) * kHidden + k];
        }
      }
    }
  }
  const OnnxNode& matmul = *ops["MatMul"][0];
  const OnnxInitializer* ow = initializer(g, matmul, 1, {kHidden, 3});
  const OnnxNode& add = *ops["Add"][0];
  const OnnxInitializer* ob = initializer(g, add, 0, {3});
  if (!ob) ob = initializer(g, add, 1, {3});
  if (!ow || !ob) return "the output layer is not Linear(150, 3)";
  const OnnxNode& softmax = *ops["Softmax"][0];
  if (!intsAre(softmax, "axis", {-1}) && !intsAre(softmax, "axis", {2})) return "Softmax is not over the classes";
  for (int c = 0; c < 2; ++c) {
    for (int k = 0; k < kTaps; ++k) w.convW[c][k] = cw->data[c * kTaps + k];
    w.convB[c] = cb->data[c];
  }
  w.w0.assign(static_cast<size_t>(kFlat) * kInputPad, 0.0f);
  w.b0.assign(kInputPad, 0.0f);
  for (int j = 0; j < kHidden; ++j) {
    w.b0[j] = b0->data[j];
    for (int k = 0; k < kFlat; ++k) w.w0[panelIndex(k, j, kFlat)] = w0->data[j * kFlat + k];
  }
  for (int k = 0; k < kHidden; ++k) {
    for (int c = 0; c < 3; ++c) w.outW[k][c] = ow->data[k * 3 + c];
  }
  for (int c = 0; c < 3; ++c) w.outB[c] = ob->data[c];
  return {};
}

}  // namespace

#ifdef DE_CRNN_KERNELS
namespace {

// IEEE halves of x, rounded to nearest even; false when one would overflow to infinity.
DE_AVX2_FMA bool toHalves(const std::vector<float>& x, std::vector<uint16_t>& out) {
  out.resize(x.size());
  size_t i = 0;
  for (; i + 8 <= x.size(); i += 8) {
    const __m256 v = _mm256_loadu_ps(&x[i]);
    if (_mm256_movemask_ps(
            _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), v), _mm256_set1_ps(65504.0f), _CMP_NLE_UQ)))
      return false;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&out[i]), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < x.size(); ++i) {
    if (!(std::abs(x[i]) <= 65504.0f)) return false;
    out[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT);
  }
  return true;
}

}  // namespace
#endif

std::unique_ptr<BeatNetCrnn> BeatNetCrnn::fromOnnx(const uint8_t* bytes, size_t size, RecurrentPrecision precision,
                                                   std::string* why) {
  const ml::OnnxGraph g = ml::readOnnxGraph(bytes, size);
  auto w = std::make_unique<Weights>();
  std::string reason = recognise(g, *w);
  if (reason.empty() && !supported()) reason = "this CPU lacks AVX2, FMA or F16C";
#ifdef DE_CRNN_KERNELS
  if (reason.empty() && precision == RecurrentPrecision::kFloat16) {
    for (auto& L : w->layers) {
      if (!toHalves(L.rec, L.recHalf)) {
        reason = "a recurrent weight is outside float16's range";
        break;
      }
      L.rec.clear();
      L.rec.shrink_to_fit();
    }
  }
#endif
  if (!reason.empty()) {
    if (why) *why = std::move(reason);
    return nullptr;
  }
  w->precision = precision;
  return std::make_unique<BeatNetCrnn>(std::move(w));
}

std::unique_ptr<BeatNetCrnn> BeatNetCrnn::fromOnnxFile(const std::string& path, RecurrentPrecision precision,
                                                       std::string* why) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw Error(code::kModelNotFound, "rhythmOpen: cannot read the model file");
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f.get())) > 0) bytes.insert(bytes.end(), buf, buf + got);
  if (std::ferror(f.get())) throw Error(code::kModelInvalid, "rhythmOpen: error reading the model file");
  return fromOnnx(bytes.data(), bytes.size(), precision, why);
}

// --- kernels ---------------------------------------------------------------------------------

#ifdef DE_CRNN_KERNELS
namespace {

// Cephes' expf (max relative error ~2e-7 over the clamped range).
DE_AVX2_FMA inline __m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
  __m256 fx = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

DE_AVX2_FMA inline __m256 sigmoid8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

// tanh(x) = sign(x) (1 - 2 / (exp(2|x|) + 1)): no overflow, absolute error ~1e-7.
DE_AVX2_FMA inline __m256 tanh8(__m256 x) {
  const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const __m256 e = exp8(_mm256_add_ps(ax, ax));
  const __m256 t =
      _mm256_sub_ps(_mm256_set1_ps(1.0f), _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
  return _mm256_or_ps(t, sign);
}

// Y[r][n] = bias[n] + sum_k X[r][k] Wt[k][n] for rows a multiple of 4 and N a multiple of 16, Wt
// packed in panels (panelIndex). The panel is the outer loop, so its weights (K x 16) stay in L1
// across all the rows.
DE_AVX2_FMA void gemmBias(const float* X, int rows, int ldx, int K, const float* Wt, int N, const float* bias, float* Y,
                          int ldy) {
  for (int n = 0; n < N; n += 16) {
    const __m256 b0 = _mm256_loadu_ps(bias + n), b1 = _mm256_loadu_ps(bias + n + 8);
    for (int r = 0; r < rows; r += 4) {
      __m256 a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
      const float* x0 = X + static_cast<size_t>(r) * ldx;
      const float* x1 = x0 + ldx;
      const float* x2 = x1 + ldx;
      const float* x3 = x2 + ldx;
      const float* w = Wt + static_cast<size_t>(n) * K;
      for (int k = 0; k < K; ++k, w += kPanel) {
        const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
        __m256 x = _mm256_broadcast_ss(x0 + k);
        a00 = _mm256_fmadd_ps(x, w0, a00);
        a01 = _mm256_fmadd_ps(x, w1, a01);
        x = _mm256_broadcast_ss(x1 + k);
        a10 = _mm256_fmadd_ps(x, w0, a10);
        a11 = _mm256_fmadd_ps(x, w1, a11);
        x = _mm256_broadcast_ss(x2 + k);
        a20 = _mm256_fmadd_ps(x, w0, a20);
        a21 = _mm256_fmadd_ps(x, w1, a21);
        x = _mm256_broadcast_ss(x3 + k);
        a30 = _mm256_fmadd_ps(x, w0, a30);
        a31 = _mm256_fmadd_ps(x, w1, a31);
      }
      float* y = Y + static_cast<size_t>(r) * ldy + n;
      _mm256_storeu_ps(y, a00);
      _mm256_storeu_ps(y + 8, a01);
      _mm256_storeu_ps(y + ldy, a10);
      _mm256_storeu_ps(y + ldy + 8, a11);
      _mm256_storeu_ps(y + 2 * ldy, a20);
      _mm256_storeu_ps(y + 2 * ldy + 8, a21);
      _mm256_storeu_ps(y + 3 * ldy, a30);
      _mm256_storeu_ps(y + 3 * ldy + 8, a31);
    }
  }
}

// Conv1d(1 -> 2, 10) + ReLU + MaxPool(2) of one frame into out[262] (channel-major, as Flatten).
DE_AVX2_FMA void convPool(const BeatNetCrnn::Weights& w, const float* frame, float* out) {
  alignas(32) float x[kPaddedInput] = {};
  std::memcpy(x, frame, sizeof(float) * kInput);
  alignas(32) float c[kConvOut + 9];
  for (int ch = 0; ch < 2; ++ch) {
    const __m256 b = _mm256_set1_ps(w.convB[ch]);
    for (int i = 0; i < kConvOut; i += 8) {
      __m256 acc = b;
      for (int k = 0; k < kTaps; ++k)
        acc = _mm256_fmadd_ps(_mm256_set1_ps(w.convW[ch][k]), _mm256_loadu_ps(x + i + k), acc);
      _mm256_storeu_ps(c + i, acc);
    }
    // ReLU and max commute (both monotone), so the pool takes the max first.
    for (int j = 0; j < kPooled; ++j) out[ch * kPooled + j] = std::max(std::max(c[2 * j], c[2 * j + 1]), 0.0f);
  }
}

DE_AVX2_FMA inline __m256 loadWeights(const float* r) { return _mm256_loadu_ps(r); }
DE_AVX2_FMA inline __m256 loadWeights(const uint16_t* r) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r)));
}

// g[0, V * 8) += the block's V * 8 columns of R times h (weights row-major, V * 8 wide).
template <int V, typename T>
DE_AVX2_FMA inline void recurrentBlock(const T* r, const float* h, float* g) {
  __m256 a[V];
  for (int v = 0; v < V; ++v) a[v] = _mm256_loadu_ps(g + 8 * v);
  for (int k = 0; k < kHidden; ++k, r += 8 * V) {
    const __m256 hk = _mm256_broadcast_ss(h + k);
    for (int v = 0; v < V; ++v) a[v] = _mm256_fmadd_ps(hk, loadWeights(r + 8 * v), a[v]);
  }
  for (int v = 0; v < V; ++v) _mm256_storeu_ps(g + 8 * v, a[v]);
}

// One LSTM step: g = G_t + R h (in place in G_t's row), then the gates update c and h.
template <typename T>
DE_AVX2_FMA void lstmStep(const T* rec, float* g, float* h, float* c) {
  int col = 0;
  for (; col + kRecBlock <= kGates; col += kRecBlock)
    recurrentBlock<kRecBlock / 8>(rec + static_cast<size_t>(col) * kHidden, h, g + col);
  if constexpr (kRecTail > 0) recurrentBlock<kRecTail / 8>(rec + static_cast<size_t>(col) * kHidden, h, g + col);
  // Padded columns have zero weights and bias: their c stays 0 and their h 0.
  for (int j = 0; j < kHiddenPad; j += 8) {
    const __m256 i = sigmoid8(_mm256_loadu_ps(g + j));
    const __m256 o = sigmoid8(_mm256_loadu_ps(g + kHiddenPad + j));
    const __m256 f = sigmoid8(_mm256_loadu_ps(g + 2 * kHiddenPad + j));
    const __m256 z = tanh8(_mm256_loadu_ps(g + 3 * kHiddenPad + j));
    const __m256 cn = _mm256_fmadd_ps(f, _mm256_loadu_ps(c + j), _mm256_mul_ps(i, z));
    _mm256_storeu_ps(c + j, cn);
    _mm256_storeu_ps(h + j, _mm256_mul_ps(o, tanh8(cn)));
  }
}

DE_AVX2_FMA void runKernels(const BeatNetCrnn::Weights& w, const float* features, int64_t frames, float* out,
                            const CancelToken* cancel) {
  std::vector<float> flat(static_cast<size_t>(kChunk) * kFlat);
  std::vector<float> x0(static_cast<size_t>(kChunk) * kInputPad);
  std::vector<float> gates(static_cast<size_t>(kChunk) * kGates);
  std::vector<float> h1(static_cast<size_t>(kChunk) * kHiddenPad);
  std::vector<float> h2(static_cast<size_t>(kChunk) * kHiddenPad);
  alignas(32) float state[2][2][kHiddenPad] = {};  // [layer][h, c]
  const bool half = w.precision == RecurrentPrecision::kFloat16;
  for (int64_t t0 = 0; t0 < frames; t0 += kChunk) {
    if (cancel) cancel->throwIfRequested("trackRhythm");
    const int n = static_cast<int>(std::min<int64_t>(kChunk, frames - t0));
    const int rows = (n + 3) & ~3;
    for (int t = 0; t < n; ++t) convPool(w, features + (t0 + t) * kInput, &flat[static_cast<size_t>(t) * kFlat]);
    std::fill(flat.begin() + static_cast<ptrdiff_t>(n) * kFlat, flat.begin() + static_cast<ptrdiff_t>(rows) * kFlat,
              0.0f);
    gemmBias(flat.data(), rows, kFlat, kFlat, w.w0.data(), kInputPad, w.b0.data(), x0.data(), kInputPad);
    const float* in = x0.data();
    int ldIn = kInputPad;
    float* layerOut[2] = {h1.data(), h2.data()};
    for (int l = 0; l < 2; ++l) {
      const auto& L = w.layers[l];
      gemmBias(in, rows, ldIn, kHidden, L.wt.data(), kGates, L.bias.data(), gates.data(), kGates);
      float* h = state[l][0];
      float* c = state[l][1];
      for (int t = 0; t < n; ++t) {
        float* g = &gates[static_cast<size_t>(t) * kGates];
        if (half) lstmStep(L.recHalf.data(), g, h, c);
        else lstmStep(L.rec.data(), g, h, c);
        std::memcpy(layerOut[l] + static_cast<size_t>(t) * kHiddenPad, h, sizeof(float) * kHiddenPad);
      }
      // Rows past n (the last chunk's padding) are never read as a next layer's real input.
      std::fill(layerOut[l] + static_cast<size_t>(n) * kHiddenPad, layerOut[l] + static_cast<size_t>(rows) * kHiddenPad,
                0.0f);
      in = layerOut[l];
      ldIn = kHiddenPad;
    }
    for (int t = 0; t < n; ++t) {
      const float* h = &h2[static_cast<size_t>(t) * kHiddenPad];
      float z[3];
      for (int k3 = 0; k3 < 3; ++k3) {
        float s = 0.0f;
        for (int k = 0; k < kHidden; ++k) s += h[k] * w.outW[k][k3];
        z[k3] = s + w.outB[k3];
      }
      const float m = std::max(std::max(z[0], z[1]), z[2]);
      float e[3], sum = 0.0f;
      for (int k3 = 0; k3 < 3; ++k3) sum += (e[k3] = std::exp(z[k3] - m));
      for (int k3 = 0; k3 < 3; ++k3) out[(t0 + t) * 3 + k3] = e[k3] / sum;
    }
  }
}

}  // namespace
#endif

std::vector<float> BeatNetCrnn::run(const float* features, int64_t frames, const CancelToken* cancel) const {
  std::vector<float> out(static_cast<size_t>(std::max<int64_t>(frames, 0)) * 3);
#ifdef DE_CRNN_KERNELS
  if (frames > 0) runKernels(*w_, features, frames, out.data(), cancel);
#else
  (void)features;
  (void)cancel;
#endif
  return out;
}

}  // namespace de::beat
