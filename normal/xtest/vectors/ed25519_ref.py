"""Ed25519, Ed25519ctx and Ed25519ph signing (RFC 8032 section 5.1), written
from the RFC's definitions for gen.py (OpenSSL's Python binding has no ctx/ph)."""
import hashlib
p = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
d = -121665 * pow(121666, p - 2, p) % p
I = pow(2, (p - 1) // 4, p)
def inv(x): return pow(x, p - 2, p)
def xrecover(y):
    xx = (y * y - 1) * inv(d * y * y + 1)
    x = pow(xx, (p + 3) // 8, p)
    if (x * x - xx) % p != 0: x = x * I % p
    if x % 2 != 0: x = p - x
    return x
By = 4 * inv(5) % p
B = (xrecover(By), By, 1, xrecover(By) * By % p)
def add(P, Q):
    x1, y1, z1, t1 = P; x2, y2, z2, t2 = Q
    A = (y1 - x1) * (y2 - x2) % p; Bb = (y1 + x1) * (y2 + x2) % p
    C = t1 * 2 * d * t2 % p; D = z1 * 2 * z2 % p
    E, F, G, H = Bb - A, D - C, D + C, Bb + A
    return (E * F % p, G * H % p, F * G % p, E * H % p)
def mul(s, P):
    Q = (0, 1, 1, 0)
    while s > 0:
        if s & 1: Q = add(Q, P)
        P = add(P, P); s >>= 1
    return Q
def enc(P):
    x, y, z, t = P; zi = inv(z); x = x * zi % p; y = y * zi % p
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")
def H(m): return hashlib.sha512(m).digest()
def dom2(phflag, ctx):
    return b"SigEd25519 no Ed25519 collisions" + bytes([phflag, len(ctx)]) + ctx
def sign(sk, msg, ctx=None, ph=False):
    h = H(sk); a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8; a |= 1 << 254
    A = enc(mul(a, B))
    if ph: msg = H(msg)
    prefix = dom2(1 if ph else 0, ctx or b"") if (ctx is not None or ph) else b""
    r = int.from_bytes(H(prefix + h[32:] + msg), "little") % L
    R = enc(mul(r, B))
    k = int.from_bytes(H(prefix + R + A + msg), "little") % L
    return A, R + int.to_bytes((r + k * a) % L, 32, "little")
