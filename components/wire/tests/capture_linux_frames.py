# Captures the real Linux frames in test_frames.h (SYN, SYN-ACK, data, ARP request and reply).
# Not run by the tests: rerun it only to refresh those frames after a kernel change.
#
# A TAP device without offloads makes the kernel compute every checksum in software. Run it in a
# throw-away network namespace so nothing on the host changes (needs root):
#   ip netns add vtas-wire-cap
#   ip netns exec vtas-wire-cap python3 capture_linux_frames.py
#   ip netns del vtas-wire-cap
# Linux is 10.0.0.1 / 02:00:00:00:00:01; this script plays the peer 10.0.0.2 / 02:00:00:00:00:02.
import os, fcntl, struct, socket, select, time, subprocess, binascii
TUNSETIFF = 0x400454ca; IFF_TAP = 0x0002; IFF_NO_PI = 0x1000
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", b"wcap0", IFF_TAP | IFF_NO_PI))
def sh(c): subprocess.run(c, shell=True, check=True)
sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1")
sh("ip link set wcap0 address 02:00:00:00:00:01 && ip addr add 10.0.0.1/24 dev wcap0 && ip link set wcap0 up")
MY_MAC = bytes.fromhex("020000000002"); LX_MAC = bytes.fromhex("020000000001")
MY_IP = socket.inet_aton("10.0.0.2"); LX_IP = socket.inet_aton("10.0.0.1")
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b)//2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def read_frame(want, timeout=2.0):
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if not r: continue
        f = os.read(fd, 4096)
        if want(f): return f
    raise SystemExit("timeout waiting for frame")
def eth(dst, typ, payload): return dst + MY_MAC + struct.pack("!H", typ) + payload
def arp(op, smac, sip, tmac, tip): return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + smac + sip + tmac + tip
def tcp(sport, dport, seq, ack, flags, win, opts, payload=b""):
    hl = 20 + len(opts)
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (hl // 4) << 4, flags, win, 0, 0) + opts
    ph = MY_IP + LX_IP + struct.pack("!BBH", 0, 6, hl + len(payload))
    c = csum(ph + h + payload)
    h = h[:16] + struct.pack("!H", c) + h[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + hl + len(payload), 0x1234, 0x4000, 64, 6, 0, MY_IP, LX_IP)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return eth(LX_MAC, 0x0800, ip + h + payload)
is_arp = lambda f: f[12:14] == b"\x08\x06"
is_tcp = lambda f: f[12:14] == b"\x08\x00" and f[23] == 6
out = {}
# 1. Linux as client: ARP request, then SYN.
cli = socket.socket(); cli.setblocking(False)
cli.connect_ex(("10.0.0.2", 80))
f = read_frame(is_arp); out["arp_request"] = f
os.write(fd, eth(LX_MAC, 0x0806, arp(2, MY_MAC, MY_IP, LX_MAC, LX_IP)))
f = read_frame(lambda f: is_tcp(f) and f[47] == 0x02); out["syn"] = f
cli.close()
# 2. Linux as server: ARP reply, SYN-ACK, data.
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("10.0.0.1", 5000)); srv.listen()
os.write(fd, eth(b"\xff" * 6, 0x0806, arp(1, MY_MAC, MY_IP, b"\0" * 6, LX_IP)))
f = read_frame(lambda f: is_arp(f) and f[21] == 2); out["arp_reply"] = f
opts = bytes.fromhex("020405b4") + bytes.fromhex("0402080a") + struct.pack("!II", 1000, 0) + bytes.fromhex("01030307")
os.write(fd, tcp(40000, 5000, 0x11111111, 0, 0x02, 64240, opts))
f = read_frame(lambda f: is_tcp(f) and f[47] == 0x12); out["syn_ack"] = f
lx_seq = struct.unpack("!I", f[38:42])[0]; i = 54
while f[i] != 8: i += 1 if f[i] == 1 else f[i+1]
lx_tsval = struct.unpack("!I", f[i+2:i+6])[0]
ts = bytes.fromhex("0101080a") + struct.pack("!II", 1001, lx_tsval)
os.write(fd, tcp(40000, 5000, 0x11111112, lx_seq + 1, 0x10, 502, ts))
srv.settimeout(3)
conn, _ = srv.accept()
conn.send(b"hello from linux\n")
f = read_frame(lambda f: is_tcp(f) and len(f) > 66); out["data"] = f
for k, v in out.items(): print(k, binascii.hexlify(v).decode())
