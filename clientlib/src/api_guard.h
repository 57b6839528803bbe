// Keeps C++ exceptions from crossing the C API: libvtas is loaded into arbitrary programs
// (C programs, LD_PRELOAD), where an escaping exception would terminate them. Every public
// entry point that may allocate runs its body through guarded(). The data path does not
// allocate, so the guard costs nothing there (zero-cost exception tables).
#pragma once

#include <cerrno>
#include <new>

#include "clientlib/src/errors.h"

namespace vtas::client {

template <class F, class R>
R guarded(F&& body, R on_error) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    fail(ENOMEM, "out of memory");
  } catch (...) {
    fail(EIO, "internal error (unexpected exception); please report it");
  }
  return on_error;
}

}  // namespace vtas::client
