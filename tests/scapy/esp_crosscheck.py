#!/usr/bin/env python3
"""Independent ESP peer for esp-core's cross-check, built on scapy's IPsec
module (scapy.layers.ipsec) and pyca/cryptography.

Reads one JSON request on stdin:
  {"op": "encrypt" | "decrypt", "cases": [case, ...]}
where a case is
  {"id", "enc", "enc_key", "auth", "auth_key", "spi", "mode", "udp",
   "esn_high", "seq", "packet"}
(hex strings for keys and packets, esp-core's algorithm names).

"encrypt": packet is a cleartext IP packet; scapy protects it and returns the
wire packet (tunnel: new outer IPv4 header 192.0.2.1 -> 192.0.2.2).
"decrypt": packet is a wire packet; scapy verifies, decrypts and returns the
cleartext (inner packet in tunnel mode, rebuilt packet in transport mode).

Writes {"results": [{"id", "ok", "packet" | "error"}]} on stdout.

Four scapy 2.5 shortcomings are worked around, outside the cryptography:
the NAT-T UDP length it writes is 8 (the header alone) and is recomputed;
behind IPv6 extension headers it leaves next header 50 in front of the
NAT-T UDP header; it does not remove the UDP header when decapsulating
IPv6 transport mode, so that is done before; and it leaves the ESN high-order bits out of the HMAC ICV of non-AEAD
ESP (RFC 4303 section 2.2.1 requires them), so for ESN with a separate
integrity algorithm this script computes and checks that ICV itself with
Python's hmac module and uses scapy for the cipher only.
"""

import copy
import hashlib
import hmac
import json
import struct
import sys

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from cryptography.hazmat.primitives.ciphers import algorithms, modes
from scapy.layers.ipsec import AUTH_ALGOS, CRYPT_ALGOS, ESP, CryptAlgo, SecurityAssociation
from scapy.packet import Raw

ENC = {
    "null": "NULL",
    "aes-cbc": "AES-CBC",
    "3des-cbc": "3DES",
    "aes-ctr": "AES-CTR",
    "aes-gcm-16": "AES-GCM",
    "chacha20-poly1305": "CHACHA20-POLY1305",
}
AUTH = {
    "hmac-md5-96": ("HMAC-MD5-96", hashlib.md5, 12),
    "hmac-sha1-96": ("HMAC-SHA1-96", hashlib.sha1, 12),
    "hmac-sha256-128": ("SHA2-256-128", hashlib.sha256, 16),
    "hmac-sha384-192": ("SHA2-384-192", hashlib.sha384, 24),
    "hmac-sha512-256": ("SHA2-512-256", hashlib.sha512, 32),
    "hmac-sha256-96": ("HMAC-SHA256-96", hashlib.sha256, 12),
}

# Short-ICV GCM (RFC 4106 section 6): scapy's stock AES-GCM uses the
# one-shot AEAD API, which only does 16-byte tags, so these go through
# cryptography's GCM mode, which truncates and checks short tags.
for icv in (8, 12):
    CRYPT_ALGOS["AES-GCM-%d" % icv] = CryptAlgo(
        "AES-GCM-%d" % icv,
        cipher=algorithms.AES,
        mode=modes.GCM,
        key_size=(16, 24, 32),
        salt_size=4,
        block_size=1,
        iv_size=8,
        icv_size=icv,
        format_mode_iv=lambda sa, iv, **kw: sa.crypt_salt + iv,
    )
    ENC["aes-gcm-%d" % icv] = "AES-GCM-%d" % icv
# The legacy 96-bit SHA-256 is the stock algorithm with another ICV length.
legacy = copy.copy(AUTH_ALGOS["SHA2-256-128"])
legacy.icv_size = 12
legacy.name = "HMAC-SHA256-96"
AUTH_ALGOS["HMAC-SHA256-96"] = legacy


def is_aead(case):
    return case["enc"].startswith(("aes-gcm", "chacha20"))


def manual_esn_icv(case):
    return case["esn_high"] is not None and case["auth"] is not None and not is_aead(case)


def make_sa(case, with_auth=True):
    kwargs = dict(
        spi=int(case["spi"], 16),
        seq_num=case["seq"],
        crypt_algo=ENC[case["enc"]],
        crypt_key=bytes.fromhex(case["enc_key"]),
        esn_en=case["esn_high"] is not None,
        esn=case["esn_high"] or 0,
    )
    if case["auth"] and with_auth:
        kwargs["auth_algo"] = AUTH[case["auth"]][0]
        kwargs["auth_key"] = bytes.fromhex(case["auth_key"])
    if case["mode"] == "tunnel":
        kwargs["tunnel_header"] = IP(src="192.0.2.1", dst="192.0.2.2")
    if case["udp"]:
        kwargs["nat_t_header"] = UDP(sport=4500, dport=4500)
    return SecurityAssociation(ESP, **kwargs)


def esn_icv(case, esp_bytes):
    _, digest, length = AUTH[case["auth"]]
    mac = hmac.new(bytes.fromhex(case["auth_key"]), esp_bytes + struct.pack("!L", case["esn_high"]), digest)
    return mac.digest()[:length]


def parse_ip(raw):
    return IP(raw) if raw[0] >> 4 == 4 else IPv6(raw)


def encrypt(case):
    packet = parse_ip(bytes.fromhex(case["packet"]))
    if not manual_esn_icv(case):
        wire = make_sa(case).encrypt(packet)
    else:
        wire = make_sa(case, with_auth=False).encrypt(packet)
        wire[ESP].data = wire[ESP].data + esn_icv(case, bytes(wire[ESP]))
        # The IP length scapy filled in does not count the ICV.
        if wire.version == 4:
            del wire.len
            del wire.chksum
        else:
            del wire.plen
    if wire.haslayer(UDP):
        # scapy 2.5 freezes the NAT-T UDP length before the ESP payload is
        # attached (it sends 8); recompute it. The ESP bytes are scapy's own.
        del wire[UDP].len
        if wire.version == 6:
            # ... and, behind IPv6 extension headers, leaves next header 50
            # in the header before the UDP header it inserted.
            wire[UDP].underlayer.nh = 17
    return bytes(wire)


def decrypt(case):
    wire = parse_ip(bytes.fromhex(case["packet"]))
    if case["udp"] and case["mode"] == "transport" and wire.version == 6:
        # scapy 2.5 leaves the UDP header in place when it decapsulates
        # IPv6 transport mode; take it out first (RFC 3948 section 3.2).
        esp = wire[ESP]
        before_udp = wire[UDP].underlayer
        before_udp.remove_payload()
        before_udp.nh = 50
        del wire.plen
        wire = IPv6(bytes(wire / esp))
    if not manual_esn_icv(case):
        return bytes(make_sa(case).decrypt(wire))
    esp = wire[ESP]
    icv_len = AUTH[case["auth"]][2]
    body, icv = esp.data[:-icv_len], esp.data[-icv_len:]
    esp.data = body
    if not hmac.compare_digest(esn_icv(case, bytes(esp)), icv):
        raise ValueError("ICV (with ESN high bits) does not verify")
    return bytes(make_sa(case, with_auth=False).decrypt(wire))


def main():
    request = json.load(sys.stdin)
    op = {"encrypt": encrypt, "decrypt": decrypt}[request["op"]]
    results = []
    for case in request["cases"]:
        try:
            results.append({"id": case["id"], "ok": True, "packet": op(case).hex()})
        except Exception as e:  # report per case; the Rust side fails the test
            results.append({"id": case["id"], "ok": False, "error": "%s: %s" % (type(e).__name__, e)})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
