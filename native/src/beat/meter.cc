// Compound and odd meters (see meter.h).
#include "beat/meter.h"

#include <algorithm>
#include <cmath>

#include "beat/rhythm.h"

namespace de::beat {
namespace {

constexpr double kMargin = 1.5;         // how much more the winning evidence must be
constexpr double kMinThirds = 0.15;     // onset envelope (0..1) at the thirds for a compound beat
constexpr double kMinHalf = 0.15;       // ... at the halves for the beats to be 6/8 quarters
constexpr double kMinGroup = 0.5;       // z units: grouping contrast of three pulses
constexpr double kMinDottedBpm = 50.0;  // slowest dotted quarter a re-levelled 6/8 may have
// Beats at least this fast with nothing between them may be a 6/8's eighths (dotted quarter >= 57
// BPM); slower ones are quarters (a waltz at 150 BPM must stay 3/4).
constexpr double kMinEighthBpm = 170.0;
constexpr double kOddRatio = 2.0;
constexpr double kOddMin = 1.0;

// The stronger of the two envelopes' maxima within +-1 frame of frame position f.
double envelopeAt(const float* perc, int64_t frames, double f) {
  const int64_t c = std::llround(f);
  float m = 0.0f;
  for (int64_t q = std::max<int64_t>(0, c - 1); q <= std::min<int64_t>(frames - 1, c + 1); ++q)
    m = std::max({m, perc[2 * q], perc[2 * q + 1]});
  return static_cast<double>(m);
}

// `minSd` is the smallest spread that still means something in v's unit: below it the values are
// scaled as if their spread were minSd, so that noise around a constant is not blown up to ±1.
void zscore(std::vector<double>& v, double minSd = 0.0) {
  if (v.empty()) return;
  double mean = 0.0, var = 0.0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  for (double x : v) var += (x - mean) * (x - mean);
  const double sd = std::max(minSd, std::sqrt(var / static_cast<double>(v.size())));
  for (double& x : v) x = sd > 1e-12 ? (x - mean) / sd : 0.0;
}

// Clipped to the 10th..90th percentiles, then z-scored: one stray beat (a pulse in a lead-in, a
// beat snapped off its click) must not flatten everyone else's accents, as it does to a plain
// z-score.
void robustZ(std::vector<double>& v, double minSd = 0.0) {
  if (v.empty()) return;
  std::vector<double> s = v;
  std::sort(s.begin(), s.end());
  const double last = static_cast<double>(s.size() - 1);
  const double lo = s[static_cast<size_t>(std::floor(0.1 * last))], hi = s[static_cast<size_t>(std::ceil(0.9 * last))];
  for (double& x : v) x = std::clamp(x, lo, hi);
  zscore(v, minSd);
}

// Best (contrast, phase) of every g-th value against the rest.
std::pair<double, int> groupContrast(const std::vector<double>& a, int g) {
  double total = 0.0;
  for (double x : a) total += x;
  std::pair<double, int> best{-1e300, 0};
  const size_t count = a.size();
  for (int phase = 0; phase < g; ++phase) {
    double on = 0.0;
    size_t k = 0;
    for (size_t i = static_cast<size_t>(phase); i < count; i += static_cast<size_t>(g), ++k) on += a[i];
    if (k == 0 || k == count) continue;
    const double c = on / static_cast<double>(k) - (total - on) / static_cast<double>(count - k);
    if (c > best.first) best = {c, phase};
  }
  return best;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<int64_t>(mid), v.end());
  return v[mid];
}

}  // namespace

std::vector<double> pulseAccents(const std::vector<double>& pulses, const float* perc, int64_t frames, double fps,
                                 const float* audio, int64_t n, double sampleRate) {
  std::vector<double> onset(pulses.size()), loud(pulses.size(), 0.0);
  for (size_t i = 0; i < pulses.size(); ++i) onset[i] = envelopeAt(perc, frames, pulses[i] * fps);
  robustZ(onset, 0.05);  // in [0, 1]: a spread under 0.05 is noise
  if (audio && n > 0) {
    const int64_t window = std::max<int64_t>(1, std::llround(0.06 * sampleRate));
    for (size_t i = 0; i < pulses.size(); ++i) {
      const int64_t a = std::clamp<int64_t>(std::llround(pulses[i] * sampleRate), 0, n);
      const int64_t b = std::min(n, a + window);
      double e = 0.0;
      for (int64_t k = a; k < b; ++k) e += static_cast<double>(audio[k]) * audio[k];
      loud[i] = std::log(1e-9 + e / static_cast<double>(std::max<int64_t>(1, b - a)));
    }
    robustZ(loud, 0.1);  // natural-log energy: 0.1 is about 0.4 dB
  }
  // With the audio, the loudness after the pulse is the accent and the onset only breaks ties: the
  // envelope is scaled to its 98th percentile and clipped, so every clear attack reads about 1 and
  // what varies is the attack's alignment with the 20 ms frames (a strong 6/8 click read 0.85, a
  // weak one 1.0, and the bar line moved with the preprocessing's trim).
  const double onsetWeight = audio && n > 0 ? 0.25 : 1.0;
  std::vector<double> accent(pulses.size());
  for (size_t i = 0; i < pulses.size(); ++i) accent[i] = onsetWeight * onset[i] + loud[i];
  return accent;
}

MeterLevel compoundLevel(std::vector<double>& beats, std::vector<int64_t>& beatFrames, const float* perc,
                         int64_t frames, double fps, const float* audio, int64_t n, double sampleRate) {
  MeterLevel level;
  const size_t count = beatFrames.size();
  if (!perc || count < 8 || beats.size() != count) return level;
  double half = 0.0, t1 = 0.0, t2 = 0.0;
  std::vector<double> ibis;
  for (size_t i = 0; i + 1 < count; ++i) {
    const double a = static_cast<double>(beatFrames[i]), d = static_cast<double>(beatFrames[i + 1]) - a;
    half += envelopeAt(perc, frames, a + d / 2.0);
    t1 += envelopeAt(perc, frames, a + d / 3.0);
    t2 += envelopeAt(perc, frames, a + 2.0 * d / 3.0);
    ibis.push_back(beats[i + 1] - beats[i]);
  }
  const double intervals = static_cast<double>(count - 1);
  level.half = half / intervals;
  level.thirds = std::min(t1, t2) / intervals;
  if (level.thirds >= kMinThirds && level.thirds >= kMargin * level.half) {
    level.subdivision = 3;
    return level;
  }
  const double period = median(ibis);
  if (!(period > 0)) return level;
  const double bpm = 60.0 / period;
  // The pulses whose grouping decides: the beats themselves when they are fast enough to be the
  // eighths of a 6/8, or the beats and their halves when those carry onsets (the quarters of a 6/8).
  std::vector<double> pulses;
  if (level.half >= kMinHalf && level.half >= kMargin * level.thirds && bpm * 2.0 / 3.0 >= kMinDottedBpm) {
    for (size_t i = 0; i < count; ++i) {
      pulses.push_back(beats[i]);
      if (i + 1 < count) pulses.push_back(0.5 * (beats[i] + beats[i + 1]));
    }
  } else if (bpm >= kMinEighthBpm) {
    pulses = beats;
  } else {
    return level;
  }
  if (pulses.size() < 12) return level;
  const std::vector<double> accent = pulseAccents(pulses, perc, frames, fps, audio, n, sampleRate);
  const auto [c2, p2] = groupContrast(accent, 2);
  const auto [c3, p3] = groupContrast(accent, 3);
  (void)p2;
  level.group2 = c2;
  level.group3 = c3;
  if (c3 < kMinGroup || c3 < kMargin * std::max(0.0, c2)) return level;
  std::vector<double> b2, a2;
  std::vector<int64_t> f2;
  for (size_t i = static_cast<size_t>(p3); i < pulses.size(); i += 3) {
    b2.push_back(pulses[i]);
    f2.push_back(std::llround(pulses[i] * fps));
    a2.push_back(accent[i]);
  }
  robustZ(a2);
  level.accents = std::move(a2);
  if (b2.size() < 4) return level;
  beats = std::move(b2);
  beatFrames = std::move(f2);
  level.subdivision = 3;
  level.releveled = true;
  return level;
}

BarChoice accentBars(const std::vector<double>& accents, const std::vector<int>& meters) {
  BarChoice best;
  const size_t count = accents.size();
  double total = 0.0;
  for (double x : accents) total += x;
  auto contrastOf = [&](int m, int phase) {
    double on = 0.0;
    size_t k = 0;
    for (size_t i = static_cast<size_t>(phase); i < count; i += static_cast<size_t>(m), ++k) on += accents[i];
    return k == 0 || k == count ? 0.0 : on / static_cast<double>(k) - (total - on) / static_cast<double>(count - k);
  };
  best.contrast = -1e300;
  for (int m : meters) {
    if (m < 2 || count < 2 * static_cast<size_t>(m)) continue;
    for (int phase = 0; phase < m; ++phase) {
      const double c = contrastOf(m, phase);
      if (c > best.contrast + 1e-12) best = {m, phase, c};
    }
  }
  if (best.beatsPerBar == 0) return BarChoice{};
  const int m = best.beatsPerBar;
  if (best.contrast > 0 && std::find(meters.begin(), meters.end(), 2 * m) != meters.end() &&
      count >= 4 * static_cast<size_t>(m)) {
    BarChoice longer{2 * m, best.phase, contrastOf(2 * m, best.phase)};
    const double other = contrastOf(2 * m, best.phase + m);
    if (other > longer.contrast) longer = {2 * m, best.phase + m, other};
    if (longer.contrast >= best.contrast * 5.0 / 6.0) best = longer;
  }
  return best;
}

bool preferOddBars(const BarChoice& simple, const BarChoice& odd, size_t beats) {
  if (odd.beatsPerBar <= 0 || beats < 4 * static_cast<size_t>(odd.beatsPerBar)) return false;
  return odd.contrast >= kOddMin && odd.contrast >= kOddRatio * std::max(0.0, simple.contrast);
}

std::vector<int> oddMeterCandidates(const std::vector<int>& meters) {
  std::vector<int> out;
  for (int m : {5, 7})
    if (std::find(meters.begin(), meters.end(), m) == meters.end()) out.push_back(m);
  return out;
}

MeterSpelling spellMeter(int beatsPerBar, int subdivision, double tempoBpm) {
  if (beatsPerBar <= 0) return {0, 4};
  if (subdivision == 3) return {3 * beatsPerBar, 8};
  if ((beatsPerBar == 5 || beatsPerBar == 7) && tempoBpm >= 150.0) return {beatsPerBar, 8};
  return {beatsPerBar, 4};
}

}  // namespace de::beat
