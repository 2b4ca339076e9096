#!/usr/bin/env python3
"""A CA whose subject is UTF8String-encoded and a leaf whose issuer names the
same DN in PrintableString (RFC 5280 §7.1: the same name). Some CAs
re-encode names like this; chain building must compare names, not bytes.
Run: /usr/bin/python3 make-string-types.py (python3-cryptography)."""
import datetime
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID


def name(string_type):
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "XX"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "String Types Test", _type=string_type),
        x509.NameAttribute(NameOID.COMMON_NAME, "String Types CA", _type=string_type),
    ])


start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
end = datetime.datetime(2046, 1, 1, tzinfo=datetime.timezone.utc)
ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
ca = (x509.CertificateBuilder()
      .subject_name(name(_ASN1Type.UTF8String))
      .issuer_name(name(_ASN1Type.UTF8String))
      .public_key(ca_key.public_key())
      .serial_number(1).not_valid_before(start).not_valid_after(end)
      .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
      .sign(ca_key, hashes.SHA256()))
leaf = (x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf.string-types.test")]))
        .issuer_name(name(_ASN1Type.PrintableString))
        .public_key(leaf_key.public_key())
        .serial_number(2).not_valid_before(start).not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("leaf.string-types.test")]), critical=False)
        .sign(ca_key, hashes.SHA256()))
assert ca.subject.public_bytes() != leaf.issuer.public_bytes()
for fname, cert in (("ca.pem", ca), ("leaf.pem", leaf)):
    with open(fname, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
with open("leaf.key", "wb") as f:
    f.write(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
