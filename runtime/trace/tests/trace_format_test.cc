#include "runtime/trace/trace_format.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <gtest/gtest.h>

#include "runtime/trace/tests/trace_test_support.h"

namespace vtas::trace {
namespace {

using testing::make_envelope;

Envelope known_ping() {
  Envelope e = make_envelope("pinger", "echo", MESSAGE_KIND_REQUEST, 42, 1234567891011);
  e.mutable_header()->set_incarnation(3);
  e.mutable_ping_request()->set_sequence(7);
  e.mutable_ping_request()->set_payload(std::string("\0\1\2", 3));
  return e;
}

TEST(TraceFormatMonotonic, ShowsSecondsAndMicroseconds) {
  EXPECT_EQ(format_monotonic(0), "0.000000");
  EXPECT_EQ(format_monotonic(999), "0.000000");
  EXPECT_EQ(format_monotonic(1000), "0.000001");
  EXPECT_EQ(format_monotonic(1234567891011), "1234.567891");
  EXPECT_EQ(format_monotonic(UINT64_MAX), "18446744073.709551");
}

TEST(TraceFormatText, KnownEnvelopeIsOneExactLine) {
  EXPECT_EQ(format_text(known_ping()),
            "1234.567891 pinger -> echo REQUEST#42 ping_request "
            "{ sequence: 7 payload: \"\\000\\001\\002\" }");
}

TEST(TraceFormatText, EmptyBodyAndMissingBodyAreShownAsSuch) {
  Envelope note = make_envelope("echo", "pinger", MESSAGE_KIND_EVENT, 0, 5'000'000'000);
  note.mutable_note();
  EXPECT_EQ(format_text(note), "5.000000 echo -> pinger EVENT#0 note { }");

  Envelope bare = make_envelope("a", "b", MESSAGE_KIND_UNSPECIFIED, 9, 0);
  EXPECT_EQ(format_text(bare), "0.000000 a -> b UNSPECIFIED#9 (no body) { }");
}

TEST(TraceFormatText, ControlCharactersInNamesDoNotBreakTheLine) {
  Envelope e = make_envelope("evil\nname", "x\ty", MESSAGE_KIND_EVENT, 1, 0);
  e.mutable_note()->set_text("line1\nline2");
  const std::string text = format_text(e);
  EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  EXPECT_EQ(text, "0.000000 evil\\x0aname -> x\\x09y EVENT#1 note { text: \"line1\\nline2\" }");
}

// A body field number this build does not know (sent by a newer vtas) stays visible.
TEST(TraceFormatText, UnknownBodyFieldIsNamedByNumber) {
  std::string bytes = make_envelope("new", "old", MESSAGE_KIND_EVENT, 1, 0).SerializeAsString();
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.WriteTag(google::protobuf::internal::WireFormatLite::MakeTag(
        1999, google::protobuf::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
    out.WriteVarint32(3);
    out.WriteRaw("abc", 3);
  }
  Envelope e;
  ASSERT_TRUE(e.ParseFromString(bytes));
  EXPECT_EQ(body_label(e), "(unknown body #1999)");
  EXPECT_EQ(format_text(e), "0.000000 new -> old EVENT#1 (unknown body #1999) { }");
  EXPECT_EQ(format_json(e),
            "{\"ts_ns\":0,\"sender\":\"new\",\"receiver\":\"old\",\"kind\":\"EVENT\","
            "\"correlation_id\":1,\"incarnation\":1,\"type\":\"\",\"field\":\"\","
            "\"unknown_body_field\":1999,\"body\":null}");
}

TEST(TraceFormatJson, KnownEnvelopeIsOneExactObject) {
  EXPECT_EQ(format_json(known_ping()),
            "{\"ts_ns\":1234567891011,\"sender\":\"pinger\",\"receiver\":\"echo\","
            "\"kind\":\"REQUEST\",\"correlation_id\":42,\"incarnation\":3,"
            "\"type\":\"vtas.diag.PingRequest\",\"field\":\"ping_request\","
            "\"body\":{\"sequence\":\"7\",\"payload\":\"AAEC\"}}");
}

TEST(TraceFormatJson, MissingBodyIsNull) {
  Envelope bare = make_envelope("a", "b", MESSAGE_KIND_RESPONSE, 2, 10);
  EXPECT_EQ(format_json(bare),
            "{\"ts_ns\":10,\"sender\":\"a\",\"receiver\":\"b\",\"kind\":\"RESPONSE\","
            "\"correlation_id\":2,\"incarnation\":1,\"type\":\"\",\"field\":\"\",\"body\":null}");
}

TEST(TraceFormatJson, ProtoFieldNamesArePreserved) {
  Envelope e = make_envelope("echo", "supervisor", MESSAGE_KIND_EVENT, 1, 0);
  e.mutable_heartbeat()->set_messages_in(5);
  const std::string json = format_json(e);
  EXPECT_NE(json.find("\"body\":{\"messages_in\":\"5\"}"), std::string::npos) << json;
  EXPECT_EQ(json.find("messagesIn"), std::string::npos) << json;
}

TEST(TraceFormatJson, QuotesAndControlCharactersAreEscaped) {
  EXPECT_EQ(json_quote("a\"b\\c\nd\x01"), "\"a\\\"b\\\\c\\nd\\u0001\"");
}

// Rendering goes by reflection: every body in the envelope prints with its own name, so a
// new message type needs no formatting code.
TEST(TraceFormat, EveryBodyTypeRendersByReflection) {
  const auto* oneof = Envelope::descriptor()->FindOneofByName("body");
  ASSERT_NE(oneof, nullptr);
  for (int i = 0; i < oneof->field_count(); ++i) {
    const auto* field = oneof->field(i);
    Envelope e = make_envelope("s", "r", MESSAGE_KIND_EVENT, static_cast<uint64_t>(i), 0);
    e.GetReflection()->MutableMessage(&e, field);
    const std::string text = format_text(e);
    EXPECT_NE(text.find(" " + field->name() + " {"), std::string::npos) << text;
    const std::string json = format_json(e);
    EXPECT_NE(json.find("\"field\":\"" + field->name() + "\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"type\":\"" + field->message_type()->full_name() + "\""),
              std::string::npos)
        << json;
    EXPECT_EQ(json.find("\"body\":null"), std::string::npos) << json;
  }
}

}  // namespace
}  // namespace vtas::trace
