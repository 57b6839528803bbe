#include "tools/vtasctl/ctl_client.h"

#include <sys/stat.h>
#include <unistd.h>

#include "runtime/clock.h"
#include "runtime/envelope.h"

namespace vtas {

Result<Envelope> CtlClient::to_supervisor(Envelope request) {
  return exchange(runtime_dir_ + "/ctl.sock", "the supervisor", std::move(request));
}

Result<Envelope> CtlClient::to_actor(const std::string& name, Envelope request) {
  return exchange(runtime_dir_ + "/" + name + ".sock", "actor '" + name + "'", std::move(request));
}

Result<Envelope> CtlClient::exchange(const std::string& socket_file, const std::string& what,
                                     Envelope request) {
  struct stat st{};
  if (::stat(runtime_dir_.c_str(), &st) != 0) {
    return make_error("no vtas instance is running here: " + runtime_dir_ +
                      " does not exist (start one with `vtas`, or pick it with --instance / --runtime-dir)");
  }
  if (::stat(socket_file.c_str(), &st) != 0) {
    return make_error(what + " is not running: " + socket_file + " does not exist");
  }
  zmq::socket_t socket(context_, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.connect("ipc://" + socket_file);
  uint64_t id = static_cast<uint64_t>(::getpid()) << 32 | 1;
  Header* h = request.mutable_header();
  h->set_sender("vtasctl");
  h->set_kind(MESSAGE_KIND_REQUEST);
  h->set_correlation_id(id);
  h->set_timestamp_ns(monotonic_ns());
  socket.send(zmq::buffer(request.SerializeAsString()), zmq::send_flags::none);
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout_) == 0) {
    return make_error("no answer from " + what + " within " + std::to_string(timeout_.count()) +
                      " ms (is it hung? see the supervisor's log)");
  }
  zmq::message_t reply;
  if (!socket.recv(reply)) return make_error("lost the connection to " + what);
  Envelope response;
  if (!decode_envelope(reply.data(), reply.size(), &response)) {
    return make_error("malformed answer from " + what);
  }
  return response;
}

}  // namespace vtas
