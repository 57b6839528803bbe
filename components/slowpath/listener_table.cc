#include "components/slowpath/listener_table.h"

#include <algorithm>
#include <cerrno>

namespace vtas::conn {

ListenerTable::ListenerTable(uint32_t syn_queue_limit, uint32_t max_group_size)
    : syn_queue_limit_(syn_queue_limit), max_group_size_(max_group_size) {}

int ListenerTable::check_add(uint32_t local_ip, uint16_t port, bool reuse_port,
                             uint32_t uid) const {
  auto same = groups_.find({local_ip, port});
  if (same != groups_.end()) {
    if (!reuse_port || !same->second.reuse_port || same->second.uid != uid) return -EADDRINUSE;
    if (same->second.members.size() >= max_group_size_) return -ENOBUFS;
    return 0;
  }
  // A wildcard listener and a specific one on the same port overlap: refuse (a production
  // stack would need SO_REUSEADDR semantics here; vtas keeps the rule simple and safe).
  for (const auto& [key, group] : groups_) {
    if (key.second != port) continue;
    if (key.first == 0 || local_ip == 0) return -EADDRINUSE;
  }
  return 0;
}

Listener& ListenerTable::add(const ListenerRecord& record, SlotId slot, uint32_t uid) {
  Listener& l = listeners_[record.listener_id];
  l = Listener{};
  l.record = record;
  l.slot = slot;
  l.owner_uid = uid;
  Group& g = groups_[{record.local_ip, record.local_port}];
  if (g.members.empty()) {
    g.reuse_port = record.reuse_port != 0;
    g.uid = uid;
  }
  g.members.push_back(record.listener_id);
  std::sort(g.members.begin(), g.members.end(), [this](uint32_t a, uint32_t b) {
    return listeners_.at(a).record.order < listeners_.at(b).record.order;
  });
  return l;
}

std::optional<Listener> ListenerTable::remove(uint32_t listener_id) {
  auto found = listeners_.find(listener_id);
  if (found == listeners_.end()) return std::nullopt;
  Listener l = std::move(found->second);
  listeners_.erase(found);
  auto g = groups_.find({l.record.local_ip, l.record.local_port});
  if (g != groups_.end()) {
    auto& m = g->second.members;
    m.erase(std::remove(m.begin(), m.end(), listener_id), m.end());
    if (m.empty()) groups_.erase(g);
  }
  drop_waiting(l);
  return l;
}

void ListenerTable::drop_waiting(const Listener& l) {
  for (const auto& syn : l.backlog) waiting_.erase(syn.syn.tuple);
  queued_ -= static_cast<uint32_t>(std::min<size_t>(queued_, l.backlog.size()));
}

Listener* ListenerTable::find(uint32_t listener_id) {
  auto found = listeners_.find(listener_id);
  return found == listeners_.end() ? nullptr : &found->second;
}

const Listener* ListenerTable::find(uint32_t listener_id) const {
  auto found = listeners_.find(listener_id);
  return found == listeners_.end() ? nullptr : &found->second;
}

Listener* ListenerTable::select(const FourTuple& tuple, uint64_t tuple_hash) {
  auto g = groups_.find({tuple.local_ip, tuple.local_port});
  if (g == groups_.end()) g = groups_.find({0u, tuple.local_port});
  if (g == groups_.end() || g->second.members.empty()) return nullptr;
  const auto& m = g->second.members;
  return find(m[tuple_hash % m.size()]);
}

bool ListenerTable::port_in_use(uint32_t local_ip, uint16_t port) const {
  return groups_.count({local_ip, port}) != 0 || groups_.count({0u, port}) != 0;
}

ListenerTable::Enqueue ListenerTable::enqueue_syn(Listener& l, BacklogSyn syn) {
  if (waiting_.count(syn.syn.tuple) != 0) {
    for (auto& queued : l.backlog) {
      if (queued.syn.tuple == syn.syn.tuple) queued.received = syn.received;
    }
    return Enqueue::kDuplicate;
  }
  if (l.backlog.size() >= l.record.backlog) return Enqueue::kBacklogFull;
  if (queued_ >= syn_queue_limit_) return Enqueue::kSynQueueFull;
  waiting_.insert(syn.syn.tuple);
  l.backlog.push_back(std::move(syn));
  ++queued_;
  return Enqueue::kQueued;
}

std::optional<BacklogSyn> ListenerTable::pop_syn(Listener& l) {
  if (l.backlog.empty()) return std::nullopt;
  BacklogSyn syn = std::move(l.backlog.front());
  l.backlog.pop_front();
  waiting_.erase(syn.syn.tuple);
  --queued_;
  return syn;
}

std::vector<BacklogSyn> ListenerTable::expire_syns(TimePoint cutoff) {
  std::vector<BacklogSyn> dropped;
  for (auto& [id, l] : listeners_) {
    auto keep =
        std::stable_partition(l.backlog.begin(), l.backlog.end(),
                              [cutoff](const BacklogSyn& s) { return s.received >= cutoff; });
    for (auto it = keep; it != l.backlog.end(); ++it) {
      waiting_.erase(it->syn.tuple);
      dropped.push_back(*it);
    }
    queued_ -= static_cast<uint32_t>(l.backlog.end() - keep);
    l.backlog.erase(keep, l.backlog.end());
  }
  return dropped;
}

void ListenerTable::add_accept(Listener& l, const PostedAccept& accept) {
  l.accepts.push_back(accept);
}

void ListenerTable::return_accept(Listener& l, const PostedAccept& accept) {
  l.accepts.push_front(accept);
}

std::optional<PostedAccept> ListenerTable::pop_accept(Listener& l) {
  if (l.accepts.empty()) return std::nullopt;
  PostedAccept a = l.accepts.front();
  l.accepts.pop_front();
  return a;
}

size_t ListenerTable::accepts_posted() const {
  size_t n = 0;
  for (const auto& [id, l] : listeners_) n += l.accepts.size();
  return n;
}

std::vector<uint32_t> ListenerTable::listeners_of_app(uint32_t app_id) const {
  std::vector<uint32_t> out;
  for (const auto& [id, l] : listeners_) {
    if (l.record.app_id == app_id) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void ListenerTable::for_each(const std::function<void(const Listener&)>& fn) const {
  std::vector<uint32_t> ids;
  ids.reserve(listeners_.size());
  for (const auto& [id, l] : listeners_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (uint32_t id : ids) fn(listeners_.at(id));
}

}  // namespace vtas::conn
