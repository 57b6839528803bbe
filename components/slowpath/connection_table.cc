#include "components/slowpath/connection_table.h"

#include <algorithm>

namespace vtas::conn {

FourTuple tuple_of(const ConnRecord& r) {
  FourTuple t;
  t.local_ip = r.local_ip;
  t.remote_ip = r.remote_ip;
  t.local_port = r.local_port;
  t.remote_port = r.remote_port;
  return t;
}

const char* conn_state_name(ConnState state) {
  switch (state) {
    case ConnState::kFree:
      return "free";
    case ConnState::kResolving:
      return "resolving";
    case ConnState::kSynSent:
      return "syn-sent";
    case ConnState::kInstalling:
      return "installing";
    case ConnState::kEstablished:
      return "established";
    case ConnState::kClosing:
      return "closing";
  }
  return "unknown";
}

namespace {
bool is_pending_open(const ConnRecord& r) {
  const auto state = static_cast<ConnState>(r.state);
  return r.role == static_cast<uint8_t>(ConnRole::kActive) &&
         (state == ConnState::kResolving || state == ConnState::kSynSent ||
          state == ConnState::kInstalling);
}
}  // namespace

Connection& ConnectionTable::add(const ConnRecord& record, SlotId slot) {
  Connection& c = by_id_[record.conn_id];
  c.record = record;
  c.slot = slot;
  by_tuple_[tuple_of(record)] = record.conn_id;
  if (record.flow_id != 0) by_flow_[record.flow_id] = record.conn_id;
  if (is_pending_open(record)) ++pending_by_app_[record.app_id];
  return c;
}

void ConnectionTable::remove(uint32_t conn_id) {
  auto found = by_id_.find(conn_id);
  if (found == by_id_.end()) return;
  const ConnRecord& r = found->second.record;
  auto t = by_tuple_.find(tuple_of(r));
  if (t != by_tuple_.end() && t->second == conn_id) by_tuple_.erase(t);
  if (r.flow_id != 0) {
    auto f = by_flow_.find(r.flow_id);
    if (f != by_flow_.end() && f->second == conn_id) by_flow_.erase(f);
  }
  if (is_pending_open(r)) {
    auto p = pending_by_app_.find(r.app_id);
    if (p != pending_by_app_.end() && --p->second == 0) pending_by_app_.erase(p);
  }
  by_id_.erase(found);
}

Connection* ConnectionTable::find(uint32_t conn_id) {
  auto found = by_id_.find(conn_id);
  return found == by_id_.end() ? nullptr : &found->second;
}

Connection* ConnectionTable::find(const FourTuple& tuple) {
  auto found = by_tuple_.find(tuple);
  return found == by_tuple_.end() ? nullptr : find(found->second);
}

Connection* ConnectionTable::find_flow(uint32_t flow_id) {
  if (flow_id == 0) return nullptr;
  auto found = by_flow_.find(flow_id);
  return found == by_flow_.end() ? nullptr : find(found->second);
}

void ConnectionTable::set_flow(Connection& conn, uint32_t flow_id) {
  if (conn.record.flow_id != 0) {
    auto f = by_flow_.find(conn.record.flow_id);
    if (f != by_flow_.end() && f->second == conn.record.conn_id) by_flow_.erase(f);
  }
  conn.record.flow_id = flow_id;
  if (flow_id != 0) by_flow_[flow_id] = conn.record.conn_id;
}

size_t ConnectionTable::count(ConnState state) const {
  size_t n = 0;
  for (const auto& [id, c] : by_id_) n += c.state() == state ? 1 : 0;
  return n;
}

void ConnectionTable::set_state(Connection& conn, ConnState state) {
  const bool was = is_pending_open(conn.record);
  conn.record.state = static_cast<uint8_t>(state);
  const bool is = is_pending_open(conn.record);
  if (was == is) return;
  if (is) {
    ++pending_by_app_[conn.record.app_id];
    return;
  }
  auto p = pending_by_app_.find(conn.record.app_id);
  if (p != pending_by_app_.end() && --p->second == 0) pending_by_app_.erase(p);
}

size_t ConnectionTable::pending_opens(uint32_t app_id) const {
  auto found = pending_by_app_.find(app_id);
  return found == pending_by_app_.end() ? 0 : found->second;
}

std::vector<uint32_t> ConnectionTable::ids_of_app(uint32_t app_id) const {
  std::vector<uint32_t> out;
  for (const auto& [id, c] : by_id_) {
    if (c.record.app_id == app_id) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint32_t> ConnectionTable::ids() const {
  std::vector<uint32_t> out;
  out.reserve(by_id_.size());
  for (const auto& [id, c] : by_id_) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

void ConnectionTable::for_each(const std::function<void(const Connection&)>& fn) const {
  for (uint32_t id : ids()) fn(by_id_.at(id));
}

}  // namespace vtas::conn
