#include "components/slowpath/registry_validation.h"

#include "components/fastpath/abi/app_abi.h"

namespace vtas::conn {
namespace {
bool context_ok(uint32_t context_id) {
  return context_id < abi::kMaxAppContexts;
}
}  // namespace

std::string check_record(const AppRecord& r) {
  (void)r;  // every app id, pid and uid is representable
  return "";
}

std::string check_record(const ListenerRecord& r) {
  if (r.listener_id == 0) return "listener id 0";
  if (r.local_port == 0) return "listener on port 0";
  if (r.reuse_port > 1) return "reuse_port flag " + std::to_string(r.reuse_port);
  if (r.backlog == 0) return "backlog 0";
  if (!context_ok(r.context_id)) return "context " + std::to_string(r.context_id);
  return "";
}

std::string check_record(const AcceptRecord& r) {
  if (r.listener_id == 0) return "accept for listener 0";
  if (!context_ok(r.context_id)) return "context " + std::to_string(r.context_id);
  return "";
}

std::string check_record(const ConnRecord& r) {
  if (r.conn_id == 0) return "conn id 0";
  if (r.state == 0 || r.state > kConnStateMax) return "state " + std::to_string(r.state);
  if (r.role != static_cast<uint8_t>(ConnRole::kActive) &&
      r.role != static_cast<uint8_t>(ConnRole::kPassive)) {
    return "role " + std::to_string(r.role);
  }
  if (r.local_port == 0 || r.remote_port == 0) return "port 0";
  if (r.remote_ip == 0) return "remote address 0";
  if (!context_ok(r.context_id) || !context_ok(r.close_context_id)) return "context out of range";
  const auto state = static_cast<ConnState>(r.state);
  const bool installed = state == ConnState::kEstablished || state == ConnState::kClosing;
  if (installed && r.flow_id == 0) return "installed connection without flow id";
  if (!installed && r.flow_id != 0) return "flow id on a connection not installed";
  if (r.snd_wscale > 14 || r.rcv_wscale > 14) return "window scale above 14";
  if (r.send_mss == 0 && state != ConnState::kResolving && state != ConnState::kSynSent) {
    return "mss 0";
  }
  return "";
}

std::string check_record(const TimeWaitRecord& r, uint64_t now_ns, Nanos time_wait) {
  if (r.local_port == 0 || r.remote_port == 0) return "port 0";
  if (r.remote_ip == 0) return "remote address 0";
  if (r.flags >
      (kTimeWaitTimestamps | kTimeWaitSeqsKnown | kTimeWaitEphemeral | kTimeWaitLinger)) {
    return "flags " + std::to_string(r.flags);
  }
  if (r.expires_ns > now_ns + static_cast<uint64_t>(time_wait.count()) * 2) {
    return "expiry too far in the future";
  }
  return "";
}

std::string check_record(const RequestLogRecord& r) {
  if (r.request_id == 0) return "request id 0";
  if (!context_ok(r.context_id)) return "context " + std::to_string(r.context_id);
  if (r.answered > 1) return "answered flag " + std::to_string(r.answered);
  if (r.notify_type > 8) return "notify type " + std::to_string(r.notify_type);
  return "";
}

std::string check_record(const HandshakeRecord& r) {
  if (r.stage == 0 || r.stage > kHandshakeStageMax) return "stage " + std::to_string(r.stage);
  if (r.listener_id == 0) return "handshake for listener 0";
  if (r.local_port == 0 || r.remote_port == 0) return "port 0";
  if (r.remote_ip == 0) return "remote address 0";
  if (r.options > kSynOptionsAll) return "options " + std::to_string(r.options);
  if (r.peer_wscale > 14) return "window scale above 14";
  if (r.rto_us == 0 && r.stage == static_cast<uint8_t>(HandshakeStage::kSynReceived)) {
    return "SYN-RECEIVED without a retransmission timeout";
  }
  return "";
}

}  // namespace vtas::conn
