// FrameCorpus: reads the frame corpus tests/fault/probes.py writes (`probes.py corpus OUT`):
// hostile and mutated Ethernet frames, each with the outcome the fast path must give it. Used
// by the malformed-frame test; the format is documented in probes.py.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/result.h"

namespace vtas::fault {

// What the fast path must do with a frame.
enum class FrameClass : char {
  kRxBad = 'b',      // dropped and counted in rx_bad
  kToControl = 'c',  // handed to the slow path (exceptions)
  kFlow = 'f',       // taken by the installed flow (neither counter moves)
  kAny = '?',        // a random mutation: checked against the reference parser only
};

struct CorpusFrame {
  FrameClass expected;
  std::string name;
  std::vector<uint8_t> bytes;
};

// The frames of the corpus file at `path`, in order; an error names the file and the offset of
// the first record that does not fit.
Result<std::vector<CorpusFrame>> read_frame_corpus(const std::string& path);

}  // namespace vtas::fault
