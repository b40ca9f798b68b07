// The learned rhythm step: BeatNet features -> CRNN (ONNX Runtime) -> bar-pointer DBN -> beat times
// refined below the 20 ms frame grid, precise tempo, per-beat tempo curve and a confidence.
#pragma once

#include <cstdint>
#include <vector>

#include "beat/dbn.h"
#include "beat/log_spect.h"
#include "common/cancel.h"

namespace de::ml {
class Session;
}

namespace de::beat {

class BeatNetCrnn;

struct RhythmParams {
  DbnParams dbn;
  bool refine = true;  // parabolic peak interpolation + onset snapping within +-1 frame
  bool keepActivations = false;
  // Re-select the meter (among dbn.beatsPerBar) and the downbeat phase from bar-level cues at the
  // decoded beats (see selectBars); off = madmom's DBN choice unchanged.
  bool barCues = true;
  // Scale the audio to a peak of kReferencePeak before the features (madmom's log10(1 + x) is not
  // scale-invariant, so the same song at another gain gave other activations and other beats).
  bool normalizeLevel = true;
  // Percussive onset evidence (issue 24): kick (< 150 Hz) and snare (150 Hz - 5 kHz) onset
  // envelopes from the LOG_SPECT flux, at the network's frames (zero latency: centred frames).
  // percussiveObservation fuses them into the DBN's beat observation; percussiveGrid moves a grid
  // locked on the off-beats by half a beat and doubles one at half tempo, from where the kicks and
  // snares fall relative to the decoded beats.
  bool percussiveObservation = true;
  bool percussiveGrid = true;
  // With meter detection (several candidates): the beat's subdivision from the percussive
  // envelopes and a 6/8 tracked at the eighth or quarter level moved to dotted quarters (meter.h),
  // and bars of 5 and 7 beats from the bar cues where they stand out far more than 2, 3 or 4.
  bool compoundMeters = true;
  bool oddMeters = true;
  // The rock backbeat template (see percussiveBackbeat): chooses among the decoded grid, the grid
  // half a beat later, the doubled and the halved grid the one whose beats alternate kick and
  // snare, and, when it moves the grid, puts the downbeats on kick beats. Runs before percussiveGrid, which then only
  // sees songs without a clear backbeat.
  bool percussiveBackbeat = true;
  // sectionRepair brings sections the DBN tracked half a beat off (unifyPhase) or at half or twice
  // the song's tempo (unifyTempoOctave) back to the song's phase and level, before the backbeat template.
  bool sectionRepair = true;
};

// Per-frame percussive onset strengths in [0, 1] (frame-major [frames x 2]: low band, mid band):
// the mean positive log-spectral difference of the LOG_SPECT bands in each range, minus its 1-s
// moving average, scaled by its 98th percentile over the song and clipped.
std::vector<float> percussiveFromLogSpect(const LogSpectFeatures& f, const LogSpectParams& p);

// The same onset envelope [frames] for the bands above 5 kHz: snare and hi-hat noise, above where
// guitar cabinets and amp simulations roll distorted guitars off (their chords fill the snare band
// 150 Hz-5 kHz of a metal mix on every beat; the backbeat template takes its snare cue from here).
std::vector<float> noiseOnsetsFromLogSpect(const LogSpectFeatures& f, const LogSpectParams& p);

// The network's (beat, downbeat) activations [frames x 2] with percussive evidence added: the beat
// probability a = beat + downbeat becomes a + w * o * (1 - a), o the mean of the two envelopes,
// split between beat and downbeat in the network's proportion (below 1, as the DBN needs).
void fusePercussive(float* act2, int64_t frames, const float* perc, double weight);

// The backbeat score (envelope units, see percussiveFromLogSpect) a grid needs before the template
// changes it or fixes the downbeat parity.
constexpr double kBackbeatMinScore = 0.12;

struct GridFix {
  enum Kind { kKeep = 0, kShift = 1, kDouble = 2 } kind = kKeep;
  double lowOn = 0, lowMid = 0, midOn = 0, midMid = 0;  // mean envelope at the beats and halfway
};

// Where kicks and snares fall on a decoded grid: both nearer the half-beat points than the beats
// (by 20 % in sum) is an off-beat lock (shift by half a beat); one class on the beats and the other
// halfway between them (by 20 % each) is the half-tempo reading of a backbeat (double), when the
// doubled tempo stays within maxBpm.
GridFix percussiveGridCheck(const std::vector<int64_t>& beatFrames, const float* perc, int64_t frames, double fps,
                            double maxBpm);

struct BackbeatFix {
  enum Kind {
    kKeep = 0,
    kShift = 1,      // half a beat later
    kDouble = 2,     // a beat at every half beat
    kHalveEven = 3,  // every other beat from the first
    kHalveOdd = 4,   // every other beat from the second
  } kind = kKeep;
  int kickParity = -1;  // on the chosen grid, parity of the beat index of the kick beats; -1 no backbeat
  double keep = 0;      // backbeat score of the decoded grid
  double best = 0;      // backbeat score of the chosen grid
};

// The beat frames of a candidate grid made from decoded beats (the shifted grid loses the last beat).
std::vector<int64_t> backbeatGrid(const std::vector<int64_t>& beats, BackbeatFix::Kind kind);

// A backbeat is a two-beat alternation: kick on beats 1 and 3, snare on 2 and 4. On each candidate
// grid (the decoded beats; half a beat later; doubled; every other beat, either parity) the score is the snare
// envelope's mean on the snare beats minus on the kick beats, plus the kick's (perc's low band) the other way round,
// for the parity that makes the snare's term positive and at least minScore; the kick's term may not argue against it
// by more than a quarter of the snare's on a candidate grid, half on the decoded one (double-kick metal has kicks
// everywhere, a fat snare reaches into the kick band; the snare carries the cue), and in at least 60 % of the beat
// pairs the alternation must hold on its own. The snare envelope is `noise` (bands above 5 kHz)
// when given, else perc's mid band. Anything that repeats every beat or every half beat (distorted guitars, hats, a
// four-on-the-floor kick) adds the same to both parities and cancels, which is why this holds where the band energies
// at the beats and between them (percussiveGridCheck) do not. A grid at the wrong level or phase scores about half or
// nothing. The grid with the highest score is chosen when it reaches `minScore` and beats the decoded grid's score by
// half again; kickParity is set whenever the chosen grid's score reaches minScore. The shifted grid's score, scaled
// by the onset strength (kick + snare at its beats, at most 1 of the decoded grid's) it keeps, must reach 0.2: a hat
// alternating between accented beats is no backbeat half a beat away. Doubling needs a score of 0.3 and stays within
// maxBpm and 195 BPM (above, a kick / snare alternation is more often the eighths of a groove half as fast: house's
// off-beat claps, double-kick metal); halving needs a decoded grid of at least 160 BPM (a halved backbeat of at
// least 80 BPM and minBpm).
BackbeatFix percussiveBackbeat(const std::vector<int64_t>& beatFrames, const float* perc, const float* noise,
                               int64_t frames, double fps, double minBpm, double maxBpm,
                               double minScore = kBackbeatMinScore);

struct PhaseJumps {
  std::vector<int64_t> beatFrames;
  int jumps = 0;     // half-beat phase jumps found
  int repaired = 0;  // segments moved back to the song's phase
};

// The DBN can slide onto the off-beats for a section and back (a syncopated passage pulls the
// network's activation there). A jump is a run of beats that sits half a beat off the grid of the
// beats before it; the phase class (even or odd number of half-beat jumps) holding most beats is the
// song's, and each segment of the other class moves half a beat back unless its own beats carry
// 1.5 times the evidence (act2: beat + downbeat) of the points half a beat away.
PhaseJumps unifyPhase(const std::vector<int64_t>& beatFrames, const float* act2, int64_t frames);

// Sections the DBN tracked at half or twice the song's tempo (at least four intervals in a row at
// 1.7-2.3 or 0.4-0.6 times the median interval) brought to the song's level: a beat halfway through
// each long interval, or every other beat (the parity with more activation) of the short ones. A
// tempo change inside a song must be a change in the music; an octave jump is the tracker's.
std::vector<int64_t> unifyTempoOctave(const std::vector<int64_t>& beatFrames, const float* act2, int64_t frames,
                                      int* sections);

// -0.1 dBFS: the peak the pipeline's preprocessing normalises to, so a preprocessed song reaches
// the network unchanged and a raw or rescaled one reaches it as if it had been preprocessed.
constexpr double kReferencePeak = 0.98855309465693886;  // 10^(-0.1 / 20)

struct RhythmResult {
  std::vector<double> beats;       // seconds
  std::vector<int32_t> positions;  // 1 = downbeat
  std::vector<double> downbeats;   // seconds
  int beatsPerBar = 0;
  int subdivision = 2;  // 3: compound (the beat is a dotted quarter)
  int meterNumerator = 0, meterDenominator = 4;
  double confidence = 0.0;
  double tempoBpm = 0.0;
  std::vector<double> tempoCurve;  // per beat, BPM
  std::vector<MeterScore> meters;
  std::vector<int64_t> beatFrames;      // the DBN's frame of each beat, before refinement
  int64_t cropFirst = 0, cropLast = 0;  // frames the DBN decoded after the threshold crop
  std::vector<float> activations;       // [frames x 3] when keepActivations
  int64_t frames = 0;
  size_t backpointerBytes = 0;
  double secondsFeatures = 0, secondsModel = 0, secondsDecode = 0;  // wall clock
  double cpuFeatures = 0, cpuModel = 0, cpuDecode = 0;              // this thread's CPU time
};

// Sub-frame beat times: the parabola through the summed (beat + downbeat) activation at the frame
// and its neighbours, then the strongest energy onset within +-1 frame of it when there is one.
std::vector<double> refineBeatTimes(const std::vector<int64_t>& frames, const float* act3, int64_t numFrames,
                                    const float* audio, int64_t n, double sampleRate, double fps);

// Tempo from beat times: Theil-Sen slope of time on beat index over pairs up to 32 beats apart
// (robust to a stray beat, precise on steady tempo). 0 with fewer than two beats.
double tempoFromBeats(const std::vector<double>& beats);
// 60 / the centred inter-beat interval at each beat (one-sided at the ends).
std::vector<double> tempoCurve(const std::vector<double>& beats);

// The network's confidence in [0, 1]: mean (beat + downbeat) activation at the decoded beat frames,
// times a meter term 1 - 0.5 exp(-d) where d is the best meter's log-probability lead over the
// runner-up per decoded beat (0.5 when two meters tie, -> 1 as the lead grows; 1 with one candidate).
double networkConfidence(const DbnResult& r, const float* act3, int64_t numFrames);

// The onsets' confidence in [0, 1]: how far the percussive envelopes (their mean: kick band and
// 150 Hz - 5 kHz, drums and note onsets alike; maximum within +-1 frame) stand at the final beats
// above their mean over all frames, as a share of the way to 1; 0 without them.
double onsetConfidence(const std::vector<int64_t>& beatFrames, const float* percussive, int64_t numFrames);

// Raw confidence in [0, 1]: the stronger of the network's and the onsets' evidence (a grid the
// template moved onto the drums is off the network's peaks but on the onsets), times a tempo prior
// exp(-x^2 / 2), x the octaves between the tempo and 120 BPM. On corpus v5 its AUC for a beat F
// under 0.8 is 0.83; the network's term alone gave 0.66, with the prior 0.69.
double rawRhythmConfidence(const DbnResult& r, const float* act3, int64_t numFrames, const float* percussive,
                           const std::vector<int64_t>& beatFrames, double tempoBpm);

// The raw confidence calibrated on the accuracy corpus (bench/accuracy, corpus v5, 83 pieces): the
// isotonic fit of beat F on it, piecewise linear, so the confidence reads as the expected beat F
// (0.57 at raw 0.31, 0.75 at 0.45, 0.80 at 0.52-0.59, 0.88 at 0.67, 0.97 at 0.74, 1.0 from 0.80;
// 0 for no beats).
double calibrateRhythmConfidence(double raw);

// calibrateRhythmConfidence(rawRhythmConfidence(...)).
double rhythmConfidence(const DbnResult& r, const float* act3, int64_t numFrames, const float* percussive,
                        const std::vector<int64_t>& beatFrames, double tempoBpm);

struct BarChoice {
  int beatsPerBar = 0;  // 0: too few beats to choose; keep the DBN's
  int phase = 0;        // index of the first beat that is a downbeat
  double contrast = 0;  // mean cue at downbeats minus mean cue elsewhere (z units)
};

// Per-frame pitch-class profile [frames x 12] from the LOG_SPECT bands between 130 Hz and 2.1 kHz
// (two bands per semitone there): the harmonic content the bar cues compare across beats.
std::vector<float> chromaFromLogSpect(const LogSpectFeatures& f, const LogSpectParams& p);

// The meter and downbeat phase whose downbeats stand out most from the other beats in three cues
// that mark bar starts: the CRNN's downbeat activation, the bass energy (a one-pole low-pass at
// 150 Hz, log energy over the 100 ms after the beat; kick drums and bass notes fall on downbeats)
// and, with `chroma`, the harmonic change (one minus the correlation of the mean pitch-class
// profiles of the beat before and the beat after; chords change at bar lines), each z-scored over
// the song's beats and summed. The contrast is the cue's mean at the candidate downbeats minus its
// mean at the other beats, over the whole song; every candidate meter needs two bars of beats. The
// CRNN alone often fires its downbeat class one beat off or on every beat (sine clicks, solo
// melodies); the DBN then inherits that phase. With downbeatParity 0 or 1 (a backbeat's kick
// beats), only even meters are candidates, with downbeats of that parity. Without the harmonic cue, a kick on 1 and 3
// and a snare on 2 and 4 made 2 beats per bar win over 4 on rock.
BarChoice selectBars(const std::vector<int64_t>& beatFrames, const std::vector<double>& beats, const float* act3,
                     int64_t numFrames, const float* audio, int64_t n, double sampleRate,
                     const std::vector<int>& meters, const float* chroma = nullptr, int downbeatParity = -1);

// Everything after the features: act3 is the CRNN's [frames x 3] softmax (beat, downbeat, none);
// chroma (optional) the [frames x 12] profile of chromaFromLogSpect.
RhythmResult decodeRhythm(const float* act3, int64_t frames, const float* audio, int64_t n, double sampleRate,
                          const RhythmParams& p, const CancelToken* cancel, const float* chroma = nullptr,
                          const float* percussive = nullptr, const float* noise = nullptr);

// The whole call on mono audio at 22,050 Hz; the CRNN runs on `session` or, when that is null, on
// `builtin`.
RhythmResult trackRhythm(const ml::Session* session, const BeatNetCrnn* builtin, const float* audio, int64_t n,
                         const RhythmParams& p, const CancelToken* cancel);

}  // namespace de::beat
