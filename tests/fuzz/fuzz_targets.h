// The fuzz targets of vtas: one function per parser of untrusted input, taking the fuzzer's
// bytes. Each is compiled into its libFuzzer executable (fuzz_<name>, VTAS_FUZZ=ON, clang) and
// into the corpus replay test (fuzz_corpus_test, any compiler), which feeds it every file of
// tests/fuzz/corpus/<name>/. Return value as libFuzzer wants it: 0 (the input was processed).
#pragma once

#include <cstddef>
#include <cstdint>

// X(name): the target list, in the order run_fuzzers.sh runs them.
#define VTAS_FUZZ_TARGETS(X) \
  X(wire_frame)              \
  X(tcp_receive)             \
  X(manifest_text)           \
  X(command_line)            \
  X(client_events)           \
  X(fastpath_app_bumps)      \
  X(fastpath_app_requests)   \
  X(proxy_channel)           \
  X(ivshmem_protocol)        \
  X(envelope_mailbox)

namespace vtas::fuzz {

#define VTAS_DECLARE_FUZZ_TARGET(name) int fuzz_##name(const uint8_t* data, size_t size);
VTAS_FUZZ_TARGETS(VTAS_DECLARE_FUZZ_TARGET)
#undef VTAS_DECLARE_FUZZ_TARGET

}  // namespace vtas::fuzz
