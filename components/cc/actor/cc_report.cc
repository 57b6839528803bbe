#include "components/cc/actor/cc_report.h"

#include <algorithm>

#include "components/cc/actor/cc_policy.h"
#include "components/cc/actor/flow_view.h"
#include "components/cc/algorithms/fixed_point.h"

namespace vtas::cc {

FlowInfo describe_flow(uint32_t id, const CcFlowState& record, const abi::FlowState& fs,
                       const TrackedFlow& tracked, uint64_t now_us) {
  FlowInfo info;
  info.set_flow_id(id);
  info.set_local(endpoint_text(__atomic_load_n(&fs.local_ip, __ATOMIC_RELAXED),
                               __atomic_load_n(&fs.local_port, __ATOMIC_RELAXED)));
  info.set_remote(endpoint_text(__atomic_load_n(&fs.remote_ip, __ATOMIC_RELAXED),
                                __atomic_load_n(&fs.remote_port, __ATOMIC_RELAXED)));
  const auto algorithm = algorithm_from_byte(record.algorithm);
  info.set_algorithm(algorithm ? std::string(algorithm_name(*algorithm)) : "unknown");
  info.set_rate_kbps(record.rate_kbps);
  info.set_tx_rate_kbps(read_rate(fs));
  info.set_rtt_us(record.rtt_us);
  info.set_measured_kbps(record.act_avg_kbps);
  info.set_slow_start(in_slow_start(record));
  if (algorithm == Algorithm::kDctcpRate || algorithm == Algorithm::kDctcpWin) {
    const uint64_t alpha = algorithm == Algorithm::kDctcpRate ? record.algo.dctcp_rate.alpha_q32
                                                              : record.algo.dctcp_win.alpha_q32;
    info.set_dctcp_alpha(static_cast<double>(alpha) / static_cast<double>(kQ32One));
  }
  info.set_steps(tracked.steps);
  info.set_rates_written(tracked.rates_written);
  info.set_last_step_age_us(now_us > record.last_step_us ? now_us - record.last_step_us : 0);
  info.set_idle(tracked.idle_checks > 0);
  info.set_resumed(tracked.resumed);
  return info;
}

uint64_t rate_rank(uint32_t rate_kbps) {
  return rate_kbps == 0 ? uint64_t{kMaxRateKbps} + 1 : rate_kbps;
}

std::vector<std::pair<uint32_t, uint32_t>> top_by_rate(
    std::vector<std::pair<uint32_t, uint32_t>> all, size_t limit) {
  const size_t n = std::min(limit, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(n), all.end(),
                    [](const auto& a, const auto& b) {
                      if (rate_rank(a.first) != rate_rank(b.first)) {
                        return rate_rank(a.first) > rate_rank(b.first);
                      }
                      return a.second < b.second;
                    });
  all.resize(n);
  return all;
}

size_t rate_bucket(uint32_t rate_kbps) {
  if (rate_kbps == 0) return 0;
  if (rate_kbps < 1000) return 1;
  if (rate_kbps < 10000) return 2;
  if (rate_kbps < 100000) return 3;
  if (rate_kbps < 1000000) return 4;
  if (rate_kbps < 10000000) return 5;
  return 6;
}

const char* rate_bucket_name(size_t bucket) {
  static const std::array<const char*, kRateBuckets> names = {
      "unlimited", "<1Mbps", "1-10Mbps", "10-100Mbps", "100M-1Gbps", "1-10Gbps", ">=10Gbps"};
  return bucket < names.size() ? names[bucket] : "?";
}

}  // namespace vtas::cc
