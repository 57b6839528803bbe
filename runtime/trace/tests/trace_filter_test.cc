#include "runtime/trace/trace_filter.h"

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include "runtime/trace/tests/trace_test_support.h"

namespace vtas::trace {
namespace {

using testing::make_envelope;
using testing::make_note;
using testing::make_ping;

Envelope ping_response(const std::string& from, const std::string& to) {
  Envelope e = make_envelope(from, to, MESSAGE_KIND_RESPONSE, 1);
  e.mutable_ping_response()->set_sequence(1);
  return e;
}

TEST(TraceFilter, EmptyFilterMatchesEverything) {
  TraceFilter filter;
  EXPECT_TRUE(filter.empty());
  EXPECT_TRUE(filter.matches(make_ping(1)));
  EXPECT_TRUE(filter.matches(make_note("x")));
  EXPECT_TRUE(filter.matches(Envelope()));
}

TEST(TraceFilter, ActorMatchesSenderOrReceiver) {
  TraceFilter filter;
  filter.add_actor("echo");
  EXPECT_FALSE(filter.empty());
  EXPECT_TRUE(filter.matches(make_ping(1, "pinger", "echo")));  // receiver
  EXPECT_TRUE(filter.matches(make_ping(1, "echo", "arp")));     // sender
  EXPECT_FALSE(filter.matches(make_ping(1, "pinger", "arp")));
  EXPECT_FALSE(filter.matches(make_ping(1, "echo2", "ech")));  // whole names only
}

TEST(TraceFilter, SeveralActorsAreAlternatives) {
  TraceFilter filter;
  filter.add_actor("arp");
  filter.add_actor("conn");
  EXPECT_TRUE(filter.matches(make_ping(1, "arp", "x")));
  EXPECT_TRUE(filter.matches(make_ping(1, "x", "conn")));
  EXPECT_FALSE(filter.matches(make_ping(1, "x", "y")));
}

TEST(TraceFilter, TypeByFieldNameFullTypeOrShortType) {
  for (const char* name : {"ping_request", "vtas.diag.PingRequest", "PingRequest"}) {
    TraceFilter filter;
    ASSERT_TRUE(filter.add_type(name)) << name;
    EXPECT_TRUE(filter.matches(make_ping(1))) << name;
    EXPECT_FALSE(filter.matches(ping_response("echo", "pinger"))) << name;
    EXPECT_FALSE(filter.matches(make_note("x"))) << name;
    EXPECT_FALSE(filter.matches(Envelope())) << name;
  }
}

TEST(TraceFilter, SeveralTypesAreAlternatives) {
  TraceFilter filter;
  ASSERT_TRUE(filter.add_type("ping_request"));
  ASSERT_TRUE(filter.add_type("vtas.diag.PingResponse"));
  EXPECT_TRUE(filter.matches(make_ping(1)));
  EXPECT_TRUE(filter.matches(ping_response("echo", "pinger")));
  EXPECT_FALSE(filter.matches(make_note("x")));
}

TEST(TraceFilter, UnknownTypeIsAnErrorListingTheValidNames) {
  TraceFilter filter;
  Status s = filter.add_type("ping_requets");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("'ping_requets'"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("ping_request (vtas.diag.PingRequest)"), std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find("note (vtas.diag.Note)"), std::string::npos);
  EXPECT_TRUE(filter.empty());  // nothing half-added
  // Case matters for type names, as in the .proto files.
  EXPECT_FALSE(filter.add_type("pingrequest"));
}

TEST(TraceFilter, KnownTypesComeFromTheEnvelopeDescriptor) {
  const auto* oneof = Envelope::descriptor()->FindOneofByName("body");
  auto types = TraceFilter::known_types();
  ASSERT_EQ(types.size(), static_cast<size_t>(oneof->field_count()));
  for (int i = 0; i < oneof->field_count(); ++i) {
    EXPECT_EQ(types[static_cast<size_t>(i)].rfind(oneof->field(i)->name() + " (", 0), 0u)
        << types[static_cast<size_t>(i)];
    // Every listed name is accepted.
    TraceFilter filter;
    EXPECT_TRUE(filter.add_type(oneof->field(i)->name()));
    EXPECT_TRUE(filter.add_type(oneof->field(i)->message_type()->full_name()));
  }
}

TEST(TraceFilter, KindsInAnyCase) {
  TraceFilter filter;
  ASSERT_TRUE(filter.add_kind("Request"));
  EXPECT_TRUE(filter.matches(make_ping(1)));
  EXPECT_FALSE(filter.matches(ping_response("echo", "pinger")));
  EXPECT_FALSE(filter.matches(make_note("x")));
  ASSERT_TRUE(filter.add_kind("EVENT"));
  EXPECT_TRUE(filter.matches(make_note("x")));
  EXPECT_FALSE(filter.matches(ping_response("echo", "pinger")));
  ASSERT_TRUE(filter.add_kind("response"));
  EXPECT_TRUE(filter.matches(ping_response("echo", "pinger")));
}

TEST(TraceFilter, UnknownKindIsAnError) {
  TraceFilter filter;
  Status s = filter.add_kind("reply");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("'reply'"), std::string::npos);
  EXPECT_NE(s.error().message.find("request, response or event"), std::string::npos);
  EXPECT_TRUE(filter.empty());
}

TEST(TraceFilter, DimensionsCombineWithAnd) {
  TraceFilter filter;
  filter.add_actor("echo");
  ASSERT_TRUE(filter.add_type("ping_response"));
  ASSERT_TRUE(filter.add_kind("response"));
  EXPECT_TRUE(filter.matches(ping_response("echo", "pinger")));
  EXPECT_FALSE(filter.matches(ping_response("arp", "pinger")));  // actor
  EXPECT_FALSE(filter.matches(make_ping(1, "pinger", "echo")));  // type and kind
  Envelope event = ping_response("echo", "pinger");
  event.mutable_header()->set_kind(MESSAGE_KIND_EVENT);
  EXPECT_FALSE(filter.matches(event));  // kind
}

}  // namespace
}  // namespace vtas::trace
