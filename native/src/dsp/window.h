// Analysis windows as scipy.signal.get_window(name, n, fftbins=True) builds them (periodic).
#pragma once

#include <string>
#include <vector>

namespace de::dsp {

enum class WindowType { Hann, Hamming, Blackman, Rectangular, Bartlett };

WindowType parseWindow(const std::string& name);  // "hann", "hamming", "blackman", "rectangular"/"boxcar", "bartlett"

// Periodic window of `length` samples (the symmetric window of length + 1 without its last sample).
std::vector<double> makeWindow(WindowType type, int length);

// librosa.util.pad_center: zero-pads `win` to `size`, left pad (size - len) / 2.
std::vector<double> padCenter(const std::vector<double>& win, int size);

}  // namespace de::dsp
