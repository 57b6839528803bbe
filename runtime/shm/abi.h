// The common header at offset 0 of every vtas shared-memory region, and the rules every shared
// ABI in vtas follows. Any process that creates a region (fast path, conn, cc, the VM proxy)
// calls init_region_header(); any process that maps one (apps through the client library, slow
// path actors, the guest proxy) calls check_region_header() before it reads anything else.
//
// Rules for every shared-memory ABI in vtas (rings, flow table, app contexts, VM regions, ...):
//   1. One header file per shared ABI. It owns a magic number and a layout version; the version
//      is checked when a process attaches, and bumped on any change to a size or an offset.
//   2. static_assert on the size of every shared struct and on the offset of every field, so a
//      change that moves a byte fails to compile instead of corrupting another process.
//   3. Offsets from the region base, never pointers: a region maps at a different address in
//      each process (and in each VM), so a pointer written by one is garbage to the others.
//   4. Only fixed-width integer types and byte arrays; no bool, no enum without a fixed
//      underlying type, no padding the compiler chooses (make padding an explicit field).
//   5. Everything read from shared memory is untrusted: another process (an app, a VM) may
//      write anything at any time. Copy a value out once, then check it, then use the copy.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/result.h"

namespace vtas::shm {

// One magic for all vtas regions: the bytes "VTAS-SHM" in memory order (little endian), so a
// hexdump of a region starts with a readable tag.
inline constexpr uint64_t kRegionMagic = 0x4D48532D53415456ull;

// What a region holds. The numbers are part of the ABI: never renumber, only append.
// 1..63 are reserved for vtas core regions, 64.. for extensions.
enum class RegionKind : uint32_t {
  kUnspecified = 0,
  kTest = 1,          // unit tests and benchmarks
  kFlowTable = 2,     // fast path: per-flow TCP state and buffers
  kAppContext = 3,    // one application context: its queues and connection buffers
  kVmRegion = 4,      // everything shared with one VM over ivshmem
  kCcState = 5,       // congestion control state that survives a cc restart
  kConnRegistry = 6,  // listeners, pending handshakes and app contexts that survive conn
};

// A readable name for log lines and error messages ("flow-table"); "unknown" for values this
// binary does not know (a newer peer, or garbage).
const char* region_kind_name(RegionKind kind);

// Bits of RegionHeader::flags.
inline constexpr uint32_t kRegionFlagHugepages = 1u << 0;  // backed by 2 MiB hugepages

struct RegionHeader {
  uint64_t magic;           // kRegionMagic, written last by init_region_header (release)
  uint32_t layout_version;  // the layout version of this region kind's ABI header
  uint32_t header_size;     // sizeof(RegionHeader) when created; content starts at or after it
  uint64_t region_size;     // bytes the creator meant to share (<= what is mapped)
  uint32_t kind;            // a RegionKind (raw: the value is untrusted until checked)
  uint32_t flags;           // kRegionFlag*
  uint32_t creator_pid;     // for diagnostics only: never used to signal anyone
  uint8_t reserved[28];     // zero; room for later fields without a version bump
};
static_assert(sizeof(RegionHeader) == 64, "RegionHeader is one cache line");
static_assert(offsetof(RegionHeader, magic) == 0);
static_assert(offsetof(RegionHeader, layout_version) == 8);
static_assert(offsetof(RegionHeader, header_size) == 12);
static_assert(offsetof(RegionHeader, region_size) == 16);
static_assert(offsetof(RegionHeader, kind) == 24);
static_assert(offsetof(RegionHeader, flags) == 28);
static_assert(offsetof(RegionHeader, creator_pid) == 32);
static_assert(offsetof(RegionHeader, reserved) == 36);

// Writes a fresh header at `base` (which must be 8-byte aligned and hold `region_size` bytes).
// The magic is stored last with release ordering, so a process that sees the magic (acquire)
// also sees the other fields. Fails on a null or misaligned base or region_size < 64.
Status init_region_header(void* base, uint64_t region_size, RegionKind kind,
                          uint32_t layout_version, uint32_t flags = 0);

// Checks the header of a region mapped at `base` with `mapped_size` bytes before anything else
// in it is used: magic, kind, layout version, header size and region size. The error says what
// is wrong and what to do (e.g. restart after an upgrade). Reads every field once.
Status check_region_header(const void* base, size_t mapped_size, RegionKind expected_kind,
                           uint32_t expected_version);

}  // namespace vtas::shm
