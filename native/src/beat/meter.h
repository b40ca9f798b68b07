// Compound and odd meters on the learned tracker's beats (issue 24, item 4): how the beat is
// divided (two or three), a 6/8 tracked at the eighth or quarter level moved to dotted-quarter
// beats, 5 and 7 beats per bar from the bar cues' periodicity, and the meter's spelling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace de::beat {

struct BarChoice;

struct MeterLevel {
  int subdivision = 2;          // 2: simple (or no evidence), 3: compound
  bool releveled = false;       // the beats were replaced by dotted-quarter beats
  double half = 0;              // mean onset envelope halfway between the beats
  double thirds = 0;            // the smaller of the means at 1/3 and 2/3 of the beats
  double group2 = 0;            // pulse-accent contrast of groups of two (when pulses were checked)
  double group3 = 0;            // ... and of groups of three
  std::vector<double> accents;  // when releveled: each new beat's pulse accent (the bar cue)
};

// Decides the beat's subdivision from the percussive onset envelopes (`perc`, [frames x 2] at fps,
// see percussiveFromLogSpect) sampled at 1/2 and at 1/3 and 2/3 of each beat: three when both
// thirds carry clearly more onset than the half (by 50 %, and at least 0.15). When the halves
// carry onsets and the beats could be quarters of a 6/8 (dotted quarter = 1.5 beats at >= 50 BPM),
// or nothing lies between beats fast enough to be eighths (>= 170 BPM), the pulses (the beats and
// their halves, or the beats) are grouped by accent (onset envelope plus the audio's log energy in
// the 60 ms after each pulse, each clipped to its 10th..90th percentiles and z-scored): groups of
// three that stand out clearly more than groups of two (by 50 %, contrast >= 0.5) replace the
// beats by every third
// pulse from the strongest phase, with subdivision 3. `beats` (seconds) and `beatFrames` change
// then; `audio` may be null.
MeterLevel compoundLevel(std::vector<double>& beats, std::vector<int64_t>& beatFrames, const float* perc,
                         int64_t frames, double fps, const float* audio, int64_t n, double sampleRate);

// Each pulse's accent: the onset envelope within +-1 frame plus the audio's log energy in the 60 ms
// after it (when `audio`), each clipped to its 10th..90th percentiles and z-scored.
std::vector<double> pulseAccents(const std::vector<double>& pulses, const float* perc, int64_t frames, double fps,
                                 const float* audio, int64_t n, double sampleRate);

// The bar (meter among `meters`, downbeat phase) whose downbeats' accents stand out most, as
// selectBars chooses from its cues (a bar of 2m beats over m at >= 5/6 of m's contrast).
BarChoice accentBars(const std::vector<double>& accents, const std::vector<int>& meters);

// 5 and 7 beats per bar are taken over the simple candidates' choice only where their downbeats
// stand out far more (contrast >= 2 x the simple one's and >= 1 z) and the song has four bars
// of them: on 4/4 music a bar of 5 or 7 beats averages the accents away.
bool preferOddBars(const BarChoice& simple, const BarChoice& odd, size_t beats);

// The candidates for the odd-meter check: 5 and 7 unless already among `meters`.
std::vector<int> oddMeterCandidates(const std::vector<int>& meters);

struct MeterSpelling {
  int numerator = 0;
  int denominator = 4;
};

// Beats per bar over a note value: compound (subdivision 3) as 3 x beats over 8 (6/8, 9/8, 12/8);
// 5 and 7 beats at 150 BPM or faster as eighths (7/8), slower as quarters (5/4); otherwise over 4.
MeterSpelling spellMeter(int beatsPerBar, int subdivision, double tempoBpm);

}  // namespace de::beat
