#include "components/wire/parse_result.h"

namespace vtas::wire {

const char* parse_result_name(ParseResult result) {
  switch (result) {
    case ParseResult::kOk:
      return "ok";
    case ParseResult::kTooShort:
      return "too-short";
    case ParseResult::kUnsupportedEtherType:
      return "unsupported-ethertype";
    case ParseResult::kBadArp:
      return "bad-arp";
    case ParseResult::kBadIpVersion:
      return "bad-ip-version";
    case ParseResult::kBadIpHeaderLength:
      return "bad-ip-header-length";
    case ParseResult::kBadIpTotalLength:
      return "bad-ip-total-length";
    case ParseResult::kBadIpChecksum:
      return "bad-ip-checksum";
    case ParseResult::kIpFragment:
      return "ip-fragment";
    case ParseResult::kUnsupportedIpProtocol:
      return "unsupported-ip-protocol";
    case ParseResult::kBadTcpHeaderLength:
      return "bad-tcp-header-length";
    case ParseResult::kBadTcpChecksum:
      return "bad-tcp-checksum";
    case ParseResult::kBadOptions:
      return "bad-options";
  }
  return "unknown";
}

}  // namespace vtas::wire
