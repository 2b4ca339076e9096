#!/usr/bin/env python3
"""Harness self-test peer: replays a recorded strongSwan Main Mode 1 (with a
fresh initiator cookie) to the charon of with-charon.sh and checks that MM2
comes back for that cookie with the same single-transform SA. Bounded: 3
tries, 2 s each."""
import os
import socket
import sys
from pathlib import Path

mm1 = bytearray(Path(sys.argv[1]).read_bytes())
cookie = os.urandom(8)
mm1[0:8] = cookie
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((os.environ["INTEROP_LOCAL"], 500))
sock.settimeout(2.0)
for attempt in range(3):
    sock.sendto(mm1, (os.environ["INTEROP_PEER"], 500))
    try:
        reply, _ = sock.recvfrom(65535)
    except socket.timeout:
        continue
    if reply[0:8] != cookie or reply[18] != 2 or reply[8:16] == bytes(8):
        sys.exit(f"unexpected reply {reply[:28].hex()}")
    # MM1 and MM2 both start with the SA payload (next payload 1 in the header);
    # charon echoes our only transform.
    sa_len = int.from_bytes(mm1[30:32], "big")
    if reply[16] != 1 or reply[28:28 + sa_len][4:] != mm1[28:28 + sa_len][4:]:
        sys.exit("MM2 does not echo the proposal")
    print(f"MM2 received for cookie {cookie.hex()}, responder cookie {reply[8:16].hex()}")
    sys.exit(0)
sys.exit("no MM2 from charon")
