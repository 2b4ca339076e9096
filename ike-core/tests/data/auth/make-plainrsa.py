#!/usr/bin/env python3
"""Writes gw.plainrsa (racoon plainrsa-gen layout: a commented PUB line and an
RSA block) and gw.plainrsa.pub (a `: PUB 0s...` line, RFC 3110 key) from
gw.key, so the plain_rsa reader is tested against the same key as gw.pem.
Called by make-pki.sh; needs openssl and python3."""
import base64, re, subprocess

text = subprocess.run(["openssl", "rsa", "-in", "gw.key", "-noout", "-text"],
                      check=True, capture_output=True, text=True).stdout

def field(name):
    m = re.search(name + r":\s*\n((?:\s+[0-9a-f:]+\n)+)", text)
    return int(m.group(1).replace(":", "").replace(" ", "").replace("\n", ""), 16)

n, d = field("modulus"), field("privateExponent")
p, q = field("prime1"), field("prime2")
e1, e2, c = field("exponent1"), field("exponent2"), field("coefficient")
e = int(re.search(r"publicExponent: (\d+)", text).group(1))
hx = lambda v: "0x%x" % v
b = lambda v: v.to_bytes((v.bit_length() + 7) // 8, "big")
eb = b(e)
rfc3110 = bytes([len(eb)]) + eb + b(n)
pub = "0s" + base64.b64encode(rfc3110).decode()
with open("gw.plainrsa", "w") as f:
    f.write(f"# : PUB {pub}\n: RSA\t{{\n\t# RSA {n.bit_length()} bits\n\t# pubkey={pub}\n")
    for k, v in [("Modulus", n), ("PublicExponent", e), ("PrivateExponent", d),
                 ("Prime1", p), ("Prime2", q), ("Exponent1", e1), ("Exponent2", e2),
                 ("Coefficient", c)]:
        f.write(f"\t{k}: {hx(v)}\n")
    f.write("\t}\n# vim:set ft=conf:\n")
with open("gw.plainrsa.pub", "w") as f:
    f.write(f"203.0.113.5 : PUB {pub}\n")
