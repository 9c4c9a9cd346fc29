"""A DER ECDSA-Sig-Value on stdin as raw r||s on stdout, each HALF bytes (argv[1])."""
import sys

half = int(sys.argv[1])
der = sys.stdin.buffer.read()


def read_len(b, i):
    n = b[i]
    if n < 0x80:
        return n, i + 1
    k = n & 0x7F
    return int.from_bytes(b[i + 1 : i + 1 + k], "big"), i + 1 + k


assert der[0] == 0x30
_, i = read_len(der, 1)
out = b""
for _ in range(2):
    assert der[i] == 0x02
    n, i = read_len(der, i + 1)
    out += int.from_bytes(der[i : i + n], "big").to_bytes(half, "big")
    i += n
sys.stdout.buffer.write(out)
