#include "components/wire/checksum.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "components/wire/tests/test_frames.h"

namespace vtas::wire {
namespace {

using testing::from_hex;

// The textbook RFC 1071 loop, one 16-bit word at a time: the reference for the fast version.
uint16_t reference_checksum(const uint8_t* data, size_t len, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += uint32_t{data[i]} << 8 | data[i + 1];
  if (len % 2) sum += uint32_t{data[len - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (checksum 220d).
  const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_fold(checksum_add(data, sizeof data)), 0xddf2);
  EXPECT_EQ(internet_checksum(data, sizeof data), 0x220d);
}

TEST(Checksum, EmptyAndOddLengths) {
  EXPECT_EQ(internet_checksum(nullptr, 0), 0xffff);
  const uint8_t one[] = {0xab};
  EXPECT_EQ(internet_checksum(one, 1), static_cast<uint16_t>(~0xab00));
  const uint8_t three[] = {0x12, 0x34, 0x56};
  EXPECT_EQ(internet_checksum(three, 3), static_cast<uint16_t>(~(0x1234 + 0x5600)));
}

TEST(Checksum, MatchesTheReferenceForEveryLengthAndAlignment) {
  std::mt19937 rng(1071);
  std::vector<uint8_t> buf(600);
  for (int round = 0; round < 20; ++round) {
    for (auto& b : buf) b = static_cast<uint8_t>(rng());
    if (round == 0) std::fill(buf.begin(), buf.end(), 0xff);  // maximal carries
    for (size_t start = 0; start < 8; ++start) {
      for (size_t len = 0; start + len <= 520; ++len) {
        ASSERT_EQ(internet_checksum(buf.data() + start, len),
                  reference_checksum(buf.data() + start, len))
            << "start " << start << " len " << len;
      }
    }
  }
}

TEST(Checksum, ChainsAtEvenOffsets) {
  std::mt19937 rng(7);
  std::vector<uint8_t> buf(301);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t split = 0; split <= buf.size(); split += 2) {
    uint32_t sum = checksum_add(buf.data(), split);
    sum = checksum_add(buf.data() + split, buf.size() - split, sum);
    ASSERT_EQ(checksum_finish(sum), reference_checksum(buf.data(), buf.size())) << split;
  }
}

TEST(Checksum, CapturedLinuxSegmentVerifiesAndRecomputes) {
  for (auto hex : {testing::kLinuxSyn, testing::kLinuxSynAck, testing::kLinuxData}) {
    std::vector<uint8_t> f = from_hex(hex);
    uint8_t* ip = f.data() + 14;
    uint8_t* tcp = ip + 20;
    const size_t tcp_len = f.size() - 34;
    const Ipv4Addr src{load_be32(ip + 12)};
    const Ipv4Addr dst{load_be32(ip + 16)};
    EXPECT_EQ(ipv4_header_checksum(ip, 20), 0);
    EXPECT_EQ(tcp_checksum(src, dst, tcp, tcp_len), 0);

    const uint16_t ip_stored = load_be16(ip + 10);
    const uint16_t tcp_stored = load_be16(tcp + 16);
    store_be16(ip + 10, 0);
    store_be16(tcp + 16, 0);
    EXPECT_EQ(ipv4_header_checksum(ip, 20), ip_stored);
    EXPECT_EQ(tcp_checksum(src, dst, tcp, tcp_len), tcp_stored);
  }
}

TEST(Checksum, PseudoHeaderSumMatchesWhatLinuxLeavesForOffload) {
  const std::vector<uint8_t> f = from_hex(testing::kLoopbackSynPartialChecksum);
  const Ipv4Addr loopback = Ipv4Addr::from_octets(127, 0, 0, 1);
  const uint16_t tcp_len = static_cast<uint16_t>(f.size() - 34);
  EXPECT_EQ(tcp_pseudo_header_sum(loopback, loopback, tcp_len), load_be16(f.data() + 34 + 16));
  EXPECT_EQ(tcp_pseudo_header_sum(loopback, loopback, tcp_len), 0xfe30);
}

TEST(Checksum, PseudoHeaderSumThenSegmentSumEqualsFullChecksum) {
  // What the NIC does with the offload field: add the segment (field = pseudo sum), complement.
  std::vector<uint8_t> f = from_hex(testing::kLinuxData);
  uint8_t* tcp = f.data() + 34;
  const size_t tcp_len = f.size() - 34;
  const Ipv4Addr src = Ipv4Addr::from_octets(10, 0, 0, 1);
  const Ipv4Addr dst = Ipv4Addr::from_octets(10, 0, 0, 2);
  const uint16_t expected = load_be16(tcp + 16);
  store_be16(tcp + 16, tcp_pseudo_header_sum(src, dst, static_cast<uint16_t>(tcp_len)));
  EXPECT_EQ(internet_checksum(tcp, tcp_len), expected);
}

TEST(Checksum, IncrementalUpdateEqualsFullRecompute) {
  std::mt19937 rng(1624);
  std::vector<uint8_t> seg(200);
  for (int round = 0; round < 5000; ++round) {
    const size_t len = 20 + rng() % 180;
    for (size_t i = 0; i < len; ++i) seg[i] = static_cast<uint8_t>(rng());
    const Ipv4Addr src{static_cast<uint32_t>(rng())};
    const Ipv4Addr dst{static_cast<uint32_t>(rng())};
    store_be16(seg.data() + 16, 0);
    store_be16(seg.data() + 16, tcp_checksum(src, dst, seg.data(), len));
    uint16_t checksum = load_be16(seg.data() + 16);

    switch (round % 3) {
      case 0: {  // a 16-bit word at an even offset (not the checksum field)
        size_t off = (rng() % (len / 2)) * 2;
        if (off == 16) off = 14;
        const uint16_t old_word = load_be16(seg.data() + off);
        const uint16_t new_word = static_cast<uint16_t>(rng());
        store_be16(seg.data() + off, new_word);
        checksum = checksum_update16(checksum, old_word, new_word);
        break;
      }
      case 1: {  // a 32-bit field (seq, ack, timestamps)
        const size_t off = (rng() % 2) ? 4 : 8;
        const uint32_t old_value = load_be32(seg.data() + off);
        const uint32_t new_value = static_cast<uint32_t>(rng());
        store_be32(seg.data() + off, new_value);
        checksum = checksum_update32(checksum, old_value, new_value);
        break;
      }
      default: {  // any bytes at any offset after the checksum field, odd offsets included
        const size_t off = 18 + rng() % (len - 18);
        const size_t n = 1 + rng() % (len - off);
        std::vector<uint8_t> old_bytes(seg.begin() + off, seg.begin() + off + n);
        for (size_t i = 0; i < n; ++i) seg[off + i] = static_cast<uint8_t>(rng());
        checksum = checksum_update_bytes(checksum, off, old_bytes.data(), seg.data() + off, n);
        break;
      }
    }
    store_be16(seg.data() + 16, 0);
    ASSERT_EQ(checksum, tcp_checksum(src, dst, seg.data(), len)) << "round " << round;
  }
}

TEST(Checksum, IncrementalTtlDecrementKeepsAnIpHeaderValid) {
  std::vector<uint8_t> f = from_hex(testing::kLinuxSyn);
  uint8_t* ip = f.data() + 14;
  const uint16_t old_word = load_be16(ip + 8);  // TTL and protocol share a word
  ip[8] = static_cast<uint8_t>(ip[8] - 1);
  store_be16(ip + 10, checksum_update16(load_be16(ip + 10), old_word, load_be16(ip + 8)));
  EXPECT_EQ(ipv4_header_checksum(ip, 20), 0);
}

}  // namespace
}  // namespace vtas::wire
