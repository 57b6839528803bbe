// Helpers around vtas::Envelope, the one message type of every control channel.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "proto/envelope.pb.h"

namespace vtas {

// Field name of the body that is set ("ping_request"), or "" when none is.
std::string body_name(const Envelope& envelope);
// Full protobuf type name of the body ("vtas.diag.PingRequest"), or "" when none is.
std::string body_type(const Envelope& envelope);

// Parses an envelope received from a socket or a file. False on malformed bytes.
bool decode_envelope(const void* data, size_t size, Envelope* out);

// One line for logs: "pinger -> echo REQUEST#42 ping_request".
std::string describe(const Envelope& envelope);

const char* kind_name(MessageKind kind);

}  // namespace vtas
