#include "components/diag/diag_actors.h"

#include <gtest/gtest.h>

#include "tests/support/test_runner.h"

namespace vtas::diag {
namespace {

using std::chrono::milliseconds;
using vtas::testing::TestRunner;

TEST(EchoActor, AnswersPingWithSameSequenceAndPayload) {
  EchoActor echo("echo");
  TestRunner runner(echo);
  ASSERT_TRUE(runner.start());
  PingRequest ping;
  ping.set_sequence(9);
  ping.set_payload("abc");
  uint64_t id = runner.deliver_request("client", ping);
  ASSERT_EQ(runner.replies.size(), 1u);
  const Envelope& r = runner.replies[0];
  EXPECT_EQ(r.header().kind(), MESSAGE_KIND_RESPONSE);
  EXPECT_EQ(r.header().correlation_id(), id);
  EXPECT_EQ(r.header().receiver(), "client");
  EXPECT_EQ(r.ping_response().sequence(), 9u);
  EXPECT_EQ(r.ping_response().payload(), "abc");
  EXPECT_EQ(r.ping_response().responder(), "echo");
}

TEST(PingerActor, RefusesToStartWithoutPeer) {
  manifest::DiagSettings settings;
  PingerActor pinger("pinger", settings);
  TestRunner runner(pinger);
  Status s = runner.start();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("peer"), std::string::npos);
}

TEST(PingerActor, PingsAtRateAndCountsAnswersAndTimeouts) {
  manifest::DiagSettings settings;
  settings.set_peer("echo");
  settings.set_rate_hz(100);  // every 10 ms
  settings.set_count(3);
  PingerActor pinger("pinger", settings);
  TestRunner runner(pinger);
  ASSERT_TRUE(runner.start());

  runner.advance(milliseconds(10));
  ASSERT_EQ(runner.sent.size(), 1u);
  PingResponse pong;
  pong.set_sequence(1);
  runner.respond(runner.sent[0], pong);
  EXPECT_EQ(pinger.answered(), 1u);

  runner.advance(milliseconds(10));  // ping 2: never answered
  runner.advance(milliseconds(10));  // ping 3
  ASSERT_EQ(runner.sent.size(), 3u);
  pong.set_sequence(3);
  runner.respond(runner.sent[2], pong);
  runner.advance(milliseconds(1000));  // ping 2 times out; no ping 4 (count = 3)
  EXPECT_EQ(pinger.sent(), 3u);
  EXPECT_EQ(pinger.answered(), 2u);
  EXPECT_EQ(pinger.lost(), 1u);
  auto notes = runner.sent_of<Note>("echo");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].text(), "pinger done: 2 answered, 1 lost");
}

TEST(PingerActor, FailedSendCountsAsLostAtOnce) {
  manifest::DiagSettings settings;
  settings.set_peer("echo");
  settings.set_rate_hz(100);
  PingerActor pinger("pinger", settings);
  TestRunner runner(pinger);
  ASSERT_TRUE(runner.start());
  runner.fail_sends = true;
  runner.advance(milliseconds(10));
  EXPECT_EQ(pinger.lost(), 1u);
}

}  // namespace
}  // namespace vtas::diag
