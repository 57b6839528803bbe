// TraceFilter: which envelopes vtas-trace shows or keeps, from its --actor, --type and
// --kind options. Used by vtas-trace for live streams and for capture files alike.
//
// Within one dimension the values are alternatives (--actor a --actor b: a OR b); across
// dimensions all must hold (actor AND type AND kind). A dimension with no values does not
// restrict. Type names are checked against the Envelope descriptor, so the set of valid
// names follows proto/envelope.proto without code changes here.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "proto/envelope.pb.h"
#include "runtime/result.h"

namespace vtas::trace {

class TraceFilter {
 public:
  // Matches envelopes whose sender OR receiver is `actor`.
  void add_actor(std::string actor);

  // Accepts the body field name ("ping_request"), the full type ("vtas.diag.PingRequest")
  // or the short type ("PingRequest"). A short name shared by several interfaces selects
  // all of them. Unknown names are an error listing the valid ones.
  Status add_type(std::string_view name);

  // "request", "response" or "event" (any case). Anything else is an error.
  Status add_kind(std::string_view kind);

  bool matches(const Envelope& envelope) const;

  // True when no option restricts anything (every envelope matches).
  bool empty() const { return actors_.empty() && body_fields_.empty() && kinds_.empty(); }

  // Every body of the envelope as "ping_request (vtas.diag.PingRequest)", in field order:
  // the list shown when a type name is unknown, and by vtas-trace --help.
  static std::vector<std::string> known_types();

 private:
  std::set<std::string, std::less<>> actors_;
  std::set<int> body_fields_;  // Envelope body field numbers
  std::set<MessageKind> kinds_;
};

}  // namespace vtas::trace
