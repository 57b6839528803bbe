#include "components/slowpath/timer/timer_wheel.h"

#include <algorithm>
#include <bit>

namespace vtas::timer {
namespace {

constexpr int kTopLevel = TimerWheel::kLevels - 1;

// Ticks covered by one whole level-L ring (64^(L+1)), as a mask of the bits below it; the top
// level covers all 64 bits.
constexpr uint64_t below_ring(int level) {
  const int bits = (level + 1) * TimerWheel::kSlotBits;
  return bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
}

}  // namespace

uint16_t TimerWheel::list_for(uint64_t deadline, uint64_t now) {
  // The highest bit in which deadline and now differ picks the level: deadline and now agree
  // above that level's group, so the slot is a fixed range of the current ring.
  const int high_bit = 63 - std::countl_zero(deadline ^ now);
  const int level = high_bit / kSlotBits;
  const auto slot = static_cast<uint16_t>((deadline >> (level * kSlotBits)) & (kSlots - 1));
  return static_cast<uint16_t>(level * kSlots + slot);
}

uint32_t TimerWheel::allocate() {
  if (!free_.empty()) {
    uint32_t index = free_.back();
    free_.pop_back();
    return index;
  }
  nodes_.emplace_back();
  return static_cast<uint32_t>(nodes_.size() - 1);
}

void TimerWheel::release(uint32_t index) {
  Node& n = nodes_[index];
  n.used = false;
  ++n.generation;
  free_.push_back(index);
  --size_;
}

void TimerWheel::link(uint32_t index, uint16_t list) {
  Node& n = nodes_[index];
  n.list = list;
  n.next = kNil;
  n.prev = tails_[list];
  if (tails_[list] == kNil) {
    heads_[list] = index;
  } else {
    nodes_[tails_[list]].next = index;
  }
  tails_[list] = index;
  if (list != kDueList) occupied_[list / kSlots] |= uint64_t{1} << (list % kSlots);
}

void TimerWheel::unlink(uint32_t index) {
  Node& n = nodes_[index];
  if (n.prev == kNil) {
    heads_[n.list] = n.next;
  } else {
    nodes_[n.prev].next = n.next;
  }
  if (n.next == kNil) {
    tails_[n.list] = n.prev;
  } else {
    nodes_[n.next].prev = n.prev;
  }
  if (heads_[n.list] == kNil && n.list != kDueList) {
    occupied_[n.list / kSlots] &= ~(uint64_t{1} << (n.list % kSlots));
  }
  n.prev = n.next = kNil;
}

TimerWheel::Handle TimerWheel::insert(uint64_t deadline, uint64_t cookie) {
  const uint32_t index = allocate();
  Node& n = nodes_[index];
  n.deadline = deadline;
  n.cookie = cookie;
  n.used = true;
  ++size_;
  link(index, deadline <= now_ ? kDueList : list_for(deadline, now_));
  return Handle{index, n.generation};
}

bool TimerWheel::pending(Handle handle) const {
  return handle.index < nodes_.size() && nodes_[handle.index].used &&
         nodes_[handle.index].generation == handle.generation;
}

std::optional<uint64_t> TimerWheel::deadline_of(Handle handle) const {
  if (!pending(handle)) return std::nullopt;
  return nodes_[handle.index].deadline;
}

bool TimerWheel::cancel(Handle handle) {
  if (!pending(handle)) return false;
  unlink(handle.index);
  release(handle.index);
  return true;
}

std::optional<std::pair<uint16_t, uint64_t>> TimerWheel::next_slot() const {
  // Every timer on level L is due after everything on the levels below it (they hold the
  // current level-L slot's range, level L only later slots), so the lowest non-empty level has
  // the next event.
  for (int level = 0; level < kLevels; ++level) {
    const uint64_t bits = occupied_[level];
    if (bits == 0) continue;
    const int slot = std::countr_zero(bits);
    const uint64_t ring_start = now_ & ~below_ring(level);
    const uint64_t start = ring_start | (uint64_t(slot) << (level * kSlotBits));
    return std::make_pair(static_cast<uint16_t>(level * kSlots + slot), start);
  }
  return std::nullopt;
}

std::optional<uint64_t> TimerWheel::next_event() const {
  if (heads_[kDueList] != kNil) return now_;
  auto next = next_slot();
  if (!next) return std::nullopt;
  return next->second;
}

void TimerWheel::advance(uint64_t to, std::vector<Expired>* out) {
  // Timers inserted already due: report them first, oldest deadline first.
  const size_t first = out->size();
  for (uint32_t i = heads_[kDueList]; i != kNil;) {
    const uint32_t next = nodes_[i].next;
    out->push_back(Expired{nodes_[i].cookie, nodes_[i].deadline});
    unlink(i);
    release(i);
    i = next;
  }
  std::stable_sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end(),
                   [](const Expired& a, const Expired& b) { return a.deadline < b.deadline; });

  while (auto next = next_slot()) {
    const auto [list, start] = *next;
    if (start > to) break;
    now_ = start;
    // Take the slot's list: each timer fires now or moves to a lower level (its deadline and
    // the new now differ only below this level).
    uint32_t i = heads_[list];
    heads_[list] = tails_[list] = kNil;
    occupied_[list / kSlots] &= ~(uint64_t{1} << (list % kSlots));
    while (i != kNil) {
      const uint32_t following = nodes_[i].next;
      Node& n = nodes_[i];
      if (n.deadline <= now_) {
        out->push_back(Expired{n.cookie, n.deadline});
        release(i);
      } else {
        link(i, list_for(n.deadline, now_));
      }
      i = following;
    }
  }
  if (to > now_) now_ = to;
}

}  // namespace vtas::timer
