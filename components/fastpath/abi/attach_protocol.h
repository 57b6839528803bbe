// The attach protocol between an application (clientlib) and the fast path's control thread,
// over a SOCK_SEQPACKET unix socket at <runtime_dir>/app.sock (mode 0600 unless configured).
// Fixed-size little-endian structs, file descriptors in SCM_RIGHTS. One socket per app for
// its lifetime: when it closes, the app is gone and everything it owned is freed.
//
//   app -> service  AttachRequest                      service -> app  AttachResponse
//                                                      + fds [region, control doorbell,
//                                                             core doorbell x num_cores]
//   app -> service  ContextRequest + fd [ctx eventfd]  service -> app  ContextResponse
//
// The host proxy of virtual machines (components/proxy) uses the same socket for each VM:
//   proxy -> service  VmAttachRequest + fd [VM region]  service -> proxy  VmAttachResponse
//                                                       + fds [control doorbell, core doorbells]
//   proxy -> service  VmAppRequest (an app in the VM)   service -> proxy  AttachResponse (no fds:
//                                                       the app's region is a slice of the VM's)
//   proxy -> service  ContextRequest{app_id} + fd [an eventfd of the proxy] -> ContextResponse
//   proxy -> service  VmAppDetach{app_id}               (no answer)
// The VM's apps get regions inside the VM region (RegionKind::kAppContext headers at the slice
// start, page aligned), so everything of a VM stays in memory the VM can see, and nothing else
// does. The first kVmChannelBytes of a VM region belong to the proxies' control channel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace vtas::abi {

inline constexpr uint32_t kAttachMagic = 0x56544153;  // "VTAS"
inline constexpr uint32_t kAttachVersion = 1;
inline constexpr char kAttachSocketName[] = "app.sock";

enum class AttachMessageType : uint32_t {
  kAttachRequest = 1,
  kAttachResponse = 2,
  kContextRequest = 3,
  kContextResponse = 4,
  kVmAttachRequest = 5,
  kVmAttachResponse = 6,
  kVmAppRequest = 7,
  kVmAppDetach = 8,
};

// Bytes at the start of a VM region reserved for the host/guest proxy channel (vTAS kept 0x4000).
inline constexpr uint64_t kVmChannelBytes = 0x4000;

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
  uint64_t region_offset;  // where the app's region starts in the region fd (0 on the host;
                           // a page-aligned slice of the VM region for apps in a VM)
  // TAS --fp-poll-interval-app: how long (us) an app's blocking wait keeps polling its rings
  // after its last event before it sleeps on its eventfd; 0 = sleep at once. Taken from the
  // first 4 bytes of what was error[24]: a response without it (an older service, a proxy
  // that does not fill it) reads 0 on success, and error responses carry no value.
  uint32_t poll_interval_app_us;
  char error[20];          // why, when status != 0 (NUL-terminated)
};
static_assert(sizeof(AttachResponse) == 64);
static_assert(offsetof(AttachResponse, region_size) == 24);
static_assert(offsetof(AttachResponse, region_offset) == 32);
static_assert(offsetof(AttachResponse, poll_interval_app_us) == 40);
static_assert(offsetof(AttachResponse, error) == 44);

struct ContextRequest {
  uint32_t magic;
  uint32_t version;
  uint32_t type;           // kContextRequest; one fd: the context's eventfd (the app's doorbell)
  uint32_t app_id;         // on a VM proxy's socket: which of the VM's apps (ignored for apps)
  uint32_t reserved[12];
};
static_assert(sizeof(ContextRequest) == 64);
static_assert(offsetof(ContextRequest, app_id) == 12);

struct VmAttachRequest {
  uint32_t magic;
  uint32_t version;
  uint32_t type;            // kVmAttachRequest; one fd: the VM's region (memfd or file)
  uint32_t vm_id;           // the proxy's id for the VM (its ivshmem peer id), for logs and stats
  uint32_t max_connections; // per-VM limit (0 = no limit beyond the region's memory)
  uint32_t max_rate_kbps;   // per-VM transmit rate, all its flows together (0 = no limit)
  char name[40];            // NUL-terminated
};
static_assert(sizeof(VmAttachRequest) == 64);
static_assert(offsetof(VmAttachRequest, max_rate_kbps) == 20);

struct VmAttachResponse {
  uint32_t magic;
  uint32_t version;
  uint32_t type;           // kVmAttachResponse; fds: control doorbell, then num_cores doorbells
  int32_t status;
  uint32_t num_cores;
  uint32_t reserved;
  char error[40];
};
static_assert(sizeof(VmAttachResponse) == 64);

struct VmAppRequest {
  uint32_t magic;
  uint32_t version;
  uint32_t type;           // kVmAppRequest (answer: AttachResponse) or kVmAppDetach
  uint32_t app_id;         // kVmAppDetach: the app that is gone
  char name[48];           // kVmAppRequest: the guest app's name
};
static_assert(sizeof(VmAppRequest) == 64);

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

// ---- helpers for both ends (the fast path, the proxies, tests) ----------------------------

// Stamps magic, version and type on any attach-protocol message.
template <class T>
void fill_header(T& message, AttachMessageType type) {
  message.magic = kAttachMagic;
  message.version = kAttachVersion;
  message.type = static_cast<uint32_t>(type);
}

// Copies `text` into a fixed text field, cut to fit and always NUL-terminated.
template <size_t N>
void copy_text(char (&dst)[N], const std::string& text) {
  std::strncpy(dst, text.c_str(), N - 1);
  dst[N - 1] = '\0';
}

// A fixed text field as a string; a field without NUL (a hostile peer) ends at its size.
template <size_t N>
std::string text_of(const char (&src)[N]) {
  return std::string(src, strnlen(src, N));
}

}  // namespace vtas::abi
