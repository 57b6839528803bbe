#include "tests/fault/frame_corpus.h"

#include <fstream>
#include <iterator>

namespace vtas::fault {

Result<std::vector<CorpusFrame>> read_frame_corpus(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot open the frame corpus " + path + " (regenerate it: probes.py corpus)");
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string magic = "VTFCORP1";
  if (data.compare(0, magic.size(), magic) != 0) {
    return make_error(path + ": not a frame corpus (magic VTFCORP1 missing)");
  }
  std::vector<CorpusFrame> frames;
  size_t at = magic.size();
  auto byte = [&](size_t i) { return static_cast<uint8_t>(data[i]); };
  while (at < data.size()) {
    const size_t start = at;
    if (data.size() - at < 2) return make_error(path + ": record header cut at offset " + std::to_string(start));
    const char klass = data[at];
    const size_t name_length = byte(at + 1);
    at += 2;
    if (klass != 'b' && klass != 'c' && klass != 'f' && klass != '?') {
      return make_error(path + ": unknown class '" + std::string(1, klass) + "' at offset " + std::to_string(start));
    }
    if (data.size() - at < name_length + 2) return make_error(path + ": record cut at offset " + std::to_string(start));
    CorpusFrame f{static_cast<FrameClass>(klass), data.substr(at, name_length), {}};
    at += name_length;
    const size_t length = size_t{byte(at)} << 8 | byte(at + 1);
    at += 2;
    if (data.size() - at < length) return make_error(path + ": frame cut at offset " + std::to_string(start));
    f.bytes.assign(data.begin() + static_cast<long>(at), data.begin() + static_cast<long>(at + length));
    at += length;
    frames.push_back(std::move(f));
  }
  return frames;
}

}  // namespace vtas::fault
