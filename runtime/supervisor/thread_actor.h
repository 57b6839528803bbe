// ThreadActor: an actor running on its own thread inside the supervisor process (placement
// THREAD, inproc:// transport). Its end is signalled through an eventfd the supervisor's
// loop watches, so thread and process actors are supervised the same way.
#pragma once

#include <zmq.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "runtime/actor.h"
#include "runtime/zmq_runner.h"

namespace vtas {

class ThreadActor {
 public:
  ThreadActor(zmq::context_t& context, std::unique_ptr<Actor> actor, RunnerOptions options);
  ~ThreadActor();
  ThreadActor(const ThreadActor&) = delete;
  ThreadActor& operator=(const ThreadActor&) = delete;

  // Starts the thread. The eventfd becomes readable when the actor's loop has ended.
  Status start();
  int exit_fd() const { return exit_fd_; }
  // Joins the ended thread. `clean` is false when the actor failed to start or threw.
  void join(bool* clean, std::string* reason);

 private:
  zmq::context_t& context_;
  std::unique_ptr<Actor> actor_;
  RunnerOptions options_;
  std::thread thread_;
  int exit_fd_ = -1;
  std::atomic<bool> clean_{false};
  std::string reason_;  // written by the thread before it signals exit_fd_
};

}  // namespace vtas
