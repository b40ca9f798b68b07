// Unit tests of the Demucs spectral transforms (torch.stft/istft conventions on dsp::RealFft).
#include "ml/demucs.h"

#include <cmath>
#include <vector>

#include "test.h"

using namespace de::ml::demucs;

TEST_CASE("demucs spectral: frames per segment, and the iSTFT of the STFT rebuilds the segment inside") {
  const int64_t segment = 44100;
  Spectral spectral(segment);
  CHECK(spectral.frames() == (segment + kHop - 1) / kHop);
  // No content near Nyquist: htdemucs drops that bin, so only a band-limited signal comes back.
  std::vector<float> x(static_cast<size_t>(segment));
  for (int64_t i = 0; i < segment; ++i) x[i] = 0.5f * std::sin(0.01f * i) + 0.2f * std::sin(0.3f * i + 1.0f);
  const int64_t T = spectral.frames();
  std::vector<float> re(static_cast<size_t>(kBins * T)), im(re.size());
  spectral.forward(x.data(), re.data(), im.data(), T);
  // normalized=True: a full-scale sine's bin is about amplitude * sum(window) / 2 / sqrt(N).
  double peak = 0;
  for (size_t i = 0; i < re.size(); ++i) peak = std::max(peak, std::hypot(double(re[i]), double(im[i])));
  CHECK(peak > 5.0 && peak < 20.0);
  std::vector<float> out(static_cast<size_t>(segment), 1.0f);  // inverse() adds into out
  spectral.inverse(re.data(), im.data(), T, out.data());
  // The outer 2 frames per side are zeroed by htdemucs (kept frames 2..T+1), so the segment's
  // first/last 1536 samples are not rebuilt; everything else is.
  double err = 0;
  for (int64_t i = 2 * kNfft; i < segment - 2 * kNfft; ++i) err = std::max(err, std::fabs(out[i] - 1.0 - x[i]));
  CHECK(err < 1e-5);
}
