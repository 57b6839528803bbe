#include "components/slowpath/isn_generator.h"

#include <gtest/gtest.h>

namespace vtas::conn {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;

const FourTuple kTuple{0x0a000001, 0x0a000002, 80, 40000};

TEST(IsnGenerator, AdvancesOnePer4MicrosecondsForATuple) {
  IsnGenerator gen(SipKey{11, 22});
  const TimePoint t(seconds(1000));
  const uint32_t a = gen.isn(kTuple, t);
  EXPECT_EQ(gen.isn(kTuple, t + microseconds(4)), a + 1);
  EXPECT_EQ(gen.isn(kTuple, t + microseconds(4000)), a + 1000);
  EXPECT_EQ(gen.isn(kTuple, t + microseconds(3)), a);  // same tick
}

TEST(IsnGenerator, DiffersPerTupleAndPerKey) {
  IsnGenerator gen(SipKey{11, 22});
  const TimePoint t(seconds(1000));
  FourTuple other = kTuple;
  other.remote_port = 40001;
  EXPECT_NE(gen.isn(kTuple, t), gen.isn(other, t));
  IsnGenerator other_key(SipKey{11, 23});
  EXPECT_NE(gen.isn(kTuple, t), other_key.isn(kTuple, t));
  // Not TAS's fixed ISNs.
  EXPECT_NE(gen.isn(kTuple, t), 0u);
  EXPECT_NE(gen.isn(kTuple, t), 1u);
}

TEST(IsnGenerator, SameKeySameAnswerAcrossInstances) {
  // A restarted conn with the registry's key continues the same per-tuple sequence.
  const TimePoint t(seconds(12345));
  EXPECT_EQ(IsnGenerator(SipKey{5, 6}).isn(kTuple, t), IsnGenerator(SipKey{5, 6}).isn(kTuple, t));
}

TEST(IsnGenerator, ClockTicksWrapModulo32Bits) {
  EXPECT_EQ(IsnGenerator::clock_ticks(TimePoint(Nanos(4000))), 1u);
  EXPECT_EQ(IsnGenerator::clock_ticks(TimePoint(Nanos(4000ull << 32))), 0u);
}

}  // namespace
}  // namespace vtas::conn
