// Error reporting of libvtas: every failing C entry point sets errno and a readable reason
// (what failed, the offending value, what to do) that vtas_last_error() returns on the same
// thread. With VTAS_DEBUG set in the environment the reason is also printed to stderr.
// No allocation: reasons are formatted into a thread-local buffer, so this is safe on the
// data path and when memory is short. Used by every file of the library.
#pragma once

#include <cstdint>

namespace vtas::client {

// Records `err` and the formatted reason, sets errno, prints it under VTAS_DEBUG. Returns -1
// so callers can `return fail(EINVAL, "...")`.
int fail(int err, const char* format, ...) __attribute__((format(printf, 2, 3)));

// As fail(), for invalid entries read from shared memory: printed under VTAS_DEBUG only if
// `*printed` is false (then set), so a misbehaving service cannot flood stderr. Does not touch
// errno (the poll call that found the entry may still succeed).
void note_invalid(bool* printed, const char* format, ...) __attribute__((format(printf, 2, 3)));

// The current thread's last reason ("" if none).
const char* last_error();

bool debug_enabled();

}  // namespace vtas::client
