#include "runtime/trace/tests/trace_test_support.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace vtas::trace::testing {

Envelope make_envelope(const std::string& sender, const std::string& receiver, MessageKind kind,
                       uint64_t correlation_id, uint64_t timestamp_ns) {
  Envelope e;
  Header* h = e.mutable_header();
  h->set_sender(sender);
  h->set_receiver(receiver);
  h->set_kind(kind);
  h->set_correlation_id(correlation_id);
  h->set_timestamp_ns(timestamp_ns);
  h->set_incarnation(1);
  h->set_trace(true);
  return e;
}

Envelope make_ping(uint64_t sequence, const std::string& sender, const std::string& receiver) {
  Envelope e = make_envelope(sender, receiver, MESSAGE_KIND_REQUEST, sequence,
                             1'000'000'000 + sequence * 1000);
  e.mutable_ping_request()->set_sequence(sequence);
  e.mutable_ping_request()->set_payload("p" + std::to_string(sequence));
  return e;
}

Envelope make_note(const std::string& text, const std::string& sender,
                   const std::string& receiver) {
  Envelope e = make_envelope(sender, receiver, MESSAGE_KIND_EVENT, 0);
  e.mutable_note()->set_text(text);
  return e;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/vtas-trace-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << pattern << " failed";
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

}  // namespace vtas::trace::testing
