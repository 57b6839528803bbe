// Names of the TCP core's outcome enums, for counters and logs of the fast-path loop.
#include "components/fastpath/tcp/outcome.h"

namespace vtas::tcp {

const char* flow_event_name(FlowEvent event) {
  switch (event) {
    case FlowEvent::kNone:
      return "none";
    case FlowEvent::kClosed:
      return "closed";
    case FlowEvent::kReset:
      return "reset";
    case FlowEvent::kRxFin:
      return "rx_fin";
    case FlowEvent::kTxFinAcked:
      return "tx_fin_acked";
  }
  return "unknown";
}

const char* drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::kNone:
      return "none";
    case DropReason::kFlowReset:
      return "flow_reset";
    case DropReason::kBadBuffer:
      return "bad_buffer";
    case DropReason::kMalformed:
      return "malformed";
    case DropReason::kNoAck:
      return "no_ack";
    case DropReason::kPaws:
      return "paws";
    case DropReason::kOutOfWindow:
      return "out_of_window";
    case DropReason::kDuplicate:
      return "duplicate";
    case DropReason::kAckTooOld:
      return "ack_too_old";
    case DropReason::kAckUnsent:
      return "ack_unsent";
    case DropReason::kRstOutOfWindow:
      return "rst_out_of_window";
    case DropReason::kRstChallenged:
      return "rst_challenged";
    case DropReason::kSynChallenged:
      return "syn_challenged";
    case DropReason::kTrimmed:
      return "trimmed";
    case DropReason::kOooDropped:
      return "ooo_dropped";
    case DropReason::kDataAfterFin:
      return "data_after_fin";
  }
  return "unknown";
}

const char* bump_reject_name(BumpReject reject) {
  switch (reject) {
    case BumpReject::kNone:
      return "none";
    case BumpReject::kBadType:
      return "bad_type";
    case BumpReject::kUnknownFlags:
      return "unknown_flags";
    case BumpReject::kStale:
      return "stale";
    case BumpReject::kFlowClosed:
      return "flow_closed";
    case BumpReject::kRxBumpTooLarge:
      return "rx_bump_too_large";
    case BumpReject::kTxBumpTooLarge:
      return "tx_bump_too_large";
    case BumpReject::kDataAfterFin:
      return "data_after_fin";
  }
  return "unknown";
}

}  // namespace vtas::tcp
