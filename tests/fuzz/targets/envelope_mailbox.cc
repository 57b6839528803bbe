// Fuzz target: an actor's mailbox as a hostile peer reaches it (runtime/zmq_runner.cc): the
// input becomes one multi-part ZeroMQ message of 1 to 4 frames of any bytes, sent from a DEALER
// to a real ZmqActorRunner's ROUTER mailbox (inproc), where the runner decodes it
// (decode_envelope), handles runtime messages or dispatches it to the actor. A ping follows
// every input: its answer proves the runner is alive and has consumed the input (a lost
// answer within 10 s is a hang). Envelopes whose body is Terminate are not sent: they stop the
// actor by design. The decoded envelope also goes through the logging helpers (describe,
// body_name, body_type).
#include <zmq.hpp>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include "proto/diag.pb.h"
#include "runtime/envelope.h"
#include "runtime/zmq_runner.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_targets.h"
#include "tests/fuzz/quiet_logs.h"

namespace vtas::fuzz {
namespace {

constexpr char kMailbox[] = "inproc://vtas-fuzz/mailbox";

// Answers diag pings (so requests have a handler) and accepts notes; everything else reaches
// Actor::dispatch's unhandled-message path.
class EchoActor final : public Actor {
 public:
  EchoActor() : Actor("fuzzed") {
    on(&EchoActor::handle_ping_request);
    on(&EchoActor::handle_note);
  }

 private:
  void handle_ping_request(const diag::PingRequest& ping, const Incoming& in) {
    diag::PingResponse pong;
    pong.set_sequence(ping.sequence());
    pong.set_responder(name());
    reply(in, pong);
  }
  void handle_note(const diag::Note&, const Incoming&) {}
};

class Mailbox {
 public:
  static Mailbox& instance() {
    static Mailbox* mailbox = new Mailbox();  // never destroyed: its runner thread runs on
    return *mailbox;
  }

  // Sends the frames, then a ping; waits for the ping's answer.
  void deliver(const std::vector<std::string_view>& frames) {
    try {
      deliver_or_throw(frames);
    } catch (const zmq::error_t& e) {  // cppzmq throws on every error but EAGAIN
      VTAS_FUZZ_CHECK(false, e.what());
    }
  }

 private:
  // libFuzzer's -timeout watchdog is a SIGALRM every second: a blocked send or recv returns
  // EINTR, which cppzmq throws. Retry those; any other error is real.
  template <class Call>
  static auto retry_eintr(Call call) {
    for (;;) {
      try {
        return call();
      } catch (const zmq::error_t& e) {
        if (e.num() != EINTR) throw;
      }
    }
  }

  void deliver_or_throw(const std::vector<std::string_view>& frames) {
    for (size_t i = 0; i < frames.size(); ++i) {
      const auto flags = i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
      const auto sent = retry_eintr(
          [&] { return client_.send(zmq::buffer(frames[i].data(), frames[i].size()), flags); });
      VTAS_FUZZ_CHECK(sent.has_value(), "the mailbox does not take a frame");
    }
    const uint64_t sequence = ++sequence_;
    Envelope ping;
    ping.mutable_header()->set_sender("fuzzer");
    ping.mutable_header()->set_receiver("fuzzed");
    ping.mutable_header()->set_kind(MESSAGE_KIND_REQUEST);
    ping.mutable_header()->set_correlation_id(sequence);
    ping.mutable_ping_request()->set_sequence(sequence);
    const std::string ping_bytes = ping.SerializeAsString();
    const auto sent = retry_eintr([&] { return client_.send(zmq::buffer(ping_bytes)); });
    VTAS_FUZZ_CHECK(sent.has_value(), "cannot send the ping");
    // Answers to requests among the input come first; skip them.
    for (;;) {
      zmq::message_t reply;
      const auto received = retry_eintr([&] { return client_.recv(reply); });
      VTAS_FUZZ_CHECK(received.has_value(),
                      "the actor did not answer the ping after the input within 10 s");
      Envelope answer;
      if (!decode_envelope(reply.data(), reply.size(), &answer)) continue;
      if (answer.has_ping_response() && answer.ping_response().sequence() == sequence &&
          answer.header().correlation_id() == sequence) {
        return;
      }
    }
  }

  Mailbox()
      : runner_(context_, RunnerOptions{"fuzzed", 1, {kMailbox}, nullptr, "", "",
                                        std::chrono::milliseconds(100), false}),
        client_(context_, zmq::socket_type::dealer) {
    std::thread([this] { (void)runner_.run(actor_); }).detach();
    client_.set(zmq::sockopt::rcvtimeo, 10000);
    client_.set(zmq::sockopt::linger, 0);
    client_.connect(kMailbox);  // inproc: connecting before the bind is fine since ZeroMQ 4
  }

  zmq::context_t context_;
  EchoActor actor_;
  ZmqActorRunner runner_;
  zmq::socket_t client_;
  uint64_t sequence_ = 0;
};

}  // namespace

int fuzz_envelope_mailbox(const uint8_t* data, size_t size) {
  quiet_logs();
  FuzzInput in(data, size);
  const uint8_t shape = in.u8();
  const size_t frame_count = 1 + shape % 4;
  std::vector<std::string_view> frames;
  for (size_t i = 0; i + 1 < frame_count; ++i) frames.push_back(in.chunk(256));
  frames.push_back(in.rest());

  Envelope decoded;
  if (decode_envelope(frames[0].data(), frames[0].size(), &decoded)) {
    if (decoded.has_terminate()) return 0;  // stops the actor by design
    (void)describe(decoded);
    (void)body_name(decoded);
    (void)body_type(decoded);
  }
  Mailbox::instance().deliver(frames);
  return 0;
}

}  // namespace vtas::fuzz
