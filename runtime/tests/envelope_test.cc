#include "runtime/envelope.h"

#include <gtest/gtest.h>

#include <set>

namespace vtas {
namespace {

TEST(Envelope, EncodeDecodeRoundTripKeepsHeaderAndBody) {
  Envelope e;
  Header* h = e.mutable_header();
  h->set_sender("pinger");
  h->set_receiver("echo");
  h->set_correlation_id(42);
  h->set_timestamp_ns(123456789);
  h->set_trace(true);
  h->set_kind(MESSAGE_KIND_REQUEST);
  e.mutable_ping_request()->set_sequence(7);
  e.mutable_ping_request()->set_payload(std::string("\0\1\2", 3));
  std::string bytes = e.SerializeAsString();

  Envelope decoded;
  ASSERT_TRUE(decode_envelope(bytes.data(), bytes.size(), &decoded));
  EXPECT_EQ(decoded.header().sender(), "pinger");
  EXPECT_EQ(decoded.header().receiver(), "echo");
  EXPECT_EQ(decoded.header().correlation_id(), 42u);
  EXPECT_EQ(decoded.header().timestamp_ns(), 123456789u);
  EXPECT_TRUE(decoded.header().trace());
  EXPECT_EQ(decoded.header().kind(), MESSAGE_KIND_REQUEST);
  ASSERT_EQ(decoded.body_case(), Envelope::kPingRequest);
  EXPECT_EQ(decoded.ping_request().sequence(), 7u);
  EXPECT_EQ(decoded.ping_request().payload(), std::string("\0\1\2", 3));
  EXPECT_EQ(body_name(decoded), "ping_request");
  EXPECT_EQ(body_type(decoded), "vtas.diag.PingRequest");
  EXPECT_EQ(describe(decoded), "pinger -> echo REQUEST#42 ping_request");
}

TEST(Envelope, GarbageIsRejectedNotCrashed) {
  const unsigned char garbage[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
  Envelope decoded;
  EXPECT_FALSE(decode_envelope(garbage, sizeof(garbage), &decoded));
}

TEST(Envelope, EmptyBodyHasNoName) {
  Envelope e;
  EXPECT_EQ(body_name(e), "");
  EXPECT_EQ(body_type(e), "");
}

// Actor::on<Msg>() finds the body field by message type, so each type may appear only once.
TEST(Envelope, EveryBodyTypeAppearsOnce) {
  const auto* oneof = Envelope::descriptor()->FindOneofByName("body");
  ASSERT_NE(oneof, nullptr);
  std::set<std::string> types;
  for (int i = 0; i < oneof->field_count(); ++i) {
    ASSERT_NE(oneof->field(i)->message_type(), nullptr) << oneof->field(i)->name();
    EXPECT_TRUE(types.insert(oneof->field(i)->message_type()->full_name()).second)
        << oneof->field(i)->message_type()->full_name() << " is used twice";
  }
}

// Design rule: enums start with X_UNSPECIFIED = 0 so an unset field is never a real value.
TEST(Envelope, EnumsStartWithUnspecified) {
  const auto* file = Envelope::descriptor()->file();
  std::vector<const google::protobuf::FileDescriptor*> files{file};
  for (int i = 0; i < file->dependency_count(); ++i) files.push_back(file->dependency(i));
  auto check = [](const google::protobuf::EnumDescriptor* en) {
    ASSERT_GT(en->value_count(), 0);
    EXPECT_EQ(en->value(0)->number(), 0) << en->full_name();
    EXPECT_NE(en->value(0)->name().find("UNSPECIFIED"), std::string::npos) << en->full_name();
  };
  for (const auto* f : files) {
    for (int i = 0; i < f->enum_type_count(); ++i) check(f->enum_type(i));
    for (int m = 0; m < f->message_type_count(); ++m) {
      for (int i = 0; i < f->message_type(m)->enum_type_count(); ++i) {
        check(f->message_type(m)->enum_type(i));
      }
    }
  }
}

}  // namespace
}  // namespace vtas
