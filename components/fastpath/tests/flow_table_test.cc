#include "components/fastpath/flow_table.h"

#include <gtest/gtest.h>
#include <arpa/inet.h>

#include <random>
#include <algorithm>
#include <set>

#include "runtime/shm/abi.h"

namespace vtas::fastpath {
namespace {

struct TableFixture {
  explicit TableFixture(uint32_t max_flows)
      : region(std::move(*shm::Region::create_memfd("flow-test", FlowTable::region_bytes(max_flows), false))),
        table(*FlowTable::create(region, max_flows)) {}
  shm::Region region;
  FlowTable table;
};

FlowKey key(uint32_t i) {
  return FlowKey{htonl(0x0a000001), htonl(0x0a000002 + (i >> 16)), htons(80),
                 htons(static_cast<uint16_t>(i))};
}

// Installs `k` under a fresh id the way the control thread does: identity, active, publish.
uint32_t install(FlowTable& t, const FlowKey& k) {
  uint32_t id = *t.allocate_id();
  abi::FlowState& fs = *t.flow(id);
  fs.local_ip = k.local_ip;
  fs.remote_ip = k.remote_ip;
  fs.local_port = k.local_port;
  fs.remote_port = k.remote_port;
  fs.flags = abi::kFlowActive;
  EXPECT_TRUE(t.publish(id, flow_hash(k)));
  return id;
}

TEST(FlowTable, InstalledFlowsAreFoundAndOthersAreNot) {
  TableFixture f(1024);
  std::vector<uint32_t> ids;
  for (uint32_t i = 0; i < 1000; ++i) ids.push_back(install(f.table, key(i)));
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 0u), 0);
  for (uint32_t i = 0; i < 1000; ++i) EXPECT_EQ(f.table.lookup(key(i), flow_hash(key(i))), ids[i]);
  FlowKey absent = key(5000);
  EXPECT_EQ(f.table.lookup(absent, flow_hash(absent)), -1);
  EXPECT_EQ(f.table.flows_in_use(), 1000u);
  EXPECT_FALSE(f.table.allocate_id().has_value() && f.table.flows_in_use() > 1024);
}

TEST(FlowTable, UnpublishedFlowIsGoneAndIdIsReused) {
  TableFixture f(16);
  uint32_t id = install(f.table, key(1));
  f.table.unpublish(id, flow_hash(key(1)));
  EXPECT_EQ(f.table.lookup(key(1), flow_hash(key(1))), -1);
  f.table.flow(id)->flags = 0;
  f.table.release_id(id);
  std::set<uint32_t> ids;
  for (int i = 0; i < 15; ++i) ids.insert(*f.table.allocate_id());  // ids 1..15: 0 is reserved
  EXPECT_TRUE(ids.count(id));
  EXPECT_FALSE(ids.count(0));
  EXPECT_FALSE(f.table.allocate_id().has_value());
}

TEST(FlowTable, SignatureCollisionIsResolvedByTheKey) {
  TableFixture f(64);
  uint32_t a = install(f.table, key(1));
  // A second flow published under the same signature (as a hash collision would) must not be
  // confused with the first: lookups compare the 4-tuple.
  uint32_t b = *f.table.allocate_id();
  abi::FlowState& fs = *f.table.flow(b);
  FlowKey kb = key(2);
  fs.local_ip = kb.local_ip;
  fs.remote_ip = kb.remote_ip;
  fs.local_port = kb.local_port;
  fs.remote_port = kb.remote_port;
  ASSERT_TRUE(f.table.publish(b, flow_hash(key(1))));
  EXPECT_EQ(f.table.lookup(key(1), flow_hash(key(1))), a);
  EXPECT_EQ(f.table.lookup(kb, flow_hash(key(1))), b);
}

TEST(FlowTable, AttachSeesTheSameTableAndRejectsGarbage) {
  TableFixture f(128);
  uint32_t id = install(f.table, key(7));
  auto other = FlowTable::attach(f.region);
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_EQ(other->lookup(key(7), flow_hash(key(7))), id);
  EXPECT_EQ(other->flows_in_use(), 1u);  // the free list is rebuilt from the active flags
  f.table.header()->hash_offset += 64;   // a header that contradicts itself
  auto broken = FlowTable::attach(f.region);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("offsets"), std::string::npos);
}

TEST(FlowTable, HashIsStableAndSpreads) {
  std::set<uint32_t> buckets;
  for (uint32_t i = 0; i < 4096; ++i) buckets.insert(flow_hash(key(i)) & 1023);
  EXPECT_GT(buckets.size(), 900u);
  EXPECT_EQ(flow_hash(key(42)), flow_hash(key(42)));
}

}  // namespace
}  // namespace vtas::fastpath
