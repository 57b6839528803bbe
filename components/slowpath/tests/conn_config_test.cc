#include "components/slowpath/conn_config.h"

#include <gtest/gtest.h>

namespace vtas::conn {
namespace {

TEST(ConnConfigFromManifest, TakesAddressTcpParametersAndRuntimeDir) {
  manifest::Manifest m;
  m.set_instance("demo");
  m.set_runtime_dir("/tmp/vtas-demo");
  m.mutable_network()->set_ip_addr("10.77.0.1/24");
  m.mutable_tas()->set_tcp_rxbuf_len(1 << 20);
  m.mutable_tas()->set_tcp_txbuf_len(65536);
  m.mutable_tas()->set_tcp_handshake_timeout(20000);
  m.mutable_tas()->set_tcp_handshake_retries(4);
  m.mutable_tas()->set_arp_timeout_max(2000000);
  auto c = config_from_manifest(m, "conn");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->local_ip, 0x0a4d0001u);
  EXPECT_EQ(c->rx_buffer, 1u << 20);
  EXPECT_EQ(c->tx_buffer, 65536u);
  EXPECT_EQ(c->handshake_timeout_us, 20000u);
  EXPECT_EQ(c->handshake_retries, 4u);
  EXPECT_EQ(c->arp_request_timeout, std::chrono::seconds(3));
  EXPECT_EQ(c->registry_path, "/tmp/vtas-demo/conn.registry");
  EXPECT_EQ(c->peers.fastpath, "fastpath");
  EXPECT_EQ(c->peers.arp, "arp");
  EXPECT_EQ(c->peers.timer, "timer");
}

TEST(ConnConfigFromManifest, DefaultsFollowTas) {
  manifest::Manifest m;
  auto c = config_from_manifest(m, "conn2");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->local_ip, 0u);
  EXPECT_EQ(c->rx_buffer, 8192u);
  EXPECT_EQ(c->handshake_timeout_us, 10000u);
  EXPECT_EQ(c->handshake_retries, 10u);
  EXPECT_EQ(c->mss, 1460);
  EXPECT_EQ(c->ephemeral_ports.first, 32768);
  EXPECT_EQ(c->ephemeral_ports.last, 60999);
  EXPECT_EQ(c->time_wait, std::chrono::seconds(60));
  EXPECT_EQ(c->registry_path, "/run/vtas/vtas/conn2.registry");
}

TEST(ConnConfigFromManifest, BadAddressIsAnError) {
  manifest::Manifest m;
  m.mutable_network()->set_ip_addr("10.0.0.300");
  auto c = config_from_manifest(m, "conn");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("network.ip_addr"), std::string::npos);
}

TEST(ConnConfig, WindowScaleFitsTheBufferInto16Bits) {
  ConnConfig c;
  c.rx_buffer = 8192;
  EXPECT_EQ(c.receive_window_scale(), 0);
  EXPECT_EQ(c.syn_window(), 8192);
  c.rx_buffer = 65535;
  EXPECT_EQ(c.receive_window_scale(), 0);
  c.rx_buffer = 65536;
  EXPECT_EQ(c.receive_window_scale(), 1);
  EXPECT_EQ(c.syn_window(), 65535);
  c.rx_buffer = 262144;
  EXPECT_EQ(c.receive_window_scale(), 3);
  c.rx_buffer = 1u << 30;
  EXPECT_EQ(c.receive_window_scale(), 14);
}

TEST(ConnConfig, ValidateNamesTheBadField) {
  ConnConfig c;
  c.registry_path = "/tmp/x";
  EXPECT_TRUE(validate(c));
  ConnConfig bad = c;
  bad.mss = 10;
  Status s = validate(bad);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("mss = 10"), std::string::npos);
  bad = c;
  bad.handshake_retries = 1000;
  EXPECT_FALSE(validate(bad));
  bad = c;
  bad.ephemeral_ports = {100, 50};
  EXPECT_FALSE(validate(bad));
  bad = c;
  bad.registry_path.clear();
  EXPECT_FALSE(validate(bad));
  bad = c;
  bad.registry_capacity.conns = 0;
  EXPECT_FALSE(validate(bad));
}

}  // namespace
}  // namespace vtas::conn
