// Bad input never crashes or reads out of bounds: truncations of real frames at every length,
// random bytes, and random corruptions of valid frames (which get past the outer checks and
// exercise the inner parsers). Run under ASan/UBSan too (-DVTAS_SANITIZE=ON): every input sits
// in a heap block of exactly its length, so a one-byte overread is reported.
#include <gtest/gtest.h>

#include <random>
#include <string_view>
#include <vector>

#include "components/wire/frame.h"
#include "components/wire/fuzz_entry.h"
#include "components/wire/tcp_segment.h"
#include "components/wire/tests/test_frames.h"

namespace vtas::wire {
namespace {

using testing::from_hex;

std::vector<std::vector<uint8_t>> valid_frames() {
  std::vector<std::vector<uint8_t>> frames;
  for (auto hex : {testing::kLinuxSyn, testing::kLinuxSynAck, testing::kLinuxData,
                   testing::kLinuxArpRequest, testing::kLinuxArpReply}) {
    frames.push_back(from_hex(hex));
  }
  // A built segment with every option, a VLAN tag and SACK blocks.
  TcpSegmentSpec s;
  s.has_vlan = true;
  s.flags = kTcpAck;
  s.options.has_mss = true;
  s.options.has_wscale = true;
  s.options.sack_permitted = true;
  s.options.has_timestamps = true;
  s.options.sack_count = 2;
  const uint8_t payload[100] = {1, 2, 3};
  s.payload = payload;
  s.payload_length = sizeof payload;
  std::vector<uint8_t> buf(300);
  buf.resize(build_tcp_segment(buf.data(), buf.size(), s));
  frames.push_back(buf);
  return frames;
}

TEST(Robustness, EveryTruncationFailsCleanly) {
  for (const auto& full : valid_frames()) {
    Frame f;
    ASSERT_EQ(parse_frame(full.data(), full.size(), &f), ParseResult::kOk);
    const size_t needed = f.unpadded_length();
    for (size_t len = 0; len < full.size(); ++len) {
      std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(len));
      for (RxChecksum check : {RxChecksum::kVerify, RxChecksum::kTrustOffload}) {
        const ParseResult r = parse_frame(cut.data(), cut.size(), &f, check);
        if (len < needed) {
          EXPECT_NE(r, ParseResult::kOk) << "length " << len;
        }
      }
      EXPECT_GE(parse_any(cut.data(), cut.size()), 0) << "length " << len;
    }
  }
}

TEST(Robustness, RandomBytesThroughEveryParser) {
  std::mt19937_64 rng(0x7a5);
  for (int i = 0; i < 100000; ++i) {
    const size_t len = rng() % 200;
    std::vector<uint8_t> bytes(len);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    // Half of them get a plausible Ethernet/IPv4/TCP prefix so they reach the deeper parsers.
    if (i % 2 == 0 && len >= 34) {
      bytes[12] = 0x08;
      bytes[13] = (i % 8 == 0) ? 0x06 : 0x00;
      bytes[14] = static_cast<uint8_t>(0x40 | (bytes[14] & 0x0f));
      bytes[23] = kIpProtoTcp;
      bytes[20] &= 0x40;  // not a fragment
    }
    ASSERT_GE(parse_any(bytes.data(), bytes.size()), 0) << "input " << i;
  }
}

TEST(Robustness, CorruptedValidFramesThroughEveryParser) {
  std::mt19937_64 rng(0xc0ffee);
  const auto frames = valid_frames();
  int accepted_tcp = 0;
  for (int i = 0; i < 100000; ++i) {
    std::vector<uint8_t> bytes = frames[static_cast<size_t>(i) % frames.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
    if (rng() % 4 == 0) bytes.resize(rng() % (bytes.size() + 1));
    ASSERT_GE(parse_any(bytes.data(), bytes.size()), 0) << "input " << i;
    Frame f;
    if (parse_frame(bytes.data(), bytes.size(), &f, RxChecksum::kTrustOffload) ==
            ParseResult::kOk &&
        f.kind == FrameKind::kTcp) {
      ++accepted_tcp;
    }
  }
  EXPECT_GT(accepted_tcp, 1000);  // the corruption really exercised the TCP layer
}

// Option lists built from plausible pieces (real kinds, lengths near the right ones), cut at
// a random point, each in a heap block of exactly its size: under ASan an option that is
// allowed to run one byte past the list is caught here.
TEST(Robustness, NearlyValidOptionListsInExactBuffers) {
  std::mt19937_64 rng(0x0b7);
  const uint8_t kinds[] = {kTcpOptEol,
                           kTcpOptNop,
                           kTcpOptMss,
                           kTcpOptWindowScale,
                           kTcpOptSackPermitted,
                           kTcpOptSack,
                           kTcpOptTimestamps,
                           30,
                           254};
  const uint8_t right_length[] = {1, 1, 4, 3, 2, 10, 10, 6, 4};
  int ok = 0;
  for (int i = 0; i < 100000; ++i) {
    std::vector<uint8_t> list;
    while (list.size() < kTcpMaxOptionsLength) {
      const size_t k = rng() % sizeof kinds;
      list.push_back(kinds[k]);
      if (right_length[k] == 1) continue;
      int length = right_length[k];
      if (kinds[k] == kTcpOptSack) length = 2 + 8 * static_cast<int>(1 + rng() % 4);
      if (rng() % 8 == 0) length += static_cast<int>(rng() % 5) - 2;  // slightly wrong
      list.push_back(static_cast<uint8_t>(length));
      for (int b = 2; b < length; ++b) list.push_back(static_cast<uint8_t>(rng()));
    }
    list.resize(rng() % (kTcpMaxOptionsLength + 1));
    const std::vector<uint8_t> exact(list.begin(), list.end());
    TcpOptions o;
    if (parse_tcp_options(exact.data(), exact.size(), &o) == ParseResult::kOk) ++ok;
    ASSERT_LE(o.sack_count, TcpOptions::kMaxSackBlocks);
    ASSERT_LE(o.wscale, kTcpMaxWindowScale);
    if (o.has_timestamps) {
      ASSERT_LE(o.timestamps_offset + size_t{10}, exact.size());
    }
  }
  EXPECT_GT(ok, 1000);
  EXPECT_LT(ok, 99000);
}

TEST(Robustness, ParseAnyAcceptsValidFrames) {
  for (const auto& f : valid_frames()) EXPECT_GE(parse_any(f.data(), f.size()), 2);
  EXPECT_EQ(parse_any(nullptr, 0), 0);
  const std::string_view ip = "10.0.0.1";
  EXPECT_GE(parse_any(reinterpret_cast<const uint8_t*>(ip.data()), ip.size()), 1);
}

}  // namespace
}  // namespace vtas::wire
