// ConnectionTable: conn's records of the connections it opened or accepted, from the first
// SYN to the flow's removal (TIME_WAIT lives in TimeWaitTable). Indexed by conn id, by
// 4-tuple (segments reaching conn) and by fast-path flow id (FlowEvent, FlowInstalled).
// Pure data structure; the conn actor persists each record in the registry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "components/slowpath/conn_registry.h"
#include "components/slowpath/four_tuple.h"
#include "components/slowpath/registry_layout.h"

namespace vtas::conn {

struct Connection {
  ConnRecord record{};
  SlotId slot = kNoSlot;

  ConnState state() const { return static_cast<ConnState>(record.state); }
  bool has(uint32_t flag) const { return (record.flags & flag) != 0; }
  void set(uint32_t flag) { record.flags |= flag; }
};

FourTuple tuple_of(const ConnRecord& record);
const char* conn_state_name(ConnState state);

class ConnectionTable {
 public:
  // Adds a record; its conn id and 4-tuple must be new (the caller checks with find*).
  Connection& add(const ConnRecord& record, SlotId slot);
  void remove(uint32_t conn_id);

  Connection* find(uint32_t conn_id);
  Connection* find(const FourTuple& tuple);
  Connection* find_flow(uint32_t flow_id);
  const Connection* find_flow(uint32_t flow_id) const {
    return const_cast<ConnectionTable*>(this)->find_flow(flow_id);
  }
  // Records the fast-path flow of a connection (0 = none), keeping the index right.
  void set_flow(Connection& conn, uint32_t flow_id);
  // Changes a connection's state (always through here: it keeps the per-app counts right).
  void set_state(Connection& conn, ConnState state);

  size_t size() const { return by_id_.size(); }
  size_t count(ConnState state) const;
  // Active opens of `app_id` not yet installed (the per-app bound on pending opens).
  size_t pending_opens(uint32_t app_id) const;
  std::vector<uint32_t> ids_of_app(uint32_t app_id) const;
  std::vector<uint32_t> ids() const;  // sorted
  void for_each(const std::function<void(const Connection&)>& fn) const;

 private:
  std::unordered_map<uint32_t, Connection> by_id_;
  std::unordered_map<FourTuple, uint32_t, FourTupleHash> by_tuple_;
  std::unordered_map<uint32_t, uint32_t> by_flow_;
  std::unordered_map<uint32_t, size_t> pending_by_app_;
};

}  // namespace vtas::conn
