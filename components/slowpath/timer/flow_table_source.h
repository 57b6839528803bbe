// FlowTableSource: where the timer actor gets the fast path's flow-table region from: in an
// instance the file `<runtime_dir>/flows` the fast path creates (FileFlowTableSource); tests
// hand it a memfd they laid a table out in. The actor maps it read-write and writes
// FlowState::rto_backoff, nothing else. The seam itself is shm::RegionSource.
#pragma once

#include "runtime/shm/region_source.h"

namespace vtas::timer {

using FlowTableSource = shm::RegionSource;
using FileFlowTableSource = shm::FileRegionSource;

}  // namespace vtas::timer
