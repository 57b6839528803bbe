// FlowTableSource: where the cc actor gets the fast path's flow-table region from. In an
// instance it is the file `<runtime_dir>/flows` the fast path creates (FileFlowTableSource);
// tests hand it a memfd they laid a table out in. The actor maps it read-write: it writes
// FlowState::tx_rate_kbps, nothing else.
//
// (The timer actor has the same seam in components/slowpath/timer/flow_table_source.h; the
// two could move next to FlowTable in components/fastpath.)
#pragma once

#include <string>

#include "runtime/result.h"
#include "runtime/shm/region.h"

namespace vtas::cc {

class FlowTableSource {
 public:
  virtual ~FlowTableSource() = default;
  // Maps the region. Fails while the fast path has not created it yet.
  virtual Result<shm::Region> open() = 0;
  // False once `mapped` is no longer the fast path's table (a restarted fast path creates a
  // new file in place of the old one: the old mapping stays valid but nobody writes it).
  virtual bool is_current(const shm::Region& mapped) const = 0;
  // For log lines: the path, or what the test calls it.
  virtual std::string describe() const = 0;
};

class FileFlowTableSource final : public FlowTableSource {
 public:
  explicit FileFlowTableSource(std::string path) : path_(std::move(path)) {}
  Result<shm::Region> open() override;
  // Same device and inode as the file at the path now.
  bool is_current(const shm::Region& mapped) const override;
  std::string describe() const override { return path_; }

 private:
  std::string path_;
};

}  // namespace vtas::cc
