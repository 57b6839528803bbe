// ChannelEndpoint: one side of the host/guest proxy channel (channel_layout.h) over memory that
// both sides map: the host proxy's mapping of the VM region, or the guest's mapping of BAR2.
// It frames proxy.ChannelMessage into the ring pair and back, and checks everything it reads:
// a frame with an impossible length, a message that does not parse, or ring indices no honest
// peer could have written make the endpoint broken() for good (the VM loses its service; the
// host proxy and the other VMs do not notice). Used by HostProxyActor and GuestProxy; one
// thread per endpoint.
//
// Wake-ups follow runtime/shm/spsc_ring.h: after send() the caller asks peer_needs_wakeup()
// and rings the ivshmem doorbell if so; before sleeping it calls prepare_sleep() (false: a
// message arrived, do not sleep) and finish_sleep() after.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "components/proxy/channel/channel_layout.h"
#include "proto/proxy.pb.h"
#include "runtime/result.h"
#include "runtime/shm/spsc_ring.h"

namespace vtas::proxy {

class ChannelEndpoint {
 public:
  // The host side: lays out a fresh channel (header, both rings) in `base` (kVmChannelBytes
  // at least, zeroed or not) and attaches to it. Only before the guest can see the memory.
  static Result<ChannelEndpoint> create_host(void* base, size_t bytes, uint32_t vm_peer_id);
  // The guest side: checks the header the host wrote and attaches to the rings.
  static Result<ChannelEndpoint> attach_guest(void* base, size_t bytes);

  ChannelEndpoint(ChannelEndpoint&&) noexcept = default;
  ChannelEndpoint& operator=(ChannelEndpoint&&) noexcept = default;

  // Queues `message` for the other side. False when the ring has no room for it right now (the
  // caller keeps it and tries again) or the endpoint is broken.
  bool send(const ChannelMessage& message);
  // After send(): true if the other side announced a sleep we have not rung for.
  bool peer_needs_wakeup() { return tx_.consumer_needs_wakeup(); }

  // Takes the next message: true with `*out` set, false when there is none (or broken()).
  bool receive(ChannelMessage* out);

  bool prepare_sleep() { return rx_.prepare_sleep(); }
  void finish_sleep() { rx_.finish_sleep(); }

  bool broken() const { return !error_.empty() || rx_.corrupted() || tx_.corrupted(); }
  // Why it is broken ("" if it is not).
  std::string error() const;

  // The header as the guest read it at attach (the host's own values on the host).
  const ChannelHeader& header() const { return header_; }

 private:
  ChannelEndpoint(shm::RingProducer<ChannelEntry> tx, shm::RingConsumer<ChannelEntry> rx,
                  const ChannelHeader& header)
      : tx_(std::move(tx)), rx_(std::move(rx)), header_(header) {}
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }

  shm::RingProducer<ChannelEntry> tx_;
  shm::RingConsumer<ChannelEntry> rx_;
  ChannelHeader header_;
  std::string error_;
};

}  // namespace vtas::proxy
