#include "tools/vtasctl/status_table.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace vtas {
namespace {

std::string state_name(ctl::ActorState state) {
  switch (state) {
    case ctl::ACTOR_STATE_STARTING: return "starting";
    case ctl::ACTOR_STATE_RUNNING: return "running";
    case ctl::ACTOR_STATE_BACKOFF: return "backoff";
    case ctl::ACTOR_STATE_STOPPING: return "stopping";
    case ctl::ACTOR_STATE_STOPPED: return "stopped";
    case ctl::ACTOR_STATE_FAILED: return "failed";
    default: return "?";
  }
}

// Left-aligned columns sized to their widest cell.
std::string render_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace

std::string format_duration_ms(uint64_t ms) {
  char buf[32];
  if (ms < 60000) {
    std::snprintf(buf, sizeof(buf), "%.1fs", static_cast<double>(ms) / 1000.0);
  } else if (ms < 3600000) {
    std::snprintf(buf, sizeof(buf), "%llum%02llus", static_cast<unsigned long long>(ms / 60000),
                  static_cast<unsigned long long>(ms / 1000 % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%lluh%02llum", static_cast<unsigned long long>(ms / 3600000),
                  static_cast<unsigned long long>(ms / 60000 % 60));
  }
  return buf;
}

std::string render_status(const ctl::CtlResponse& response) {
  std::string out = "instance " + response.instance() + "  up " +
                    format_duration_ms(response.supervisor_uptime_ms()) + "  runtime " +
                    response.runtime_dir() + "  trace " + (response.tracing() ? "on" : "off") + "\n";
  std::vector<std::vector<std::string>> rows{{"ACTOR", "KIND", "PLACEMENT", "STATE", "PID",
                                              "RESTARTS", "UPTIME", "MSGS_IN", "MSGS_OUT",
                                              "LAST_RESTART", "LAST_EXIT"}};
  for (const auto& a : response.actors()) {
    rows.push_back({a.name(), a.kind(), a.placement() == ctl::PLACEMENT_THREAD ? "thread" : "process",
                    state_name(a.state()), a.pid() ? std::to_string(a.pid()) : "-",
                    std::to_string(a.restarts()),
                    a.state() == ctl::ACTOR_STATE_RUNNING ? format_duration_ms(a.uptime_ms()) : "-",
                    std::to_string(a.messages_in()), std::to_string(a.messages_out()),
                    a.last_restart_ms() ? std::to_string(a.last_restart_ms()) + "ms" : "-",
                    a.last_exit().empty() ? "-" : a.last_exit()});
  }
  return out + render_table(rows);
}

std::string render_stats(const ctl::CtlResponse& response) {
  std::string out;
  for (const auto& report : response.stats()) {
    out += "[" + report.actor() + "]\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : report.counters()) rows.push_back({"  " + c.name(), std::to_string(c.value())});
    out += render_table(rows);
    for (const auto& table : report.tables()) {
      out += "  " + table.name() + ":\n";
      std::vector<std::vector<std::string>> t;
      std::vector<std::string> header;
      for (const auto& c : table.columns()) header.push_back(c);
      if (!header.empty()) header[0] = "    " + header[0];
      t.push_back(header);
      for (const auto& row : table.rows()) {
        std::vector<std::string> cells(row.cells().begin(), row.cells().end());
        if (!cells.empty()) cells[0] = "    " + cells[0];
        t.push_back(cells);
      }
      out += render_table(t);
    }
  }
  return out;
}

}  // namespace vtas
