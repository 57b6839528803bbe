#include "tools/vtas-trace/live_trace.h"

#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <zmq.hpp>

#include "proto/manifest.pb.h"
#include "runtime/directory.h"
#include "runtime/envelope.h"

namespace vtas::trace {
namespace {

constexpr char kIpcScheme[] = "ipc://";
// Messages handled per wake-up before the signal fd is looked at again, so a flood cannot
// make vtas-trace deaf to Ctrl-C.
constexpr int kDrainBatch = 1024;
// The publisher drops what a slow subscriber cannot take; a deep queue rides out bursts
// while the terminal catches up.
constexpr int kReceiveHighWaterMark = 100000;

std::string socket_path(const TraceOptions& options) {
  return trace_endpoint(options).substr(sizeof(kIpcScheme) - 1);
}

std::string instance_description(const TraceOptions& options) {
  return options.runtime_dir.empty() ? "no vtas instance '" + options.instance + "' running"
                                     : "no vtas instance running in " + options.runtime_dir;
}

// Consumes the pending signal; true if one was there.
bool signal_arrived(int signal_fd) {
  signalfd_siginfo info{};
  return ::read(signal_fd, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info));
}

}  // namespace

std::string trace_endpoint(const TraceOptions& options) {
  manifest::Manifest manifest;
  manifest.set_instance(options.instance);
  if (!options.runtime_dir.empty()) manifest.set_runtime_dir(options.runtime_dir);
  return Directory(manifest).trace_out_endpoint();
}

Status check_trace_socket(const TraceOptions& options) {
  const std::string path = socket_path(options);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return make_error(instance_description(options) + ": " + path + " does not exist");
    }
    if (errno == EACCES) {
      return make_error("cannot reach " + path + ": " + std::strerror(errno) +
                        "; the runtime directory is private to the user running vtas: run "
                        "vtas-trace as that user");
    }
    return make_error("cannot check " + path + ": " + std::strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return make_error(path + " is not a socket; is " + path.substr(0, path.rfind('/')) +
                      " a vtas runtime directory?");
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    return make_error("trace socket path " + path + " is longer than the " +
                      std::to_string(sizeof(address.sun_path) - 1) +
                      " bytes a unix socket name may have; use a shorter runtime_dir");
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);

  // A plain connect tells a live supervisor from a stale socket file and reports a
  // permission problem now; ZeroMQ's own connect would retry silently forever.
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return make_error(std::string("cannot create a unix socket: ") + std::strerror(errno));
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int connect_errno = errno;
  ::close(fd);
  if (rc == 0) return Status::success();
  if (connect_errno == ECONNREFUSED) {
    return make_error(instance_description(options) + ": " + path +
                      " is left over from an instance that is gone (nothing listens on it)");
  }
  if (connect_errno == EACCES || connect_errno == EPERM) {
    return make_error("cannot connect to " + path + ": " + std::strerror(connect_errno) +
                      "; the trace socket is private to the user running vtas: run vtas-trace "
                      "as that user");
  }
  return make_error("cannot connect to " + path + ": " + std::strerror(connect_errno));
}

Status run_live(const TraceOptions& options, TraceOutput& output, int signal_fd) {
  try {
    zmq::context_t context(1);
    zmq::socket_t sub(context, zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    sub.set(zmq::sockopt::rcvhwm, kReceiveHighWaterMark);
    sub.connect(trace_endpoint(options));
    // Subscribing is what turns tracing on in the supervisor (it watches its XPUB).
    sub.set(zmq::sockopt::subscribe, "");

    zmq_pollitem_t items[] = {
        {sub.handle(), 0, ZMQ_POLLIN, 0},
        {nullptr, signal_fd, ZMQ_POLLIN, 0},
    };
    while (!output.done()) {
      if (zmq_poll(items, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return make_error(std::string("waiting for trace messages failed: ") + zmq_strerror(errno));
      }
      if ((items[1].revents & ZMQ_POLLIN) && signal_arrived(signal_fd)) break;
      for (int i = 0; i < kDrainBatch && !output.done(); ++i) {
        zmq::message_t frame;
        if (!sub.recv(frame, zmq::recv_flags::dontwait)) break;
        Envelope envelope;
        // Each trace message is exactly one frame holding one envelope.
        bool valid = !frame.more() && decode_envelope(frame.data(), frame.size(), &envelope);
        while (frame.more()) {
          if (!sub.recv(frame, zmq::recv_flags::dontwait)) break;
        }
        if (!valid) {
          output.count_malformed();
          continue;
        }
        auto more = output.handle(envelope);
        if (!more) return more.error();
      }
      if (Status s = output.flush(); !s) return s;
    }
    return Status::success();
  } catch (const zmq::error_t& e) {
    return make_error("trace socket " + trace_endpoint(options) + ": " + e.what());
  }
}

}  // namespace vtas::trace
