// Checks of the meaning of records read back from the conn registry, before a restarted conn
// trusts them: enums in range, ports and ids non-zero, contexts inside the ABI's limit, times
// plausible. The checksum already caught torn writes; this catches records that were whole
// but wrong (a bug in an earlier version, a stray write). Pure; the conn actor calls them in
// on_start() and drops (and logs) what fails.
#pragma once

#include <cstdint>
#include <string>

#include "components/slowpath/registry_layout.h"
#include "runtime/clock.h"

namespace vtas::conn {

// Each returns "" for a usable record, else what is wrong with it.
std::string check_record(const AppRecord& r);
std::string check_record(const ListenerRecord& r);
std::string check_record(const AcceptRecord& r);
std::string check_record(const ConnRecord& r);
// `now_ns` and `time_wait` bound the expiry: an entry expiring later than a full TIME_WAIT
// from now cannot be ours.
std::string check_record(const TimeWaitRecord& r, uint64_t now_ns, Nanos time_wait);
std::string check_record(const RequestLogRecord& r);
std::string check_record(const HandshakeRecord& r);

}  // namespace vtas::conn
