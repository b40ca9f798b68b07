// Frame-wise features over one shared STFT, with librosa 0.11 semantics:
// melspectrogram, power_to_db, mfcc, chroma_stft (with estimate_tuning), spectral_centroid,
// spectral_bandwidth, spectral_rolloff, plus the time-domain zero_crossing_rate and rms.
// Every matrix is row-major [feature][frame], like librosa's (n, T) arrays.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "common/cancel.h"
#include "dsp/filters.h"
#include "dsp/stft.h"

namespace de::dsp {

struct FeatureParams {
  double sr = 22050;
  StftParams stft;

  // Which outputs to compute.
  bool melPower = false;  // mel spectrogram (power as `melPowerExp`)
  bool melDb = false;     // power_to_db(mel)
  bool mfcc = false;
  bool chroma = false;
  bool centroid = false;
  bool bandwidth = false;
  bool rolloff = false;
  bool zcr = false;
  bool rms = false;

  // Mel spectrogram (shared by melDb, mfcc and onset strength).
  int nMels = 128;
  double fmin = 0.0;
  double fmax = -1.0;  // < 0: sr / 2
  bool htk = false;
  MelNorm melNorm;
  double melPowerExp = 2.0;  // 1: magnitude, 2: power

  // power_to_db
  double dbRef = 1.0;
  double dbAmin = 1e-10;
  double dbTopDb = 80.0;  // NaN or < 0: no floor

  // MFCC
  int nMfcc = 20;
  double lifter = 0.0;

  // chroma_stft
  int nChroma = 12;
  double tuning = std::numeric_limits<double>::quiet_NaN();  // NaN: estimate (librosa.estimate_tuning)
  double ctroct = 5.0;
  double octwidth = 2.0;  // <= 0: no octave weighting
  bool chromaBaseC = true;
  double chromaNorm = std::numeric_limits<double>::infinity();  // per-frame norm; 0: none

  // spectral
  double bandwidthP = 2.0;
  bool bandwidthNorm = true;
  double rollPercent = 0.85;

  // zcr / rms framing (librosa: frame_length 2048, hop 512, centred; zcr edge-padded, rms zero-padded)
  int frameLength = 2048;
  int frameHop = 512;
  bool frameCenter = true;
  double zcrThreshold = 1e-10;
  bool zcrZeroPos = true;

  // Threads for the per-frame work (1: the calling thread only). Results do not depend on it.
  int threads = 1;

  // Estimated-tuning chroma keeps every power frame for a second pass while they fit in this many
  // bytes (64 MiB: about 3 minutes at 44.1 kHz); beyond it a tuning-only pre-pass over the frames
  // is run instead. Results are identical either way.
  double maxStoredPowerBytes = 64.0 * 1024 * 1024;

  // Optional: receives the dB mel matrix ([nMels][frames]) before it is released, so callers
  // (onset strength) can use it without a copy. Setting it implies computing the mel spectrogram.
  std::function<void(const float* db, int bands, int64_t frames)> onMelDb;
};

struct FeatureSet {
  int64_t frames = 0;       // STFT frames
  int64_t frameFrames = 0;  // zcr/rms frames
  int nMels = 0, nMfcc = 0, nChroma = 0;
  double tuning = 0.0;                               // the tuning used for chroma (estimated or given)
  std::vector<float> melPower, melDb, mfcc, chroma;  // [n][frames]
  std::vector<float> centroid, bandwidth, rolloff;   // [frames]
  std::vector<float> zcr, rms;                       // [frameFrames]
};

// One STFT pass, then every requested feature. Rejects non-finite input (DE_NON_FINITE_SAMPLES).
FeatureSet computeFeatures(const float* x, int64_t n, const FeatureParams& p, const CancelToken* cancel);

// librosa.power_to_db over a whole array (the top_db floor is relative to the array's maximum).
void powerToDb(float* s, size_t count, double ref, double amin, double topDb);

// Pitch candidates of librosa.piptrack on one power/magnitude frame, appended to the vectors.
struct PiptrackParams {
  double sr;
  int nFft;
  double fmin = 150.0, fmax = 4000.0, threshold = 0.1;
  // the bin range of [fmin, fmax) for `bins` bins, when known (piptrackBins): saves the search per frame
  int bins = -1, kLo = 0, kHi = 0;
};
// Fills p.bins, p.kLo and p.kHi for frames of `bins` bins.
void piptrackBins(PiptrackParams& p, int bins);
void piptrackFrame(const float* s, int bins, const PiptrackParams& p, std::vector<float>& pitches,
                   std::vector<float>& mags);
// librosa.estimate_tuning from collected candidates (median magnitude gate, then pitch_tuning).
double estimateTuning(const std::vector<float>& pitches, const std::vector<float>& mags, double resolution,
                      int binsPerOctave);

// Time-domain features.
std::vector<float> zeroCrossingRate(const float* x, int64_t n, int frameLength, int hop, bool center, double threshold,
                                    bool zeroPos);
std::vector<float> rmsFrames(const float* x, int64_t n, int frameLength, int hop, bool center, PadMode pad);

}  // namespace de::dsp
