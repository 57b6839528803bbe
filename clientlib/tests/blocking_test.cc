// Blocking without lost wake-ups: canwait / waitfd / waitclear / wait against a producer
// (the fake service) that pushes to kin or to an arx ring, including a stress test that races
// the push with the consumer going to sleep many times; a lost wake-up shows up as a round
// that needs the wait's timeout, which fails the test instead of hanging it.
#include <errno.h>
#include <poll.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <future>
#include <random>
#include <thread>

#include "clientlib/tests/client_fixture.h"

namespace vtas::client::testing {
namespace {

using Clock = std::chrono::steady_clock;

class BlockingTest : public ClientTest {
 protected:
  void SetUp() override {
    ClientTest::SetUp();
    open_listener(ctx_, listener_, 7);
    flow_ = accept(ctx_, listener_, conn_);
  }

  // The consumer_sleeping word of one of the context's rings, as the producer sees it.
  uint64_t sleep_announcement(uint64_t ring_offset_in_block) {
    uint8_t* ring = service_->at(fake().queue_block + ring_offset_in_block);
    auto* word = reinterpret_cast<uint64_t*>(ring + shm::kRingConsumerOffset + 8);
    return std::atomic_ref<uint64_t>(*word).load(std::memory_order_relaxed);
  }
  abi::QueueBlockLayout layout() {
    const FakeServiceOptions& o = service_->options();
    return abi::queue_block_layout(o.num_cores, o.kin_capacity, o.kout_capacity, o.arx_capacity,
                                   o.atx_capacity);
  }
  uint64_t kin_offset() { return layout().kin; }
  uint64_t arx_offset(uint32_t core) { return layout().arx0 + core * layout().arx_stride; }

  // Waits (bounded) until the app announced sleep on the ring at `offset`.
  bool wait_for_sleep_announcement(uint64_t offset, std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    while (sleep_announcement(offset) == 0) {
      if (Clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }

  abi::AppEvent new_connection_notice() {
    abi::AppEvent notice{};
    notice.type = static_cast<uint8_t>(abi::AppEventType::kListenNewConn);
    notice.opaque = listener_.vtas_cookie;
    notice.listener_id = listener_.listener_id;
    return notice;
  }

  flextcp_listener listener_;
  flextcp_connection conn_;
  FakeFlow flow_;
};

TEST_F(BlockingTest, CanWaitOnlyWhenNothingIsPending) {
  EXPECT_EQ(flextcp_context_canwait(&ctx_), 0);
  EXPECT_NE(sleep_announcement(kin_offset()), 0u) << "sleep announced on kin";
  EXPECT_NE(sleep_announcement(arx_offset(1)), 0u) << "and on every arx ring";
  flextcp_context_waitclear(&ctx_);
  EXPECT_EQ(sleep_announcement(kin_offset()), 0u) << "withdrawn after the wake-up";

  ASSERT_TRUE(fake().push_kin(new_connection_notice()));
  EXPECT_EQ(flextcp_context_canwait(&ctx_), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(sleep_announcement(kin_offset()), 0u);
  EXPECT_EQ(sleep_announcement(arx_offset(0)), 0u);
  EXPECT_EQ(flextcp_context_wait(&ctx_, 5000), -1) << "returns at once: poll first";
  EXPECT_EQ(poll().size(), 1u);
}

TEST_F(BlockingTest, WaitFdBecomesReadableWhenTheServicePushesAfterCanWait) {
  const int fd = flextcp_context_waitfd(&ctx_);
  ASSERT_EQ(flextcp_context_canwait(&ctx_), 0);
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0) << "nothing yet";
  deliver(flow_, "x");
  EXPECT_EQ(::poll(&p, 1, 0), 1) << "the push rang the eventfd";
  flextcp_context_waitclear(&ctx_);
  EXPECT_EQ(::poll(&p, 1, 0), 0) << "waitclear drained it";
  EXPECT_EQ(received_bytes(poll()), "x");
}

TEST_F(BlockingTest, WaitIsWokenByKin) {
  std::thread service([&] {
    ASSERT_TRUE(wait_for_sleep_announcement(kin_offset(), std::chrono::seconds(5)));
    ASSERT_TRUE(fake().push_kin(new_connection_notice()));
  });
  const auto start = Clock::now();
  EXPECT_EQ(flextcp_context_wait(&ctx_, 10000), 0);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5)) << "woken, not timed out";
  service.join();
  auto events = poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_type, FLEXTCP_EV_LISTEN_NEWCONN);
}

TEST_F(BlockingTest, WaitIsWokenByArx) {
  flow_.core = 1;
  std::thread service([&] {
    ASSERT_TRUE(wait_for_sleep_announcement(arx_offset(1), std::chrono::seconds(5)));
    deliver(flow_, "wake");
  });
  const auto start = Clock::now();
  EXPECT_EQ(flextcp_context_wait(&ctx_, 10000), 0);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5)) << "woken, not timed out";
  service.join();
  EXPECT_EQ(received_bytes(poll()), "wake");
}

TEST_F(BlockingTest, WaitTimesOutWhenNothingComes) {
  const auto start = Clock::now();
  EXPECT_EQ(flextcp_context_wait(&ctx_, 30), 0);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(30));
  EXPECT_EQ(sleep_announcement(kin_offset()), 0u);
}

// Many rounds of: the app polls, finds nothing and goes to sleep while the service pushes,
// at random moments around the app's last look at its rings and its sleep announcement
// (before, in between, right after). Every round must end by a wake-up; one that needs the
// 2 s timeout is a lost wake-up. The pushes aimed at the moment the app enters the wait are
// what catches a check-then-announce window (TAS issue #15) within a few thousand rounds.
TEST_F(BlockingTest, NoLostWakeUpUnderRacingPushes) {
  constexpr int kRounds = 20000;
  const auto kLostAfter = std::chrono::milliseconds(1500);
  std::atomic<int> round{-1};
  std::atomic<int> entering_wait{-1};  // the round in which the app is about to wait
  std::atomic<bool> stop{false};

  std::thread service([&] {
    std::mt19937 rng(12345);
    for (int r = 0; r < kRounds && !stop.load(); ++r) {
      while (round.load(std::memory_order_acquire) < r) {
        if (stop.load()) return;
        std::this_thread::yield();
      }
      const bool to_kin = r % 2 == 0;
      const uint64_t ring = to_kin ? kin_offset() : arx_offset(static_cast<uint32_t>(r / 2) % 2);
      switch (rng() % 4) {
        case 0:
          break;  // at once
        case 1: {
          volatile uint32_t spin = rng() % 4000;  // a few microseconds at most
          while (spin > 0) spin = spin - 1;
          break;
        }
        case 2: {  // as the app enters the wait, plus a few nanoseconds
          const auto deadline = Clock::now() + std::chrono::milliseconds(2);
          while (entering_wait.load(std::memory_order_acquire) < r && Clock::now() < deadline) {
          }
          volatile uint32_t spin = rng() % 64;
          while (spin > 0) spin = spin - 1;
          break;
        }
        default:  // right after the app announced its sleep
          wait_for_sleep_announcement(ring, std::chrono::milliseconds(2));
      }
      if (to_kin) {
        ASSERT_TRUE(fake().push_kin(new_connection_notice()));
      } else {
        flow_.core = static_cast<uint16_t>((r / 2) % 2);
        deliver(flow_, "!");
      }
      for (uint32_t core = 0; core < 2; ++core) {
        while (fake().pop_bump(core)) {
        }
      }
    }
  });

  int slept = 0;
  for (int r = 0; r < kRounds; ++r) {
    round.store(r, std::memory_order_release);
    const auto start = Clock::now();
    bool got = false;
    while (!got) {
      flextcp_event events[8];
      const int n = flextcp_context_poll(&ctx_, 8, events);
      ASSERT_GE(n, 0) << vtas_last_error();
      for (int i = 0; i < n; ++i) {
        got = true;
        if (events[i].event_type == FLEXTCP_EV_CONN_RECEIVED) {
          while (flextcp_connection_rx_done(&ctx_, &conn_, events[i].ev.conn_received.len) != 0) {
            ASSERT_EQ(errno, EAGAIN);
            std::this_thread::yield();
          }
        }
      }
      if (got) break;
      entering_wait.store(r, std::memory_order_release);
      if (flextcp_context_wait(&ctx_, 2000) == 0) ++slept;
      if (Clock::now() - start > kLostAfter) {
        stop = true;
        service.join();
        FAIL() << "lost wake-up in round " << r << ": the push did not wake the sleeper";
      }
    }
  }
  service.join();
  EXPECT_GT(slept, kRounds / 10) << "the rounds must really exercise sleeping";
  EXPECT_EQ(stats(ctx_).rejected, 0u);
}


// The service hangs up (FakeService destroyed: it closes the attach socket, as a dead fast
// path's kernel does): a thread asleep in flextcp_context_wait wakes with ECONNRESET, and
// polling reports it too, instead of hanging forever.
TEST_F(BlockingTest, AServiceHangUpWakesTheWaitAndFailsThePoll) {
  auto waited = std::async(std::launch::async, [&] {
    const int rc = flextcp_context_wait(&ctx_, -1);
    return std::make_pair(rc, errno);
  });
  ASSERT_TRUE(wait_for_sleep_announcement(kin_offset(), std::chrono::seconds(5)))
      << "the wait went to sleep";
  service_.reset();
  if (waited.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    uint64_t one = 1;  // unblock the thread so the test can end, then fail
    [[maybe_unused]] auto n = ::write(flextcp_context_waitfd(&ctx_), &one, sizeof(one));
    waited.wait();
    FAIL() << "flextcp_context_wait still asleep 5 s after the service hung up";
  }
  const auto [rc, err] = waited.get();
  EXPECT_EQ(rc, -1);
  EXPECT_EQ(err, ECONNRESET) << vtas_last_error();
  flextcp_event events[4];
  EXPECT_EQ(flextcp_context_poll(&ctx_, 4, events), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_NE(std::string(vtas_last_error()).find("attach socket"), std::string::npos)
      << vtas_last_error();
  EXPECT_EQ(flextcp_context_canwait(&ctx_), -1);
  EXPECT_EQ(errno, ECONNRESET);
}

// Events the service left before it died are handed out first; then the hang-up.
TEST_F(BlockingTest, EventsLeftByADeadServiceComeBeforeTheHangUp) {
  deliver(flow_, "last words");
  service_.reset();
  EXPECT_EQ(received_bytes(poll()), "last words");
  // Empty polls look at the socket every few milliseconds: the hang-up shows within a bound.
  flextcp_event events[4];
  const auto start = Clock::now();
  int rc;
  while ((rc = flextcp_context_poll(&ctx_, 4, events)) == 0 &&
         Clock::now() - start < std::chrono::seconds(2)) {
  }
  EXPECT_EQ(rc, -1);
  EXPECT_EQ(errno, ECONNRESET);
}

// --fp-poll-interval-app as the service sends it in the AttachResponse.
class PollIntervalTest : public BlockingTest {
 protected:
  static constexpr uint32_t kIntervalUs = 40'000;
  FakeServiceOptions service_options() override {
    FakeServiceOptions o;
    o.poll_interval_app_us = interval_us_;
    return o;
  }
  uint32_t interval_us_ = kIntervalUs;
};

TEST_F(PollIntervalTest, CanWaitSaysPollUntilTheIntervalAfterTheLastEventIsOver) {
  const auto start = Clock::now();
  int calls = 0;
  while (flextcp_context_canwait(&ctx_) != 0) {
    ASSERT_EQ(errno, EAGAIN) << vtas_last_error();
    EXPECT_EQ(sleep_announcement(kin_offset()), 0u) << "no sleep announced while polling";
    ++calls;
    ASSERT_LT(Clock::now() - start, std::chrono::seconds(10)) << "never allowed to sleep";
  }
  const auto idle = Clock::now() - start;
  EXPECT_GE(idle, std::chrono::microseconds(kIntervalUs)) << "slept before the interval";
  EXPECT_GE(calls, 1);
  EXPECT_NE(sleep_announcement(kin_offset()), 0u) << "then sleep is announced";
  flextcp_context_waitclear(&ctx_);

  // An event starts the interval again.
  deliver(flow_, "x");
  EXPECT_EQ(received_bytes(poll()), "x");
  EXPECT_EQ(flextcp_context_canwait(&ctx_), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_NE(std::string(vtas_last_error()).find("fp-poll-interval-app"), std::string::npos)
      << vtas_last_error();
}

class LongPollIntervalTest : public PollIntervalTest {
 protected:
  LongPollIntervalTest() { interval_us_ = 10'000'000; }
};

// During the interval the wait polls the rings: an event pushed without a doorbell (no
// sleep is announced for 10 s, so the service does not ring) still ends it at once.
TEST_F(LongPollIntervalTest, WaitSeesAnEventPushedDuringThePollInterval) {
  std::thread service([&] {
    // No readiness signal exists for "the app is spinning"; the push is correct at any
    // moment (before the wait or during its poll phase), so no synchronisation is needed.
    ASSERT_TRUE(fake().push_kin(new_connection_notice()));
  });
  const auto start = Clock::now();
  const int rc = flextcp_context_wait(&ctx_, 5000);
  const int err = errno;
  service.join();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(4)) << "seen while polling, not timed out";
  EXPECT_EQ(rc, -1);
  EXPECT_EQ(err, EAGAIN) << "events are pending";
  EXPECT_EQ(poll().size(), 1u);
}

class NoPollIntervalTest : public PollIntervalTest {
 protected:
  NoPollIntervalTest() { interval_us_ = 0; }
};

TEST_F(NoPollIntervalTest, ZeroSleepsAtOnce) {
  EXPECT_EQ(flextcp_context_canwait(&ctx_), 0) << vtas_last_error();
  flextcp_context_waitclear(&ctx_);
}

// This process's CPUs (0-63) as a mask.
uint64_t own_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  uint64_t mask = 0;
  for (int cpu = 0; cpu < 64; ++cpu) {
    if (CPU_ISSET(cpu, &set)) mask |= uint64_t{1} << cpu;
  }
  return mask;
}

// The fast path runs on every CPU this app may use: the poll interval would only spin the
// fast path off its CPU, so the app sleeps at once.
class PollIntervalOnFastPathCpusTest : public PollIntervalTest {
 protected:
  FakeServiceOptions service_options() override {
    FakeServiceOptions o = PollIntervalTest::service_options();
    o.fastpath_cpus = own_cpus();
    return o;
  }
};

TEST_F(PollIntervalOnFastPathCpusTest, SleepsAtOnce) {
  EXPECT_EQ(flextcp_context_canwait(&ctx_), 0) << vtas_last_error();
  flextcp_context_waitclear(&ctx_);
}

// The app may also use a CPU the fast path does not run on: it polls as told.
class PollIntervalBesideTheFastPathTest : public PollIntervalTest {
 protected:
  FakeServiceOptions service_options() override {
    FakeServiceOptions o = PollIntervalTest::service_options();
    const uint64_t mine = own_cpus();
    o.fastpath_cpus = mine & (mine - 1);  // all of ours but the lowest (0 if we have one CPU)
    if (o.fastpath_cpus == 0) o.fastpath_cpus = ~mine;  // one CPU: the fast path elsewhere
    return o;
  }
};

TEST_F(PollIntervalBesideTheFastPathTest, PollsForTheInterval) {
  EXPECT_EQ(flextcp_context_canwait(&ctx_), -1);
  EXPECT_EQ(errno, EAGAIN) << "polls first";
}

}  // namespace
}  // namespace vtas::client::testing
