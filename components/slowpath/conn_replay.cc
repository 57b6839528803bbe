// Segments that raced their flow's install: a passive connection is installed in the fast
// path when the peer's third ACK reaches conn, and whatever the peer sends right after it
// (a request, or the FIN of a connect-and-close) reaches conn too, as the fast path has no
// flow for it yet. Conn keeps those few frames and hands them back to the fast path
// (PacketOut.receive) once the flow is in, so the peer does not wait for a retransmission
// (200 ms or more). Bounded: a peer cannot make conn hold more than a few frames.
#include "components/slowpath/conn_actor.h"

namespace vtas::conn {
namespace {

constexpr size_t kHeldPerConnection = 8;
constexpr size_t kHeldTotal = 4096;
constexpr uint32_t kReplaysPerConnection = 16;  // a frame bouncing between us and the fast path

}  // namespace

void ConnActor::hold_frame(const Connection& conn, const fastpath::PacketIn& packet) {
  HeldFrames& held = held_frames_[conn.record.conn_id];
  if (held.frames.size() >= kHeldPerConnection || held_frames_total_ >= kHeldTotal) {
    ++counters_.frames_held_dropped;  // the peer retransmits it
    return;
  }
  held.frames.push_back(packet);
  ++held_frames_total_;
  ++counters_.frames_held;
}

void ConnActor::hold_backlog_frame(const FourTuple& tuple, const fastpath::PacketIn& packet) {
  if (held_frames_total_ >= kHeldTotal) {
    // Full: first forget frames of handshakes that left the backlog without an accept
    // (expired, or their listener closed); they would never be replayed.
    for (auto it = backlog_frames_.begin(); it != backlog_frames_.end();) {
      if (listeners_.syn_waiting(it->first)) {
        ++it;
        continue;
      }
      held_frames_total_ -= it->second.size();
      it = backlog_frames_.erase(it);
    }
  }
  std::vector<fastpath::PacketIn>& frames = backlog_frames_[tuple];
  if (frames.size() >= kHeldPerConnection || held_frames_total_ >= kHeldTotal) {
    ++counters_.frames_held_dropped;  // the peer retransmits it
    return;
  }
  frames.push_back(packet);
  ++held_frames_total_;
  ++counters_.frames_held;
}

void ConnActor::adopt_backlog_frames(const Connection& conn) {
  auto it = backlog_frames_.find(tuple_of(conn.record));
  if (it == backlog_frames_.end()) return;
  HeldFrames& held = held_frames_[conn.record.conn_id];
  for (fastpath::PacketIn& packet : it->second) held.frames.push_back(std::move(packet));
  backlog_frames_.erase(it);  // the count moved with them: held_frames_total_ is unchanged
}

void ConnActor::replay_frame(const Connection& conn, const fastpath::PacketIn& packet) {
  HeldFrames& held = held_frames_[conn.record.conn_id];
  if (held.replayed >= kReplaysPerConnection) {
    ++counters_.frames_held_dropped;
    return;
  }
  ++held.replayed;
  fastpath::PacketOut out;
  out.set_frame(packet.frame());
  out.set_flow_group(packet.flow_group());
  out.set_receive(true);
  send(config_.peers.fastpath, out);
  ++counters_.frames_replayed;
}

void ConnActor::release_held_frames(uint32_t conn_id, bool replay) {
  auto it = held_frames_.find(conn_id);
  if (it == held_frames_.end()) return;
  std::vector<fastpath::PacketIn> frames = std::move(it->second.frames);
  held_frames_total_ -= frames.size();
  if (!replay) {
    held_frames_.erase(it);
    return;
  }
  it->second.frames.clear();
  const Connection* conn = conns_.find(conn_id);
  for (const fastpath::PacketIn& packet : frames) {
    if (conn != nullptr) replay_frame(*conn, packet);
  }
}

}  // namespace vtas::conn
