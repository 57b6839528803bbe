// Actor dispatch through the test runner, and the real ZeroMQ runner over inproc and ipc.
#include "runtime/actor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <thread>

#include "proto/diag.pb.h"
#include "proto/supervisor.pb.h"
#include "runtime/zmq_runner.h"
#include "tests/support/test_runner.h"

namespace vtas {
namespace {

using std::chrono::milliseconds;

// Answers pings; on a Note, pings `peer` once and records the answer.
class ProbeActor final : public Actor {
 public:
  ProbeActor(std::string name, std::string peer) : Actor(std::move(name)), peer_(std::move(peer)) {
    on(&ProbeActor::handle_ping_request);
    on(&ProbeActor::handle_note);
  }
  std::promise<std::string> answer;

 private:
  void handle_ping_request(const diag::PingRequest& ping, const Incoming& in) {
    diag::PingResponse pong;
    pong.set_sequence(ping.sequence() + 1000);
    pong.set_responder(name());
    reply(in, pong);
  }
  void handle_note(const diag::Note&, const Incoming&) {
    diag::PingRequest ping;
    ping.set_sequence(5);
    request(peer_, ping, [this](const Envelope* response) {
      if (!response) {
        answer.set_value("timeout");
        return;
      }
      answer.set_value(response->ping_response().responder() + ":" +
                       std::to_string(response->ping_response().sequence()));
      stop();
    });
  }
  std::string peer_;
};

TEST(Actor, UnhandledRequestGetsErrorAck) {
  ProbeActor actor("a", "b");
  testing::TestRunner runner(actor);
  ASSERT_TRUE(runner.start());
  supervisor::SetTrace unexpected;  // the runner, not the actor, handles SetTrace
  runner.deliver_request("x", unexpected);
  ASSERT_EQ(runner.replies.size(), 1u);
  EXPECT_FALSE(runner.replies[0].ack().ok());
  EXPECT_NE(runner.replies[0].ack().error().find("vtas.supervisor.SetTrace"), std::string::npos);
}

TEST(Actor, RequestTimesOutWithNullResponseAndLateAnswerIsDropped) {
  ProbeActor actor("a", "b");
  testing::TestRunner runner(actor);
  ASSERT_TRUE(runner.start());
  auto answer = actor.answer.get_future();
  runner.deliver_event("x", diag::Note());
  ASSERT_EQ(runner.sent.size(), 1u);
  EXPECT_EQ(runner.sent[0].header().kind(), MESSAGE_KIND_REQUEST);
  EXPECT_EQ(runner.sent[0].header().receiver(), "b");
  runner.advance(milliseconds(999));
  EXPECT_EQ(answer.wait_for(milliseconds(0)), std::future_status::timeout);
  runner.advance(milliseconds(1));
  EXPECT_EQ(answer.get(), "timeout");
  diag::PingResponse late;
  runner.respond(runner.sent[0], late);  // must not call the handler a second time
}

TEST(Actor, CorrelationIdsDifferAcrossIncarnations) {
  ProbeActor first("a", "b"), second("a", "b");
  testing::TestRunner r1(first, 1), r2(second, 2);
  ASSERT_TRUE(r1.start());
  ASSERT_TRUE(r2.start());
  r1.deliver_event("x", diag::Note());
  r2.deliver_event("x", diag::Note());
  EXPECT_NE(r1.sent[0].header().correlation_id(), r2.sent[0].header().correlation_id());
}

// Two actors on real ZeroMQ sockets: `a` asks `b` for a ping and stops on the answer.
void run_pair(const std::string& a_endpoint, const std::string& b_endpoint) {
  zmq::context_t context;
  auto resolve = [&](const std::string& peer) -> std::optional<std::string> {
    if (peer == "a") return a_endpoint;
    if (peer == "b") return b_endpoint;
    return std::nullopt;
  };
  ProbeActor a("a", "b"), b("b", "a");
  RunnerOptions ao{"a", 1, {a_endpoint}, resolve, "", "", milliseconds(100), false};
  RunnerOptions bo{"b", 1, {b_endpoint}, resolve, "", "", milliseconds(100), false};
  ZmqActorRunner ra(context, ao), rb(context, bo);
  std::thread tb([&] { ASSERT_TRUE(rb.run(b)); });
  auto answer = a.answer.get_future();
  std::thread ta([&] { ASSERT_TRUE(ra.run(a)); });
  // Kick `a` from outside, as any client would.
  zmq::socket_t client(context, zmq::socket_type::dealer);
  client.connect(a_endpoint);
  Envelope kick;
  kick.mutable_header()->set_sender("test");
  kick.mutable_header()->set_receiver("a");
  kick.mutable_header()->set_kind(MESSAGE_KIND_EVENT);
  kick.mutable_note();
  client.send(zmq::buffer(kick.SerializeAsString()));
  ASSERT_EQ(answer.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(answer.get(), "b:1005");
  ta.join();
  // Stop `b` with a Terminate, as the supervisor does.
  Envelope term;
  term.mutable_header()->set_sender("test");
  term.mutable_header()->set_receiver("b");
  term.mutable_header()->set_kind(MESSAGE_KIND_EVENT);
  term.mutable_terminate()->set_reason("test over");
  zmq::socket_t to_b(context, zmq::socket_type::dealer);
  to_b.connect(b_endpoint);
  to_b.send(zmq::buffer(term.SerializeAsString()));
  tb.join();
  EXPECT_GE(ra.counters().messages_out, 1u);
  EXPECT_GE(rb.counters().messages_in, 2u);
}

TEST(ZmqActorRunner, RequestResponseOverInproc) { run_pair("inproc://test/a", "inproc://test/b"); }

TEST(ZmqActorRunner, RequestResponseOverIpcWithPrivateSocketFiles) {
  auto dir = std::filesystem::temp_directory_path() / ("vtas-actor-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  run_pair("ipc://" + (dir / "a.sock").string(), "ipc://" + (dir / "b.sock").string());
  std::filesystem::remove_all(dir);
}

TEST(ZmqActorRunner, IpcSocketFileIsOwnerOnly) {
  auto dir = std::filesystem::temp_directory_path() / ("vtas-perm-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string endpoint = "ipc://" + (dir / "x.sock").string();
  zmq::context_t context;
  zmq::socket_t s(context, zmq::socket_type::router);
  s.bind(endpoint);
  restrict_ipc_permissions(endpoint);
  auto perms = std::filesystem::status(dir / "x.sock").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  s.close();
  std::filesystem::remove_all(dir);
}

TEST(ZmqActorRunner, MalformedBytesAreCountedAndIgnored) {
  zmq::context_t context;
  ProbeActor b("b", "a");
  RunnerOptions bo{"b", 1, {"inproc://malformed/b"}, nullptr, "", "", milliseconds(100), false};
  ZmqActorRunner rb(context, bo);
  std::thread tb([&] { ASSERT_TRUE(rb.run(b)); });
  zmq::socket_t client(context, zmq::socket_type::dealer);
  client.connect("inproc://malformed/b");
  client.send(zmq::str_buffer("\x0a\xff\xff\xff\xff\x0f"));
  // A well-formed ping proves the runner is alive after the garbage.
  Envelope ping;
  ping.mutable_header()->set_sender("test");
  ping.mutable_header()->set_receiver("b");
  ping.mutable_header()->set_kind(MESSAGE_KIND_REQUEST);
  ping.mutable_header()->set_correlation_id(1);
  ping.mutable_ping_request()->set_sequence(1);
  client.send(zmq::buffer(ping.SerializeAsString()));
  zmq::message_t reply;
  ASSERT_TRUE(client.recv(reply));
  Envelope r;
  ASSERT_TRUE(r.ParseFromArray(reply.data(), static_cast<int>(reply.size())));
  EXPECT_EQ(r.ping_response().sequence(), 1001u);
  EXPECT_EQ(rb.counters().malformed, 1u);
  Envelope term;
  term.mutable_header()->set_receiver("b");
  term.mutable_terminate();
  client.send(zmq::buffer(term.SerializeAsString()));
  tb.join();
}

}  // namespace
}  // namespace vtas
