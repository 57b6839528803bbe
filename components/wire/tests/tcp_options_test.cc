#include "components/wire/tcp_options.h"

#include <gtest/gtest.h>

#include <vector>

#include "components/wire/tests/test_frames.h"

namespace vtas::wire {
namespace {

using testing::from_hex;

ParseResult parse(const std::vector<uint8_t>& bytes, TcpOptions* out) {
  return parse_tcp_options(bytes.data(), bytes.size(), out);
}

TEST(TcpOptionsParse, LinuxSynOptions) {
  // MSS 1460, SACK-permitted, TS (val 0x92e9ec0f, ecr 0), NOP, WS 10.
  TcpOptions o;
  ASSERT_EQ(parse(from_hex("020405b40402080a92e9ec0f000000000103030a"), &o), ParseResult::kOk);
  EXPECT_TRUE(o.has_mss);
  EXPECT_EQ(o.mss, 1460);
  EXPECT_TRUE(o.sack_permitted);
  EXPECT_TRUE(o.has_timestamps);
  EXPECT_EQ(o.tsval, 0x92e9ec0fu);
  EXPECT_EQ(o.tsecr, 0u);
  EXPECT_EQ(o.timestamps_offset, 6);
  EXPECT_TRUE(o.has_wscale);
  EXPECT_EQ(o.wscale, 10);
  EXPECT_EQ(o.sack_count, 0);
  EXPECT_FALSE(o.timestamps_malformed);
}

TEST(TcpOptionsParse, EmptyAndPaddingOnly) {
  TcpOptions o;
  EXPECT_EQ(parse_tcp_options(nullptr, 0, &o), ParseResult::kOk);
  EXPECT_EQ(parse(from_hex("01010101"), &o), ParseResult::kOk);
  EXPECT_EQ(parse(from_hex("00000000"), &o), ParseResult::kOk);
  EXPECT_FALSE(o.has_mss || o.has_wscale || o.sack_permitted || o.has_timestamps);
}

TEST(TcpOptionsParse, SackBlocksOneToFour) {
  for (int n = 1; n <= 4; ++n) {
    std::vector<uint8_t> bytes = {1, 1, kTcpOptSack, static_cast<uint8_t>(2 + 8 * n)};
    for (int i = 0; i < n; ++i) {
      for (uint32_t v : {0x1000u * (i + 1), 0x1000u * (i + 1) + 0x800u}) {
        for (int s = 24; s >= 0; s -= 8) bytes.push_back(static_cast<uint8_t>(v >> s));
      }
    }
    TcpOptions o;
    ASSERT_EQ(parse(bytes, &o), ParseResult::kOk) << n;
    ASSERT_EQ(o.sack_count, n);
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(o.sack[i], (SackBlock{0x1000u * (i + 1), 0x1000u * (i + 1) + 0x800u}));
    }
  }
}

TEST(TcpOptionsParse, UnknownKindsAreSkippedByLength) {
  // kind 30 (MPTCP) with 6 bytes, kind 254 (experimental) with 2 bytes, then MSS.
  TcpOptions o;
  ASSERT_EQ(parse(from_hex("1e06aabbccdd fe02 02040218"), &o), ParseResult::kOk);
  EXPECT_TRUE(o.has_mss);
  EXPECT_EQ(o.mss, 0x218);
}

TEST(TcpOptionsParse, EolEndsTheListAndGarbageAfterItIsIgnored) {
  TcpOptions o;
  ASSERT_EQ(parse(from_hex("020405b4 00 0000ff"), &o), ParseResult::kOk);
  EXPECT_TRUE(o.has_mss);
  ASSERT_EQ(parse(from_hex("00 020405b4"), &o), ParseResult::kOk);
  EXPECT_FALSE(o.has_mss);
}

TEST(TcpOptionsParse, ZeroLengthIsRejectedNotLoopedOn) {
  TcpOptions o;
  EXPECT_EQ(parse(from_hex("1e00 0000"), &o), ParseResult::kBadOptions);  // TAS loops here
  EXPECT_EQ(parse(from_hex("0800 00000000000000000000"), &o), ParseResult::kBadOptions);
}

TEST(TcpOptionsParse, LengthOneIsRejected) {
  TcpOptions o;
  EXPECT_EQ(parse(from_hex("1e01 0101"), &o), ParseResult::kBadOptions);
  EXPECT_EQ(parse(from_hex("0201 0101"), &o), ParseResult::kBadOptions);
}

TEST(TcpOptionsParse, KindWithoutRoomForItsLengthByteIsRejected) {
  TcpOptions o;
  EXPECT_EQ(parse(from_hex("010101 02"), &o), ParseResult::kBadOptions);
  EXPECT_EQ(parse(from_hex("1e"), &o), ParseResult::kBadOptions);
}

TEST(TcpOptionsParse, LengthRunningPastTheHeaderIsRejected) {
  TcpOptions o;
  EXPECT_EQ(parse(from_hex("1e08 aabbcc"), &o), ParseResult::kBadOptions);
  EXPECT_EQ(parse(from_hex("0101 080a 0000000100"), &o), ParseResult::kBadOptions);
  EXPECT_EQ(parse(from_hex("0204 05"), &o), ParseResult::kBadOptions);  // truncated MSS
}

TEST(TcpOptionsParse, KnownOptionsWithWrongLengthsAreRejected) {
  TcpOptions o;
  EXPECT_EQ(parse(from_hex("0203 05 01"), &o), ParseResult::kBadOptions);     // MSS 3
  EXPECT_EQ(parse(from_hex("0206 05b40000"), &o), ParseResult::kBadOptions);  // MSS 6
  EXPECT_EQ(parse(from_hex("0302 0101"), &o), ParseResult::kBadOptions);      // WS 2
  EXPECT_EQ(parse(from_hex("0304 0700"), &o), ParseResult::kBadOptions);      // WS 4
  EXPECT_EQ(parse(from_hex("0403 00 01"), &o), ParseResult::kBadOptions);     // SACK-perm 3
  EXPECT_EQ(parse(from_hex("0502 0101"), &o), ParseResult::kBadOptions);      // SACK, 0 blocks
  EXPECT_EQ(parse(from_hex("0506 00000001"), &o), ParseResult::kBadOptions);  // SACK 4 bytes
  EXPECT_EQ(parse(from_hex("050b 000000010000000200 0101"), &o),
            ParseResult::kBadOptions);  // SACK length 11
  // Five SACK blocks fit no real header but would overflow the struct: rejected.
  std::vector<uint8_t> five = {kTcpOptSack, 42};
  five.resize(42, 0);
  EXPECT_EQ(parse(five, &o), ParseResult::kBadOptions);
}

TEST(TcpOptionsParse, TimestampsWithWrongLengthAreIgnoredAndFlagged) {
  TcpOptions o;
  ASSERT_EQ(parse(from_hex("0808 000000010000 020405b4"), &o), ParseResult::kOk);
  EXPECT_FALSE(o.has_timestamps);
  EXPECT_TRUE(o.timestamps_malformed);
  EXPECT_TRUE(o.has_mss);  // the options after it still parse
  ASSERT_EQ(parse(from_hex("080c 00000001000000020000 0101"), &o), ParseResult::kOk);
  EXPECT_FALSE(o.has_timestamps);
  EXPECT_TRUE(o.timestamps_malformed);
  // A malformed one before a valid one: the valid one is used, the flag stays.
  ASSERT_EQ(parse(from_hex("0808 000000010000 0101 080a 0000000a0000000b"), &o), ParseResult::kOk);
  EXPECT_TRUE(o.has_timestamps);
  EXPECT_EQ(o.tsval, 10u);
  EXPECT_EQ(o.tsecr, 11u);
  EXPECT_EQ(o.timestamps_offset, 10);
  EXPECT_TRUE(o.timestamps_malformed);
}

TEST(TcpOptionsParse, DuplicatesFirstWins) {
  TcpOptions o;
  const std::vector<uint8_t> twice =
      from_hex("020405b4 02040218 010303 07 010303 02 080a 0000000100000002 080a 0000000300000004");
  ASSERT_EQ(parse(twice, &o), ParseResult::kOk);
  EXPECT_EQ(o.mss, 1460);
  EXPECT_EQ(o.wscale, 7);
  EXPECT_EQ(o.tsval, 1u);
  EXPECT_EQ(o.tsecr, 2u);
  ASSERT_EQ(parse(from_hex("050a 0000000100000002 050a 0000000300000004"), &o), ParseResult::kOk);
  ASSERT_EQ(o.sack_count, 1);
  EXPECT_EQ(o.sack[0], (SackBlock{1, 2}));
}

TEST(TcpOptionsParse, WindowScaleIsClampedTo14) {
  TcpOptions o;
  ASSERT_EQ(parse(from_hex("01030315"), &o), ParseResult::kOk);
  EXPECT_TRUE(o.has_wscale);
  EXPECT_EQ(o.wscale, 14);
  ASSERT_EQ(parse(from_hex("010303ff"), &o), ParseResult::kOk);
  EXPECT_EQ(o.wscale, 14);
  ASSERT_EQ(parse(from_hex("0103030e"), &o), ParseResult::kOk);
  EXPECT_EQ(o.wscale, 14);
}

TEST(TcpOptionsParse, ResetsTheOutputFirst) {
  TcpOptions o;
  o.has_mss = true;
  o.sack_count = 3;
  ASSERT_EQ(parse(from_hex("01010101"), &o), ParseResult::kOk);
  EXPECT_FALSE(o.has_mss);
  EXPECT_EQ(o.sack_count, 0);
}

std::vector<uint8_t> write(const TcpOptions& o) {
  std::vector<uint8_t> out(kTcpMaxOptionsLength, 0xee);
  const size_t n = write_tcp_options(out.data(), o);
  EXPECT_EQ(n, tcp_options_length(o));
  out.resize(n);
  return out;
}

TEST(TcpOptionsWrite, LinuxSynLayout) {
  TcpOptions o;
  o.has_mss = true;
  o.mss = 1460;
  o.sack_permitted = true;
  o.has_timestamps = true;
  o.tsval = 0x92e9ec0f;
  o.has_wscale = true;
  o.wscale = 10;
  EXPECT_EQ(write(o), from_hex("020405b40402080a92e9ec0f000000000103030a"));
}

TEST(TcpOptionsWrite, LinuxDataLayout) {
  TcpOptions o;
  o.has_timestamps = true;
  o.tsval = 0x170c485d;
  o.tsecr = 0x3e9;
  EXPECT_EQ(write(o), from_hex("0101080a170c485d000003e9"));
}

TEST(TcpOptionsWrite, SackPermittedAloneAndNothing) {
  TcpOptions o;
  EXPECT_EQ(write(o), std::vector<uint8_t>{});
  o.sack_permitted = true;
  EXPECT_EQ(write(o), from_hex("01010402"));
}

TEST(TcpOptionsWrite, SackBlocksAfterTimestampsLikeLinux) {
  TcpOptions o;
  o.has_timestamps = true;
  o.tsval = 1;
  o.tsecr = 2;
  o.sack_count = 1;
  o.sack[0] = {0x100, 0x200};
  EXPECT_EQ(write(o), from_hex("0101080a0000000100000002 0101050a0000010000000200"));
}

TEST(TcpOptionsWrite, SackBlocksThatDoNotFitAreDropped) {
  TcpOptions o;
  o.sack_count = 4;
  for (uint32_t i = 0; i < 4; ++i) o.sack[i] = {i * 10, i * 10 + 5};
  EXPECT_EQ(tcp_options_length(o), 36u);  // 4 blocks fit without timestamps
  o.has_timestamps = true;
  EXPECT_EQ(tcp_options_length(o), 40u);  // 3 with them
  o.has_mss = true;
  o.has_wscale = true;
  EXPECT_EQ(tcp_options_length(o), 40u);  // 2 with everything
  TcpOptions back;
  ASSERT_EQ(parse(write(o), &back), ParseResult::kOk);
  ASSERT_EQ(back.sack_count, 2);
  EXPECT_EQ(back.sack[0], o.sack[0]);
  EXPECT_EQ(back.sack[1], o.sack[1]);
  o.sack_count = 200;  // a corrupt count never overruns
  EXPECT_LE(tcp_options_length(o), kTcpMaxOptionsLength);
}

TEST(TcpOptionsWrite, WindowScaleAbove14IsClamped) {
  TcpOptions o;
  o.has_wscale = true;
  o.wscale = 20;
  EXPECT_EQ(write(o), from_hex("0103030e"));
}

TEST(TcpOptionsWrite, EveryCombinationRoundTripsAndIsWordAligned) {
  for (int mask = 0; mask < 16; ++mask) {
    for (uint8_t sacks = 0; sacks <= 4; ++sacks) {
      TcpOptions o;
      o.has_mss = mask & 1;
      o.mss = 8960;
      o.has_wscale = mask & 2;
      o.wscale = 9;
      o.sack_permitted = mask & 4;
      o.has_timestamps = mask & 8;
      o.tsval = 0xdeadbeef;
      o.tsecr = 0x01020304;
      o.sack_count = sacks;
      for (uint32_t i = 0; i < sacks; ++i) o.sack[i] = {0xfffffff0u + i * 100, i * 100 + 50};
      const std::vector<uint8_t> bytes = write(o);
      EXPECT_EQ(bytes.size() % 4, 0u);
      EXPECT_LE(bytes.size(), kTcpMaxOptionsLength);
      TcpOptions back;
      ASSERT_EQ(parse(bytes, &back), ParseResult::kOk) << mask << " " << int{sacks};
      EXPECT_EQ(back.has_mss, o.has_mss);
      EXPECT_EQ(back.has_wscale, o.has_wscale);
      EXPECT_EQ(back.sack_permitted, o.sack_permitted);
      EXPECT_EQ(back.has_timestamps, o.has_timestamps);
      if (o.has_mss) {
        EXPECT_EQ(back.mss, o.mss);
      }
      if (o.has_wscale) {
        EXPECT_EQ(back.wscale, o.wscale);
      }
      if (o.has_timestamps) {
        EXPECT_EQ(back.tsval, o.tsval);
        EXPECT_EQ(back.tsecr, o.tsecr);
      }
      EXPECT_EQ(back.sack_count, detail::sack_blocks_that_fit(o));
      for (size_t i = 0; i < back.sack_count; ++i) EXPECT_EQ(back.sack[i], o.sack[i]);
    }
  }
}

}  // namespace
}  // namespace vtas::wire
