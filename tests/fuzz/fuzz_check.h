// VTAS_FUZZ_CHECK: the assertion of the fuzz targets. A broken check is a bug in vtas (never
// the input's fault), so it prints what broke and aborts: libFuzzer saves the input as a crash
// and the corpus replay test (which runs each case in its own process) fails with the message.
#pragma once

#include <cstdio>
#include <cstdlib>

#define VTAS_FUZZ_CHECK(condition, what)                                                   \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      std::fprintf(stderr, "%s:%d: fuzz check failed: %s (%s)\n", __FILE__, __LINE__, \
                   #condition, what);                                                      \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)
