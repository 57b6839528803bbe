#include "components/wire/fuzz_entry.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "components/wire/address.h"
#include "components/wire/arp.h"
#include "components/wire/frame.h"
#include "components/wire/tcp_options.h"
#include "components/wire/tcp_segment.h"

namespace vtas::wire {
namespace {

// Largest input that the copy-based checks (rewrite, rebuild) look at; they use stack buffers.
constexpr size_t kMaxCopied = 4096;

bool offsets_inside(const Frame& f, size_t len) {
  if (f.kind == FrameKind::kNone) return true;
  if (f.l3_offset > len) return false;
  if (f.kind == FrameKind::kArp || f.kind == FrameKind::kIpv4 || f.kind == FrameKind::kTcp) {
    if (f.unpadded_length() > len) return false;
  }
  if (f.kind == FrameKind::kTcp) {
    if (size_t{f.l4_offset} + f.l4_length != f.unpadded_length()) return false;
    if (size_t{f.tcp.payload_offset} + f.tcp.payload_length != f.unpadded_length()) return false;
    if (f.tcp.header_length < kTcpMinHeaderLength) return false;
  }
  return true;
}

bool same_tcp_fields(const Frame& a, const Frame& b) {
  const TcpInfo& x = a.tcp;
  const TcpInfo& y = b.tcp;
  const TcpOptions& o = x.options;
  const TcpOptions& p = y.options;
  return a.ip.src == b.ip.src && a.ip.dst == b.ip.dst && a.ip.ecn == b.ip.ecn &&
         a.ip.ttl == b.ip.ttl && a.ip.id == b.ip.id && x.src_port == y.src_port &&
         x.dst_port == y.dst_port && x.seq == y.seq && x.ack == y.ack && x.flags == y.flags &&
         x.window == y.window && x.payload_length == y.payload_length && o.has_mss == p.has_mss &&
         o.mss == p.mss && o.has_wscale == p.has_wscale && o.wscale == p.wscale &&
         o.sack_permitted == p.sack_permitted && o.has_timestamps == p.has_timestamps &&
         o.tsval == p.tsval && o.tsecr == p.tsecr;
}

// Rebuilds a parsed segment from its fields and checks that it parses back to them.
bool rebuild_matches(const uint8_t* data, const Frame& f) {
  TcpSegmentSpec s;
  s.src_mac = f.eth.src;
  s.dst_mac = f.eth.dst;
  s.has_vlan = f.eth.has_vlan;
  s.vlan_tci = f.eth.vlan_tci;
  s.src_ip = f.ip.src;
  s.dst_ip = f.ip.dst;
  s.src_port = f.tcp.src_port;
  s.dst_port = f.tcp.dst_port;
  s.seq = f.tcp.seq;
  s.ack = f.tcp.ack;
  s.flags = f.tcp.flags;
  s.window = f.tcp.window;
  s.ecn = f.ip.ecn;
  s.ttl = f.ip.ttl;
  s.ip_id = f.ip.id;
  s.options = f.tcp.options;
  s.payload = data + f.tcp.payload_offset;
  s.payload_length = f.tcp.payload_length;
  uint8_t out[kMaxCopied + 128];
  const size_t n = build_tcp_segment(out, sizeof out, s);
  if (n == 0) return false;
  Frame g;
  if (parse_frame(out, n, &g) != ParseResult::kOk || g.kind != FrameKind::kTcp) return false;
  if (!same_tcp_fields(f, g)) return false;
  return std::memcmp(out + g.tcp.payload_offset, s.payload, s.payload_length) == 0;
}

}  // namespace

int parse_any(const uint8_t* data, size_t len) {
  int accepted = 0;
  Frame verified;
  Frame trusted;
  const ParseResult rv = parse_frame(data, len, &verified, RxChecksum::kVerify);
  const ParseResult rt = parse_frame(data, len, &trusted, RxChecksum::kTrustOffload);
  if (!offsets_inside(verified, len) || !offsets_inside(trusted, len)) return -1;
  if (rv == ParseResult::kOk) {
    ++accepted;
    if (rt != ParseResult::kOk || trusted.kind != verified.kind) return -1;
    if (verified.kind == FrameKind::kTcp && !same_tcp_fields(verified, trusted)) return -1;
  }
  if (rt == ParseResult::kOk) ++accepted;

  if (rv == ParseResult::kOk && verified.kind == FrameKind::kTcp && len <= kMaxCopied) {
    if (!rebuild_matches(data, verified)) return -1;
    uint8_t copy[kMaxCopied];
    std::memcpy(copy, data, len);
    const bool rewritten = rewrite_tcp_timestamps(copy, len, 0x01020304u ^ verified.tcp.seq,
                                                  0xa0b0c0d0u, TxChecksum::kSoftware);
    if (rewritten != verified.tcp.options.has_timestamps) return -1;
    Frame after;
    if (parse_frame(copy, len, &after) != ParseResult::kOk) return -1;  // checksum still right
  }

  TcpOptions options;
  if (data != nullptr) {
    if (parse_tcp_options(data, std::min(len, kTcpMaxOptionsLength), &options) ==
        ParseResult::kOk) {
      ++accepted;
    }
    if (parse_tcp_options(data, len, &options) == ParseResult::kOk) ++accepted;
    ArpPacket arp;
    if (parse_arp(data, len, &arp) == ParseResult::kOk) ++accepted;
    const std::string_view text(reinterpret_cast<const char*>(data), len);
    if (parse_mac(text).ok()) ++accepted;
    if (parse_ipv4(text).ok()) ++accepted;
  }
  return accepted;
}

}  // namespace vtas::wire
