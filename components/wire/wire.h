// vtas::wire: Ethernet, ARP, IPv4 and TCP wire formats, parsed once into checked views and
// built into caller-provided buffers (in the spirit of smoltcp's wire module). Include this
// header for all of it, or the one part you need:
//
//   address.h      MacAddr, Ipv4Addr; formatting and parsing for logs and manifests
//   byte_order.h   big-endian loads and stores on unaligned bytes
//   headers.h      header layouts (static_assert-pinned) and protocol constants
//   checksum.h     RFC 1071 checksums, TCP pseudo-header sum, RFC 1624 incremental updates
//   seq.h          wrap-safe sequence number comparisons
//   tcp_options.h  TcpOptions: parsing and emitting MSS, window scale, SACK, timestamps
//   frame.h        parse_frame(): a received frame -> Frame (the fast path's RX entry)
//   tcp_segment.h  build_tcp_segment(), rewrite_tcp_timestamps() (the TX side)
//   arp.h          ARP parsing and request / reply / gratuitous builders
//   fuzz_entry.h   parse_any(): every parser on arbitrary bytes, for fuzzers and tests
//
// Everything on the per-packet path is inline, allocation-free, exception-free, never logs
// and never makes a system call; every read is bounds-checked, so any bytes are safe input.
#pragma once

#include "components/wire/address.h"
#include "components/wire/arp.h"
#include "components/wire/byte_order.h"
#include "components/wire/checksum.h"
#include "components/wire/frame.h"
#include "components/wire/headers.h"
#include "components/wire/parse_result.h"
#include "components/wire/seq.h"
#include "components/wire/tcp_options.h"
#include "components/wire/tcp_segment.h"
