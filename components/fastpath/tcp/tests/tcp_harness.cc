#include "components/fastpath/tcp/tests/tcp_harness.h"

namespace vtas::tcp::testing {

Flow::Flow(const FlowSetup& setup) : setup_(setup), app_tx_tail_(setup.tx_start_pos) {
  rx_buf.assign(setup.rx_len, 0xEE);
  tx_buf.assign(setup.tx_len, 0xDD);
  fs.flags = abi::kFlowActive | setup.extra_flags;
  fs.rx_len = setup.rx_len;
  fs.tx_len = setup.tx_len;
  fs.mss = setup.mss;
  fs.snd_wscale = setup.snd_wscale;
  fs.rcv_wscale = setup.rcv_wscale;
  fs.rx_avail = setup.rx_len;
  fs.rx_next_pos = setup.rx_start_pos;
  fs.rx_next_seq = setup.remote_isn;
  fs.tx_next_pos = setup.tx_start_pos;
  fs.tx_next_seq = setup.local_isn;
  fs.rx_remote_avail = uint32_t{setup.peer_window} << setup.snd_wscale;
  fs.snd_wl1 = setup.remote_isn - 1;  // the peer's SYN
  fs.snd_wl2 = setup.local_isn;
  uint32_t units = setup.rx_len >> setup.rcv_wscale;
  if (units > 0xFFFF) units = 0xFFFF;
  fs.rx_adv_right = setup.remote_isn + (units << setup.rcv_wscale);
  fs.ts_recent = setup.ts_recent;
  fs.tx_rate_kbps = setup.tx_rate_kbps;
  check();
}

PeerSegment Flow::peer(uint32_t offset) const {
  PeerSegment p;
  p.seq(rseq(offset)).ack(snd_una(fs)).flags(kTcpAck).window(setup_.peer_window);
  return p;
}

RxOutcome Flow::recv(const PeerSegment& seg) {
  RxOutcome out = receive(fs, seg.segment(), now, RxBuffer{rx_buf.data(), fs.rx_len});
  // The harness models a caller that does not delay ACKs: a delayable ACK is sent at once,
  // with the fields the fast path would take (pure_ack) at that moment.
  if (out.send_ack && out.ack_delayable) out.ack = pure_ack(fs, now);
  if (out.app_rx_bump != 0) {
    EXPECT_LT(out.app_rx_pos, fs.rx_len);
    EXPECT_LE(out.app_rx_bump, fs.rx_len);
    for (uint32_t i = 0; i < out.app_rx_bump; ++i) {
      delivered.push_back(static_cast<char>(rx_buf[(out.app_rx_pos + i) % fs.rx_len]));
    }
  }
  check();
  return out;
}

RxOutcome Flow::recv_ack(uint32_t local_offset, uint16_t window) {
  return recv(peer(fs.rx_next_seq - setup_.remote_isn).ack(lseq(local_offset)).window(window));
}

BumpOutcome Flow::bump(uint32_t rx_bump, uint32_t tx_bump, uint8_t flags) {
  abi::AtxEntry e{};
  e.type = kAtxTypeBump;
  e.flags = flags;
  e.bump_seq = static_cast<uint16_t>(app_bump_seq + 1);
  e.rx_bump = rx_bump;
  e.tx_bump = tx_bump;
  BumpOutcome out = app_bump(fs, e);
  if (out.accepted()) app_bump_seq = e.bump_seq;
  check();
  return out;
}

BumpOutcome Flow::app_write(std::string_view data, bool close) {
  // The app writes into its free tx space first, then bumps (bytes past the free space are
  // not written: the bump will be rejected).
  uint32_t free_space = fs.tx_len - fs.tx_avail - fs.tx_sent;
  uint32_t pos = app_tx_tail_;
  for (size_t i = 0; i < data.size() && i < free_space; ++i) {
    tx_buf[pos] = static_cast<uint8_t>(data[i]);
    pos = pos + 1 == fs.tx_len ? 0 : pos + 1;
  }
  BumpOutcome out =
      bump(0, static_cast<uint32_t>(data.size()), close ? abi::kAtxTxFin : uint8_t{0});
  if (out.accepted()) app_tx_tail_ = pos;
  return out;
}

TxSegment Flow::send() {
  TxSegment seg = next_segment(fs, now);
  if (seg.valid) {
    EXPECT_EQ(seg.len, seg.payload[0].len + seg.payload[1].len);
    EXPECT_LE(uint64_t{seg.payload[0].pos} + seg.payload[0].len, fs.tx_len);
    EXPECT_LE(seg.payload[1].len, fs.tx_len);
  }
  check();
  return seg;
}

std::string Flow::payload(const TxSegment& seg) const {
  std::string out;
  for (const BufferSpan& span : seg.payload) {
    for (uint32_t i = 0; i < span.len; ++i) out.push_back(static_cast<char>(tx_buf[span.pos + i]));
  }
  return out;
}

void Flow::check() const {
  if (const char* violation = invariant_violation(fs)) ADD_FAILURE() << violation;
}

}  // namespace vtas::tcp::testing
