// FlowTableSource: where the cc actor gets the fast path's flow-table region from: in an
// instance the file `<runtime_dir>/flows` the fast path creates (FileFlowTableSource); tests
// hand it a memfd they laid a table out in. The actor maps it read-write and writes
// FlowState::tx_rate_kbps, nothing else. The seam itself is shm::RegionSource.
#pragma once

#include "runtime/shm/region_source.h"

namespace vtas::cc {

using FlowTableSource = shm::RegionSource;
using FileFlowTableSource = shm::FileRegionSource;

}  // namespace vtas::cc
