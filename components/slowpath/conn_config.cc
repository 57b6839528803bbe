#include "components/slowpath/conn_config.h"

#include <algorithm>

#include "runtime/directory.h"
#include "runtime/manifest/ipv4.h"

namespace vtas::conn {

uint8_t ConnConfig::receive_window_scale() const {
  uint8_t shift = 0;
  while (shift < 14 && (rx_buffer >> shift) > 0xffff) ++shift;
  return shift;
}

uint16_t ConnConfig::syn_window() const {
  return static_cast<uint16_t>(std::min<uint32_t>(rx_buffer, 0xffff));
}

namespace {
Error out_of_range(const std::string& field, uint64_t value, const std::string& allowed) {
  return make_error("conn: " + field + " = " + std::to_string(value) + " is out of range (" +
                    allowed + ")");
}
}  // namespace

Status validate(const ConnConfig& c) {
  if (c.mss < 64 || c.mss > 65495) return out_of_range("mss", c.mss, "64..65495");
  if (c.min_send_mss < 1 || c.min_send_mss > c.mss) {
    return out_of_range("min_send_mss", c.min_send_mss, "1..mss");
  }
  if (c.rx_buffer < 1024 || c.rx_buffer > (1u << 30)) {
    return out_of_range("rx buffer (tas.tcp_rxbuf_len)", c.rx_buffer, "1024..2^30");
  }
  if (c.tx_buffer < 1024 || c.tx_buffer > (1u << 30)) {
    return out_of_range("tx buffer (tas.tcp_txbuf_len)", c.tx_buffer, "1024..2^30");
  }
  if (c.handshake_timeout_us == 0 || c.handshake_timeout_us > c.handshake_timeout_max_us) {
    return out_of_range("handshake timeout (tas.tcp_handshake_timeout, us)", c.handshake_timeout_us,
                        "1..handshake_timeout_max_us");
  }
  if (c.handshake_retries > 100) {
    return out_of_range("handshake retries (tas.tcp_handshake_retries)", c.handshake_retries,
                        "0..100");
  }
  Status ports = check_port_range(c.ephemeral_ports);
  if (!ports) return ports;
  if (c.backlog_max == 0) return out_of_range("backlog_max", 0, ">= 1");
  if (c.syn_queue_limit == 0) return out_of_range("syn_queue_limit", 0, ">= 1");
  if (c.max_reuseport_group == 0) return out_of_range("max_reuseport_group", 0, ">= 1");
  if (c.install_attempts == 0) return out_of_range("install_attempts", 0, ">= 1");
  if (c.registry_path.empty()) {
    return make_error("conn: no registry path (it belongs under the runtime directory)");
  }
  return check_capacity(c.registry_capacity);
}

Result<ConnConfig> config_from_manifest(const manifest::Manifest& manifest,
                                        const std::string& actor_name) {
  ConnConfig c;
  if (manifest.has_network() && manifest.network().has_ip_addr() &&
      !manifest.network().ip_addr().empty()) {
    auto prefix = parse_local_address(manifest.network().ip_addr());
    if (!prefix) return make_error("conn: network.ip_addr: " + prefix.error().message);
    c.local_ip = prefix->address;
  }
  const auto& tas = manifest.tas();
  c.rx_buffer = static_cast<uint32_t>(std::min<uint64_t>(tas.tcp_rxbuf_len(), 1u << 30));
  c.tx_buffer = static_cast<uint32_t>(std::min<uint64_t>(tas.tcp_txbuf_len(), 1u << 30));
  c.handshake_timeout_us = tas.tcp_handshake_timeout();
  c.handshake_retries = tas.tcp_handshake_retries();
  c.handshake_timeout_max_us = std::max(c.handshake_timeout_max_us, c.handshake_timeout_us);
  // arp gives up after its own doubling reaches arp_timeout_max; wait a little longer.
  c.arp_request_timeout =
      std::chrono::microseconds(tas.arp_timeout_max()) + std::chrono::seconds(1);
  c.registry_path = runtime_dir_of(manifest) + "/" + actor_name + ".registry";
  Status ok = validate(c);
  if (!ok) return ok.error();
  return c;
}

}  // namespace vtas::conn
