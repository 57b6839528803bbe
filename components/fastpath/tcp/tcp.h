// The fast path's TCP core in one include: receive() for segments, next_segment() /
// pure_ack() / window_probe() / go_back_n() for sending, app_bump() for the app's atx entries,
// invariant_violation() for checks, has_sendable() / snd_una() for the scheduler and timer. Pure
// functions over abi::FlowState in the style of smoltcp: state + input + now -> new state +
// outcome. See receive.h and transmit.h.
#pragma once

#include "components/fastpath/tcp/app_bump.h"        // IWYU pragma: export
#include "components/fastpath/tcp/flow_state_ops.h"  // IWYU pragma: export
#include "components/fastpath/tcp/invariants.h"      // IWYU pragma: export
#include "components/fastpath/tcp/outcome.h"         // IWYU pragma: export
#include "components/fastpath/tcp/receive.h"         // IWYU pragma: export
#include "components/fastpath/tcp/segment.h"         // IWYU pragma: export
#include "components/fastpath/tcp/seq.h"             // IWYU pragma: export
#include "components/fastpath/tcp/transmit.h"        // IWYU pragma: export
