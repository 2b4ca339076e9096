#!/usr/bin/env python3
"""Turn one charon <-> charon run into checked-in test data.

Inputs: the pcap taken on the initiator's veth, both charons' logs (levels
ike 4, chd 4) and a scenario description. Outputs (see
ike-core/tests/data/strongswan/README.md for the layout):

  NAME.txt      the ISAKMP messages, `I <hex>` / `R <hex>` per line, in the
                order sent (the `ipsec-inspect exchange` format)
  NAME.esp.txt  ESP-in-UDP packets seen during the run, same line format
  NAME.json     the values charon logged, cross-checked between both sides
  NAME.pcap     the raw capture

Only the standard library is used, so the recorder runs on a bare machine.
"""

import argparse
import hashlib
import hmac
import json
import re
import shutil
import struct
import sys
from pathlib import Path

JSON_FORMAT = "ipsec-rs/strongswan-recording/1"

# ---------------------------------------------------------------- pcap


def read_pcap_udp(path):
    """Yield (src_ip, dst_ip, sport, dport, payload) for each IPv4/UDP frame."""
    data = Path(path).read_bytes()
    if len(data) < 24:
        raise SystemExit(f"{path}: not a pcap (too short)")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise SystemExit(f"{path}: not a classic pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit(f"{path}: link type {linktype}, expected Ethernet (1)")
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off : off + 16])
        frame = data[off + 16 : off + 16 + incl]
        off += 16 + incl
        if len(frame) < 14 + 20 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        if ip[9] != 17 or len(ip) < total:
            continue
        src = ".".join(str(b) for b in ip[12:16])
        dst = ".".join(str(b) for b in ip[16:20])
        udp = ip[ihl:total]
        sport, dport, ulen = struct.unpack(">HHH", udp[:6])
        yield src, dst, sport, dport, udp[8:ulen]


def split_capture(pcap, initiator_ip):
    """Classify the captured datagrams.

    Returns (ike, esp, notes): ike is a list of dicts {who, port, bytes},
    retransmissions dropped (noted); esp the ESP-in-UDP packets.
    """
    ike, esp, notes = [], [], []
    seen = set()
    for src, _dst, sport, dport, payload in read_pcap_udp(pcap):
        who = "I" if src == initiator_ip else "R"
        if 4500 in (sport, dport):
            if payload == b"\xff":
                continue  # RFC 3948 NAT-keepalive
            if payload[:4] == b"\x00\x00\x00\x00":
                payload = payload[4:]  # non-ESP marker (RFC 3948 section 2.2)
            else:
                esp.append({"who": who, "bytes": payload})
                continue
            port = 4500
        else:
            port = 500
        key = (who, payload)
        if key in seen:
            notes.append(f"dropped a retransmission from {who} ({len(payload)} bytes)")
            continue
        seen.add(key)
        ike.append({"who": who, "port": port, "bytes": payload})
    return ike, esp, notes


# ---------------------------------------------------------------- ISAKMP peek
# Only enough of RFC 2408 to label lines and pull nonces / KE out of the
# unencrypted messages; the real codec is ike_core::wire.

EXCHANGES = {2: "Main Mode", 4: "Aggressive Mode", 5: "Informational", 32: "Quick Mode"}
PAYLOADS = {1: "SA", 4: "KE", 5: "ID", 6: "CERT", 7: "CR", 8: "HASH", 9: "SIG", 10: "NONCE", 11: "N", 12: "D",
            13: "VID", 20: "NAT-D", 130: "NAT-D(draft)"}


def isakmp_header(msg):
    cky_i, cky_r, first, ver, exch, flags, mid, length = struct.unpack(">8s8sBBBBII", msg[:28])
    return {"cky_i": cky_i.hex(), "cky_r": cky_r.hex(), "first": first, "version": ver,
            "exchange": exch, "flags": flags, "mid": mid, "length": length}


def isakmp_payloads(msg):
    """[(type, body)] of an unencrypted message; [] if it is encrypted."""
    h = isakmp_header(msg)
    if h["flags"] & 1:
        return []
    out, ptype, off = [], h["first"], 28
    while ptype != 0 and off + 4 <= len(msg):
        nxt, _, plen = struct.unpack(">BBH", msg[off : off + 4])
        if plen < 4 or off + plen > len(msg):
            raise SystemExit(f"malformed payload chain at offset {off}")
        out.append((ptype, msg[off + 4 : off + plen]))
        ptype, off = nxt, off + plen
    return out


def describe(msg):
    h = isakmp_header(msg)
    name = EXCHANGES.get(h["exchange"], f"exchange {h['exchange']}")
    if h["flags"] & 1:
        return f"{name}, MID {h['mid']:08x}, encrypted ({len(msg)} bytes)"
    kinds = [PAYLOADS.get(t, str(t)) for t, _ in isakmp_payloads(msg)]
    return f"{name}, MID {h['mid']:08x}, [{' '.join(kinds)}] ({len(msg)} bytes)"


# ---------------------------------------------------------------- charon log

LINE = re.compile(r"^(\d+)\[(\w+)\] (?:<([^|>]*)\|?(\d*)> )?(.*)$")
DUMP_HEAD = re.compile(r"^(.+?) => (\d+) bytes @ 0x[0-9a-f]+$")
DUMP_ROW = re.compile(r"^\s*(\d+): ((?:[0-9A-F]{2} )+)")
ENC = re.compile(r"^(generating|parsed) (\w+) (request|response) (\d+) \[ (.*) \]$")


def parse_log(path):
    """Events in log order: ('dump', label, bytes, mid_hint) and
    ('enc', verb, exchange, mid, payloads) and ('text', text)."""
    lines = Path(path).read_text(errors="replace").splitlines()
    events, i = [], 0
    while i < len(lines):
        m = LINE.match(lines[i])
        i += 1
        if not m:
            continue
        thread, text = m.group(1), m.group(5)
        head = DUMP_HEAD.match(text)
        if head:
            label, size = head.group(1), int(head.group(2))
            buf = bytearray()
            # Hex rows follow on the same thread; one log call writes them all.
            while len(buf) < size and i < len(lines):
                r = LINE.match(lines[i])
                row = DUMP_ROW.match(r.group(5)) if r and r.group(1) == thread else None
                if not row:
                    break
                if int(row.group(1)) != len(buf):
                    raise SystemExit(f"{path}:{i + 1}: hex dump offset out of order")
                buf += bytes.fromhex(row.group(2))[: size - len(buf)]
                i += 1
            if len(buf) != size:
                raise SystemExit(f"{path}: dump '{label}' has {len(buf)} of {size} bytes")
            events.append(("dump", label, bytes(buf)))
            continue
        enc = ENC.match(text)
        if enc:
            events.append(("enc", enc.group(1), enc.group(2), int(enc.group(4)), enc.group(5)))
            continue
        events.append(("text", text))
    return events


def side_values(events):
    """What one charon logged, grouped the way the key schedule uses it."""
    p1, qms, infos, ivs, natd = {}, {}, [], [], []
    selected, esp_sas = {}, {}
    labels_p1 = {
        "shared Diffie Hellman secret": "dh_shared_secret",
        "SKEYID": "skeyid", "SKEYID_d": "skeyid_d", "SKEYID_a": "skeyid_a",
        "SKEYID_e": "skeyid_e", "encryption key Ka": "encryption_key",
        "initial IV": "initial_iv", "HASH_I data": "hash_i_input",
        "HASH_I": "hash_i", "HASH_R data": "hash_r_input", "HASH_R": "hash_r",
    }
    labels_qm = {"Hash(1)": "hash1", "Hash(2)": "hash2", "Hash(3)": "hash3"}
    established = False
    qm_mid = None  # the Quick Mode in progress (one at a time in our runs)
    pending_info_hash = None
    for idx, ev in enumerate(events):
        if ev[0] == "text":
            text = ev[1]
            if "established between" in text and text.startswith("IKE_SA"):
                established = True
            m = re.match(r"\s*SPI 0x([0-9a-f]{8}), src (\S+) dst (\S+)$", text)
            if m:
                esp_sas[m.group(1)] = {"src": m.group(2), "dst": m.group(3)}
            m = re.match(r"selected proposal: (IKE|ESP):(\S+)", text)
            if m:
                selected[m.group(1).lower()] = m.group(2)
            continue
        if ev[0] == "enc":
            _, verb, exch, mid, _ = ev
            if exch == "QUICK_MODE":
                qm_mid = mid
                qms.setdefault(mid, {"message_id": mid, "sas": {}})
            if exch == "INFORMATIONAL_V1" and pending_info_hash is not None:
                infos.append({"message_id": mid, "hash": pending_info_hash.hex(),
                              "logged_by": "sender" if verb == "generating" else "receiver"})
                pending_info_hash = None
            continue
        _, label, value = ev
        if label.startswith("next IV for MID "):
            ivs.append({"message_id": int(label.rsplit(" ", 1)[1]), "iv": value.hex()})
            continue
        if label in ("natd_chunk", "natd_hash") or label.endswith("_hash"):
            natd.append({"label": label, "value": value.hex()})
            continue
        if label == "Hash":
            # Informational HASH(1) (RFC 2409 section 5.7); the receiver logs
            # it after "parsed", the sender before "generating".
            prev = next((e for e in reversed(events[:idx]) if e[0] == "enc"), None)
            if prev and prev[1] == "parsed" and prev[2] == "INFORMATIONAL_V1" and \
                    not any(x["message_id"] == prev[3] for x in infos):
                infos.append({"message_id": prev[3], "hash": value.hex(), "logged_by": "receiver"})
            else:
                pending_info_hash = value
            continue
        if not established and label in labels_p1:
            key = labels_p1[label]
            if key in p1:
                raise SystemExit(f"'{label}' logged twice during Phase 1")
            p1[key] = value.hex()
            continue
        if label == "DH secret":
            # Quick Mode PFS g^xy (RFC 2409 section 5.5)
            qm = qm_for(qms, qm_mid, label)
            qm["dh_shared_secret"] = value.hex()
            continue
        if label in labels_qm:
            # The initiator logs Hash(1) before "generating QUICK_MODE"; find
            # the next QUICK_MODE line in that case.
            mid = qm_mid
            if label == "Hash(1)":
                nxt = next((e for e in events[idx:] if e[0] == "enc" and e[2] == "QUICK_MODE"), None)
                mid = nxt[3] if nxt else qm_mid
                qms.setdefault(mid, {"message_id": mid, "sas": {}})
            qm_for(qms, mid, label)[labels_qm[label]] = value.hex()
            continue
        m = re.match(r"(initiator|responder) SA seed$", label)
        if m:
            # KEYMAT seed = [g(qm)^xy] | protocol | SPI | Ni_b | Nr_b (RFC 2409
            # section 5.5); the SPI is the one the *receiver* chose.
            qm = qm_for(qms, qm_mid, label)
            skip = len(qm.get("dh_shared_secret", "")) // 2
            spi = value[skip + 1 : skip + 5].hex()
            qm["sas"][m.group(1)] = {"spi": spi, "protocol": value[skip], "keymat_seed": value.hex()}
            continue
        m = re.match(r"(encryption|integrity) (initiator|responder) key$", label)
        if m:
            qm = qm_for(qms, qm_mid, label)
            qm["sas"].setdefault(m.group(2), {})[f"{m.group(1)}_key"] = value.hex()
            continue
    for q in qms.values():
        for sa in q["sas"].values():
            if sa.get("spi") in esp_sas:
                sa.update(esp_sas[sa["spi"]])
    return {"phase1": p1, "quick_modes": [qms[k] for k in qms], "informationals": infos,
            "ivs": ivs, "natd": natd, "selected": selected}


def qm_for(qms, mid, label):
    if mid is None:
        raise SystemExit(f"'{label}' logged outside a Quick Mode")
    return qms.setdefault(mid, {"message_id": mid, "sas": {}})


def cross_check(ini, res):
    """Both charons must have derived the same numbers."""
    problems = []
    for k, v in ini["phase1"].items():
        if k.endswith("_input"):
            continue
        if res["phase1"].get(k) not in (None, v):
            problems.append(f"phase1.{k} differs")
    if set(ini["phase1"]) != set(res["phase1"]):
        problems.append(f"phase1 fields differ: {sorted(set(ini['phase1']) ^ set(res['phase1']))}")
    qi = {q["message_id"]: q for q in ini["quick_modes"]}
    qr = {q["message_id"]: q for q in res["quick_modes"]}
    if set(qi) != set(qr):
        problems.append("different Quick Mode message IDs")
    for mid, q in qi.items():
        if mid not in qr:
            continue
        for k in ("hash1", "hash2", "hash3", "dh_shared_secret"):
            if q.get(k) != qr[mid].get(k):
                problems.append(f"quick mode {mid:08x}: {k} differs")
        if q["sas"] != qr[mid]["sas"]:
            problems.append(f"quick mode {mid:08x}: ESP keys differ")
    return problems


# ---------------------------------------------------------------- self-check
# Recompute what charon logged from the wire values and the PSK, with Python's
# hmac/hashlib, so a mislabelled dump cannot slip into the test data.

PRF_HASHES = {"PRF_HMAC_MD5": "md5", "PRF_HMAC_SHA1": "sha1", "PRF_HMAC_SHA2_256": "sha256",
              "PRF_HMAC_SHA2_384": "sha384", "PRF_HMAC_SHA2_512": "sha512"}


def expand(prf, key, seed, length, chain_seed):
    """K1 = prf(key, seed), Kn = prf(key, Kn-1 [| seed]) until length bytes:
    RFC 2409 Appendix B (chain_seed=False) and section 5.5 KEYMAT (True)."""
    out = block = prf(key, seed)
    while len(out) < length:
        block = prf(key, block + (seed if chain_seed else b""))
        out += block
    return out[:length]


def id_body(ident):
    """ID payload body as charon sends it: type, protocol 0, port 0, data
    (RFC 2407 section 4.6.2)."""
    parts = ident.split(".")
    if len(parts) == 4 and all(x.isdigit() for x in parts):
        return bytes([1, 0, 0, 0]) + bytes(int(x) for x in parts)  # ID_IPV4_ADDR
    return bytes([2, 0, 0, 0]) + ident.encode()  # ID_FQDN


def verify_recording(doc, psk):
    """Raise SystemExit unless the logged numbers follow from RFC 2409."""
    algs = doc["negotiated"]["ike"].split("/")
    hname = next(PRF_HASHES[a] for a in algs if a in PRF_HASHES)
    prf = lambda k, m: hmac.new(k, m, hname).digest()  # noqa: E731
    p1 = {k: bytes.fromhex(v) for k, v in doc["phase1"].items()}
    ck = bytes.fromhex(doc["cookies"]["cky_i"] + doc["cookies"]["cky_r"])
    gxy = p1["dh_shared_secret"]
    checks = {}
    if doc["config"].get("auth") == "pubkey":
        # RFC 2409 section 5: signatures, SKEYID = prf(Ni_b | Nr_b, g^xy)
        checks["skeyid"] = prf(p1["nonce_i"] + p1["nonce_r"], gxy)
    else:
        # RFC 2409 section 5: pre-shared key authentication
        checks["skeyid"] = prf(psk, p1["nonce_i"] + p1["nonce_r"])
    checks["skeyid_d"] = prf(checks["skeyid"], gxy + ck + b"\x00")
    checks["skeyid_a"] = prf(checks["skeyid"], checks["skeyid_d"] + gxy + ck + b"\x01")
    checks["skeyid_e"] = prf(checks["skeyid"], checks["skeyid_a"] + gxy + ck + b"\x02")
    ka_len = len(p1["encryption_key"])
    checks["encryption_key"] = (checks["skeyid_e"][:ka_len] if ka_len <= len(checks["skeyid_e"])
                                else expand(prf, checks["skeyid_e"], b"\x00", ka_len, False))
    # Phase 1 IV = hash(g^xi | g^xr), cut to the block size (RFC 2409 Appendix B)
    iv_len = len(p1["initial_iv"])
    checks["initial_iv"] = hashlib.new(hname, p1["ke_i"] + p1["ke_r"]).digest()[:iv_len]
    # Main Mode sends the IDs encrypted: rebuild them from the config.
    id_i = p1.get("id_i_body") or id_body(doc["config"]["initiator"]["id"])
    id_r = p1.get("id_r_body") or id_body(doc["config"]["responder"]["id"])
    checks["hash_i_input"] = p1["ke_i"] + p1["ke_r"] + ck + p1["sa_i_body"] + id_i
    checks["hash_r_input"] = p1["ke_r"] + p1["ke_i"] + ck[8:] + ck[:8] + p1["sa_i_body"] + id_r
    checks["hash_i"] = prf(checks["skeyid"], p1["hash_i_input"])
    checks["hash_r"] = prf(checks["skeyid"], p1["hash_r_input"])
    bad = [k for k, v in checks.items() if p1[k] != v]
    skeyid_d = p1["skeyid_d"]
    for q in doc["quick_modes"]:
        for sa in q["sas"]:
            enc = bytes.fromhex(sa["encryption_key"])
            integ = bytes.fromhex(sa.get("integrity_key", ""))
            seed = bytes.fromhex(sa["keymat_seed"])
            if q.get("dh_shared_secret") and not seed.startswith(bytes.fromhex(q["dh_shared_secret"])):
                bad.append(f"keymat seed of {sa['spi']} does not start with the PFS g^xy")
            keymat = expand(prf, skeyid_d, seed, len(enc) + len(integ), True)
            if keymat != enc + integ:
                bad.append(f"KEYMAT of SPI {sa['spi']}")
    if bad:
        raise SystemExit(f"{doc['name']}: logged values do not recompute: {', '.join(bad)}")


# ---------------------------------------------------------------- ESP check
# Decrypt every captured ESP packet with the logged keys (pyca/cryptography)
# and check the ICV and the RFC 4303 trailer, so the ESP vectors are known
# good. The inner packets go into the JSON.

ESP_INTEG = {"HMAC_SHA1_96": ("sha1", 12), "HMAC_MD5_96": ("md5", 12),
             "HMAC_SHA2_256_128": ("sha256", 16), "HMAC_SHA2_384_192": ("sha384", 24),
             "HMAC_SHA2_512_256": ("sha512", 32)}


def decrypt_esp(doc, esp):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:  # cryptography >= 43 keeps 3DES among the "decrepit" ciphers
        from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES as triple_des
    except ImportError:
        triple_des = algorithms.TripleDES

    algs = doc["negotiated"]["esp"].split("/")
    enc = algs[0]
    integ = next((ESP_INTEG[a] for a in algs if a in ESP_INTEG), None)
    keys = {sa["spi"]: sa for q in doc["quick_modes"] for sa in q["sas"]}
    out = []
    for p in esp:
        pkt = p["bytes"]
        spi, seq = pkt[:4].hex(), struct.unpack(">I", pkt[4:8])[0]
        sa = keys.get(spi)
        if sa is None:
            raise SystemExit(f"ESP packet with unknown SPI {spi}")
        key = bytes.fromhex(sa["encryption_key"])
        if enc.startswith("AES_GCM_16"):
            # RFC 4106: key | 4-byte salt; nonce = salt | 8-byte IV; AAD = SPI | seq
            iv = pkt[8:16]
            plain = AESGCM(key[:-4]).decrypt(key[-4:] + iv, pkt[16:], pkt[:8])
        else:
            block = 8 if enc == "3DES_CBC" else 16
            algo = triple_des(key) if block == 8 else algorithms.AES(key)
            hname, icv_len = integ
            body, icv = pkt[:-icv_len], pkt[-icv_len:]
            want = hmac.new(bytes.fromhex(sa["integrity_key"]), body, hname).digest()[:icv_len]
            if not hmac.compare_digest(icv, want):
                raise SystemExit(f"ESP SPI {spi} seq {seq}: ICV does not verify")
            iv = body[8 : 8 + block]
            d = Cipher(algo, modes.CBC(iv)).decryptor()
            plain = d.update(body[8 + block :]) + d.finalize()
        pad_len, next_header = plain[-2], plain[-1]
        padding = plain[-2 - pad_len : -2]
        if padding != bytes(range(1, pad_len + 1)):
            raise SystemExit(f"ESP SPI {spi} seq {seq}: padding is not 1, 2, 3, ...")
        out.append({"who": p["who"], "spi": spi, "sequence": seq, "iv": iv.hex(),
                    "next_header": next_header, "pad_length": pad_len,
                    "inner_packet": plain[: -2 - pad_len].hex()})
    return out


# ---------------------------------------------------------------- output


def write_exchange(path, ike, scenario, notes):
    with open(path, "w") as f:
        f.write(f"# strongSwan {scenario['strongswan_version']} <-> strongSwan, "
                f"recorded by tests/interop/record-strongswan.sh {scenario['name']}\n")
        f.write(f"# {scenario['summary']}\n")
        if scenario.get("auth") == "pubkey":
            certs = scenario["certificates"]
            f.write(f"# RSA signatures: initiator {certs['initiator']}, responder "
                    f"{certs['responder']}; keys and secrets charon logged: {Path(path).stem}.json\n")
        else:
            f.write(f"# PSK \"{scenario['psk']}\"; keys and secrets charon logged: "
                    f"{Path(path).stem}.json\n")
        f.write("# I = sent by the Phase 1 initiator, R = by the responder; in order sent.\n")
        f.write("# Port-4500 messages are given without the 4-byte non-ESP marker.\n")
        for n in notes:
            f.write(f"# {n}\n")
        for n, m in enumerate(ike, 1):
            f.write(f"# {n}: {m['who']} udp/{m['port']}: {describe(m['bytes'])}\n")
            f.write(f"{m['who']} {m['bytes'].hex()}\n")


def write_esp(path, esp, scenario):
    with open(path, "w") as f:
        f.write(f"# ESP-in-UDP (RFC 3948) packets of {scenario['name']}, UDP payload only: "
                "SPI | sequence | IV | ciphertext | ICV\n")
        f.write("# I = sent by the Phase 1 initiator, R = by the responder. Keys per SPI: "
                f"{Path(path).name.replace('.esp.txt', '.json')} quick_modes[].sas\n")
        f.write("# Inner traffic: UDP 10.99.1.1 -> 10.99.2.1:9, answered by ICMP port unreachable.\n")
        for p in esp:
            f.write(f"{p['who']} {p['bytes'].hex()}\n")


def unencrypted_fields(ike):
    """Nonces and KE values out of the clear Phase 1 messages."""
    out = {}
    for m in ike:
        h = isakmp_header(m["bytes"])
        if h["exchange"] not in (2, 4) or h["flags"] & 1:
            continue
        side = "i" if m["who"] == "I" else "r"
        for ptype, body in isakmp_payloads(m["bytes"]):
            if ptype == 4:
                out[f"ke_{side}"] = body.hex()
            elif ptype == 10:
                out[f"nonce_{side}"] = body.hex()
            elif ptype == 1:
                out[f"sa_{side}_body"] = body.hex()
            elif ptype == 5:
                out[f"id_{side}_body"] = body.hex()
    return out


def build(args):
    scenario = json.loads(Path(args.scenario).read_text())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = scenario["name"]
    ike, esp, notes = split_capture(args.pcap, scenario["initiator"]["address"])
    if not ike:
        raise SystemExit("no IKE messages in the capture")
    ini = side_values(parse_log(args.initiator_log))
    res = side_values(parse_log(args.responder_log)) if args.responder_log else None

    doc = {
        "format": JSON_FORMAT,
        "name": name,
        "strongswan_version": scenario["strongswan_version"],
        "files": {"exchange": f"{name}.txt", "pcap": f"{name}.pcap"},
        "config": {k: v for k, v in scenario.items() if k not in ("name", "strongswan_version")},
        "messages": [{"who": m["who"], "udp_port": m["port"], "what": describe(m["bytes"])}
                     for m in ike],
    }
    cookies = isakmp_header(ike[0]["bytes"])
    responder_cookie = next((isakmp_header(m["bytes"])["cky_r"] for m in ike
                             if isakmp_header(m["bytes"])["cky_r"] != "0" * 16), None)
    doc["cookies"] = {"cky_i": cookies["cky_i"], "cky_r": responder_cookie}
    if scenario.get("expect_failure"):
        # Whatever each side got to derive before the exchange failed (e.g.
        # Phase 1 keys from two different PSKs); empty when nothing was.
        doc["logged_phase1"] = {"initiator": ini["phase1"], "responder": res["phase1"] if res else {}}
    else:
        if res is None:
            raise SystemExit("responder log needed for a completed exchange")
        problems = cross_check(ini, res)
        if problems:
            raise SystemExit("initiator and responder disagree: " + "; ".join(problems))
        if not ini["phase1"].get("skeyid_e") or not ini["quick_modes"]:
            raise SystemExit("log lacks Phase 1 keys or a Quick Mode (log levels?)")
        doc["negotiated"] = ini["selected"]
        doc["phase1"] = dict(unencrypted_fields(ike), **ini["phase1"])
        qms = []
        for q in ini["quick_modes"]:
            entry = {"message_id": q["message_id"], "message_id_hex": f"{q['message_id']:08x}"}
            for k in ("dh_shared_secret", "hash1", "hash2", "hash3"):
                if k in q:
                    entry[k] = q[k]
            entry["sas"] = []
            for role in ("initiator", "responder"):
                sa = dict(q["sas"][role])
                sa["direction"] = f"{role}_to_{'responder' if role == 'initiator' else 'initiator'}"
                if sa.get("src") != scenario[role]["address"]:
                    raise SystemExit(f"SPI {sa.get('spi')}: '{role}' keys but source {sa.get('src')}")
                entry["sas"].append(sa)
            qms.append(entry)
        doc["quick_modes"] = qms
        verify_recording(doc, scenario["psk"].encode())
        doc["esp_packets"] = decrypt_esp(doc, esp)
        doc["recomputed"] = ("SKEYID, SKEYID_d/a/e, encryption key, initial IV, HASH_I/HASH_R and "
                             "every KEYMAT recomputed with Python hmac/hashlib, and every ESP packet "
                             "decrypted (ICV/tag and padding checked) with pyca/cryptography, "
                             "by charon_extract.py")
        # Each Informational once, in wire order (both sides log its hash).
        wire_mids = [isakmp_header(m["bytes"])["mid"] for m in ike]
        infos = {x["message_id"]: x for x in res["informationals"] + ini["informationals"]}
        doc["informationals"] = sorted(
            infos.values(),
            key=lambda x: wire_mids.index(x["message_id"]) if x["message_id"] in wire_mids else len(wire_mids))
        doc["ivs"] = {"initiator": ini["ivs"], "responder": res["ivs"]}
        doc["natd"] = {"initiator": ini["natd"], "responder": res["natd"]}
        doc["files"]["esp"] = f"{name}.esp.txt"
        write_esp(out / f"{name}.esp.txt", esp, scenario)
    write_exchange(out / f"{name}.txt", ike, scenario, notes)
    shutil.copyfile(args.pcap, out / f"{name}.pcap")
    (out / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n")
    if args.messages:
        mdir = Path(args.messages)
        mdir.mkdir(parents=True, exist_ok=True)
        for n, m in enumerate(ike, 1):
            if not isakmp_header(m["bytes"])["flags"] & 1:
                (mdir / f"{name}.{n}.{m['who']}.bin").write_bytes(m["bytes"])
    print(f"{name}: {len(ike)} IKE messages, {len(esp)} ESP packets", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", required=True, help="scenario JSON written by the recorder")
    p.add_argument("--pcap", required=True)
    p.add_argument("--initiator-log", required=True)
    p.add_argument("--responder-log")
    p.add_argument("--out", required=True, help="directory for NAME.{txt,json,pcap,esp.txt}")
    p.add_argument("--messages", help="also write each unencrypted message as raw .bin here")
    build(p.parse_args())


if __name__ == "__main__":
    main()
