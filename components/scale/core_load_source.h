// CoreLoadSource: where the `scale` actor reads the fast path's per-core load from. In an
// instance it is the flow-table region `<runtime_dir>/flows` the fast path creates
// (abi/flow_table_layout.h: FlowTableHeader::cores_active and CoreCounters::busy_cycles, which
// the cores count in nanoseconds); tests use a fake with counters they set. Read-only: scale
// changes the core count by message (fastpath SetCores), never by writing the table.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "components/fastpath/flow_table.h"
#include "runtime/result.h"
#include "runtime/shm/region.h"

namespace vtas::scale {

struct CoreLoad {
  uint32_t cores_active = 0;  // cores serving flow groups now
  uint64_t busy_ns = 0;       // monotonic: busy time summed over all cores
};

class CoreLoadSource {
 public:
  virtual ~CoreLoadSource() = default;
  // Maps / re-maps the source. Fails while the fast path has not created it yet.
  virtual Status open() = 0;
  virtual bool is_open() const = 0;
  virtual void close() = 0;
  // False once the mapped table is no longer the fast path's (a restarted fast path made a
  // new one): the caller closes and opens again.
  virtual bool is_current() const = 0;
  // The counters now. Only while open.
  virtual CoreLoad read() const = 0;
  virtual std::string describe() const = 0;
};

// The fast path's flow-table file, mapped read-only.
class FlowTableLoadSource final : public CoreLoadSource {
 public:
  explicit FlowTableLoadSource(std::string path) : path_(std::move(path)) {}
  Status open() override;
  bool is_open() const override { return table_.has_value(); }
  void close() override;
  bool is_current() const override;
  CoreLoad read() const override;
  std::string describe() const override { return path_; }

 private:
  std::string path_;
  std::optional<shm::Region> region_;
  std::optional<fastpath::FlowTable> table_;
};

}  // namespace vtas::scale
