// SYN flood, short (label integration): 30,000 spoofed SYNs at 15,000/s while 5 new clients
// connect and one established connection streams 32 MiB. See syn_flood_fixture.h.
#include "tests/fault/syn_flood_fixture.h"

namespace vtas::testing {
namespace {

// What holds today: the service and established connections survive, state stays bounded.
TEST_F(SynFloodTest, ShortFloodLeavesTheServiceAndEstablishedConnectionsWhole) {
  flood_while_clients_work(FloodPlan{30000, 15000, 5, false});
}

// What must hold too: no spoofed SYN becomes an installed flow and new clients connect
// (SYN-RECEIVED state and SYN cookies in conn, components/slowpath/conn_syn_received.cc).
TEST_F(SynFloodTest, ShortFloodLeavesNewClientsConnecting) {
  flood_while_clients_work(FloodPlan{30000, 15000, 5, true});
}

}  // namespace
}  // namespace vtas::testing
