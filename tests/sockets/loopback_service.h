// LoopbackService: a fake vtas service for unit tests of libvtas_sockets, built on libvtas's
// FakeService (clientlib/tests/fake_service.h: attach socket, app region, rings). A thread
// plays the service's part for every context of the one attached app, as a loopback TCP:
//   kListenOpen / kListenClose / kAccept    listeners with posted accepts
//   kConnOpen to a listening port           two connected flows (client, server side)
//   kConnOpen to any other port             -ECONNREFUSED
//   atx tx bumps                            bytes copied into the other side's rx buffer,
//                                           acknowledged at once (when the rx side has room)
//   atx FIN                                 the other side gets RX_FIN, ours TX_FIN_ACKED
//   kConnClose                              kConnClosed (with reset: the other side RESET)
// Tests can also reset a flow, and read counters. Addresses: the service is 10.0.0.1.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "clientlib/tests/fake_service.h"

namespace vtas::sockets::testing {

class LoopbackService {
 public:
  static constexpr uint32_t kLocalIp = 0x0a000001;  // 10.0.0.1, host order

  explicit LoopbackService(const std::string& runtime_dir,
                           client::testing::FakeServiceOptions options = {});
  ~LoopbackService();

  // Sends a RST to the app side of the connection whose local port is `port` (the first one
  // found): kArxReset then kConnClosed.
  bool reset_connection_on_port(uint16_t local_port);
  // Requests of each type seen so far (abi::AppRequestType as index).
  uint64_t requests(abi::AppRequestType type) const;
  size_t open_flows() const;

 private:
  struct Flow {
    uint32_t id = 0;
    uint32_t context = 0;
    uint64_t cookie = 0;
    uint64_t rx_buffer = 0, tx_buffer = 0;
    uint32_t rx_len = 0, tx_len = 0;
    uint32_t rx_pos = 0;      // where the next byte for the app goes
    uint32_t rx_stream = 0;   // bytes delivered to the app since open (ArxEntry::rx_stream_end)
    uint32_t rx_used = 0;     // bytes in the app's rx buffer not yet released
    uint32_t tx_pos = 0;      // next byte of the app's tx buffer to take
    uint32_t tx_pending = 0;  // bumped by the app, not yet delivered (peer rx full)
    uint16_t local_port = 0, remote_port = 0;
    uint32_t peer = 0;  // the other side's flow id (0: none)
    bool fin_pending = false, fin_done = false, closed = false;
  };
  struct Listener {
    uint32_t id = 0;
    uint32_t context = 0;
    uint64_t cookie = 0;
    uint16_t port = 0;
    std::vector<std::pair<uint32_t, uint64_t>> accepts;  // context, cookie
  };

  void run();
  void handle_request(uint32_t context, const abi::AppRequest& r);
  void handle_bump(uint32_t context, const abi::AtxEntry& b);
  void pump_flow(Flow& f);
  Flow* flow(uint32_t id);
  // An arx entry stating f's receive stream as it stands, plus tx_bump acknowledged bytes.
  void push_arx(const Flow& f, uint32_t tx_bump, uint8_t flags);
  void answer(uint32_t context, const abi::AppRequest& r, abi::AppEventType type, int16_t status);
  void connect(uint32_t context, const abi::AppRequest& r);

  std::unique_ptr<client::testing::FakeService> fake_;
  mutable std::mutex mutex_;
  std::map<uint32_t, Flow> flows_;
  std::map<uint32_t, Listener> listeners_;
  uint32_t next_id_ = 1;
  uint16_t next_port_ = 40000;
  uint64_t request_counts_[8] = {};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace vtas::sockets::testing
