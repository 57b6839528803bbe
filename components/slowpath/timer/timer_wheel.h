// TimerWheel: a hierarchical timing wheel (Varghese & Lauck) over explicit 64-bit ticks. The
// timer actor keeps every deadline it owns in one (explicit timers and per-flow RTO / persist
// checks); anyone needing many cheap one-shot deadlines may use it. It never reads a clock:
// the caller passes the time to advance() and says what a tick is (the timer actor: 1 us).
//
// Layout: 11 levels of 64 slots. A timer due at `d` while the wheel is at `now` sits on the
// level of the highest 6-bit group in which d and now differ, in the slot named by d's bits of
// that group. So a level-L slot holds exactly one 64^L-tick range of the current 64^(L+1)
// window, slot indices wrap freely (mod 64), and with 64-bit ticks no deadline ever wraps: a
// timer 300 s or 300 years ahead is as exact as one 1 tick ahead (TAS's 28-bit us wheel wrapped
// after 268 s). When time reaches a slot of level L > 0 its timers move down (each timer moves
// at most 10 times in its life, typically 1-2); a level-0 slot holds timers of one deadline.
//
// Costs: insert and cancel O(1); next_event() O(levels) with one bitmap per level; advance()
// jumps over empty time (it never walks tick by tick) and costs O(fired + moved + levels x
// slots visited). Not thread-safe: one owner.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace vtas::timer {

class TimerWheel {
 public:
  static constexpr int kSlotBits = 6;
  static constexpr int kSlots = 1 << kSlotBits;  // 64 per level: one uint64 occupancy bitmap
  static constexpr int kLevels = 11;             // 11 x 6 bits >= 64 bits of ticks

  // Names one inserted timer. A handle of a timer that fired or was cancelled is stale: cancel()
  // and pending() recognise it (generation) even after its storage was reused.
  struct Handle {
    uint32_t index = UINT32_MAX;
    uint32_t generation = 0;
    bool valid() const { return index != UINT32_MAX; }
  };

  struct Expired {
    uint64_t cookie;
    uint64_t deadline;
  };

  explicit TimerWheel(uint64_t now = 0) : now_(now) {}

  uint64_t now() const { return now_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Adds a timer due at `deadline` carrying `cookie`. A deadline at or before now() is due at
  // once: the next advance() (even to the same time) reports it.
  Handle insert(uint64_t deadline, uint64_t cookie);
  // Removes a pending timer. False for a stale or invalid handle (already fired or cancelled).
  bool cancel(Handle handle);
  bool pending(Handle handle) const;
  // The deadline of a pending timer (nullopt for a stale handle).
  std::optional<uint64_t> deadline_of(Handle handle) const;

  // Moves time to `to` (never backwards: an earlier `to` only reports timers already due) and
  // appends every timer due by then to `out`, in deadline order (ties in no set order).
  // Fired timers are removed before they are reported, so the caller may insert at once.
  void advance(uint64_t to, std::vector<Expired>* out);

  // The earliest time at which advance() has work: the deadline of the next timer if it sits on
  // level 0, otherwise the start of the slot it sits in (where it moves down). Never later than
  // any pending deadline; nullopt when the wheel is empty. Sleep until then and advance.
  std::optional<uint64_t> next_event() const;

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
  static constexpr uint16_t kDueList = kLevels * kSlots;  // deadline <= now at insert time

  struct Node {
    uint64_t deadline = 0;
    uint64_t cookie = 0;
    uint32_t prev = kNil;
    uint32_t next = kNil;
    uint32_t generation = 0;
    uint16_t list = 0;
    bool used = false;
  };

  // Where a timer due at `deadline` goes while the wheel is at now_ (deadline > now_).
  static uint16_t list_for(uint64_t deadline, uint64_t now);
  void link(uint32_t index, uint16_t list);
  void unlink(uint32_t index);
  uint32_t allocate();
  void release(uint32_t index);
  // The lowest non-empty level's first slot: its list number and the time it becomes due.
  std::optional<std::pair<uint16_t, uint64_t>> next_slot() const;

  uint64_t now_;
  size_t size_ = 0;
  std::vector<Node> nodes_;
  std::vector<uint32_t> free_;
  std::array<uint32_t, kDueList + 1> heads_ = make_heads();
  std::array<uint32_t, kDueList + 1> tails_ = make_heads();
  std::array<uint64_t, kLevels> occupied_{};  // bit s of level L: slot s has timers

  static std::array<uint32_t, kDueList + 1> make_heads() {
    std::array<uint32_t, kDueList + 1> a{};
    a.fill(kNil);
    return a;
  }
};

}  // namespace vtas::timer
