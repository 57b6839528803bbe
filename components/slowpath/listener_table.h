// ListenerTable: the listeners of the conn actor, grouped per (local address, port). A group
// is one listener, or several that all asked for REUSEPORT (TAS FLEXTCP_LISTEN_REUSEPORT) and
// belong to the same user; a SYN picks a group (exact address first, then the wildcard 0) and
// within it a listener by a keyed hash of its 4-tuple, so one peer's retransmitted SYNs land
// on the same listener and no peer can aim at one.
//
// Each listener holds the accepts its app posted ahead (AcceptRecord, served in posting
// order) and the SYNs that arrived while none was posted (its backlog). Backlogs are bounded
// per listener (the app's backlog, capped by ConnConfig::backlog_max) and together (the SYN
// queue limit): memory under a SYN flood is at most syn_queue_limit BacklogSyns, about 120
// bytes each, plus one index entry. Pure data structure; the conn actor persists the records.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "components/slowpath/conn_registry.h"
#include "components/slowpath/four_tuple.h"
#include "components/slowpath/registry_layout.h"
#include "components/slowpath/segment.h"
#include "runtime/clock.h"

namespace vtas::conn {

// A passive open whose handshake completed (the peer acknowledged our SYN-ACK) waiting for
// an accept, or (in SynReceivedTable) one whose third ACK has not come yet. `syn` is the
// peer's SYN (for a SYN cookie, rebuilt from the third ACK with the cookie's MSS).
struct BacklogSyn {
  Segment syn;
  uint32_t flow_group = 0;
  uint32_t core = 0;
  TimePoint received{};
  uint32_t local_isn = 0;  // the ISN of our SYN-ACK
  SlotId slot = kNoSlot;   // its HandshakeRecord in the registry (kNoSlot: memory only)
};

struct PostedAccept {
  AcceptRecord record{};
  SlotId slot = kNoSlot;
};

struct Listener {
  ListenerRecord record{};
  SlotId slot = kNoSlot;
  uint32_t owner_uid = 0;            // the app's user (REUSEPORT groups are per user)
  std::deque<PostedAccept> accepts;  // oldest first
  std::deque<BacklogSyn> backlog;    // oldest first
};

class ListenerTable {
 public:
  ListenerTable(uint32_t syn_queue_limit, uint32_t max_group_size);

  // 0 if a listener (ip, port, reuse_port) of user `uid` can be added, else -EADDRINUSE
  // (the address is taken and not shareable, or shared by another user) or -ENOBUFS (the
  // REUSEPORT group is full).
  int check_add(uint32_t local_ip, uint16_t port, bool reuse_port, uint32_t uid) const;
  // Adds a listener (check_add first). Keeps each group in record.order.
  Listener& add(const ListenerRecord& record, SlotId slot, uint32_t uid);
  // Removes a listener with its accepts and backlog, returned so the caller can free their
  // registry slots. nullopt for an unknown id.
  std::optional<Listener> remove(uint32_t listener_id);

  Listener* find(uint32_t listener_id);
  const Listener* find(uint32_t listener_id) const;
  // The listener a SYN for `tuple` goes to, or nullptr when nobody listens there.
  Listener* select(const FourTuple& tuple, uint64_t tuple_hash);
  // True if some listener owns `port` on `local_ip` or on the wildcard address.
  bool port_in_use(uint32_t local_ip, uint16_t port) const;

  // ---- backlog ----
  enum class Enqueue { kQueued, kDuplicate, kBacklogFull, kSynQueueFull };
  // Queues `syn` on `listener` unless the same 4-tuple already waits (a retransmission: its
  // timestamp is refreshed) or a bound is reached.
  Enqueue enqueue_syn(Listener& listener, BacklogSyn syn);
  // The oldest waiting SYN of `listener`.
  std::optional<BacklogSyn> pop_syn(Listener& listener);
  // Drops SYNs received before `cutoff` (the peer gave up, or will retransmit) and returns
  // them (the caller frees their registry slots).
  std::vector<BacklogSyn> expire_syns(TimePoint cutoff);
  // True if a SYN for `tuple` waits in some backlog.
  bool syn_waiting(const FourTuple& tuple) const { return waiting_.count(tuple) != 0; }
  uint32_t queued_syns() const { return queued_; }

  // ---- accepts ----
  void add_accept(Listener& listener, const PostedAccept& accept);
  // Puts an accept back at the front (its connection could not be installed).
  void return_accept(Listener& listener, const PostedAccept& accept);
  std::optional<PostedAccept> pop_accept(Listener& listener);
  size_t accepts_posted() const;

  size_t size() const { return listeners_.size(); }
  size_t groups() const { return groups_.size(); }
  std::vector<uint32_t> listeners_of_app(uint32_t app_id) const;
  void for_each(const std::function<void(const Listener&)>& fn) const;

 private:
  using GroupKey = std::pair<uint32_t, uint16_t>;  // (local ip, port)
  struct Group {
    std::vector<uint32_t> members;  // listener ids in record.order
    bool reuse_port = false;
    uint32_t uid = 0;
  };
  void drop_waiting(const Listener& listener);

  uint32_t syn_queue_limit_;
  uint32_t max_group_size_;
  uint32_t queued_ = 0;
  std::unordered_map<uint32_t, Listener> listeners_;
  std::map<GroupKey, Group> groups_;
  std::unordered_set<FourTuple, FourTupleHash> waiting_;
};

}  // namespace vtas::conn
