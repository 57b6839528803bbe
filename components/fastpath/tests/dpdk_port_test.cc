// DpdkPort on DPDK's net_null vdev: no NIC, no hugepages, no root. net_null has many queues and
// keeps an RSS redirection table (128 entries in DPDK 22.11) that rte_eth_dev_rss_reta_query
// reads back, so the RETA a steering table programs can be checked entry by entry.
#include "components/fastpath/dpdk_port.h"

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

namespace vtas::fastpath {
namespace {

// One EAL per process (ctest runs each case in its own process). --no-huge, --no-shconf and
// no telemetry: no files and no sockets, so parallel runs can share the (empty) runtime
// directory of one fixed prefix. Closing a DpdkPort releases its ethdev, so every case opens
// a vdev of its own.
class DpdkEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    Status s = init_dpdk_eal({"dpdk_port_test", "-l", "0", "--no-huge", "-m", "256", "--no-shconf",
                              "--no-telemetry", "--no-pci", "--file-prefix=vtas-dpdk-port-test",
                              "--log-level=lib.eal:warning", "--vdev=net_null_two",
                              "--vdev=net_null_four", "--vdev=net_null_fewer"});
    ASSERT_TRUE(s) << s.error().message;
  }
  void TearDown() override {
    std::string runtime_dir = ::rte_eal_get_runtime_dir();
    cleanup_dpdk_eal();
    ::rmdir(runtime_dir.c_str());  // left empty by --no-shconf; another run may still use it
  }
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new DpdkEnvironment);

std::unique_ptr<DpdkPort> open_null(const std::string& device, uint16_t queues) {
  DpdkPortConfig config;
  config.device = device;
  config.queues = queues;
  config.rx_descriptors = 128;
  config.tx_descriptors = 128;
  config.mbufs_per_queue = 512;
  config.rx_interrupts = false;
  auto port = DpdkPort::open(config);
  EXPECT_TRUE(port) << port.error().message;
  return port ? std::move(*port) : nullptr;
}

// What the device's RETA holds now, entry by entry.
std::vector<uint16_t> query_reta(const std::string& device, uint16_t reta_size) {
  uint16_t port_id = 0;
  EXPECT_EQ(::rte_eth_dev_get_port_by_name(device.c_str(), &port_id), 0);
  std::vector<rte_eth_rss_reta_entry64> reta((reta_size + RTE_ETH_RETA_GROUP_SIZE - 1) /
                                             RTE_ETH_RETA_GROUP_SIZE);
  for (auto& block : reta) block.mask = ~0ull;
  EXPECT_EQ(::rte_eth_dev_rss_reta_query(port_id, reta.data(), reta_size), 0);
  std::vector<uint16_t> entries(reta_size);
  for (uint16_t e = 0; e < reta_size; ++e) {
    entries[e] = reta[e / RTE_ETH_RETA_GROUP_SIZE].reta[e % RTE_ETH_RETA_GROUP_SIZE];
  }
  return entries;
}

// Programs the steering table of `active` cores and checks that the NIC sends every frame
// where the fast path expects its group's owner: entry e to the queue of group e % kFlowGroups,
// and every group (all hashes h with h % kFlowGroups == g) through entry g % reta_size to the
// queue of its own core (or, for a core without a queue, to the queue that hands it over).
void expect_reta_follows(DpdkPort& port, uint32_t active) {
  const PortCapabilities& caps = port.capabilities();
  GroupCores cores = spread_groups(active, caps.reta_size);
  ASSERT_TRUE(port.program_reta(cores)) << active << " active";
  std::vector<uint16_t> reta = query_reta(port.name(), caps.reta_size);
  for (uint32_t e = 0; e < caps.reta_size; ++e) {
    ASSERT_EQ(reta[e], cores[e % abi::kFlowGroups] % caps.queues)
        << "entry " << e << ", " << active << " active";
    ASSERT_LT(reta[e], caps.queues);
  }
  for (uint32_t g = 0; g < abi::kFlowGroups; ++g) {
    ASSERT_EQ(reta[g % caps.reta_size], cores[g] % caps.queues)
        << "group " << g << ", " << active << " active";
  }
}

TEST(DpdkPortReta, TwoQueuesFollowTwoCoresThenOne) {
  auto port = open_null("net_null_two", 2);
  ASSERT_TRUE(port);
  const PortCapabilities& caps = port->capabilities();
  EXPECT_EQ(caps.queues, 2);
  EXPECT_TRUE(caps.rss);
  ASSERT_GT(caps.reta_size, 0);
  ASSERT_TRUE(reta_follows_groups(caps.reta_size)) << caps.reta_size;

  expect_reta_follows(*port, 2);
  std::vector<uint16_t> reta = query_reta("net_null_two", caps.reta_size);
  EXPECT_EQ(std::count(reta.begin(), reta.end(), 0), caps.reta_size / 2);

  expect_reta_follows(*port, 1);
  reta = query_reta("net_null_two", caps.reta_size);
  EXPECT_EQ(std::count(reta.begin(), reta.end(), 0), caps.reta_size);
}

TEST(DpdkPortReta, FourQueuesFollowEveryScale) {
  auto port = open_null("net_null_four", 4);
  ASSERT_TRUE(port);
  ASSERT_EQ(port->capabilities().queues, 4);
  ASSERT_TRUE(port->capabilities().rss);
  // 3 of 4 is the case where a RETA smaller than kFlowGroups needs congruent groups on one core.
  for (uint32_t active : {4u, 3u, 2u, 1u, 4u}) expect_reta_follows(*port, active);
}

TEST(DpdkPortReta, CoresWithoutAQueueAreNotWrittenToTheReta) {
  auto port = open_null("net_null_fewer", 2);
  ASSERT_TRUE(port);
  ASSERT_EQ(port->capabilities().queues, 2);
  // Four cores on two queues: cores 2 and 3 poll nothing, their entries go to queues 0 and 1.
  expect_reta_follows(*port, 4);
}

}  // namespace
}  // namespace vtas::fastpath
