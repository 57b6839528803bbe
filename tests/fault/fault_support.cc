#include "tests/fault/fault_support.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

namespace vtas::fault {

uint64_t stats_counter(const std::string& stats, const std::string& name) {
  size_t at = stats.find("  " + name + " ");
  if (at == std::string::npos) return 0;
  return std::strtoull(stats.c_str() + at + name.size() + 2, nullptr, 10);
}

uint64_t stats_counter(const std::string& stats, const std::string& actor,
                       const std::string& name) {
  const size_t begin = stats.find("[" + actor + "]");
  if (begin == std::string::npos) return 0;
  const size_t end = stats.find("\n[", begin);
  return stats_counter(stats.substr(begin, end == std::string::npos ? end : end - begin), name);
}

uint64_t core_counter(const std::string& stats, const std::string& column) {
  size_t table = stats.find("cores:");
  if (table == std::string::npos) return 0;
  std::istringstream rows(stats.substr(table));
  std::string line;
  std::getline(rows, line);  // "cores:"
  std::getline(rows, line);  // the column names
  std::istringstream names(line);
  std::vector<std::string> header((std::istream_iterator<std::string>(names)), std::istream_iterator<std::string>());
  size_t index = header.size();
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == column) index = i;
  }
  if (index == header.size()) return 0;
  uint64_t sum = 0;
  while (std::getline(rows, line)) {
    std::istringstream words(line);
    std::vector<std::string> row((std::istream_iterator<std::string>(words)), std::istream_iterator<std::string>());
    if (row.size() != header.size() || row[0].find_first_not_of("0123456789") != std::string::npos) break;
    sum += std::strtoull(row[index].c_str(), nullptr, 10);
  }
  return sum;
}

std::string peer_interface(const testing::TestNetwork& net) {
  // TestNetwork names the ends "vtf<id>" (fast path) and "vtp<id>" (peer).
  return "vtp" + net.fast_path_interface().substr(3);
}

std::string fast_path_mac(const testing::TestNetwork& net) {
  std::ifstream in("/sys/class/net/" + net.fast_path_interface() + "/address");
  std::string mac;
  in >> mac;
  return mac;
}

std::string unhealthy_actors(const std::string& status_json, const char* const* actors) {
  static const char* const kDefault[] = {"fastpath", "arp", "timer", "conn", nullptr};
  std::string problems;
  for (const char* const* a = actors ? actors : kDefault; *a; ++a) {
    const std::string state = testing::actor_field(status_json, *a, "state");
    const std::string restarts = testing::actor_field(status_json, *a, "restarts");
    if (state != "ACTOR_STATE_RUNNING") problems += std::string(*a) + " state=" + state + "; ";
    if (!restarts.empty() && restarts != "0") problems += std::string(*a) + " restarts=" + restarts + "; ";
  }
  return problems;
}

std::string fault_script(const std::string& name) { return std::string(VTAS_FAULT_DIR) + "/" + name; }

}  // namespace vtas::fault
