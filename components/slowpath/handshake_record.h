// A passive handshake in conn's memory (BacklogSyn: the peer's SYN, our ISN) and its registry
// record (HandshakeRecord, registry_layout.h), each made from the other. The record keeps
// exactly what negotiate_passive() and the SYN-ACK need, so a restarted conn answers the
// third ACK as the incarnation that sent the SYN-ACK would have. Pure.
#pragma once

#include <cstdint>

#include "components/slowpath/four_tuple.h"
#include "components/slowpath/listener_table.h"
#include "components/slowpath/registry_layout.h"

namespace vtas::conn {

// The record of `syn` counted against `listener_id`, at `stage`. Retransmission state
// (retransmits, rto_us, deadline_ns) is left 0 for the caller.
HandshakeRecord handshake_record_of(const BacklogSyn& syn, uint32_t listener_id,
                                    HandshakeStage stage);
// The handshake a (validated) record describes; its slot is not set.
BacklogSyn backlog_syn_of(const HandshakeRecord& record);

FourTuple tuple_of(const HandshakeRecord& record);

}  // namespace vtas::conn
