// The attach protocol between an application (clientlib) and the fast path's control thread,
// over a SOCK_SEQPACKET unix socket at <runtime_dir>/app.sock (mode 0600 unless configured).
// Fixed-size little-endian structs, file descriptors in SCM_RIGHTS. One socket per app for
// its lifetime: when it closes, the app is gone and everything it owned is freed.
//
//   app -> service  AttachRequest                      service -> app  AttachResponse
//                                                      + fds [region, control doorbell,
//                                                             core doorbell x num_cores]
//   app -> service  ContextRequest + fd [ctx eventfd]  service -> app  ContextResponse
#pragma once

#include <cstddef>
#include <cstdint>

namespace vtas::abi {

inline constexpr uint32_t kAttachMagic = 0x56544153;  // "VTAS"
inline constexpr uint32_t kAttachVersion = 1;
inline constexpr char kAttachSocketName[] = "app.sock";

enum class AttachMessageType : uint32_t {
  kAttachRequest = 1,
  kAttachResponse = 2,
  kContextRequest = 3,
  kContextResponse = 4,
};

struct AttachRequest {
  uint32_t magic;          // kAttachMagic
  uint32_t version;        // kAttachVersion
  uint32_t type;           // kAttachRequest
  uint32_t reserved;
  char name[48];           // the app's name for logs and stats (NUL-terminated)
};
static_assert(sizeof(AttachRequest) == 64);

struct AttachResponse {
  uint32_t magic;
  uint32_t version;
  uint32_t type;           // kAttachResponse
  int32_t status;          // 0 or -errno
  uint32_t app_id;
  uint32_t num_cores;      // fds that follow: region, control doorbell, then num_cores doorbells
  uint64_t region_size;
  char error[32];          // why, when status != 0 (NUL-terminated)
};
static_assert(sizeof(AttachResponse) == 64);

struct ContextRequest {
  uint32_t magic;
  uint32_t version;
  uint32_t type;           // kContextRequest; one fd: the context's eventfd (the app's doorbell)
  uint32_t reserved[13];
};
static_assert(sizeof(ContextRequest) == 64);

struct ContextResponse {
  uint32_t magic;
  uint32_t version;
  uint32_t type;           // kContextResponse
  int32_t status;          // 0 or -errno (-ENOSPC: too many contexts, -ENOMEM: region full)
  uint32_t context_id;
  uint32_t reserved;
  uint64_t queue_block;    // offset of the context's queue block in the region
  char error[32];
};
static_assert(sizeof(ContextResponse) == 64);

// Max fds in one message: region + control doorbell + one doorbell per core.
inline constexpr uint32_t kAttachMaxFds = 2 + 16;

}  // namespace vtas::abi
