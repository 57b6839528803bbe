// SynReceivedTable: bounds per listener and in total, removal singly and per listener.
#include "components/slowpath/syn_received_table.h"

#include <gtest/gtest.h>

namespace vtas::conn {
namespace {

HalfOpen entry(uint16_t port, uint32_t listener) {
  HalfOpen h;
  h.syn.syn.tuple = FourTuple{0x0a000001, 0x0a000002, 80, port};
  h.listener_id = listener;
  return h;
}

TEST(SynReceivedTable, BoundsPerListenerAndInTotal) {
  SynReceivedTable t(5);
  EXPECT_EQ(t.add(entry(1, 1), 3), SynReceivedTable::Add::kAdded);
  EXPECT_EQ(t.add(entry(2, 1), 3), SynReceivedTable::Add::kAdded);
  EXPECT_EQ(t.add(entry(3, 1), 3), SynReceivedTable::Add::kAdded);
  EXPECT_EQ(t.add(entry(4, 1), 3), SynReceivedTable::Add::kListenerFull);
  EXPECT_EQ(t.count_of(1), 3u);
  EXPECT_EQ(t.add(entry(5, 2), 3), SynReceivedTable::Add::kAdded);
  EXPECT_EQ(t.add(entry(6, 2), 3), SynReceivedTable::Add::kAdded);
  EXPECT_EQ(t.add(entry(7, 2), 3), SynReceivedTable::Add::kTableFull);
  EXPECT_EQ(t.size(), 5u);
  EXPECT_EQ(t.add(entry(8, 3), 0), SynReceivedTable::Add::kTableFull);
}

TEST(SynReceivedTable, RemoveFreesTheListenersShare) {
  SynReceivedTable t(10);
  ASSERT_EQ(t.add(entry(1, 1), 1), SynReceivedTable::Add::kAdded);
  EXPECT_EQ(t.add(entry(2, 1), 1), SynReceivedTable::Add::kListenerFull);
  ASSERT_NE(t.find(entry(1, 1).syn.syn.tuple), nullptr);
  EXPECT_TRUE(t.remove(entry(1, 1).syn.syn.tuple));
  EXPECT_FALSE(t.remove(entry(1, 1).syn.syn.tuple));
  EXPECT_EQ(t.find(entry(1, 1).syn.syn.tuple), nullptr);
  EXPECT_EQ(t.count_of(1), 0u);
  EXPECT_EQ(t.add(entry(2, 1), 1), SynReceivedTable::Add::kAdded);
}

TEST(SynReceivedTable, RemoveListenerDropsOnlyItsEntries) {
  SynReceivedTable t(10);
  t.add(entry(1, 1), 5);
  t.add(entry(2, 1), 5);
  t.add(entry(3, 2), 5);
  EXPECT_EQ(t.remove_listener(1).size(), 2u);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.count_of(1), 0u);
  EXPECT_EQ(t.count_of(2), 1u);
  EXPECT_NE(t.find(entry(3, 2).syn.syn.tuple), nullptr);
}

}  // namespace
}  // namespace vtas::conn
