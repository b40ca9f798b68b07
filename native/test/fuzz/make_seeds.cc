// Writes the seed corpus of the fuzzers: one tiny file per container/codec the decoder accepts
// (through the vendored libsndfile, whose MP3 writer is LAME), plus cut and implausible variants.
// Each decode seed is prefixed by fuzz_decode's option byte.
#include <sndfile.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

struct VirtualBuffer {
  std::vector<uint8_t> bytes;
  sf_count_t pos = 0;
};
sf_count_t vLength(void* u) { return static_cast<sf_count_t>(static_cast<VirtualBuffer*>(u)->bytes.size()); }
sf_count_t vSeek(sf_count_t off, int whence, void* u) {
  auto* b = static_cast<VirtualBuffer*>(u);
  const sf_count_t base = whence == SEEK_SET   ? 0
                          : whence == SEEK_CUR ? b->pos
                                               : static_cast<sf_count_t>(b->bytes.size());
  b->pos = base + off;
  return b->pos;
}
sf_count_t vRead(void* dst, sf_count_t n, void* u) {
  auto* b = static_cast<VirtualBuffer*>(u);
  const sf_count_t avail = static_cast<sf_count_t>(b->bytes.size()) - b->pos;
  const sf_count_t k = std::max<sf_count_t>(0, std::min(n, avail));
  std::copy_n(b->bytes.begin() + b->pos, k, static_cast<uint8_t*>(dst));
  b->pos += k;
  return k;
}
sf_count_t vWrite(const void* src, sf_count_t n, void* u) {
  auto* b = static_cast<VirtualBuffer*>(u);
  if (b->pos + n > static_cast<sf_count_t>(b->bytes.size())) b->bytes.resize(static_cast<size_t>(b->pos + n));
  std::copy_n(static_cast<const uint8_t*>(src), n, b->bytes.begin() + b->pos);
  b->pos += n;
  return n;
}
sf_count_t vTell(void* u) { return static_cast<VirtualBuffer*>(u)->pos; }

std::vector<uint8_t> encode(int format, int rate, int channels, int frames) {
  VirtualBuffer buf;
  SF_VIRTUAL_IO io{vLength, vSeek, vRead, vWrite, vTell};
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open_virtual(&io, SFM_WRITE, &info, &buf);
  if (!f) return {};
  std::vector<float> x(static_cast<size_t>(frames) * channels);
  for (int i = 0; i < frames; ++i)
    for (int c = 0; c < channels; ++c) x[i * channels + c] = 0.5f * std::sin(0.05f * i * (c + 1));
  sf_writef_float(f, x.data(), frames);
  sf_close(f);
  return buf.bytes;
}

void save(const std::string& path, uint8_t prefix, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.put(static_cast<char>(prefix));
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds <dir>\n");
    return 2;
  }
  const std::string root = argv[1];
  ::mkdir(root.c_str(), 0755);
  const std::string dec = root + "/decode", aud = root + "/audio";
  ::mkdir(dec.c_str(), 0755);
  ::mkdir(aud.c_str(), 0755);
  struct Spec {
    const char* name;
    int format, rate, channels, frames;
  };
  const Spec specs[] = {
      {"pcm16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 2, 200},
      {"pcm24.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 8000, 1, 200},
      {"u8.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 8000, 1, 200},
      {"float.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 8000, 2, 100},
      {"double.wav", SF_FORMAT_WAV | SF_FORMAT_DOUBLE, 8000, 1, 100},
      {"ulaw.wav", SF_FORMAT_WAV | SF_FORMAT_ULAW, 8000, 1, 200},
      {"imaadpcm.wav", SF_FORMAT_WAV | SF_FORMAT_IMA_ADPCM, 8000, 1, 505},
      {"msadpcm.wav", SF_FORMAT_WAV | SF_FORMAT_MS_ADPCM, 8000, 1, 500},
      {"gsm.wav", SF_FORMAT_WAV | SF_FORMAT_GSM610, 8000, 1, 320},
      {"wavex.wav", SF_FORMAT_WAVEX | SF_FORMAT_PCM_16, 8000, 2, 200},
      {"rf64.wav", SF_FORMAT_RF64 | SF_FORMAT_PCM_16, 8000, 2, 200},
      {"w64.w64", SF_FORMAT_W64 | SF_FORMAT_FLOAT, 8000, 1, 200},
      {"pcm16.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 8000, 2, 200},
      {"s8.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_S8, 8000, 1, 200},
      {"float.aifc", SF_FORMAT_AIFF | SF_FORMAT_FLOAT, 8000, 1, 100},
      {"pcm16.au", SF_FORMAT_AU | SF_FORMAT_PCM_16, 8000, 1, 200},
      {"alac.caf", SF_FORMAT_CAF | SF_FORMAT_ALAC_16, 8000, 1, 400},
      {"pcm16.caf", SF_FORMAT_CAF | SF_FORMAT_PCM_16, 8000, 1, 200},
      {"pcm16.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 8000, 2, 600},
      {"vorbis.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 8000, 1, 600},
      {"opus.opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 8000, 1, 600},
      {"layer3.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 8000, 1, 1152},
      {"pcm16.voc", SF_FORMAT_VOC | SF_FORMAT_PCM_16, 8000, 1, 200},
      {"pcm16.nist", SF_FORMAT_NIST | SF_FORMAT_PCM_16, 8000, 1, 200},
      {"pcm16.ircam", SF_FORMAT_IRCAM | SF_FORMAT_PCM_16, 8000, 1, 200},
      {"pcm16.svx", SF_FORMAT_SVX | SF_FORMAT_PCM_16, 8000, 1, 200},
      {"pcm16.w", SF_FORMAT_WVE | SF_FORMAT_ALAW, 8000, 1, 200},
  };
  int written = 0;
  for (const Spec& s : specs) {
    const std::vector<uint8_t> bytes = encode(s.format, s.rate, s.channels, s.frames);
    if (bytes.empty()) {
      std::fprintf(stderr, "fuzz_make_seeds: libsndfile cannot write %s here; skipped\n", s.name);
      continue;
    }
    // option byte: bit 0 mono, 1 planar, 2 strict, 3 file path instead of memory
    save(dec + "/" + s.name, 0x00, bytes);
    save(dec + "/" + s.name + ".file-mono", 0x09, bytes);
    // cut mid-data and right after the header
    save(dec + "/" + s.name + ".cut", 0x02, std::vector<uint8_t>(bytes.begin(), bytes.begin() + bytes.size() * 2 / 3));
    written += 3;
  }
  // a WAV header claiming 1 Hz, and one claiming 2 GHz
  std::vector<uint8_t> wav = encode(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 64);
  if (wav.size() > 32) {
    for (uint32_t rate : {1u, 2000000000u}) {
      std::vector<uint8_t> v = wav;
      for (int i = 0; i < 4; ++i) v[24 + i] = static_cast<uint8_t>(rate >> (8 * i));
      save(dec + "/rate-" + std::to_string(rate) + ".wav", 0x00, v);
      ++written;
    }
  }
  // fuzz_audio reads its arguments from the bytes: a few fixed starting points per entry point
  for (int target = 0; target < 8; ++target) {
    std::vector<uint8_t> v(256);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>((i * 37 + target * 11) & 0xff);
    v[0] = static_cast<uint8_t>(target);
    std::ofstream out(aud + "/seed-" + std::to_string(target), std::ios::binary);
    out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size()));
  }
  std::printf("fuzz_make_seeds: %d decode seeds, 8 audio seeds in %s\n", written, root.c_str());
  return written > 0 ? 0 : 1;
}
