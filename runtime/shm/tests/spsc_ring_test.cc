// SpscRing in one process: layout, attach checks, full/empty/burst, wrap-around of the free
// running indices, corruption written "by the other side", and the sleep flag handshake.
#include "runtime/shm/spsc_ring.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "runtime/shm/region.h"
#include "runtime/shm/tests/shm_test_helpers.h"

namespace vtas::shm {
namespace {

using testing::CheckedEntry;
using testing::Contains;
using testing::entry_is_intact;
using testing::make_entry;

// A ring placed in the middle of a memfd, with canary bytes on both sides to prove that nothing
// (not even garbage indices) makes the ring touch memory outside its own bytes.
class RingFixture : public ::testing::Test {
 protected:
  static constexpr size_t kGuard = 4096;
  static constexpr unsigned char kCanary = 0xC5;

  void make_ring(uint32_t capacity, uint32_t first_index = 0) {
    capacity_ = capacity;
    auto r = Region::create_memfd("ring-test", kGuard + ring_bytes(capacity) + kGuard, false);
    ASSERT_TRUE(r) << r.error().message;
    region_ = std::make_unique<Region>(std::move(r.value()));
    std::memset(region_->base(), kCanary, region_->size());
    mem_ = static_cast<char*>(region_->base()) + kGuard;
    Status s = ring_init(mem_, ring_bytes(capacity), capacity, first_index);
    ASSERT_TRUE(s) << s.error().message;
  }

  RingProducer<CheckedEntry> producer() {
    auto p = RingProducer<CheckedEntry>::attach(mem_, ring_bytes(capacity_), capacity_, "test.tx");
    EXPECT_TRUE(p) << p.error().message;
    return std::move(p.value());
  }
  RingConsumer<CheckedEntry> consumer() {
    auto c = RingConsumer<CheckedEntry>::attach(mem_, ring_bytes(capacity_), capacity_, "test.tx");
    EXPECT_TRUE(c) << c.error().message;
    return std::move(c.value());
  }

  // What the other process sees and may scribble on.
  RingHeader& header() { return *reinterpret_cast<RingHeader*>(mem_); }
  uint32_t& shared_head() {
    return reinterpret_cast<RingProducerLine*>(mem_ + kRingProducerOffset)->head;
  }
  uint32_t& shared_tail() {
    return reinterpret_cast<RingConsumerLine*>(mem_ + kRingConsumerOffset)->tail;
  }
  uint64_t& shared_sleeping() {
    return reinterpret_cast<RingConsumerLine*>(mem_ + kRingConsumerOffset)->consumer_sleeping;
  }
  uint64_t& shared_woken_ticket() {
    return reinterpret_cast<RingProducerLine*>(mem_ + kRingProducerOffset)->woken_ticket;
  }

  void expect_canaries_intact() {
    auto* base = static_cast<unsigned char*>(region_->base());
    const size_t after = kGuard + ring_bytes(capacity_);
    for (size_t i = 0; i < kGuard; ++i) {
      ASSERT_EQ(base[i], kCanary) << "byte " << i << " before the ring was written";
    }
    for (size_t i = after; i < region_->size(); ++i) {
      ASSERT_EQ(base[i], kCanary) << "byte " << i - after << " after the ring was written";
    }
  }

  std::unique_ptr<Region> region_;
  char* mem_ = nullptr;
  uint32_t capacity_ = 0;
};

TEST_F(RingFixture, InitLaysOutTheDocumentedAbi) {
  make_ring(16, 5);
  EXPECT_EQ(header().magic, kRingMagic);
  EXPECT_EQ(std::memcmp(mem_, "VTASRING", 8), 0);
  EXPECT_EQ(header().layout_version, kRingLayoutVersion);
  EXPECT_EQ(header().entry_size, 64u);
  EXPECT_EQ(header().capacity, 16u);
  EXPECT_EQ(shared_head(), 5u);
  EXPECT_EQ(shared_tail(), 5u);
  EXPECT_EQ(shared_sleeping(), 0u);
  EXPECT_EQ(ring_bytes(16), 192u + 16u * 64u);
  expect_canaries_intact();
}

TEST_F(RingFixture, InitRejectsBadCapacitiesMemoryAndSizes) {
  make_ring(16);
  for (uint32_t bad : {0u, 3u, 100u, 1u << 31, UINT32_MAX}) {
    Status s = ring_init(mem_, ring_bytes(16), bad);
    ASSERT_FALSE(s) << bad;
    EXPECT_TRUE(Contains(s.error().message, std::to_string(bad)));
    EXPECT_TRUE(Contains(s.error().message, "power of two"));
  }
  Status small = ring_init(mem_, ring_bytes(16) - 1, 16);
  ASSERT_FALSE(small);
  EXPECT_TRUE(Contains(small.error().message, std::to_string(ring_bytes(16))));
  Status misaligned = ring_init(mem_ + 8, ring_bytes(16), 16);
  ASSERT_FALSE(misaligned);
  EXPECT_TRUE(Contains(misaligned.error().message, "64-byte aligned"));
  EXPECT_FALSE(ring_init(nullptr, ring_bytes(16), 16));
  expect_canaries_intact();
}

TEST_F(RingFixture, AttachChecksMagicVersionEntrySizeCapacityAndRoom) {
  make_ring(16);
  using Consumer = RingConsumer<CheckedEntry>;
  using Producer = RingProducer<CheckedEntry>;

  auto wrong_capacity = Consumer::attach(mem_, ring_bytes(32), 32, "app7.rx");
  ASSERT_FALSE(wrong_capacity);
  EXPECT_TRUE(Contains(wrong_capacity.error().message, "app7.rx"));
  EXPECT_TRUE(Contains(wrong_capacity.error().message, "capacity 16"));
  EXPECT_TRUE(Contains(wrong_capacity.error().message, "expects 32"));

  auto too_small = Producer::attach(mem_, ring_bytes(16) - 64, 16, "app7.rx");
  ASSERT_FALSE(too_small);
  EXPECT_TRUE(Contains(too_small.error().message, "bytes available"));

  header().entry_size = 128;
  auto wrong_entry = Producer::attach(mem_, ring_bytes(16), 16, "app7.rx");
  ASSERT_FALSE(wrong_entry);
  EXPECT_TRUE(Contains(wrong_entry.error().message, "entry size 128"));
  header().entry_size = 64;

  header().layout_version = 99;
  auto wrong_version = Consumer::attach(mem_, ring_bytes(16), 16, "app7.rx");
  ASSERT_FALSE(wrong_version);
  EXPECT_TRUE(Contains(wrong_version.error().message, "version 99"));
  EXPECT_TRUE(Contains(wrong_version.error().message, "restart"));
  header().layout_version = kRingLayoutVersion;

  header().magic = 0;
  auto no_magic = Producer::attach(mem_, ring_bytes(16), 16, "app7.rx");
  ASSERT_FALSE(no_magic);
  EXPECT_TRUE(Contains(no_magic.error().message, "not an initialised vtas ring"));
  header().magic = kRingMagic;

  shared_head() = shared_tail() + 17;
  auto bad_indices = Consumer::attach(mem_, ring_bytes(16), 16, "app7.rx");
  ASSERT_FALSE(bad_indices);
  EXPECT_TRUE(Contains(bad_indices.error().message, "corrupted"));
  shared_head() = shared_tail();

  EXPECT_TRUE(Producer::attach(mem_, ring_bytes(16), 16, "app7.rx"));
  EXPECT_TRUE(Consumer::attach(mem_, ring_bytes(16), 16, "app7.rx"));
}

TEST_F(RingFixture, FillsUpExactlyToCapacityAndDrainsInOrder) {
  make_ring(8);
  auto tx = producer();
  auto rx = consumer();
  CheckedEntry out{};
  EXPECT_FALSE(rx.try_pop(out));
  EXPECT_EQ(tx.free_slots(), 8u);
  for (uint64_t i = 0; i < 8; ++i) ASSERT_TRUE(tx.try_push(make_entry(i))) << i;
  EXPECT_FALSE(tx.try_push(make_entry(8))) << "full";
  EXPECT_EQ(tx.free_slots(), 0u);
  EXPECT_EQ(rx.available(), 8u);
  for (uint64_t i = 0; i < 8; ++i) {
    ASSERT_TRUE(rx.try_pop(out)) << i;
    EXPECT_TRUE(entry_is_intact(out, i)) << i;
  }
  EXPECT_FALSE(rx.try_pop(out)) << "empty";
  EXPECT_EQ(tx.free_slots(), 8u);
  EXPECT_FALSE(tx.corrupted());
  EXPECT_FALSE(rx.corrupted());
  EXPECT_EQ(rx.error(), "");
  expect_canaries_intact();
}

TEST_F(RingFixture, BurstsArePartialWhenTheRingIsShort) {
  make_ring(64);
  auto tx = producer();
  auto rx = consumer();
  std::vector<CheckedEntry> in(100);
  for (uint64_t i = 0; i < in.size(); ++i) in[i] = make_entry(i);
  std::vector<CheckedEntry> out(100);

  EXPECT_EQ(tx.push_burst(in.data(), 100), 64u);
  EXPECT_EQ(tx.push_burst(in.data() + 64, 36), 0u);
  EXPECT_EQ(rx.pop_burst(out.data(), 10), 10u);
  EXPECT_EQ(tx.push_burst(in.data() + 64, 36), 10u);
  EXPECT_EQ(rx.pop_burst(out.data() + 10, 90), 64u);
  EXPECT_EQ(rx.pop_burst(out.data(), 1), 0u);
  EXPECT_EQ(tx.push_burst(in.data(), 0), 0u);
  for (uint64_t i = 0; i < 74; ++i) EXPECT_TRUE(entry_is_intact(out[i], i)) << i;
  expect_canaries_intact();
}

TEST_F(RingFixture, IndicesWrapAroundUint32WithoutAHitch) {
  const uint32_t first = UINT32_MAX - 40;
  make_ring(32, first);
  auto tx = producer();
  auto rx = consumer();
  std::vector<CheckedEntry> batch(32);
  uint64_t pushed = 0;
  uint64_t popped = 0;
  // Uneven burst sizes so the wrap happens in the middle of a burst, a few times over.
  for (int round = 0; round < 200; ++round) {
    const uint32_t want = 1 + static_cast<uint32_t>(round * 7) % 31;
    for (uint32_t i = 0; i < want; ++i) batch[i] = make_entry(pushed + i);
    pushed += tx.push_burst(batch.data(), want);
    const uint32_t take = 1 + static_cast<uint32_t>(round * 5) % 29;
    const uint32_t got = rx.pop_burst(batch.data(), take);
    for (uint32_t i = 0; i < got; ++i) {
      ASSERT_TRUE(entry_is_intact(batch[i], popped + i)) << "entry " << popped + i;
    }
    popped += got;
  }
  CheckedEntry out{};
  while (rx.try_pop(out)) {
    ASSERT_TRUE(entry_is_intact(out, popped)) << popped;
    ++popped;
  }
  EXPECT_EQ(popped, pushed);
  EXPECT_GT(pushed, 41u + 32u) << "the test must cross UINT32_MAX";
  EXPECT_EQ(shared_head(), static_cast<uint32_t>(first + pushed));
  EXPECT_EQ(shared_tail(), static_cast<uint32_t>(first + popped));
  EXPECT_LT(shared_head(), first) << "head has wrapped past zero";
  EXPECT_FALSE(tx.corrupted());
  EXPECT_FALSE(rx.corrupted());
  expect_canaries_intact();
}

TEST_F(RingFixture, ProducerNeverReadsBackItsOwnHead) {
  make_ring(16);
  auto tx = producer();
  ASSERT_TRUE(tx.try_push(make_entry(0)));
  shared_head() = 123456;  // someone else scribbles on the producer's line
  ASSERT_TRUE(tx.try_push(make_entry(1)));
  EXPECT_EQ(shared_head(), 2u) << "the producer publishes its private index";
  EXPECT_EQ(tx.head(), 2u);
}

TEST_F(RingFixture, ConsumerNeverReadsBackItsOwnTailNorTrustsTheSharedCapacity) {
  make_ring(16);
  auto tx = producer();
  auto rx = consumer();
  for (uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(tx.try_push(make_entry(i)));
  CheckedEntry out{};
  ASSERT_TRUE(rx.try_pop(out));
  shared_tail() = 999;           // the producer would see this as garbage, not the consumer
  header().capacity = 1u << 30;  // and nobody uses the shared capacity after attach
  for (uint64_t i = 1; i < 4; ++i) {
    ASSERT_TRUE(rx.try_pop(out)) << i;
    EXPECT_TRUE(entry_is_intact(out, i)) << i;
  }
  EXPECT_EQ(shared_tail(), 4u);
  EXPECT_FALSE(rx.corrupted());
  expect_canaries_intact();
}

TEST_F(RingFixture, ConsumerDetectsAHeadTooFarAheadAndStaysCorrupted) {
  make_ring(16);
  auto tx = producer();
  auto rx = consumer();
  for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(tx.try_push(make_entry(i)));
  shared_head() = 3 + 17;  // 20 entries "ready" in a ring of 16
  CheckedEntry out{};
  EXPECT_FALSE(rx.try_pop(out));
  EXPECT_TRUE(rx.corrupted());
  const std::string error = rx.error();
  EXPECT_TRUE(Contains(error, "test.tx"));
  EXPECT_TRUE(Contains(error, "head 20"));
  EXPECT_TRUE(Contains(error, "tail 0"));
  EXPECT_TRUE(Contains(error, "capacity 16"));

  // Sticky: even a plausible head afterwards does not bring the ring back.
  shared_head() = 3;
  EXPECT_FALSE(rx.try_pop(out));
  std::vector<CheckedEntry> burst(16);
  EXPECT_EQ(rx.pop_burst(burst.data(), 16), 0u);
  EXPECT_EQ(rx.available(), 0u);
  EXPECT_FALSE(rx.prepare_sleep());
  EXPECT_EQ(rx.tail(), 0u);
  EXPECT_EQ(shared_tail(), 0u) << "a corrupted consumer publishes nothing";
  expect_canaries_intact();
}

TEST_F(RingFixture, ConsumerDetectsAHeadMovingBackwardsOrBehindTail) {
  make_ring(16);
  auto tx = producer();
  auto rx = consumer();
  for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(tx.try_push(make_entry(i)));
  CheckedEntry out{};
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(rx.try_pop(out));
  // tail is 6; a head of 5 would mean the consumer read entries that were never pushed.
  shared_head() = 5;
  std::vector<CheckedEntry> burst(16);
  EXPECT_EQ(rx.pop_burst(burst.data(), 16), 0u);
  ASSERT_TRUE(rx.corrupted());
  EXPECT_TRUE(Contains(rx.error(), "head 5"));
  EXPECT_TRUE(Contains(rx.error(), "tail 6"));
  EXPECT_TRUE(Contains(rx.error(), "previous head 10"));
  expect_canaries_intact();
}

TEST_F(RingFixture, ProducerDetectsATailAheadOfHead) {
  make_ring(8);
  auto tx = producer();
  for (uint64_t i = 0; i < 8; ++i) ASSERT_TRUE(tx.try_push(make_entry(i)));
  shared_tail() = 8 + 5;  // "popped" 13 of 8 entries
  EXPECT_FALSE(tx.try_push(make_entry(8)));
  ASSERT_TRUE(tx.corrupted());
  const std::string error = tx.error();
  EXPECT_TRUE(Contains(error, "test.tx"));
  EXPECT_TRUE(Contains(error, "tail 13"));
  EXPECT_TRUE(Contains(error, "head 8"));
  EXPECT_TRUE(Contains(error, "capacity 8"));
  shared_tail() = 8;
  EXPECT_FALSE(tx.try_push(make_entry(8))) << "sticky";
  EXPECT_EQ(tx.free_slots(), 0u);
  EXPECT_EQ(shared_head(), 8u);
  expect_canaries_intact();
}

TEST_F(RingFixture, ProducerDetectsATailMovingBackwards) {
  make_ring(8);
  auto tx = producer();
  auto rx = consumer();
  for (uint64_t i = 0; i < 8; ++i) ASSERT_TRUE(tx.try_push(make_entry(i)));
  CheckedEntry out{};
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(rx.try_pop(out));
  EXPECT_EQ(tx.free_slots(), 4u);
  shared_tail() = 2;
  EXPECT_EQ(tx.free_slots(), 0u);
  ASSERT_TRUE(tx.corrupted());
  EXPECT_TRUE(Contains(tx.error(), "tail 2"));
  EXPECT_TRUE(Contains(tx.error(), "previous tail 4"));
}

TEST_F(RingFixture, RandomGarbageNeverLeadsOutOfBounds) {
  make_ring(16);
  auto tx = producer();
  auto rx = consumer();
  uint64_t x = 12345;
  std::vector<CheckedEntry> burst(16);
  for (int i = 0; i < 10000 && !(tx.corrupted() && rx.corrupted()); ++i) {
    x = testing::splitmix64(x);
    if (x % 3 == 0) shared_head() = static_cast<uint32_t>(x >> 32);
    if (x % 5 == 0) shared_tail() = static_cast<uint32_t>(x >> 16);
    tx.push_burst(burst.data(), static_cast<uint32_t>(x % 17));
    rx.pop_burst(burst.data(), static_cast<uint32_t>((x >> 8) % 17));
  }
  EXPECT_TRUE(tx.corrupted());
  EXPECT_TRUE(rx.corrupted());
  expect_canaries_intact();
}

TEST_F(RingFixture, SleepHandshakeSetsAndClearsTheFlag) {
  make_ring(8);
  auto tx = producer();
  auto rx = consumer();
  EXPECT_FALSE(tx.consumer_needs_wakeup());
  ASSERT_TRUE(rx.prepare_sleep()) << "empty ring: safe to block";
  EXPECT_NE(shared_sleeping(), 0u);
  ASSERT_TRUE(tx.try_push(make_entry(0)));
  EXPECT_TRUE(tx.consumer_needs_wakeup()) << "the push after the announcement must ring";
  rx.finish_sleep();
  EXPECT_EQ(shared_sleeping(), 0u);
  EXPECT_FALSE(tx.consumer_needs_wakeup());

  EXPECT_FALSE(rx.prepare_sleep()) << "an entry is waiting: do not block";
  EXPECT_EQ(shared_sleeping(), 0u) << "and the flag is cleared again";
  CheckedEntry out{};
  ASSERT_TRUE(rx.try_pop(out));
  EXPECT_TRUE(entry_is_intact(out, 0));
}

TEST_F(RingFixture, ProducerRingsOncePerSleepNotOncePerPush) {
  make_ring(8);
  auto tx = producer();
  auto rx = consumer();
  ASSERT_TRUE(rx.prepare_sleep());
  const uint64_t first_ticket = shared_sleeping();
  ASSERT_TRUE(tx.try_push(make_entry(0)));
  EXPECT_TRUE(tx.consumer_needs_wakeup());
  EXPECT_EQ(shared_woken_ticket(), first_ticket);
  // The sleeper has not woken up yet: the doorbell is already pending, no second ring.
  ASSERT_TRUE(tx.try_push(make_entry(1)));
  EXPECT_FALSE(tx.consumer_needs_wakeup());
  ASSERT_TRUE(tx.try_push(make_entry(2)));
  EXPECT_FALSE(tx.consumer_needs_wakeup());

  rx.finish_sleep();
  CheckedEntry out{};
  for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(rx.try_pop(out));
  ASSERT_TRUE(rx.prepare_sleep()) << "a new sleep gets a new ticket";
  EXPECT_NE(shared_sleeping(), first_ticket);
  ASSERT_TRUE(tx.try_push(make_entry(3)));
  EXPECT_TRUE(tx.consumer_needs_wakeup());
}

TEST_F(RingFixture, RestartedConsumerIsNeverMistakenForAnAlreadyRungSleep) {
  make_ring(8);
  auto tx = producer();
  uint64_t rung_ticket = 0;
  {
    auto first = consumer();
    ASSERT_TRUE(first.prepare_sleep());
    ASSERT_TRUE(tx.try_push(make_entry(0)));
    ASSERT_TRUE(tx.consumer_needs_wakeup());
    rung_ticket = shared_sleeping();
    CheckedEntry out{};
    first.finish_sleep();
    ASSERT_TRUE(first.try_pop(out));
  }  // the first consumer goes away; a new one takes over the ring
  auto second = consumer();
  ASSERT_TRUE(second.prepare_sleep());
  EXPECT_GT(shared_sleeping(), rung_ticket);
  ASSERT_TRUE(tx.try_push(make_entry(1)));
  EXPECT_TRUE(tx.consumer_needs_wakeup()) << "a stale ticket match would be a lost wake-up";

  // A consumer that died asleep leaves its flag set; the next one clears it on attach.
  auto third = consumer();
  EXPECT_EQ(shared_sleeping(), 0u);
  EXPECT_FALSE(tx.consumer_needs_wakeup());
}

TEST_F(RingFixture, AMovedFromSideIsInert) {
  make_ring(8);
  auto tx = producer();
  auto rx = consumer();
  RingProducer<CheckedEntry> tx2 = std::move(tx);
  RingConsumer<CheckedEntry> rx2 = std::move(rx);
  EXPECT_FALSE(tx.try_push(make_entry(0)));  // NOLINT: moved-from on purpose
  EXPECT_TRUE(tx.corrupted());
  EXPECT_TRUE(Contains(tx.error(), "moved from"));
  CheckedEntry out{};
  EXPECT_FALSE(rx.try_pop(out));  // NOLINT: moved-from on purpose
  ASSERT_TRUE(rx2.prepare_sleep()) << "empty: may sleep";
  rx.finish_sleep();  // NOLINT: moved-from on purpose; must not clear rx2's announcement
  EXPECT_NE(shared_sleeping(), 0u);
  rx2.finish_sleep();
  ASSERT_TRUE(tx2.try_push(make_entry(0)));
  ASSERT_TRUE(rx2.try_pop(out));
  EXPECT_TRUE(entry_is_intact(out, 0));
}

}  // namespace
}  // namespace vtas::shm
