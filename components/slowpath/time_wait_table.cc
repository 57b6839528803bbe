#include "components/slowpath/time_wait_table.h"

#include "components/wire/seq.h"

namespace vtas::conn {

FourTuple tuple_of(const TimeWaitRecord& r) {
  FourTuple t;
  t.local_ip = r.local_ip;
  t.remote_ip = r.remote_ip;
  t.local_port = r.local_port;
  t.remote_port = r.remote_port;
  return t;
}

bool TimeWaitTable::add(const TimeWaitRecord& record, SlotId slot) {
  const FourTuple t = tuple_of(record);
  auto existing = by_tuple_.find(t);
  if (existing == by_tuple_.end() && full()) return false;
  if (existing != by_tuple_.end()) remove(t);
  by_tuple_[t] = TimeWaitEntry{record, slot};
  by_expiry_.emplace(record.expires_ns, t);
  return true;
}

TimeWaitEntry* TimeWaitTable::find(const FourTuple& tuple) {
  auto found = by_tuple_.find(tuple);
  return found == by_tuple_.end() ? nullptr : &found->second;
}

namespace {
template <class Map>
void erase_expiry(Map& by_expiry, uint64_t expires_ns, const FourTuple& tuple) {
  auto [first, last] = by_expiry.equal_range(expires_ns);
  for (auto it = first; it != last; ++it) {
    if (it->second == tuple) {
      by_expiry.erase(it);
      return;
    }
  }
}
}  // namespace

std::optional<TimeWaitEntry> TimeWaitTable::remove(const FourTuple& tuple) {
  auto found = by_tuple_.find(tuple);
  if (found == by_tuple_.end()) return std::nullopt;
  TimeWaitEntry e = found->second;
  erase_expiry(by_expiry_, e.record.expires_ns, tuple);
  by_tuple_.erase(found);
  return e;
}

void TimeWaitTable::set_expiry(const FourTuple& tuple, uint64_t expires_ns) {
  auto found = by_tuple_.find(tuple);
  if (found == by_tuple_.end()) return;
  erase_expiry(by_expiry_, found->second.record.expires_ns, tuple);
  found->second.record.expires_ns = expires_ns;
  by_expiry_.emplace(expires_ns, tuple);
}

std::vector<TimeWaitEntry> TimeWaitTable::expire(uint64_t now_ns) {
  std::vector<TimeWaitEntry> out;
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now_ns) {
    const FourTuple t = by_expiry_.begin()->second;
    by_expiry_.erase(by_expiry_.begin());
    auto found = by_tuple_.find(t);
    if (found == by_tuple_.end()) continue;
    out.push_back(found->second);
    by_tuple_.erase(found);
  }
  return out;
}

std::optional<uint64_t> TimeWaitTable::next_expiry() const {
  if (by_expiry_.empty()) return std::nullopt;
  return by_expiry_.begin()->first;
}

TimeWaitAnswer time_wait_answer(const TimeWaitRecord& e, const Segment& s, bool accept_newer_syn) {
  TimeWaitAnswer a;
  if (s.any(wire::kTcpRst)) return a;
  const bool seqs_known = (e.flags & kTimeWaitSeqsKnown) != 0;
  if (s.is_connection_request()) {
    // A linger entry guards nothing: the peer closed first and acknowledged our FIN.
    if (e.flags & kTimeWaitLinger) {
      a.action = TimeWaitAction::kReopen;
      return a;
    }
    if (accept_newer_syn) {
      const bool ts = (e.flags & kTimeWaitTimestamps) != 0 && s.options.has_timestamps;
      // RFC 6191: with timestamps on both, a higher TSval proves the SYN is new; without,
      // RFC 1122 4.2.2.13 takes a sequence number beyond the old connection's.
      if (ts ? wire::seq_gt(s.options.tsval, e.ts_recent)
             : (seqs_known && wire::seq_gt(s.seq, e.rcv_nxt))) {
        a.action = TimeWaitAction::kReopen;
        return a;
      }
    }
    a.action = TimeWaitAction::kAck;
    a.seq = e.snd_nxt;
    a.ack = e.rcv_nxt;
    if (!seqs_known) return TimeWaitAnswer{};  // nothing sensible to acknowledge
    return a;
  }
  if (!s.any(wire::kTcpAck)) return a;
  // A linger entry answers only a retransmitted FIN (our ACK of it was lost); a late ACK (of a
  // FIN we resent spuriously, say) is dropped: the connection is over on both sides.
  if ((e.flags & kTimeWaitLinger) && !s.any(wire::kTcpFin)) return a;
  if (seqs_known) {
    a.seq = e.snd_nxt;
    a.ack = e.rcv_nxt;
  } else {
    // Without FlowInfo the segment tells us: the peer acknowledges our FIN (SEG.ACK is our
    // SND.NXT) and its own FIN ends at SEG.SEQ + SEG.LEN.
    a.seq = s.ack;
    a.ack = s.seq + s.sequence_length();
  }
  a.action = s.any(wire::kTcpFin) && !(e.flags & kTimeWaitLinger) ? TimeWaitAction::kAckAndRestart
                                                                  : TimeWaitAction::kAck;
  return a;
}

}  // namespace vtas::conn
