#include "components/fastpath/segment_builder.h"

#include <arpa/inet.h>

#include <cstring>

#include "components/fastpath/tcp/out_of_order.h"

namespace vtas::fastpath {
namespace {

wire::TcpSegmentSpec base_spec(const abi::FlowState& fs, const FrameSource& src) {
  wire::TcpSegmentSpec s;
  s.src_mac = src.local_mac;
  s.dst_mac = wire::MacAddr::from_bytes(fs.remote_mac);
  s.src_ip = wire::Ipv4Addr{ntohl(fs.local_ip)};
  s.dst_ip = wire::Ipv4Addr{ntohl(fs.remote_ip)};
  s.src_port = ntohs(fs.local_port);
  s.dst_port = ntohs(fs.remote_port);
  s.checksum = src.checksum_offload ? wire::TxChecksum::kOffload : wire::TxChecksum::kSoftware;
  return s;
}

}  // namespace

tcp::Segment segment_from(const wire::Frame& frame, const uint8_t* data) {
  tcp::Segment seg;
  seg.seq = frame.tcp.seq;
  seg.ack = frame.tcp.ack;
  seg.flags = frame.tcp.flags;
  seg.window = frame.tcp.window;
  seg.ce = frame.ip.ce();
  seg.has_ts = frame.tcp.options.has_timestamps;
  seg.tsval = frame.tcp.options.tsval;
  seg.tsecr = frame.tcp.options.tsecr;
  seg.payload = data + frame.tcp.payload_offset;
  seg.payload_len = frame.tcp.payload_length;
  return seg;
}

size_t build_flow_segment(uint8_t* buf, size_t cap, const abi::FlowState& fs, const FrameSource& src,
                          const tcp::AckFields& hdr, bool ect, const uint8_t* tx_base,
                          const tcp::BufferSpan* spans, uint32_t payload_length) {
  wire::TcpSegmentSpec s = base_spec(fs, src);
  s.seq = hdr.seq;
  s.ack = hdr.ack;
  s.flags = hdr.flags;
  s.window = hdr.window;
  s.ecn = ect ? wire::Ecn::kEct0 : wire::Ecn::kNotEct;
  if (hdr.has_ts) {
    s.options.has_timestamps = true;
    s.options.tsval = hdr.tsval;
    s.options.tsecr = hdr.tsecr;
  }
  // SACK blocks (RFC 2018) for the out-of-order data we hold, on segments without payload
  // only: a full-sized data segment has no room for them (its MSS counted the timestamps
  // alone), and while data is out of order every arriving segment is answered by a pure ACK.
  if (payload_length == 0 && fs.rx_ooo_count != 0 && (fs.flags & abi::kFlowSackPermitted)) {
    abi::OooInterval blocks[wire::TcpOptions::kMaxSackBlocks];
    const size_t n = tcp::ooo_sack_blocks(fs, blocks, wire::TcpOptions::kMaxSackBlocks);
    for (size_t i = 0; i < n; ++i) {
      s.options.sack[i] = {blocks[i].start, blocks[i].start + blocks[i].len};
    }
    s.options.sack_count = static_cast<uint8_t>(n);  // the writer keeps those that fit
  }
  if (payload_length > 0) {
    // Copy the (possibly wrapped) payload straight to its place after the headers.
    size_t headers = wire::tcp_header_length(s);
    if (cap < headers || cap - headers < payload_length) return 0;
    uint8_t* dst = buf + headers;
    size_t copied = 0;
    for (int i = 0; i < 2 && copied < payload_length; ++i) {
      if (spans[i].len == 0) continue;
      if (spans[i].pos >= fs.tx_len || spans[i].len > fs.tx_len - spans[i].pos) return 0;
      std::memcpy(dst + copied, tx_base + spans[i].pos, spans[i].len);
      copied += spans[i].len;
    }
    if (copied != payload_length) return 0;
    s.payload = dst;
    s.payload_length = payload_length;
  }
  return wire::build_tcp_segment(buf, cap, s);
}

size_t build_flow_reset(uint8_t* buf, size_t cap, const abi::FlowState& fs, const FrameSource& src) {
  wire::TcpSegmentSpec s = base_spec(fs, src);
  s.seq = fs.tx_next_seq;
  s.ack = fs.rx_next_seq;
  s.flags = tcp::kTcpRst | tcp::kTcpAck;
  return wire::build_tcp_segment(buf, cap, s);
}

}  // namespace vtas::fastpath
