#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Put one hand-made IPv4 packet on a link and count the answers.

    inject.py IFACE DSTMAC SRCIP DSTIP tcp|udp PORT [WAIT_SECONDS]

Run inside a container netns: the frame leaves IFACE addressed to DSTMAC (the
bridge on the host) with any destination address, e.g. 127.0.0.1, which the
kernel's own stack would never send out. tcp sends a SYN and counts SYN-ACKs,
udp sends a datagram "inject" and counts UDP answers, both addressed to the
source port used. Prints the number of answers; exit 0.
"""
import os
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
ETH_P_ALL = 0x0003


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ip_header(src, dst, proto, payload_len):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, os.getpid() & 0xFFFF, 0x4000, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]


def l4(src, dst, proto, sport, dport):
    pseudo = lambda seg: socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto, len(seg))
    if proto == socket.IPPROTO_TCP:
        seg = struct.pack("!HHIIBBHHH", sport, dport, 0x12345678, 0, 5 << 4, 0x02, 64240, 0, 0)
        return seg[:16] + struct.pack("!H", csum(pseudo(seg) + seg)) + seg[18:]
    data = b"inject"
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    c = csum(pseudo(seg) + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def main():
    if len(sys.argv) < 7:
        sys.exit(__doc__)
    iface, dstmac, src, dst, proto_name, port = sys.argv[1:7]
    wait = float(sys.argv[7]) if len(sys.argv) > 7 else 1.5
    proto = socket.IPPROTO_TCP if proto_name == "tcp" else socket.IPPROTO_UDP
    sport = 40000 + os.getpid() % 20000
    with open("/sys/class/net/%s/address" % iface) as f:
        srcmac = bytes.fromhex(f.read().strip().replace(":", ""))

    seg = l4(src, dst, proto, sport, int(port))
    frame = bytes.fromhex(dstmac.replace(":", "")) + srcmac + struct.pack("!H", ETH_P_IP)
    frame += ip_header(src, dst, proto, len(seg)) + seg

    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    rx.bind((iface, 0))
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    tx.bind((iface, 0))
    tx.send(frame)

    answers = 0
    deadline = time.monotonic() + wait
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        rx.settimeout(left)
        try:
            pkt, addr = rx.recvfrom(65535)
        except socket.timeout:
            break
        if addr[2] == socket.PACKET_OUTGOING or len(pkt) < 14 + 20 + 8:
            continue
        if struct.unpack("!H", pkt[12:14])[0] != ETH_P_IP:
            continue
        ip = pkt[14:]
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] != proto:
            continue
        th = ip[ihl:]
        if struct.unpack("!H", th[2:4])[0] != sport:
            continue
        if proto == socket.IPPROTO_TCP and (th[13] & 0x12) != 0x12:
            continue
        answers += 1
    print(answers)


if __name__ == "__main__":
    main()
