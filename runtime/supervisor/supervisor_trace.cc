// The trace relay. Actors publish copies of the envelopes they send to trace-in (XSUB); the
// supervisor forwards them to trace-out (XPUB, 0600), where vtas-trace subscribes. The XPUB
// reports the first subscription and the last unsubscription, which switch tracing on and
// off in every actor: with no trace client attached, actors do not even serialize a copy.
#include "runtime/supervisor/supervisor.h"

namespace vtas {

Status Supervisor::bind_trace_sockets() {
  trace_in_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::xsub);
  trace_out_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::xpub);
  apply_socket_defaults(*trace_in_);
  apply_socket_defaults(*trace_out_);
  std::string endpoint;
  try {
    endpoint = directory_.trace_in_endpoint(true);
    trace_in_->bind(endpoint);
    endpoint = directory_.trace_in_endpoint(false);
    trace_in_->bind(endpoint);
    endpoint = directory_.trace_out_endpoint();
    trace_out_->bind(endpoint);
  } catch (const zmq::error_t& e) {
    return make_error("cannot bind trace socket " + endpoint + ": " + e.what());
  }
  restrict_ipc_permissions(directory_.trace_in_endpoint(false));
  restrict_ipc_permissions(directory_.trace_out_endpoint());
  // Take everything the actors publish; filtering happens in vtas-trace.
  const char subscribe_all = 1;
  trace_in_->send(zmq::buffer(&subscribe_all, 1));
  runner_->watch_socket(trace_in_.get(), [this] { forward_trace(); });
  runner_->watch_socket(trace_out_.get(), [this] { on_trace_subscription(); });
  return Status();
}

void Supervisor::forward_trace() {
  for (int i = 0; i < 1024; ++i) {
    zmq::message_t message;
    if (!trace_in_->recv(message, zmq::recv_flags::dontwait)) return;
    ++trace_forwarded_;
    trace_out_->send(message, zmq::send_flags::dontwait);
  }
}

void Supervisor::on_trace_subscription() {
  for (int i = 0; i < 64; ++i) {
    zmq::message_t message;
    if (!trace_out_->recv(message, zmq::recv_flags::dontwait)) return;
    if (message.size() < 1) continue;
    // Without XPUB_VERBOSE, only the first subscribe and the last unsubscribe arrive.
    bool subscribe = static_cast<const uint8_t*>(message.data())[0] == 1;
    set_tracing(subscribe);
  }
}

void Supervisor::set_tracing(bool on) {
  if (tracing_ == on) return;
  tracing_ = on;
  runner_->set_trace(on);
  log().info("trace client {}: tracing {}", on ? "attached" : "gone", on ? "on" : "off");
  for (auto& r : records_) {
    if (r->state == ctl::ACTOR_STATE_RUNNING) apply_tracing(*r);
  }
}

void Supervisor::apply_tracing(Record& r) {
  if (r.tracing == tracing_) return;
  supervisor::SetTrace set;
  set.set_enabled(tracing_);
  bool wanted = tracing_;
  uint32_t incarnation = r.incarnation;
  request(r.spec.name(), set, [&r, wanted, incarnation](const Envelope* answer) {
    if (answer && answer->ack().ok() && r.incarnation == incarnation) r.tracing = wanted;
  });
}

}  // namespace vtas
