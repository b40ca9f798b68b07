#include "beat/tempo.h"

#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <string>
#include <thread>

#include "common/error.h"
#include "common/limits.h"
#include "dsp/avx2.h"

#ifdef DE_HAVE_AVX2_KERNELS
#include <immintrin.h>
#endif

namespace de::beat {

#ifdef DE_HAVE_AVX2_KERNELS
namespace {

// AVX2 forms of meanTempogram's per-frame loops: the same double operations per bin in the same
// order (the energy keeps its four lanes), so the tempogram is bit-identical to the plain loops.
DE_AVX2 void slideAvx2(double* XR, double* XI, const double* cr, const double* ci, int B, double out0, double in0) {
  // sgn[f] * in0 for f = 0, 1, 2, 3 (mod 4); multiplying by +-1 is exact
  const __m256d inS = _mm256_setr_pd(in0, -in0, in0, -in0), outV = _mm256_set1_pd(out0);
  int f = 0;
  for (; f + 3 < B; f += 4) {
    const __m256d a = _mm256_add_pd(_mm256_loadu_pd(XR + f), _mm256_sub_pd(inS, outV));
    const __m256d b = _mm256_loadu_pd(XI + f);
    const __m256d c = _mm256_loadu_pd(cr + f), s = _mm256_loadu_pd(ci + f);
    _mm256_storeu_pd(XR + f, _mm256_sub_pd(_mm256_mul_pd(a, c), _mm256_mul_pd(b, s)));
    _mm256_storeu_pd(XI + f, _mm256_add_pd(_mm256_mul_pd(a, s), _mm256_mul_pd(b, c)));
  }
  for (; f < B; ++f) {
    const double a = XR[f] + (((f & 1) ? -in0 : in0) - out0), b = XI[f];
    XR[f] = a * cr[f] - b * ci[f];
    XI[f] = a * ci[f] + b * cr[f];
  }
}

DE_AVX2 void hannPowerAvx2(const double* R, const double* I, double* PW, int B) {
  const __m256d h = _mm256_set1_pd(0.5), q = _mm256_set1_pd(0.25);
  int f = 0;
  for (; f + 3 < B; f += 4) {
    const __m256d rs = _mm256_add_pd(_mm256_loadu_pd(R + f), _mm256_loadu_pd(R + f + 4));
    const __m256d is = _mm256_add_pd(_mm256_loadu_pd(I + f), _mm256_loadu_pd(I + f + 4));
    const __m256d yr = _mm256_sub_pd(_mm256_mul_pd(h, _mm256_loadu_pd(R + f + 2)), _mm256_mul_pd(q, rs));
    const __m256d yi = _mm256_sub_pd(_mm256_mul_pd(h, _mm256_loadu_pd(I + f + 2)), _mm256_mul_pd(q, is));
    _mm256_storeu_pd(PW + f, _mm256_add_pd(_mm256_mul_pd(yr, yr), _mm256_mul_pd(yi, yi)));
  }
  for (; f < B; ++f) {
    const double yr = 0.5 * R[f + 2] - 0.25 * (R[f] + R[f + 4]);
    const double yi = 0.5 * I[f + 2] - 0.25 * (I[f] + I[f + 4]);
    PW[f] = yr * yr + yi * yi;
  }
}

// sum of pw[1, W) in four lanes, as the plain loop
DE_AVX2 double energyAvx2(const double* pw, int W) {
  __m256d e = _mm256_setzero_pd();
  int f = 1;
  for (; f + 3 < W; f += 4) e = _mm256_add_pd(e, _mm256_loadu_pd(pw + f));
  double l[4];
  _mm256_storeu_pd(l, e);
  double energy = (l[0] + l[1]) + (l[2] + l[3]);
  for (; f < W; ++f) energy += pw[f];
  return energy;
}

DE_AVX2 void scaleAddAvx2(double* acc, const double* pw, double q, int B) {
  const __m256d qv = _mm256_set1_pd(q);
  int f = 0;
  for (; f + 3 < B; f += 4)
    _mm256_storeu_pd(acc + f, _mm256_add_pd(_mm256_loadu_pd(acc + f), _mm256_mul_pd(_mm256_loadu_pd(pw + f), qv)));
  for (; f < B; ++f) acc[f] += pw[f] * q;
}

}  // namespace
#endif

int tempogramWindow(const TempoParams& p) {
  const double samples = std::trunc(p.acSize * p.sr);
  const double w = std::floor(samples / p.hopLength);
  // saturate instead of casting NaN or a huge double to int (undefined behaviour)
  if (!(w >= 0)) return 0;
  if (w > static_cast<double>(kMaxTempogramWindow)) return kMaxTempogramWindow + 1;
  return static_cast<int>(w);
}

std::vector<double> tempoFrequencies(int n, double sr, int hop) {
  std::vector<double> f(static_cast<size_t>(n));
  if (n > 0) f[0] = std::numeric_limits<double>::infinity();
  for (int k = 1; k < n; ++k) f[k] = 60.0 * sr / (hop * static_cast<double>(k));
  return f;
}

// Each frame's windowed, zero-padded (N = 2W) spectrum is obtained from a sliding DFT of the
// unwindowed frame (O(W) per frame) and the periodic Hann window applied as a 3-tap kernel in
// frequency. Since every frame's autocorrelation is divided by its lag-0 value and the inverse
// DFT is linear, the mean autocorrelation is the inverse DFT of the mean normalised power
// spectrum: one inverse transform in total. Every kResync frames the sliding DFT restarts from
// an empty window (slid in over W samples), so rounding cannot drift; frames are processed in
// those fixed chunks, which also makes the result independent of the thread count.
std::vector<double> meanTempogram(const float* env, int64_t n, int W, const CancelToken* cancel, int threads) {
  if (W < 1 || W > kMaxTempogramWindow) throw Error(code::kInvalidArgument, "tempo: window must be 1 .. 16384 frames");
  if (n < 0) throw Error(code::kInvalidArgument, "tempo: negative envelope length");
  // the per-chunk spectra and the padded envelope are the input-sized buffers
  limits::checkAlloc((static_cast<double>(n) / 4096.0 + 1.0) * (W + 1.0) + static_cast<double>(n) + 2.0 * W + 1.0,
                     sizeof(double), "tempo", "the tempogram");
  std::vector<double> out(static_cast<size_t>(W), 0.0);
  if (n <= 0) return out;
  const int L = W / 2;
  // Linear-ramp padding to zero on both sides (numpy.pad mode='linear_ramp'), float32 like librosa.
  const int64_t np = n + 2 * static_cast<int64_t>(L);
  std::vector<double> e(static_cast<size_t>(np + W + 1), 0.0);
  {
    const double stepL = static_cast<double>(env[0]) / L;
    const double stepR = static_cast<double>(env[n - 1]) / L;
    for (int i = 0; i < L; ++i) {
      e[i] = static_cast<float>(i * stepL);
      e[L + n + i] = static_cast<float>((L - 1 - i) * stepR);
    }
    for (int64_t i = 0; i < n; ++i) e[L + i] = env[i];
  }
  const int N = 2 * W;
  const int B = W + 1;  // bins 0..W
  // twiddles w^f = e^{i 2 pi f / N}
  std::vector<double> cr(B), ci(B);
  for (int f = 0; f < B; ++f) {
    cr[f] = std::cos(2.0 * M_PI * f / N);
    ci[f] = std::sin(2.0 * M_PI * f / N);
  }
  std::vector<double> sgn(B);
  for (int f = 0; f < B; ++f) sgn[f] = (f & 1) ? -1.0 : 1.0;
  // Frames are processed in fixed chunks of kResync: each chunk starts from an exact DFT and
  // sums its normalised spectra on its own; chunk sums are added in chunk order, so the result
  // does not depend on how many threads ran the chunks.
  constexpr int64_t kResync = 4096;
  const int64_t chunks = (n + kResync - 1) / kResync;
  std::vector<double> chunkAcc(static_cast<size_t>(chunks) * B, 0.0);
  auto runChunk = [&](int64_t c) {
    std::vector<double> xr(B + 4), xi(B + 4);  // X[f] stored at f + 2 (room for mirrored neighbours)
    std::vector<double> pw(B);
    double* acc = chunkAcc.data() + static_cast<size_t>(c) * B;
    const int64_t t0 = c * kResync, t1 = std::min<int64_t>(n, t0 + kResync);
    double* XR = xr.data() + 2;
    double* XI = xi.data() + 2;
    const bool useAvx2 = dsp::avx2::available();
    // one slide of the window start by a sample: X <- w^f (X - out + in (-1)^f)
    auto slide = [&](double out0, double in0) {
#ifdef DE_HAVE_AVX2_KERNELS
      if (useAvx2) return slideAvx2(XR, XI, cr.data(), ci.data(), B, out0, in0);
#endif
      for (int f = 0; f < B; ++f) {
        const double a = XR[f] + (sgn[f] * in0 - out0), b = XI[f];
        XR[f] = a * cr[f] - b * ci[f];
        XI[f] = a * ci[f] + b * cr[f];
      }
    };
    // Anchor: slide an all-zero window W times over e[t0, t0 + W), which yields frame t0's DFT
    // with the rounding of only W steps.
    for (int j = 0; j < W; ++j) slide(0.0, e[t0 + j]);
    // Non-zero samples under the window's non-zero part (offsets 1..W-1; Hann is 0 at offset 0):
    // a frame without any is exactly zero in librosa and skipped by its normalisation, so it is
    // skipped here too instead of being normalised by the sliding DFT's rounding residue.
    int64_t live = 0;
    for (int j = 1; j < W; ++j) live += e[t0 + j] != 0.0;
    for (int64_t t = t0; t < t1; ++t) {
      if (t > t0) {
        live += (e[t + W - 1] != 0.0) - (e[t] != 0.0);
        slide(e[t - 1], e[t - 1 + W]);  // X_t from X_{t-1}
      }
      // mirrored neighbours: X[-f] = conj X[f], X[W + f] = conj X[W - f]
      xr[1] = xr[3];
      xi[1] = -xi[3];
      xr[0] = xr[4];
      xi[0] = -xi[4];
      xr[B + 2] = xr[B];
      xi[B + 2] = -xi[B];
      xr[B + 3] = xr[B - 1];
      xi[B + 3] = -xi[B - 1];
      double energy;
#ifdef DE_HAVE_AVX2_KERNELS
      if (useAvx2) {
        hannPowerAvx2(xr.data(), xi.data(), pw.data(), B);
        energy = energyAvx2(pw.data(), W);
      } else
#endif
      {
        const double* R = xr.data();
        const double* I = xi.data();
        double* PW = pw.data();
        for (int f = 0; f < B; ++f) {
          const double yr = 0.5 * R[f + 2] - 0.25 * (R[f] + R[f + 4]);
          const double yi = 0.5 * I[f + 2] - 0.25 * (I[f] + I[f + 4]);
          PW[f] = yr * yr + yi * yi;
        }
        double e4[4] = {0, 0, 0, 0};
        int f4 = 1;
        for (; f4 + 3 < W; f4 += 4)
          for (int l = 0; l < 4; ++l) e4[l] += pw[f4 + l];
        energy = (e4[0] + e4[1]) + (e4[2] + e4[3]);
        for (; f4 < W; ++f4) energy += pw[f4];
      }
      energy = 2.0 * energy + pw[0] + pw[W];
      const double r0 = energy / N;  // lag-0 autocorrelation (Parseval)
      if (live == 0 || r0 < std::numeric_limits<double>::min()) continue;
      const double q = 1.0 / r0;
#ifdef DE_HAVE_AVX2_KERNELS
      if (useAvx2) {
        scaleAddAvx2(acc, pw.data(), q, B);
        continue;
      }
#endif
      for (int f = 0; f < B; ++f) acc[f] += pw[f] * q;
    }
  };
  const int nThreads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, chunks)));
  if (nThreads == 1) {
    for (int64_t c = 0; c < chunks; ++c) {
      if (cancel) cancel->throwIfRequested("tempo");
      runChunk(c);
    }
  } else {
    std::atomic<int64_t> next{0};
    std::vector<std::exception_ptr> errors(nThreads);
    auto work = [&](int i) {
      try {
        for (int64_t c; (c = next.fetch_add(1)) < chunks;) {
          if (cancel) cancel->throwIfRequested("tempo");
          runChunk(c);
        }
      } catch (...) {
        errors[i] = std::current_exception();
        next.store(chunks);
      }
    };
    std::vector<std::thread> pool;
    for (int i = 1; i < nThreads; ++i) pool.emplace_back(work, i);
    work(0);
    for (auto& th : pool) th.join();
    for (auto& err : errors)
      if (err) std::rethrow_exception(err);
  }
  std::vector<double> acc(B, 0.0);
  for (int64_t c = 0; c < chunks; ++c)
    for (int f = 0; f < B; ++f) acc[f] += chunkAcc[static_cast<size_t>(c) * B + f];
  // a[k] = (1 / (n N)) * (S0 + (-1)^k S_W + 2 sum_{f=1}^{W-1} S_f cos(2 pi f k / N))
  const double scale = 1.0 / (static_cast<double>(n) * N);
  std::vector<double> cosTab(static_cast<size_t>(N));
  for (int i = 0; i < N; ++i) cosTab[i] = std::cos(2.0 * M_PI * i / N);
  for (int k = 0; k < W; ++k) {
    double s = acc[0] + ((k & 1) ? -acc[W] : acc[W]);
    for (int f = 1; f < W; ++f) {
      const int64_t idx = (static_cast<int64_t>(f) * k) % N;
      s += 2.0 * acc[f] * cosTab[idx];
    }
    out[k] = s * scale;
  }
  return out;
}

TempoEstimate estimateTempo(const float* env, int64_t n, const TempoParams& p, const CancelToken* cancel) {
  if (!(p.startBpm > 0) || !std::isfinite(p.startBpm))
    throw Error(code::kInvalidArgument, "tempo: startBpm must be strictly positive");
  if (!(p.stdBpm > 0) || !std::isfinite(p.stdBpm))
    throw Error(code::kInvalidArgument, "tempo: stdBpm must be strictly positive");
  limits::requireRate(p.sr, "tempo", "sampleRate");
  if (p.hopLength < 1 || p.hopLength > limits::kMaxHop)
    throw Error(code::kInvalidArgument, "tempo: hopLength must be in [1, 2^20]");
  const int W = tempogramWindow(p);
  if (W < 1) throw Error(code::kInvalidArgument, "tempo: acSize is shorter than one hop");
  if (W > kMaxTempogramWindow) {
    throw Error(code::kInvalidArgument, "tempo: acSize (" + std::to_string(p.acSize) +
                                            " s) spans more than 16384 frames at this sample rate and hop");
  }
  const std::vector<double> tg = meanTempogram(env, n, W, cancel, p.threads);
  const std::vector<double> bpms = tempoFrequencies(W, p.sr, p.hopLength);
  int maxIdx = 0;
  if (std::isfinite(p.maxTempo) && p.maxTempo > 0) {
    // argmax(bpms < max_tempo): first lag below the limit (0 if none)
    for (int k = 0; k < W; ++k) {
      if (bpms[k] < p.maxTempo) {
        maxIdx = k;
        break;
      }
    }
  }
  TempoEstimate best;
  double bestScore = -std::numeric_limits<double>::infinity();
  bool found = false;
  const double logStart = std::log2(p.startBpm);
  for (int k = 0; k < W; ++k) {
    double prior = k < maxIdx ? -std::numeric_limits<double>::infinity()
                              : -0.5 * std::pow((std::log2(bpms[k]) - logStart) / p.stdBpm, 2.0);
    const double score = std::log1p(1e6 * tg[k]) + prior;
    if (!found || score > bestScore) {  // numpy.argmax: first maximum (NaN wins first)
      if (std::isnan(score)) {
        best.lag = k;
        found = true;
        break;
      }
      bestScore = score;
      best.lag = k;
      found = true;
    }
  }
  best.bpm = bpms[best.lag];
  return best;
}

}  // namespace de::beat
