#include "dsp/window.h"

#include <cmath>

#include "common/error.h"

namespace de::dsp {

WindowType parseWindow(const std::string& name) {
  if (name == "hann" || name == "hanning") return WindowType::Hann;
  if (name == "hamming") return WindowType::Hamming;
  if (name == "blackman") return WindowType::Blackman;
  if (name == "rectangular" || name == "boxcar" || name == "ones") return WindowType::Rectangular;
  if (name == "bartlett" || name == "triangle") return WindowType::Bartlett;
  throw Error(code::kInvalidArgument,
              "window: unknown window '" + name + "' (hann, hamming, blackman, rectangular, bartlett)");
}

std::vector<double> makeWindow(WindowType type, int length) {
  if (length < 1) {
    throw Error(code::kInvalidArgument, "window: length must be positive (" + std::to_string(length) + ")");
  }
  std::vector<double> w(static_cast<size_t>(length));
  const double m = static_cast<double>(length);  // periodic: denominator M = length
  const double twoPi = 2.0 * M_PI;
  for (int n = 0; n < length; ++n) {
    const double x = twoPi * n / m;
    switch (type) {
      case WindowType::Hann: w[n] = 0.5 - 0.5 * std::cos(x); break;
      case WindowType::Hamming: w[n] = 0.54 - 0.46 * std::cos(x); break;
      case WindowType::Blackman: w[n] = 0.42 - 0.5 * std::cos(x) + 0.08 * std::cos(2.0 * x); break;
      case WindowType::Rectangular: w[n] = 1.0; break;
      case WindowType::Bartlett: {
        // scipy.signal.windows.bartlett(length + 1)[:-1]
        const double half = m / 2.0;
        w[n] = n <= half ? 2.0 * n / m : 2.0 - 2.0 * n / m;
        break;
      }
    }
  }
  if (length == 1) w[0] = 1.0;  // scipy returns ones(1) for a one-point window
  return w;
}

std::vector<double> padCenter(const std::vector<double>& win, int size) {
  const int len = static_cast<int>(win.size());
  if (len > size) {
    throw Error(code::kInvalidArgument,
                "window: winLength (" + std::to_string(len) + ") must be <= nFft (" + std::to_string(size) + ")");
  }
  std::vector<double> out(static_cast<size_t>(size), 0.0);
  const int lpad = (size - len) / 2;
  for (int i = 0; i < len; ++i) out[lpad + i] = win[i];
  return out;
}

}  // namespace de::dsp
