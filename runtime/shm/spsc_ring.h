// SpscRing: a single-producer single-consumer ring of 64-byte entries in shared memory, the
// data channel between vtas processes (fast path <-> apps, fast path <-> slow path, host <->
// guest proxy). One process creates it with ring_init(); then exactly one process attaches a
// RingProducer and exactly one a RingConsumer (they may be the creator or not).
//
// Shared layout at a cache-line aligned offset in a region (this header is its ABI):
//
//   offset 0    RingHeader     64 B  magic, layout version, entry size (64), capacity (2^k)
//   offset 64   producer line  64 B  head (entries ever pushed), woken_ticket
//                                    (written only by the producer)
//   offset 128  consumer line  64 B  tail (entries ever popped), consumer_sleeping
//                                    (written only by the consumer)
//   offset 192  entries        capacity x 64 B; entry i lives in slot i & (capacity - 1)
//
// Indices are free-running u32 counters: the fill level is head - tail in unsigned arithmetic,
// so wrap-around at 2^32 needs no special case.
//
// Safety against the other side (which may be an app or a VM writing anything at any time):
//   - each side keeps its own index privately and only publishes it; it reads its own index from
//     shared memory once, at attach, to resume after a restart, and never again;
//   - bounds come from the capacity the attaching side expects, never from shared memory;
//   - entries are copied out before the caller looks at them (no check-then-use on shared data);
//   - an impossible index from the other side (fill level above capacity, an index moving
//     backwards) puts the ring into a sticky corrupted() state: no more reads or writes, and
//     error() says which ring, which index, both values and the capacity.
//
// Fast-path rule: try_push / try_pop / push_burst / pop_burst / free_slots never allocate,
// lock, log or make a syscall.
//
// Sleeping without lost wake-ups (TAS issue #15 was a lost wake-up): a Dekker-style handshake.
// The consumer announces it is about to sleep (consumer_sleeping = a fresh non-zero ticket),
// then looks at the ring once more; the producer publishes, then looks at the announcement.
// Both put a seq_cst fence between their store and their load, so at least one of them sees the
// other's store: either the consumer sees the new entry (and does not sleep) or the producer
// sees the ticket (and rings the doorbell).
//
// The ticket makes the producer ring once per sleep, not once per push while the sleeper is
// still waking up (a wake-up across CPUs takes ~20 us here, long enough for dozens of pushes,
// each of which would otherwise pay a write(2)). The producer remembers the ticket it rang for
// (and publishes it as woken_ticket, so a restarted consumer can pick a ticket the producer has
// not seen); a later push that sees the same ticket knows the doorbell is already pending: the
// consumer only drains it after it wakes, and tickets are 64-bit, so they never repeat.
//
//   consumer                                   producer
//   for (;;) {                                 producer.push_burst(entries, n);
//     while (consumer.pop_burst(b, 32)) ...    if (producer.consumer_needs_wakeup())
//     if (consumer.corrupted()) break;           doorbell.ring();
//     if (consumer.prepare_sleep()) {
//       doorbell.wait(-1);
//       doorbell.drain();
//       consumer.finish_sleep();
//     }
//   }
//
// A hostile consumer that announces new tickets all the time only makes the producer ring
// needlessly (a hostile producer can always just not ring); the producer decides how often it
// is willing to pay for that syscall.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include "runtime/result.h"

namespace vtas::shm {

// "VTASRING" in memory order.
inline constexpr uint64_t kRingMagic = 0x474E495253415456ull;
inline constexpr uint32_t kRingLayoutVersion = 1;
inline constexpr uint32_t kRingEntrySize = 64;
inline constexpr size_t kRingAlignment = 64;
// Largest capacity accepted: 2^30 entries = 64 GiB of entries, far beyond any real ring, and
// small enough that head - tail never hides a wrap-around.
inline constexpr uint32_t kRingMaxCapacity = 1u << 30;

struct RingHeader {
  uint64_t magic;           // kRingMagic, written last by ring_init (release)
  uint32_t layout_version;  // kRingLayoutVersion
  uint32_t entry_size;      // kRingEntrySize
  uint32_t capacity;        // entries, a power of two
  uint8_t reserved[44];     // zero
};
static_assert(sizeof(RingHeader) == 64);
static_assert(offsetof(RingHeader, magic) == 0);
static_assert(offsetof(RingHeader, layout_version) == 8);
static_assert(offsetof(RingHeader, entry_size) == 12);
static_assert(offsetof(RingHeader, capacity) == 16);
static_assert(offsetof(RingHeader, reserved) == 20);

struct RingProducerLine {
  uint32_t head;          // entries ever pushed; published with release by the producer only
  uint32_t reserved0;     // zero
  uint64_t woken_ticket;  // the last consumer sleep ticket the producer rang the doorbell for
  uint8_t pad[48];
};
static_assert(sizeof(RingProducerLine) == 64);
static_assert(offsetof(RingProducerLine, head) == 0);
static_assert(offsetof(RingProducerLine, reserved0) == 4);
static_assert(offsetof(RingProducerLine, woken_ticket) == 8);
static_assert(offsetof(RingProducerLine, pad) == 16);

struct RingConsumerLine {
  uint32_t tail;               // entries ever popped; published with release by the consumer
  uint32_t reserved0;          // zero
  uint64_t consumer_sleeping;  // 0: awake; otherwise the ticket of the sleep being prepared
  uint8_t pad[48];
};
static_assert(sizeof(RingConsumerLine) == 64);
static_assert(offsetof(RingConsumerLine, tail) == 0);
static_assert(offsetof(RingConsumerLine, reserved0) == 4);
static_assert(offsetof(RingConsumerLine, consumer_sleeping) == 8);
static_assert(offsetof(RingConsumerLine, pad) == 16);

inline constexpr size_t kRingHeaderOffset = 0;
inline constexpr size_t kRingProducerOffset = 64;
inline constexpr size_t kRingConsumerOffset = 128;
inline constexpr size_t kRingEntriesOffset = 192;
static_assert(kRingProducerOffset == kRingHeaderOffset + sizeof(RingHeader));
static_assert(kRingConsumerOffset == kRingProducerOffset + sizeof(RingProducerLine));
static_assert(kRingEntriesOffset == kRingConsumerOffset + sizeof(RingConsumerLine));

// Bytes a ring of `capacity` entries occupies (header, both index lines and the entries).
constexpr size_t ring_bytes(uint32_t capacity) {
  return kRingEntriesOffset + static_cast<size_t>(capacity) * kRingEntrySize;
}
static_assert(ring_bytes(1024) == 192 + 65536);

constexpr bool is_valid_ring_capacity(uint32_t capacity) {
  return capacity != 0 && capacity <= kRingMaxCapacity && (capacity & (capacity - 1)) == 0;
}

// Lays out a fresh, empty ring in `mem` (64-byte aligned, at least ring_bytes(capacity) bytes):
// zeroes it, sets head = tail = first_index and publishes the magic last (release). Only the
// creator calls it, before any side attaches. `first_index` exists so tests can start the free
// running indices near UINT32_MAX and exercise wrap-around.
Status ring_init(void* mem, size_t bytes, uint32_t capacity, uint32_t first_index = 0);

namespace ring_detail {

// Why a ring became corrupted. Recorded on the fast path as plain values; error() turns them
// into text later, so detection itself never allocates.
enum class Fault : uint8_t { kNone, kHeadImplausible, kTailImplausible, kMovedFrom };

struct FaultRecord {
  Fault fault = Fault::kNone;
  uint32_t seen = 0;       // the other side's index as read
  uint32_t own = 0;        // our private index at that time
  uint32_t last_seen = 0;  // the other side's index as read the time before
  uint32_t capacity = 0;
};

std::string describe_fault(const std::string& ring_name, const FaultRecord& record);

// Checks the fixed part of the ring ABI at `mem`, against what the attaching side expects.
Status check_ring(const void* mem, size_t bytes_available, uint32_t expected_capacity,
                  const std::string& name, const char* side);

inline uint32_t load_acquire(uint32_t& shared) {
  return std::atomic_ref<uint32_t>(shared).load(std::memory_order_acquire);
}
inline void store_release(uint32_t& shared, uint32_t value) {
  std::atomic_ref<uint32_t>(shared).store(value, std::memory_order_release);
}
inline uint64_t load_relaxed(uint64_t& shared) {
  return std::atomic_ref<uint64_t>(shared).load(std::memory_order_relaxed);
}
inline void store_relaxed(uint64_t& shared, uint64_t value) {
  std::atomic_ref<uint64_t>(shared).store(value, std::memory_order_relaxed);
}

// True if `value`, as newly read, lies in the window [low, low + span] (mod 2^32): the only
// values an honest peer can have published.
inline bool in_window(uint32_t value, uint32_t low, uint32_t span) {
  return static_cast<uint32_t>(value - low) <= span;
}

template <class Entry>
constexpr void check_entry_type() {
  static_assert(std::is_trivially_copyable_v<Entry>,
                "ring entries are copied byte-wise between processes");
  static_assert(sizeof(Entry) == kRingEntrySize, "ring entries are exactly 64 bytes");
}

}  // namespace ring_detail

// The pushing side. Movable, not copyable; one per ring, used by one thread.
template <class Entry>
class RingProducer {
 public:
  // Attaches to a ring created by ring_init at `mem`. Fails (with a message naming `name`) on a
  // wrong magic, layout version, entry size or capacity, on too few bytes, or on indices that no
  // honest consumer could have left.
  RingProducer(RingProducer&& other) noexcept { *this = std::move(other); }
  RingProducer& operator=(RingProducer&& other) noexcept {
    if (this != &other) {
      producer_ = other.producer_;
      consumer_ = other.consumer_;
      entries_ = other.entries_;
      capacity_ = other.capacity_;
      mask_ = other.mask_;
      head_ = other.head_;
      tail_seen_ = other.tail_seen_;
      woken_ticket_ = other.woken_ticket_;
      fault_ = other.fault_;
      name_ = std::move(other.name_);
      // A moved-from side must never touch the ring again: a second producer (or consumer)
      // would break the single-writer rule.
      other.fault_.fault = ring_detail::Fault::kMovedFrom;
    }
    return *this;
  }
  RingProducer(const RingProducer&) = delete;
  RingProducer& operator=(const RingProducer&) = delete;

  static Result<RingProducer> attach(void* mem, size_t bytes_available, uint32_t expected_capacity,
                                     std::string name) {
    ring_detail::check_entry_type<Entry>();
    if (Status s =
            ring_detail::check_ring(mem, bytes_available, expected_capacity, name, "producer");
        !s) {
      return s.error();
    }
    RingProducer p(static_cast<char*>(mem), expected_capacity, std::move(name));
    // The one time we read our own index: to resume where a previous producer stopped.
    p.head_ = ring_detail::load_acquire(p.producer_->head);
    p.tail_seen_ = ring_detail::load_acquire(p.consumer_->tail);
    if (!ring_detail::in_window(p.head_, p.tail_seen_, p.capacity_)) {
      return make_error("ring '" + p.name_ + "': cannot attach producer: head " +
                        std::to_string(p.head_) + " and tail " + std::to_string(p.tail_seen_) +
                        " are more than the capacity " + std::to_string(p.capacity_) +
                        " apart; the ring is corrupted, recreate it");
    }
    return p;
  }

  // Pushes one entry; false if the ring is full or corrupted.
  bool try_push(const Entry& entry) { return push_burst(&entry, 1) == 1; }

  // Pushes up to `n` entries in order and publishes them with one release store. Returns how
  // many were pushed (0 when full or corrupted).
  uint32_t push_burst(const Entry* entries, uint32_t n) {
    if (corrupted()) return 0;
    uint32_t free = capacity_ - (head_ - tail_seen_);
    if (free < n) free = refresh_free();
    if (n > free) n = free;
    for (uint32_t i = 0; i < n; ++i) {
      std::memcpy(slot(head_ + i), &entries[i], sizeof(Entry));
    }
    if (n != 0) {
      head_ += n;
      ring_detail::store_release(producer_->head, head_);
    }
    return n;
  }

  // Free slots right now (reads the consumer's tail); 0 when corrupted.
  uint32_t free_slots() { return corrupted() ? 0 : refresh_free(); }

  // Call after every publish that pushed something: true if the consumer announced a sleep
  // that has not been rung for yet. The caller must then ring the consumer's doorbell; the
  // same sleep gives true only once. See the protocol at the top of this file.
  bool consumer_needs_wakeup() {
    if (fault_.fault == ring_detail::Fault::kMovedFrom) return false;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const uint64_t ticket = ring_detail::load_relaxed(consumer_->consumer_sleeping);
    if (ticket == 0 || ticket == woken_ticket_) return false;
    woken_ticket_ = ticket;
    ring_detail::store_relaxed(producer_->woken_ticket, ticket);
    return true;
  }

  bool corrupted() const { return fault_.fault != ring_detail::Fault::kNone; }
  // Why the ring is corrupted ("" when it is not).
  std::string error() const { return ring_detail::describe_fault(name_, fault_); }
  const std::string& name() const { return name_; }
  uint32_t capacity() const { return capacity_; }
  // Our private head index (entries ever pushed), for stats and tests.
  uint32_t head() const { return head_; }

 private:
  RingProducer(char* mem, uint32_t capacity, std::string name)
      : producer_(reinterpret_cast<RingProducerLine*>(mem + kRingProducerOffset)),
        consumer_(reinterpret_cast<RingConsumerLine*>(mem + kRingConsumerOffset)),
        entries_(mem + kRingEntriesOffset),
        capacity_(capacity),
        mask_(capacity - 1),
        name_(std::move(name)) {}

  char* slot(uint32_t index) const {
    return entries_ + static_cast<size_t>(index & mask_) * kRingEntrySize;
  }

  uint32_t refresh_free() {
    const uint32_t tail = ring_detail::load_acquire(consumer_->tail);
    // An honest consumer's tail only moves forward, and never past our head.
    if (!ring_detail::in_window(tail, tail_seen_, head_ - tail_seen_)) {
      fault_ = {ring_detail::Fault::kTailImplausible, tail, head_, tail_seen_, capacity_};
      return 0;
    }
    tail_seen_ = tail;
    return capacity_ - (head_ - tail_seen_);
  }

  RingProducerLine* producer_ = nullptr;
  RingConsumerLine* consumer_ = nullptr;
  char* entries_ = nullptr;
  uint32_t capacity_ = 0;
  uint32_t mask_ = 0;
  uint32_t head_ = 0;       // private: the only truth about what we pushed
  uint32_t tail_seen_ = 0;  // the consumer's tail as last read and validated
  // The consumer sleep ticket we last rang for. Starts at 0 ("none"), so a restarted producer
  // rings at the first announced sleep it sees: at worst one needless ring, never a lost one.
  uint64_t woken_ticket_ = 0;
  ring_detail::FaultRecord fault_;
  std::string name_;
};

// The popping side. Movable, not copyable; one per ring, used by one thread.
template <class Entry>
class RingConsumer {
 public:
  // As RingProducer::attach, for the consumer.
  RingConsumer(RingConsumer&& other) noexcept { *this = std::move(other); }
  RingConsumer& operator=(RingConsumer&& other) noexcept {
    if (this != &other) {
      producer_ = other.producer_;
      consumer_ = other.consumer_;
      entries_ = other.entries_;
      capacity_ = other.capacity_;
      mask_ = other.mask_;
      tail_ = other.tail_;
      head_seen_ = other.head_seen_;
      sleep_ticket_ = other.sleep_ticket_;
      fault_ = other.fault_;
      name_ = std::move(other.name_);
      // A moved-from side must never touch the ring again: a second producer (or consumer)
      // would break the single-writer rule.
      other.fault_.fault = ring_detail::Fault::kMovedFrom;
    }
    return *this;
  }
  RingConsumer(const RingConsumer&) = delete;
  RingConsumer& operator=(const RingConsumer&) = delete;

  static Result<RingConsumer> attach(void* mem, size_t bytes_available, uint32_t expected_capacity,
                                     std::string name) {
    ring_detail::check_entry_type<Entry>();
    if (Status s =
            ring_detail::check_ring(mem, bytes_available, expected_capacity, name, "consumer");
        !s) {
      return s.error();
    }
    RingConsumer c(static_cast<char*>(mem), expected_capacity, std::move(name));
    // The one time we read our own index: to resume where a previous consumer stopped.
    c.tail_ = ring_detail::load_acquire(c.consumer_->tail);
    c.head_seen_ = ring_detail::load_acquire(c.producer_->head);
    if (!ring_detail::in_window(c.head_seen_, c.tail_, c.capacity_)) {
      return make_error("ring '" + c.name_ + "': cannot attach consumer: head " +
                        std::to_string(c.head_seen_) + " and tail " + std::to_string(c.tail_) +
                        " are more than the capacity " + std::to_string(c.capacity_) +
                        " apart; the ring is corrupted, recreate it");
    }
    // Continue the tickets past any the producer has rung for (a previous consumer's), so our
    // first sleep cannot look like one that was already rung for.
    const uint64_t previous = ring_detail::load_relaxed(c.consumer_->consumer_sleeping);
    const uint64_t rung = ring_detail::load_relaxed(c.producer_->woken_ticket);
    c.sleep_ticket_ = previous > rung ? previous : rung;
    c.finish_sleep();  // a previous consumer may have died asleep
    return c;
  }

  // Copies the oldest entry into `out`; false if the ring is empty or corrupted.
  bool try_pop(Entry& out) { return pop_burst(&out, 1) == 1; }

  // Copies up to `n` entries into `out` in order and frees their slots with one release store.
  // Returns how many were popped (0 when empty or corrupted).
  uint32_t pop_burst(Entry* out, uint32_t n) {
    if (corrupted()) return 0;
    uint32_t available = head_seen_ - tail_;
    if (available < n) available = refresh_available();
    if (n > available) n = available;
    for (uint32_t i = 0; i < n; ++i) {
      std::memcpy(&out[i], slot(tail_ + i), sizeof(Entry));
    }
    if (n != 0) {
      tail_ += n;
      // Release: our copies are complete before the producer may reuse the slots.
      ring_detail::store_release(consumer_->tail, tail_);
    }
    return n;
  }

  // Entries ready right now (reads the producer's head); 0 when corrupted.
  uint32_t available() { return corrupted() ? 0 : refresh_available(); }

  // First half of going to sleep: announces consumer_sleeping, then checks the ring again.
  // True: the ring is empty and any later push will see the flag, so blocking on the doorbell
  // is safe. False: entries arrived (or the ring is corrupted): the flag is cleared again, do
  // not block, pop instead (and check corrupted()).
  bool prepare_sleep() {
    if (corrupted()) return false;
    if (++sleep_ticket_ == 0) sleep_ticket_ = 1;  // 0 means awake (unreachable in 2^64 sleeps)
    ring_detail::store_relaxed(consumer_->consumer_sleeping, sleep_ticket_);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (refresh_available() == 0 && !corrupted()) return true;
    finish_sleep();
    return false;
  }

  // After waking up (or deciding not to block): clears consumer_sleeping.
  void finish_sleep() {
    if (fault_.fault == ring_detail::Fault::kMovedFrom) return;
    ring_detail::store_relaxed(consumer_->consumer_sleeping, 0);
  }

  bool corrupted() const { return fault_.fault != ring_detail::Fault::kNone; }
  // Why the ring is corrupted ("" when it is not).
  std::string error() const { return ring_detail::describe_fault(name_, fault_); }
  const std::string& name() const { return name_; }
  uint32_t capacity() const { return capacity_; }
  // Our private tail index (entries ever popped), for stats and tests.
  uint32_t tail() const { return tail_; }

 private:
  RingConsumer(char* mem, uint32_t capacity, std::string name)
      : producer_(reinterpret_cast<RingProducerLine*>(mem + kRingProducerOffset)),
        consumer_(reinterpret_cast<RingConsumerLine*>(mem + kRingConsumerOffset)),
        entries_(mem + kRingEntriesOffset),
        capacity_(capacity),
        mask_(capacity - 1),
        name_(std::move(name)) {}

  const char* slot(uint32_t index) const {
    return entries_ + static_cast<size_t>(index & mask_) * kRingEntrySize;
  }

  uint32_t refresh_available() {
    const uint32_t head = ring_detail::load_acquire(producer_->head);
    // An honest producer's head only moves forward, and never more than capacity past our tail.
    if (!ring_detail::in_window(head, head_seen_, tail_ + capacity_ - head_seen_)) {
      fault_ = {ring_detail::Fault::kHeadImplausible, head, tail_, head_seen_, capacity_};
      return 0;
    }
    head_seen_ = head;
    return head_seen_ - tail_;
  }

  RingProducerLine* producer_ = nullptr;
  RingConsumerLine* consumer_ = nullptr;
  const char* entries_ = nullptr;
  uint32_t capacity_ = 0;
  uint32_t mask_ = 0;
  uint32_t tail_ = 0;          // private: the only truth about what we popped
  uint32_t head_seen_ = 0;     // the producer's head as last read and validated
  uint64_t sleep_ticket_ = 0;  // the ticket of our latest sleep; the next one is larger
  ring_detail::FaultRecord fault_;
  std::string name_;
};

}  // namespace vtas::shm
