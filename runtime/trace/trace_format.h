// Renders trace envelopes for humans and for scripts. Used by vtas-trace (and anything else
// that shows captured traffic); never on an actor's send path, so rendering costs nothing
// while tracing is off.
//
// The body is rendered by protobuf reflection only: a message type added to
// proto/envelope.proto prints without any change here.
#pragma once

#include <cstdint>
#include <string>

#include "proto/envelope.pb.h"

namespace vtas::trace {

// CLOCK_MONOTONIC nanoseconds as "seconds.micro", e.g. 1234567891011 -> "1234.567891".
std::string format_monotonic(uint64_t ns);

// The name shown for the body: the oneof field name ("ping_request"), "(no body)" when none
// is set, or "(unknown body #1234)" when the sender used a field this build does not know
// (a newer vtas), so such messages are visible rather than silently empty.
std::string body_label(const Envelope& envelope);

// One line, no trailing newline:
//   1234.567891 pinger -> echo REQUEST#42 ping_request { sequence: 7 payload: "\000\001" }
// Control characters in names are escaped so every message stays on one line.
std::string format_text(const Envelope& envelope);

// One JSON object, no trailing newline, compact (one object per line when printed):
//   {"ts_ns":1234567891011,"sender":"pinger","receiver":"echo","kind":"REQUEST",
//    "correlation_id":42,"incarnation":1,"type":"vtas.diag.PingRequest",
//    "field":"ping_request","body":{"sequence":"7","payload":"AAE="}}
// The body follows the proto3 JSON mapping with proto field names (so 64-bit integers are
// strings and bytes are base64 inside "body"). Without a body, "type" and "field" are ""
// and "body" is null.
std::string format_json(const Envelope& envelope);

// `text` as a JSON string literal, quotes included.
std::string json_quote(const std::string& text);

}  // namespace vtas::trace
