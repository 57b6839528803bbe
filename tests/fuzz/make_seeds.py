#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into tests/fuzz/corpus/<target>/seed-*.

Run from anywhere: python3 tests/fuzz/make_seeds.py (needs protoc for the protobuf seeds).
Seeds are small, deterministic inputs that reach each target's interesting paths; libFuzzer
grows its working corpus from them. Files not named seed-* (reproducers of bugs found, see
README.md) are left alone.
"""
import os
import random
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
rng = random.Random(20261126)


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def rand_bytes(n):
    return bytes(rng.randrange(256) for _ in range(n))


def protoc_encode(message_type, proto, text):
    out = subprocess.run(
        ["protoc", "-I", ROOT, "--encode=" + message_type, os.path.join("proto", proto)],
        input=text.encode(), capture_output=True, check=True, cwd=ROOT)
    return out.stdout


# ---- wire_frame: Ethernet/IPv4/TCP and ARP frames with correct checksums ----------------------
def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def tcp_frame(flags, payload=b"", options=b"", vlan=False, seq=1000, ack=5000, tos=0):
    src, dst = bytes([10, 77, 0, 2]), bytes([10, 77, 0, 1])
    while len(options) % 4:
        options += b"\x01"
    off = (20 + len(options)) // 4
    tcp = struct.pack("!HHIIBBHHH", 40000, 7000, seq, ack, off << 4, flags, 65535, 0, 0)
    tcp += options + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    c = csum(pseudo + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(tcp), 1, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2])
    if vlan:
        eth += struct.pack("!HH", 0x8100, 5)
    return eth + struct.pack("!H", 0x0800) + ip + tcp


mss = b"\x02\x04\x05\xb4"
ws = b"\x03\x03\x07"
sackp = b"\x04\x02"
ts = b"\x08\x0a" + struct.pack("!II", 777, 0)
write("wire_frame", "syn-all-options", tcp_frame(0x02, options=mss + sackp + ts + b"\x01" + ws))
write("wire_frame", "data-timestamps", tcp_frame(0x18, b"hello, vtas", b"\x01\x01" + ts))
write("wire_frame", "ack-vlan", tcp_frame(0x10, vlan=True))
write("wire_frame", "fin-ecn-ce", tcp_frame(0x11, b"x" * 100, tos=3))
write("wire_frame", "rst", tcp_frame(0x04))
write("wire_frame", "option-zero-length", tcp_frame(0x10, options=b"\x08\x00\x00\x00"))
write("wire_frame", "option-truncated", tcp_frame(0x10, options=b"\x02\x04\x05"))
write("wire_frame", "option-unknown", tcp_frame(0x10, options=b"\xfe\x06abcd"))
arp = (bytes([0xff] * 6) + bytes([2, 0, 0, 0, 0, 2]) + b"\x08\x06" +
       struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + bytes([2, 0, 0, 0, 0, 2]) +
       bytes([10, 77, 0, 2]) + bytes(6) + bytes([10, 77, 0, 1]))
write("wire_frame", "arp-request", arp)
write("wire_frame", "text-mac-and-ip", "02:00:00:00:00:01")
write("wire_frame", "text-ip", "10.77.0.1")

# ---- structural targets: the input is read field by field, so random bytes reach everywhere --
for target, sizes in {
    "tcp_receive": [96, 160, 300, 600],
    "client_events": [64, 200, 400, 800],
    "fastpath_app_bumps": [64, 200, 400, 800],
    "proxy_channel": [70, 200, 700],
}.items():
    for n in sizes:
        write(target, "random-%d" % n, rand_bytes(n))

# A plausible TCP flow followed by in-order data segments and bumps (all-zero choices mean
# "the plausible value" in tcp_receive.cc).
write("tcp_receive", "zeros", bytes(400))
write("fastpath_app_bumps", "zeros", bytes(300))

# ---- manifest_text and command_line -------------------------------------------------------------
for name in sorted(os.listdir(os.path.join(ROOT, "manifests"))):
    if name.endswith(".txtpb"):
        with open(os.path.join(ROOT, "manifests", name), "rb") as f:
            write("manifest_text", name.replace(".txtpb", ""), f.read())
write("manifest_text", "minimal", 'instance: "x"\nnetwork { ip_addr: "10.0.0.1/24" }\n')
write("manifest_text", "syntax-error", 'instance: "x"\nnetwork { ip_addr: 10.0.0.1 \n')
write("manifest_text", "tas-ranges",
      'tas { cc_dctcp_weight: 2.5 cc_timely_alpha: -1 tcp_rxbuf_len: 0 }\n')
write("command_line", "tas-flags",
      "--ip-addr=10.0.0.1/24\n--cc=timely\n--fp-cores-max=2\n--ip-route=10.1.0.0/16,10.0.0.254")
write("command_line", "split-values", "--cc\ndctcp-win\n--arp-timeout\n500\n--arp-timeout-max=100")
write("command_line", "vtas-flags", "--manifest=/dev/null\n--ready-fd=3\n--help\n--version")
write("command_line", "unknown", "--foo\n-x\n--\nplain")

# ---- fastpath_app_requests: attach, a context, requests into its kout ring ---------------------
def attach_request(name=b"fuzz"):
    # step (message), kind 0 (AttachRequest, no fd), choice 0 (valid header), name length, name
    return bytes([1, 0x00, 0]) + struct.pack("<I", len(name)) + name


def context_request():
    # step, kind 1 | eventfd << 4, choice 0, app_id
    return bytes([1, 0x11, 0]) + struct.pack("<I", 0)


def kout_requests(count):
    out = bytes([0]) + struct.pack("<II", 0, count)
    for i in range(count):
        r = struct.pack("<BBHIQIIIIHHIH", 1 + i % 7, 0, 0, i + 1, 0x1000 + i, 0, 0,
                        0x0a000002, 0, 80, 7, 16, 0)
        out += r + bytes(64 - len(r))
    return out + b"\x00"


write("fastpath_app_requests", "attach-context-requests",
      struct.pack("<I", 0) + attach_request() + context_request() + kout_requests(5))
write("fastpath_app_requests", "vm-attach",
      struct.pack("<I", 1) + bytes([1, 0x22, 0]) + struct.pack("<I", 1) + b"\x01" +
      struct.pack("<II", 0, 0) + struct.pack("<I", 2) + b"vm" +
      bytes([1, 0x03, 0, 0]) + struct.pack("<II", 0, 3) + b"app")
write("fastpath_app_requests", "random", rand_bytes(300))

# ---- ivshmem_protocol ---------------------------------------------------------------------------
def ivmsg(value_class, fd_kind, value=None):
    out = bytes([value_class | fd_kind << 2])
    if value_class in (0, 2):
        out += struct.pack("<I", value)
    elif value_class == 3:
        out += struct.pack("<q", value)
    return out


handshake = (bytes([1]) + struct.pack("<II", 0, 1) + b"\x00" +
             ivmsg(0, 0, 0) + ivmsg(0, 0, 1) + ivmsg(1, 2) + ivmsg(0, 1, 0) + ivmsg(0, 1, 1))
write("ivshmem_protocol", "handshake-complete", handshake)
write("ivshmem_protocol", "handshake-peer-leaves",
      handshake[:-10] + ivmsg(2, 1, 3) + ivmsg(2, 0, 3) + handshake[-10:])
write("ivshmem_protocol", "framing",
      bytes([0]) + bytes([0x08]) + struct.pack("<q", 0) + bytes([0x18]) + struct.pack("<q", -1) +
      bytes([0x23, 1, 2, 3]) + bytes([0x55]) + b"\x05\x00\x00\x00\x00")

# ---- envelope_mailbox and proxy_channel (protobuf seeds through protoc) -----------------------
def envelope(text):
    return protoc_encode("vtas.Envelope", "envelope.proto", text)


hdr = 'header { sender: "peer" receiver: "fuzzed" correlation_id: 7 kind: MESSAGE_KIND_REQUEST } '
write("envelope_mailbox", "ping", b"\x00" + envelope(hdr + "ping_request { sequence: 9 payload: 'abc' }"))
write("envelope_mailbox", "stats", b"\x00" + envelope(hdr + "stats_request {}"))
write("envelope_mailbox", "set-log-level", b"\x00" + envelope(hdr + "set_log_level { level: 1 }"))
write("envelope_mailbox", "note-event",
      b"\x00" + envelope('header { sender: "peer" kind: MESSAGE_KIND_EVENT } note {}'))
write("envelope_mailbox", "response-unknown",
      b"\x00" + envelope('header { correlation_id: 99 kind: MESSAGE_KIND_RESPONSE } ack { ok: true }'))
write("envelope_mailbox", "two-frames", b"\x01\x03\x00abc" + envelope(hdr + "note {}"))
write("envelope_mailbox", "garbage", b"\x00\x0a\xff\xff\xff\xff\x0f")

for name, text in [("guest-hello", "guest_hello { version: 1 }"),
                   ("app-attach", 'app_attach { request_id: 1 name: "app" }'),
                   ("context-create", "context_create { request_id: 2 app_id: 1 }")]:
    msg = protoc_encode("vtas.proxy.ChannelMessage", "proxy.proto", text)
    frame = struct.pack("<I", len(msg)) + msg
    frame += bytes((-len(frame)) % 64)
    entries = len(frame) // 64
    # mode 1 (guest writes, host reads), vm peer id, count, the entries, no index corruption
    write("proxy_channel", name, bytes([1]) + struct.pack("<II", 0, entries) + frame + b"\x00")
print("seeds written to", CORPUS)
