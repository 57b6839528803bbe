// CtlClient: one request/response exchange with a running vtas instance over ZeroMQ —
// either with the supervisor's control socket (CtlRequest) or with an actor's mailbox
// (`vtasctl call`). Errors say what is wrong in terms an operator can act on.
#pragma once

#include <zmq.hpp>

#include <chrono>
#include <string>

#include "proto/envelope.pb.h"
#include "runtime/result.h"

namespace vtas {

class CtlClient {
 public:
  explicit CtlClient(std::string runtime_dir, std::chrono::milliseconds timeout)
      : runtime_dir_(std::move(runtime_dir)), timeout_(timeout) {}

  // Sends a request envelope to the supervisor's control socket and returns the response.
  Result<Envelope> to_supervisor(Envelope request);
  // Sends a request envelope straight to the mailbox of actor `name`.
  Result<Envelope> to_actor(const std::string& name, Envelope request);

 private:
  Result<Envelope> exchange(const std::string& socket_file, const std::string& what,
                            Envelope request);

  std::string runtime_dir_;
  std::chrono::milliseconds timeout_;
  zmq::context_t context_;
};

}  // namespace vtas
