#include "clientlib/src/errors.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include "vtas/tas_ll.h"

namespace vtas::client {
namespace {

thread_local char g_last_error[512];

void record(const char* format, va_list args) {
  std::vsnprintf(g_last_error, sizeof(g_last_error), format, args);
}

void print() {
  std::fprintf(stderr, "vtas: %s\n", g_last_error);
}

}  // namespace

bool debug_enabled() {
  static const bool enabled = [] {
    const char* value = std::getenv("VTAS_DEBUG");
    return value != nullptr && value[0] != '\0' && !(value[0] == '0' && value[1] == '\0');
  }();
  return enabled;
}

int fail(int err, const char* format, ...) {
  va_list args;
  va_start(args, format);
  record(format, args);
  va_end(args);
  if (debug_enabled()) print();
  errno = err;
  return -1;
}

void note_invalid(bool* printed, const char* format, ...) {
  va_list args;
  va_start(args, format);
  record(format, args);
  va_end(args);
  if (debug_enabled() && !*printed) {
    *printed = true;
    print();
  }
}

const char* last_error() {
  return g_last_error;
}

}  // namespace vtas::client

extern "C" const char* vtas_last_error(void) {
  return vtas::client::last_error();
}
