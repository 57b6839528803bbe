#include "components/slowpath/request_log.h"

#include <gtest/gtest.h>

namespace vtas::conn {
namespace {

RequestLogRecord rec(uint32_t app, uint32_t request_id, uint64_t order) {
  RequestLogRecord r{};
  r.app_id = app;
  r.request_id = request_id;
  r.order = order;
  return r;
}

TEST(RequestLog, FindsByAppContextAndRequestId) {
  RequestLog log(8);
  log.add(rec(1, 10, 1), 0);
  EXPECT_NE(log.find({1, 0, 10}), nullptr);
  EXPECT_EQ(log.find({1, 1, 10}), nullptr);
  EXPECT_EQ(log.find({2, 0, 10}), nullptr);
  EXPECT_EQ(log.find({1, 0, 11}), nullptr);
}

TEST(RequestLog, EvictsTheOldestEvenWhenRestoredOutOfOrder) {
  RequestLog log(3);
  log.add(rec(1, 3, 30), 2);
  log.add(rec(1, 1, 10), 0);
  log.add(rec(1, 2, 20), 1);
  EXPECT_TRUE(log.full());
  auto oldest = log.evict_oldest();
  ASSERT_TRUE(oldest);
  EXPECT_EQ(oldest->record.request_id, 1u);
  EXPECT_EQ(oldest->slot, 0u);
  EXPECT_EQ(log.size(), 2u);
  EXPECT_EQ(log.evict_oldest()->record.request_id, 2u);
}

TEST(RequestLog, RemoveAppDropsOnlyItsEntries) {
  RequestLog log(8);
  log.add(rec(1, 1, 1), 0);
  log.add(rec(2, 1, 2), 1);
  log.add(rec(1, 2, 3), 2);
  EXPECT_EQ(log.remove_app(1).size(), 2u);
  EXPECT_EQ(log.size(), 1u);
  auto left = log.evict_oldest();  // skips the stale order entries of app 1
  ASSERT_TRUE(left);
  EXPECT_EQ(left->record.app_id, 2u);
  EXPECT_FALSE(log.evict_oldest());
}

TEST(RequestLog, ReAddingAKeyReplacesIt) {
  RequestLog log(8);
  log.add(rec(1, 1, 1), 0);
  RequestLogRecord updated = rec(1, 1, 5);
  updated.answered = 1;
  log.add(updated, 0);
  EXPECT_EQ(log.size(), 1u);
  EXPECT_EQ(log.find({1, 0, 1})->record.answered, 1);
  EXPECT_EQ(log.evict_oldest()->record.order, 5u);
  EXPECT_FALSE(log.evict_oldest());
}

}  // namespace
}  // namespace vtas::conn
