// CcFixture: a vtas instance with the `cc` actor (fastpath, arp, timer, conn, cc) on a
// RelayNetwork, a goodput sink on the Linux side and bulk senders on vtas (vtas_ll_tool), for
// the congestion-control end-to-end tests. Goodput is measured at the receiver from the sink's
// periodic per-connection byte counts.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/cc_e2e/relay_network.h"
#include "tests/integration/instance.h"

namespace vtas::testing {

class CcFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts the relay with `relay_options`, then vtas with `tas` inside its manifest's tas { }.
  void start(const std::vector<std::string>& relay_options, const std::string& tas);
  // The goodput sink on the peer (port 9000), reporting every 100 ms; waits until it listens.
  void start_sink();
  // `conns` connections from vtas to the sink, each sending until the test ends; waits until
  // cc controls that many flows.
  void start_senders(int conns);

  // Goodput per connection (accept order) in Mbit/s over [from_us, to_us] (CLOCK_MONOTONIC).
  std::vector<double> goodput_mbps(uint64_t from_us, uint64_t to_us) const;
  // Lets `seconds` pass and returns each connection's goodput over that time.
  std::vector<double> measure(double seconds);

  // `vtasctl call cc <message> '<text>'`; fails the test if vtasctl fails.
  std::string call_cc(const std::string& message, const std::string& text);
  // The `rate_kbps` of every flow cc_flow_query lists.
  std::vector<uint64_t> cc_rates();
  // A counter of the cc actor from `vtasctl stats` (-1 if absent).
  int64_t cc_counter(const std::string& name);

  std::unique_ptr<RelayNetwork> net_;
  std::unique_ptr<Instance> vtas_;
  std::string dir_;
  std::vector<pid_t> senders_;
};

// Jain's fairness index: (sum x)^2 / (n * sum x^2); 1 = perfectly fair.
double jain_index(const std::vector<double>& x);
// Every "<key>: <number>" in protobuf text output, in order.
std::vector<uint64_t> numbers_after(const std::string& text, const std::string& key);
uint64_t monotonic_us();

}  // namespace vtas::testing
