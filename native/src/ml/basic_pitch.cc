#include "ml/basic_pitch.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "audio/mix.h"
#include "audio/resample.h"
#include "common/error.h"

namespace de::ml::basic_pitch {

namespace {

double hzToMidi(double hz) { return 12.0 * (std::log2(hz) - std::log2(440.0)) + 69.0; }
double midiToHz(double midi) { return 440.0 * std::pow(2.0, (midi - 69.0) / 12.0); }
// numpy's round: half to even.
int64_t npRound(double x) { return static_cast<int64_t>(std::nearbyint(x)); }
// Cell (t, k) of a [T x kNotes] matrix.
size_t at(int64_t t, int k) { return static_cast<size_t>(t) * kNotes + static_cast<size_t>(k); }

// basic-pitch's get_infered_onsets (n_diff = 2) on `frames` [T x kNotes], in place on `onsets`:
// d = max(0, min(f[t]-f[t-1], f[t]-f[t-2])), rows 0-1 zero, rescaled to the onsets' global max,
// then the elementwise max with the onsets.
void inferOnsets(const float* frames, int64_t T, std::vector<double>& onsets) {
  const size_t total = static_cast<size_t>(T) * kNotes;
  // One pass builds the clipped differences (rows 0-1 stay 0) in plain row loops the compiler
  // vectorises; the expressions keep numpy's min/max/NaN semantics: min(a, b) = b < a ? b : a.
  std::vector<double> diff(total, 0.0);
  // Maxima are kept per pitch column (no loop-carried dependency, so the rows vectorise) and
  // reduced at the end; max ignores order, so the result is the same.
  double colMaxDiff[kNotes];
  double colMaxOnset[kNotes];
  std::fill(colMaxDiff, colMaxDiff + kNotes, 0.0);
  std::fill(colMaxOnset, colMaxOnset + kNotes, -std::numeric_limits<double>::infinity());
  for (int64_t t = 2; t < T; ++t) {
    const float* f0 = frames + at(t, 0);
    const float* f1 = frames + at(t - 1, 0);
    const float* f2 = frames + at(t - 2, 0);
    double* d = diff.data() + at(t, 0);
    for (int k = 0; k < kNotes; ++k) {
      const double f = f0[k];
      const double a = f - static_cast<double>(f1[k]);
      const double b = f - static_cast<double>(f2[k]);
      const double m = b < a ? b : a;
      const double c = m < 0 ? 0.0 : m;
      d[k] = c;
      colMaxDiff[k] = colMaxDiff[k] < c ? c : colMaxDiff[k];
    }
  }
  for (int64_t t = 0; t < T; ++t) {
    const double* o = onsets.data() + at(t, 0);
    for (int k = 0; k < kNotes; ++k) colMaxOnset[k] = colMaxOnset[k] < o[k] ? o[k] : colMaxOnset[k];
  }
  double maxDiff = 0;
  double maxOnset = -std::numeric_limits<double>::infinity();
  for (int k = 0; k < kNotes; ++k) {
    maxDiff = maxDiff < colMaxDiff[k] ? colMaxDiff[k] : maxDiff;
    maxOnset = std::max(maxOnset, colMaxOnset[k]);
  }
  if (maxDiff == 0.0) {
    // 0 * 0 / 0 = NaN in numpy; max(onsets, NaN) = NaN, so no peak survives.
    std::fill(onsets.begin(), onsets.end(), std::numeric_limits<double>::quiet_NaN());
  } else {
    // Rows 0 and 1 have d = 0: max(onset, 0 * maxOnset / maxDiff), as every other row.
    double* o = onsets.data();
    const double* d = diff.data();
    for (size_t i = 0; i < total; ++i) {
      const double scaled = maxOnset * d[i] / maxDiff;
      o[i] = o[i] < scaled ? scaled : o[i];
    }
  }
}

// basic-pitch raises on these too (int(round(-inf))); here a NaN, zero or negative frequency
// reached a double-to-int64 cast, which is undefined behaviour (found by fuzz_audio)
void validateNoteOptions(const NoteOptions& opt) {
  for (const auto& f : {opt.minFrequency, opt.maxFrequency}) {
    if (f && !(*f > 0 && *f <= 1e6)) {
      throw Error(code::kInvalidArgument,
                  "basicPitch: minFrequency/maxFrequency (" + std::to_string(*f) + ") must be in (0, 1e6] Hz");
    }
  }
  if (opt.minNoteLength < 0 || opt.energyTolerance < 0) {
    throw Error(code::kInvalidArgument, "basicPitch: minNoteLength and energyTolerance must not be negative");
  }
}

// basic-pitch's constrain_frequency: zeroes the pitch columns outside [minFrequency, maxFrequency]
// of the frames and the onsets. It works in place on both matrices in basic-pitch (so amplitudes
// then read the constrained frames); here the frames are copied into `constrained` only when a
// limit zeroes a column. Returns the frames to read.
const float* constrainFrequency(const float* noteIn, int64_t T, const NoteOptions& opt, std::vector<double>& onsets,
                                std::vector<float>& constrained) {
  int64_t lo = 0, hi = kNotes;
  if (opt.maxFrequency) hi = std::clamp<int64_t>(npRound(hzToMidi(*opt.maxFrequency) - kMidiOffset), 0, kNotes);
  if (opt.minFrequency) lo = std::clamp<int64_t>(npRound(hzToMidi(*opt.minFrequency) - kMidiOffset), 0, kNotes);
  if (lo == 0 && hi == kNotes) return noteIn;
  constrained.assign(noteIn, noteIn + static_cast<size_t>(T) * kNotes);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t k = 0; k < kNotes; ++k) {
      if (k < lo || k >= hi) constrained[at(t, k)] = 0.f, onsets[at(t, k)] = 0.0;
    }
  }
  return constrained.data();
}

// scipy's argrelmax(onsets, axis 0, order 1, mode clip) at or above the onset threshold: strict
// local maxima in time, never the first or last frame, as (frame, pitch) in row-major order.
std::vector<std::pair<int64_t, int>> onsetPeaks(const std::vector<double>& onsets, int64_t T, double threshold) {
  std::vector<std::pair<int64_t, int>> peaks;
  for (int64_t t = 1; t + 1 < T; ++t) {
    for (int k = 0; k < kNotes; ++k) {
      const double v = onsets[at(t, k)];
      // The threshold first: almost every cell fails it, which keeps the branch predictable.
      if (v >= threshold && v > onsets[at(t - 1, k)] && v > onsets[at(t + 1, k)]) peaks.push_back({t, k});
    }
  }
  return peaks;
}

// A note before timing: frames [s, e) of pitch column k, with its amplitude.
struct RawNote {
  int64_t s, e;
  int k;
  double amp;
};

// The note's amplitude: np.mean(frames[s:e, k]) (NaN for an empty range, as numpy's).
double noteAmplitude(const float* frames, int64_t s, int64_t e, int k) {
  double sum = 0;
  for (int64_t t = s; t < e; ++t) sum += frames[at(t, k)];
  return e > s ? sum / static_cast<double>(e - s) : std::numeric_limits<double>::quiet_NaN();
}

// output_to_notes_polyphonic's first loop: from each onset peak, latest first, the note runs until
// energyTolerance frames in a row fall below the frame threshold; notes longer than minNoteLength
// are kept and their cells (and the neighbouring pitches') zeroed in `remaining`.
void notesFromOnsets(const float* frames, const std::vector<std::pair<int64_t, int>>& peaks, int64_t T,
                     const NoteOptions& opt, std::vector<float>& remaining, std::vector<RawNote>& notes) {
  const double thr = opt.frameThreshold;
  const int tol = opt.energyTolerance;
  const int64_t minLen = opt.minNoteLength;
  for (auto it = peaks.rbegin(); it != peaks.rend(); ++it) {
    const int64_t s = it->first;
    const int k = it->second;
    if (s >= T - 1) continue;
    int64_t i = s + 1;
    int64_t kc = 0;
    while (i < T - 1 && kc < tol) {
      if (remaining[at(i, k)] < thr) ++kc;
      else kc = 0;
      ++i;
    }
    i -= kc;
    if (i - s <= minLen) continue;
    for (int64_t t = s; t < i; ++t) {
      remaining[at(t, k)] = 0;
      if (k < kNotes - 1) remaining[at(t, k + 1)] = 0;
      if (k > 0) remaining[at(t, k - 1)] = 0;
    }
    notes.push_back({s, i, k, noteAmplitude(frames, s, i, k)});
  }
}

// The global argmax of the remaining frames (first index on ties, as numpy): per-row maxima in a
// segment tree, so each melodia step costs O(log T) per touched row instead of a rescan of the
// whole matrix.
class RowMaxTree {
 public:
  RowMaxTree(const std::vector<float>& remaining, int64_t T) : remaining_(remaining) {
    while (leaves_ < static_cast<size_t>(T)) leaves_ <<= 1;
    val_.assign(2 * leaves_, -std::numeric_limits<double>::infinity());
    idx_.assign(2 * leaves_, std::numeric_limits<int64_t>::max());
    for (int64_t t = 0; t < T; ++t) {
      const size_t node = leaves_ + static_cast<size_t>(t);
      val_[node] = rowMax(t);
      idx_[node] = t;
    }
    for (size_t node = leaves_ - 1; node >= 1; --node) pull(node);
  }

  double best() const { return val_[1]; }
  int64_t bestRow() const { return idx_[1]; }
  // The maximum of row t as last refreshed.
  double rowValue(int64_t t) const { return val_[leaves_ + static_cast<size_t>(t)]; }

  // Recomputes row t's maximum after its cells changed.
  void refresh(int64_t t) {
    size_t node = leaves_ + static_cast<size_t>(t);
    val_[node] = rowMax(t);
    idx_[node] = t;
    for (node >>= 1; node >= 1; node >>= 1) pull(node);
  }

 private:
  double rowMax(int64_t t) const {
    double m = remaining_[at(t, 0)];
    for (int k = 1; k < kNotes; ++k) m = std::max(m, static_cast<double>(remaining_[at(t, k)]));
    return m;
  }

  void pull(size_t node) {
    const size_t l = 2 * node, r = 2 * node + 1;
    // left wins ties: its indices are smaller
    if (val_[r] > val_[l]) {
      val_[node] = val_[r];
      idx_[node] = idx_[r];
    } else {
      val_[node] = val_[l];
      idx_[node] = idx_[l];
    }
  }

  const std::vector<float>& remaining_;
  size_t leaves_ = 1;
  std::vector<double> val_;
  std::vector<int64_t> idx_;
};

// output_to_notes_polyphonic's melodia trick: while a cell of `remaining` exceeds the frame
// threshold, the largest one seeds a note that extends forwards and backwards until energyTolerance
// frames in a row fall below the threshold, zeroing the cells it passes (and the neighbouring pitches').
void melodiaNotes(const float* frames, int64_t T, const NoteOptions& opt, std::vector<float>& remaining,
                  std::vector<RawNote>& notes) {
  const double thr = opt.frameThreshold;
  const int tol = opt.energyTolerance;
  const int64_t minLen = opt.minNoteLength;
  RowMaxTree tree(remaining, T);
  // Zeroes (t, k-1..k+1) and refreshes the row's maximum only if one of those cells held it:
  // the other cells are unchanged, so otherwise the row maximum (and the tree) stays as it is.
  auto zeroAroundAndRefresh = [&](int64_t t, int k) {
    const double rowMax = tree.rowValue(t);
    bool heldMax = false;
    auto zero = [&](size_t cell) {
      heldMax |= static_cast<double>(remaining[cell]) == rowMax;
      remaining[cell] = 0;
    };
    zero(at(t, k));
    if (k < kNotes - 1) zero(at(t, k + 1));
    if (k > 0) zero(at(t, k - 1));
    if (heldMax) tree.refresh(t);
  };
  // Each pass zeroes at least one cell above the threshold, so T * kNotes passes always suffice;
  // the bound (and the check that the tree's maximum is really in its row) makes termination
  // unconditional, whatever the input (found by fuzz_audio: a pass that zeroed nothing repeated forever).
  for (int64_t pass = 0; pass <= T * static_cast<int64_t>(kNotes); ++pass) {
    const double best = tree.best();
    const int64_t tm = tree.bestRow();
    if (!(best > thr)) break;
    int km = -1;
    for (int k = 0; k < kNotes; ++k) {
      if (remaining[at(tm, k)] == best) {
        km = k;
        break;
      }
    }
    if (km < 0) {
      tree.refresh(tm);  // a stale row maximum: recompute it and pick again
      continue;
    }
    remaining[at(tm, km)] = 0;
    tree.refresh(tm);
    int64_t i = tm + 1;
    int64_t kc = 0;
    while (i < T - 1 && kc < tol) {
      if (remaining[at(i, km)] < thr) ++kc;
      else kc = 0;
      zeroAroundAndRefresh(i, km);
      ++i;
    }
    const int64_t iEnd = i - 1 - kc;
    i = tm - 1;
    kc = 0;
    while (i > 0 && kc < tol) {
      if (remaining[at(i, km)] < thr) ++kc;
      else kc = 0;
      zeroAroundAndRefresh(i, km);
      --i;
    }
    const int64_t iStart = i + 1 + kc;
    if (iEnd - iStart <= minLen) continue;
    notes.push_back({iStart, iEnd, km, noteAmplitude(frames, iStart, iEnd, km)});
  }
}

// basic-pitch's get_pitch_bends (n_bins_tolerance 25, gaussian std 5) for one note: per frame, the
// contour bin nearest the note's pitch that maximises the gaussian-weighted contour, as an offset
// in 1/3 semitones.
class PitchBends {
 public:
  PitchBends() {
    for (int n = 0; n < kWin; ++n) {
      const double x = (n - (kWin - 1) / 2.0) / 5.0;
      gauss_[n] = std::exp(-0.5 * x * x);
    }
  }

  std::vector<int> operator()(const float* contour, const RawNote& note, int pitch) const {
    std::vector<int> bends;
    const int freqIdx = static_cast<int>(npRound(12.0 * 3 * std::log2(midiToHz(pitch) / 27.5)));
    const int f0 = std::max(freqIdx - kTol, 0);
    const int f1 = std::min(kContourBins, freqIdx + kTol + 1);
    const int g0 = std::max(0, kTol - freqIdx);
    const int shift = kTol - g0;
    bends.reserve(static_cast<size_t>(note.e - note.s));
    for (int64_t t = note.s; t < note.e; ++t) {
      const float* row = contour + static_cast<size_t>(t) * kContourBins;
      int arg = 0;
      double best = -std::numeric_limits<double>::infinity();
      for (int f = f0; f < f1; ++f) {
        const double v = static_cast<double>(row[f]) * gauss_[g0 + (f - f0)];
        if (v > best) {
          best = v;
          arg = f - f0;
        }
      }
      bends.push_back(arg - shift);
    }
    return bends;
  }

 private:
  static constexpr int kTol = 25;
  static constexpr int kWin = 2 * kTol + 1;
  double gauss_[kWin];
};

}  // namespace

int minNoteLengthFrames(double milliseconds) {
  return static_cast<int>(npRound(milliseconds / 1000.0 * (static_cast<double>(kSampleRate) / kFftHop)));
}

double frameToTime(int64_t frame) {
  const double original = static_cast<double>(frame * kFftHop) / static_cast<double>(kSampleRate);
  const double windowOffset =
      (static_cast<double>(kFftHop) / kSampleRate) * (kWindowFrames - (static_cast<double>(kWindowSamples) / kFftHop)) +
      0.0018;
  const double windowNumber = std::floor(static_cast<double>(frame) / kWindowFrames);
  return original - windowOffset * windowNumber;
}

std::vector<NoteEvent> outputToNotes(const float* noteIn, const float* onsetIn, const float* contour, int64_t T,
                                     const NoteOptions& opt) {
  validateNoteOptions(opt);
  std::vector<NoteEvent> events;
  if (T <= 0) return events;
  // Onsets are float64 as in basic-pitch after get_infered_onsets (float64 zero padding).
  std::vector<double> onsets(onsetIn, onsetIn + static_cast<size_t>(T) * kNotes);
  std::vector<float> constrained;
  const float* frames = constrainFrequency(noteIn, T, opt, onsets, constrained);
  if (opt.inferOnsets) inferOnsets(frames, T, onsets);

  std::vector<float> remaining(frames, frames + static_cast<size_t>(T) * kNotes);
  std::vector<RawNote> notes;
  notesFromOnsets(frames, onsetPeaks(onsets, T, opt.onsetThreshold), T, opt, remaining, notes);
  if (opt.melodiaTrick) melodiaNotes(frames, T, opt, remaining, notes);

  // note events with model_frames_to_time, and get_pitch_bends
  const PitchBends pitchBends;
  events.reserve(notes.size());
  for (const RawNote& r : notes) {
    NoteEvent ev;
    ev.startFrame = r.s;
    ev.endFrame = r.e;
    ev.startTime = frameToTime(r.s);
    ev.endTime = frameToTime(r.e);
    ev.pitch = r.k + kMidiOffset;
    ev.amplitude = r.amp;
    if (opt.includePitchBends && contour != nullptr) ev.pitchBends = pitchBends(contour, r, ev.pitch);
    events.push_back(std::move(ev));
  }
  return events;
}

void checkModel(const Session& session, const std::string& label) {
  const std::string expected = std::string("expected input '") + kInputName +
                               "' float32 [batch, 43844, 1] and outputs '" + kContourName +
                               "' [batch, 172, 264] (contour), '" + kNoteName + "' [batch, 172, 88] (note), '" +
                               kOnsetName + "' [batch, 172, 88] (onset)";
  auto fail = [&](const std::string& why) {
    throw Error(code::kModelInvalid, "basic-pitch model " + label + ": " + why + "; " + expected);
  };
  if (session.inputs().size() != 1 || session.inputs()[0].name != kInputName) fail("wrong input signature");
  const auto& in = session.inputs()[0];
  if (in.elementType != "float32") fail("input is " + in.elementType);
  if (in.shape.size() != 3 || (in.shape[1] != kWindowSamples && in.shape[1] != -1) ||
      (in.shape[2] != 1 && in.shape[2] != -1))
    fail("wrong input shape");
  const std::pair<const char*, int64_t> outs[] = {
      {kContourName, kContourBins}, {kNoteName, kNotes}, {kOnsetName, kNotes}};
  for (const auto& [name, bins] : outs) {
    const char* const wanted = name;  // C++17 lambdas cannot capture structured bindings (clang rejects it)
    auto it = std::find_if(session.outputs().begin(), session.outputs().end(),
                           [&](const TensorSpec& s) { return s.name == wanted; });
    if (it == session.outputs().end()) fail(std::string("missing output '") + name + "'");
    if (it->elementType != "float32") fail(std::string("output '") + name + "' is " + it->elementType);
    if (it->shape.size() != 3 || (it->shape[1] != kWindowFrames && it->shape[1] != -1) ||
        (it->shape[2] != bins && it->shape[2] != -1))
      fail(std::string("output '") + name + "' has the wrong shape");
  }
}

ModelOutput infer(const Session& session, const float* audio, int64_t n, const InferOptions& options,
                  const CancelToken* cancel, const Progress& progress) {
  if (n < 0) throw Error(code::kInvalidArgument, "basic-pitch: negative length");
  const int batch = std::max(1, options.batch);
  const int64_t padded = n + kOverlapSamples / 2;
  const int64_t windows = (padded + kHopSamples - 1) / kHopSamples;
  const int64_t keep =
      options.legacyTrim
          ? static_cast<int64_t>(
                std::floor(static_cast<double>(n) * (static_cast<double>(kAnnotationsFps) / kSampleRate)))
          : static_cast<int64_t>(static_cast<double>(n) / kHopSamples * (kWindowFrames - kOverlapFrames));
  const int64_t olap = kOverlapFrames / 2;
  const int64_t kept = kWindowFrames - 2 * olap;  // 142
  ModelOutput out;
  out.frames = std::min<int64_t>(keep, windows * kept);
  out.note.assign(static_cast<size_t>(out.frames) * kNotes, 0.f);
  out.onset.assign(static_cast<size_t>(out.frames) * kNotes, 0.f);
  out.contour.assign(static_cast<size_t>(out.frames) * kContourBins, 0.f);
  std::vector<float> input;
  const std::vector<std::string> names{kContourName, kNoteName, kOnsetName};
  for (int64_t w0 = 0; w0 < windows; w0 += batch) {
    if (cancel && cancel->requested()) throw Error(code::kAborted, "basic-pitch: cancelled");
    const int64_t nb = std::min<int64_t>(batch, windows - w0);
    // Stop early once every kept frame is filled (the trimmed tail needs no inference).
    input.assign(static_cast<size_t>(nb) * kWindowSamples, 0.f);
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t start = (w0 + b) * kHopSamples - kOverlapSamples / 2;  // in unpadded coordinates
      float* dst = input.data() + static_cast<size_t>(b) * kWindowSamples;
      const int64_t from = std::max<int64_t>(start, 0);
      const int64_t to = std::min<int64_t>(start + kWindowSamples, n);
      if (to > from) std::copy(audio + from, audio + to, dst + (from - start));
    }
    InputView view{kInputName, {nb, kWindowSamples, 1}, input.data(), input.size()};
    std::vector<Tensor> result = session.run({view}, names, cancel);
    const std::pair<std::vector<float>*, int> dests[] = {
        {&out.contour, kContourBins}, {&out.note, kNotes}, {&out.onset, kNotes}};
    for (int o = 0; o < 3; ++o) {
      const Tensor& t = result[static_cast<size_t>(o)];
      const int bins = dests[o].second;
      if (t.shape.size() != 3 || t.shape[0] != nb || t.shape[1] != kWindowFrames || t.shape[2] != bins)
        throw Error(code::kInferenceFailed,
                    "basic-pitch: output '" + names[static_cast<size_t>(o)] + "' has an unexpected shape");
      for (int64_t b = 0; b < nb; ++b) {
        const int64_t base = (w0 + b) * kept;
        const int64_t rows = std::min<int64_t>(kept, out.frames - base);
        if (rows <= 0) continue;
        const float* src = t.data.data() + (static_cast<size_t>(b) * kWindowFrames + olap) * bins;
        std::copy(src, src + rows * bins, dests[o].first->data() + static_cast<size_t>(base) * bins);
      }
    }
    if (progress) progress(std::min(windows, w0 + nb), windows);
  }
  return out;
}

std::vector<float> toModelRate(const float* interleaved, int64_t frames, int channels, double sampleRate,
                               const CancelToken* cancel) {
  if (channels < 1) throw Error(code::kInvalidArgument, "basic-pitch: audio has no channels");
  std::vector<float> mono(static_cast<size_t>(frames));
  // librosa.to_mono: numpy's float32 mean over channels.
  audio::mixToMono(interleaved, frames, channels, mono.data(), audio::MixPrecision::Float32);
  if (sampleRate == kSampleRate || frames == 0) return mono;
  return audio::resample(mono.data(), frames, 1, sampleRate, kSampleRate, audio::ResampleEngine::SoxrHQ, cancel);
}

}  // namespace de::ml::basic_pitch
