// The big SYN flood (label long): ten times the short flood of syn_flood_test.cc, 20 new
// clients during it, which must all succeed (issue 8).
#include "tests/fault/syn_flood_fixture.h"

namespace vtas::testing {
namespace {

TEST_F(SynFloodTest, LongFloodLeavesTwentyClientsWorking) {
  flood_while_clients_work(FloodPlan{300000, 20000, 20, true});
}

}  // namespace
}  // namespace vtas::testing
