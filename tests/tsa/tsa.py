#!/usr/bin/python3
"""A test timestamp authority on 127.0.0.1 at an ephemeral port, for drvsign's tests.

RFC 3161 replies come from `openssl ts -reply`, legacy Authenticode counter-signatures from
`openssl smime -sign`, all signed by the test PKI's TSA certificate. Paths choose behaviour:

  /rfc3161            a good RFC 3161 reply          /legacy      a good legacy reply
  /flaky/N/<name>     HTTP 503 for the first N requests to this path, then /rfc3161
  /garbage            200 with random bytes           /text        200 with base64 text
  /wrong-nonce        a valid reply for another request (nonce and imprint differ)
  /not-tsa            a reply signed by a code-signing (not time-stamping) certificate
  /slow               answers after 5 seconds
  /2020/rfc3161       a good reply dated 2020-06-01 (openssl under faketime)
  /2020/legacy        the same for the legacy protocol
  /partner/rfc3161    signed by the partner PKI's TSA (timeStamping EKU not critical)
  /partner/legacy     the same for the legacy protocol
  /partner/2020/rfc3161, /partner/2020/legacy: the same, dated 2020-06-01
  /partner-ber/rfc3161  as /partner/rfc3161, the token in BER with indefinite lengths
  /attr-cert/rfc3161  a good reply whose token also carries an attribute certificate
  /partner-nots/rfc3161, /partner-nots/legacy: a TSA under a CA whose EKU list lacks timeStamping

The same paths are served over HTTPS on a second port, with a certificate for 127.0.0.1 from
the test PKI. PORT_FILE gets "HTTP_PORT HTTPS_PORT".

  tsa.py PKI_DIR PORT_FILE
"""
import base64
import http.server
import os
import shutil
import ssl
import subprocess
import sys
import threading
import time

PKI, PORT_FILE = sys.argv[1], sys.argv[2]
# Beside PORT_FILE, in the fixture's state directory: a killed server leaves nothing in /tmp,
# and the next start begins from an empty directory.
WORK = os.path.join(os.path.dirname(os.path.abspath(PORT_FILE)), "work")
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
COUNTS = {}
LOCK = threading.Lock()

CONF = os.path.join(WORK, "ts.cnf")
with open(CONF, "w") as f:
    f.write(f"""[tsa]
default_tsa = tsa_config
[tsa_config]
serial = {WORK}/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5.6
digests = sha1, sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""")
with open(os.path.join(WORK, "serial"), "w") as f:
    f.write("01\n")


def run(cmd, data=None, fake_2020=False):
    if fake_2020:
        cmd = ["faketime", "2020-06-01 12:00:00"] + cmd
    with LOCK:  # openssl ts keeps its serial number in one file
        return subprocess.run(cmd, input=data, capture_output=True, check=True).stdout


def der_tlv(b, i):
    n = b[i + 1]
    j = i + 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[j:j + k], "big")
        j += k
    return j, j + n


def rfc3161_reply(query, signer="tsa", fake_2020=False):
    qf = os.path.join(WORK, f"q{threading.get_ident()}.der")
    with open(qf, "wb") as f:
        f.write(query)
    return run(["openssl", "ts", "-reply", "-config", CONF, "-queryfile", qf,
                "-signer", os.path.join(PKI, f"{signer}.pem"), "-inkey", os.path.join(PKI, f"{signer}.key"),
                "-chain", os.path.join(PKI, "intermediate.pem")], fake_2020=fake_2020)


def resigned_reply(query, signer, chain=None, ber=False, fake_2020=False):
    """A genuine TSTInfo, re-signed by another certificate with `openssl cms` (which, unlike
    `openssl ts`, takes TSA certificates whose timeStamping EKU is not critical); with ber, the
    token is BER with indefinite lengths (openssl cms -stream)."""
    reply = rfc3161_reply(query, fake_2020=fake_2020)
    # TimeStampResp { status, token }: token = ContentInfo{ signedData, [0] SignedData{...,
    # encapContentInfo { id-ct-TSTInfo, [0] OCTET STRING tstinfo } ... } }
    s, e = der_tlv(reply, 0)
    status_end = der_tlv(reply, s)[1]
    token = reply[status_end:e]
    ts, te = der_tlv(token, 0)
    oid_end = der_tlv(token, ts)[1]
    sd_s, sd_e = der_tlv(token, der_tlv(token, oid_end)[0])  # [0] -> SignedData
    i = der_tlv(token, sd_s)[1]          # version
    i = der_tlv(token, i)[1]             # digestAlgorithms
    eci_s, _ = der_tlv(token, i)         # encapContentInfo
    i = der_tlv(token, eci_s)[1]         # eContentType
    os_s, os_e = der_tlv(token, der_tlv(token, i)[0])
    tstinfo = token[os_s:os_e]
    tf = os.path.join(WORK, f"t{threading.get_ident()}.der")
    with open(tf, "wb") as f:
        f.write(tstinfo)
    cmd = ["openssl", "cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-nosmimecap",
           "-econtent_type", "1.2.840.113549.1.9.16.1.4", "-in", tf, "-md", "sha256",
           "-signer", os.path.join(PKI, f"{signer}.pem"), "-inkey", os.path.join(PKI, f"{signer}.key")]
    if chain:
        cmd += ["-certfile", os.path.join(PKI, f"{chain}.pem")]
    if ber:
        cmd += ["-stream"]
    new_token = run(cmd)
    body = bytes([0x30, 0x03, 0x02, 0x01, 0x00]) + new_token
    n = len(body)
    header = bytes([0x30, 0x82, n >> 8, n & 0xFF]) if n > 127 else bytes([0x30, n])
    return header + body


def der(tag, content):
    n = len(content)
    length = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + length + content


def attr_cert_reply(query):
    """A good reply whose token carries an attribute certificate ([1] v1AttrCert) first in its
    certificate set, as Microsoft's TSA sends: the set is not signed, so the token stays valid
    for a CMS reader, while a PKCS#7 reader cannot parse it."""
    reply = rfc3161_reply(query)
    s, e = der_tlv(reply, 0)
    status_end = der_tlv(reply, s)[1]
    token = reply[status_end:e]
    ts, te = der_tlv(token, 0)
    oid_end = der_tlv(token, ts)[1]
    sd_s, sd_e = der_tlv(token, der_tlv(token, oid_end)[0])
    parts, i = [], sd_s
    while i < sd_e:
        j = der_tlv(token, i)[1]
        parts.append(token[i:j])
        i = j
    parts = [der(0xA0, b"\xa1\x03\x02\x01\x00" + p[der_tlv(p, 0)[0]:]) if p[0] == 0xA0 else p for p in parts]
    signed_data = der(0x30, b"".join(parts))
    new_token = der(0x30, token[ts:oid_end] + der(0xA0, signed_data))
    return der(0x30, reply[s:status_end] + new_token)


def not_tsa_reply(query):
    """A genuine TSTInfo, re-signed by the code-signing leaf: must be refused."""
    return resigned_reply(query, "leaf")


def legacy_reply(body, fake_2020=False, signer="tsa", chain="intermediate"):
    req = base64.b64decode(body)
    # TimeStampRequest { OID, SEQUENCE { OID data, [0] { OCTET STRING signature } } }
    s, _ = der_tlv(req, 0)
    blob_s, _ = der_tlv(req, der_tlv(req, s)[1])
    ctx_s, _ = der_tlv(req, der_tlv(req, blob_s)[1])
    sig_s, sig_e = der_tlv(req, ctx_s)
    sf = os.path.join(WORK, f"s{threading.get_ident()}.bin")
    with open(sf, "wb") as f:
        f.write(req[sig_s:sig_e])
    p7 = run(["openssl", "smime", "-sign", "-binary", "-nodetach", "-nosmimecap", "-outform", "DER",
              "-in", sf, "-md", "sha256", "-signer", os.path.join(PKI, f"{signer}.pem"),
              "-inkey", os.path.join(PKI, f"{signer}.key"), "-certfile", os.path.join(PKI, f"{chain}.pem")],
             fake_2020=fake_2020)
    return base64.encodebytes(p7)


PARTNER = {
    "/partner/rfc3161": ("partner-tsa", "partner-ca", False, False),
    "/partner/legacy": ("partner-tsa", "partner-ca", False, False),
    "/partner/2020/rfc3161": ("partner-tsa", "partner-ca", False, True),
    "/partner/2020/legacy": ("partner-tsa", "partner-ca", False, True),
    "/partner-ber/rfc3161": ("partner-tsa", "partner-ca", True, False),
    "/partner-nots/rfc3161": ("partner-tsa-nots", "partner-ca-nots", False, False),
    "/partner-nots/legacy": ("partner-tsa-nots", "partner-ca-nots", False, False),
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        sys.stderr.write("tsa: " + fmt % args + "\n")

    def reply(self, code, body, ctype):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        path = self.path
        try:
            if path.startswith("/flaky/"):
                n = int(path.split("/")[2])
                with LOCK:
                    COUNTS[path] = COUNTS.get(path, 0) + 1
                    seen = COUNTS[path]
                if seen <= n:
                    return self.reply(503, b"busy\n", "text/plain")
                path = "/rfc3161"
            if path == "/rfc3161":
                return self.reply(200, rfc3161_reply(body), "application/timestamp-reply")
            if path == "/2020/rfc3161":
                return self.reply(200, rfc3161_reply(body, fake_2020=True), "application/timestamp-reply")
            if path == "/legacy":
                return self.reply(200, legacy_reply(body), "application/octet-stream")
            if path == "/2020/legacy":
                return self.reply(200, legacy_reply(body, fake_2020=True), "application/octet-stream")
            if path == "/garbage":
                return self.reply(200, os.urandom(300), "application/timestamp-reply")
            if path == "/text":
                return self.reply(200, base64.encodebytes(os.urandom(300)), "application/octet-stream")
            if path == "/wrong-nonce":
                other = run(["openssl", "ts", "-query", "-digest", "00" * 32, "-sha256", "-cert"])
                return self.reply(200, rfc3161_reply(other), "application/timestamp-reply")
            if path == "/attr-cert/rfc3161":
                return self.reply(200, attr_cert_reply(body), "application/timestamp-reply")
            if path == "/not-tsa":
                return self.reply(200, not_tsa_reply(body), "application/timestamp-reply")
            if path in PARTNER:  # the partner PKI: non-critical timeStamping EKU
                signer, chain, ber, fake = PARTNER[path]
                if path.endswith("/legacy"):
                    return self.reply(200, legacy_reply(body, fake, signer, chain),
                                      "application/octet-stream")
                return self.reply(200, resigned_reply(body, signer, chain, ber, fake),
                                  "application/timestamp-reply")
            if path == "/slow":
                time.sleep(5)
                return self.reply(200, rfc3161_reply(body), "application/timestamp-reply")
            return self.reply(404, b"no such TSA\n", "text/plain")
        except Exception as e:  # a test server: say what broke
            sys.stderr.write(f"tsa: {path}: {e}\n")
            return self.reply(500, str(e).encode(), "text/plain")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
tls_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(os.path.join(PKI, "tls-server-chain.pem"), os.path.join(PKI, "tls-server.key"))
tls_server.socket = context.wrap_socket(tls_server.socket, server_side=True)
threading.Thread(target=tls_server.serve_forever, daemon=True).start()
tmp = PORT_FILE + ".tmp"
with open(tmp, "w") as f:
    f.write(f"{server.server_address[1]} {tls_server.server_address[1]}\n")
os.rename(tmp, PORT_FILE)
server.serve_forever()
