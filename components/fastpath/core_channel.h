// The rings between the fast path's control thread and each fast-path core (same process;
// pointers are fine here). Commands flow control -> core, reports core -> control. Both are
// SPSC rings of 64-byte entries with eventfd doorbells, so either side may sleep.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vtas::fastpath {

struct CoreAppContext;   // core_apps.h
class SharedRateLimit;   // shared_rate_limit.h

enum class CommandType : uint8_t {
  kNone = 0,
  kSendFrame = 1,       // transmit `packet_native` (length `length`), optionally stamping TSval
  kFlowInstalled = 2,   // a flow now belongs to this core: schedule it if it has data
  kFlowRemove = 3,      // forget the flow (scheduler, pending events), then report kFlowReleased
  kRetransmit = 4,      // go back N on the flow
  kWindowProbe = 5,     // send a zero-window probe on the flow
  kAttachApp = 6,       // an app region is mapped at `pointer` (size `size`)
  kDetachApp = 7,       // stop touching the app's region, then report kAppReleased
  kAttachContext = 8,   // start polling the context `pointer` (a CoreAppContext*)
  kDetachContext = 9,   // stop polling it, then report kContextReleased
  kSendReset = 10,      // send a RST for the flow with its current sequence numbers
  kReceiveFrame = 11,   // process `packet_native` as if it had just arrived (a frame that
                        // reached the slow path while its flow was being installed)
};

inline constexpr uint8_t kCommandStampTimestamp = 1;

struct CoreCommand {
  uint8_t type;          // CommandType
  uint8_t flags;
  uint16_t length;       // kSendFrame
  uint32_t flow_id;
  uint32_t app_id;
  uint32_t context_id;
  void* pointer;         // kSendFrame: the packet's native buffer; kAttach*: the object
  uint8_t* data;         // kSendFrame: frame start
  uint64_t size;         // kAttachApp: region size
  uint32_t capacity;     // kSendFrame: buffer capacity
  uint32_t reserved0;
  SharedRateLimit* rate_limit;  // kAttachApp: the transmit rate the app shares (its VM's), or
                                // null; owned by the control thread, outlives the app's release
  uint8_t reserved[8];
};
static_assert(sizeof(CoreCommand) == 64);
static_assert(offsetof(CoreCommand, rate_limit) == 48);

enum class ReportType : uint8_t {
  kNone = 0,
  kPacket = 1,           // a frame for the slow path; control frees `packet_native` when done
  kFlowEvent = 2,        // fastpath.FlowEvent kind in `event`
  kFlowReleased = 3,     // answer to kFlowRemove
  kAppReleased = 4,      // answer to kDetachApp
  kContextReleased = 5,  // answer to kDetachContext
};

struct CoreReport {
  uint8_t type;          // ReportType
  uint8_t event;         // kFlowEvent: fastpath::FlowEvent::Kind
  uint16_t length;       // kPacket
  uint32_t flow_id;      // the flow (kPacket: the matching flow, 0 = none; ids start at 1)
  uint32_t flow_group;
  uint32_t app_id;
  uint32_t context_id;
  uint32_t reserved0;
  void* packet_native;   // kPacket
  uint8_t* data;         // kPacket: frame start
  uint64_t opaque;       // kFlowEvent
  uint8_t reserved[16];
};
static_assert(sizeof(CoreReport) == 64);

// Between fast-path cores (software steering): a frame that arrived on one core's NIC queue but
// belongs to a flow another core owns, or a flow the other core must schedule for sending.
enum class SteerType : uint8_t {
  kNone = 0,
  kPacket = 1,   // process this frame (the receiver owns its flow)
  kKickFlow = 2, // this flow of yours has something to send
};

struct SteerEntry {
  uint8_t type;          // SteerType
  uint8_t reserved0;
  uint16_t length;       // kPacket
  uint32_t flow_id;      // kKickFlow
  uint32_t flags;        // kPacket: Packet::flags
  uint32_t rss_hash;     // kPacket
  void* packet_native;   // kPacket
  uint8_t* data;         // kPacket
  uint16_t capacity;     // kPacket
  uint8_t reserved[30];
};
static_assert(sizeof(SteerEntry) == 64);

}  // namespace vtas::fastpath
