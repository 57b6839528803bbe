#include "components/fastpath/dpdk_telemetry.h"

#include <rte_telemetry.h>

#include <atomic>
#include <cstdlib>

#include "components/fastpath/flow_table.h"

namespace vtas::fastpath {
namespace {

// Telemetry callbacks carry no user pointer: the one table of this process lives here.
std::atomic<const FlowTable*> g_table{nullptr};
std::atomic<uint32_t> g_cores{0};

int cores_command(const char*, const char* params, rte_tel_data* d) {
  const FlowTable* table = g_table.load();
  uint32_t core = params && *params ? static_cast<uint32_t>(std::strtoul(params, nullptr, 10)) : 0;
  if (!table || core >= g_cores.load()) return -EINVAL;
  const abi::CoreCounters& c = *table->core_counters(core);
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "rx_packets", c.rx_packets);
  rte_tel_data_add_dict_u64(d, "rx_bytes", c.rx_bytes);
  rte_tel_data_add_dict_u64(d, "tx_packets", c.tx_packets);
  rte_tel_data_add_dict_u64(d, "tx_bytes", c.tx_bytes);
  rte_tel_data_add_dict_u64(d, "exceptions", c.exceptions);
  rte_tel_data_add_dict_u64(d, "exception_drops", c.exception_drops);
  rte_tel_data_add_dict_u64(d, "rx_bad", c.rx_bad);
  rte_tel_data_add_dict_u64(d, "acks_sent", c.acks_sent);
  rte_tel_data_add_dict_u64(d, "retransmits", c.retransmits);
  rte_tel_data_add_dict_u64(d, "sleeps", c.sleeps);
  rte_tel_data_add_dict_u64(d, "app_bad_bumps", c.app_bad_bumps);
  rte_tel_data_add_dict_u64(d, "challenge_acks", c.challenge_acks);
  rte_tel_data_add_dict_u64(d, "busy_ns", c.busy_cycles);
  rte_tel_data_add_dict_u64(d, "loop_ns", c.loop_cycles);
  return 0;
}

int flows_command(const char*, const char*, rte_tel_data* d) {
  const FlowTable* table = g_table.load();
  if (!table) return -EINVAL;
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "flows_in_use", table->flows_in_use());
  rte_tel_data_add_dict_u64(d, "max_flows", table->max_flows());
  rte_tel_data_add_dict_u64(d, "cores", g_cores.load());
  return 0;
}

}  // namespace

void publish_telemetry(const FlowTable* table, uint32_t cores) {
  bool first = g_table.exchange(table) == nullptr;
  g_cores.store(cores);
  if (!first) return;
  rte_telemetry_register_cmd("/vtas/cores", cores_command,
                             "vtas fast-path counters of one core. Parameters: int core id");
  rte_telemetry_register_cmd("/vtas/flows", flows_command, "vtas flows in use. Takes no parameters");
}

}  // namespace vtas::fastpath
