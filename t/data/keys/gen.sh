#!/bin/sh
# Regenerate the test-only keys of the unit tests (t/unit/test_jwt.c,
# t/unit/test_jwks.c).  These keys sign nothing but test tokens: they are
# public on purpose and must never be used anywhere else.
#
#   rsa2048    RSA 2048 (RS256/384/512), also as "RSA PUBLIC KEY" (PKCS#1)
#   rsa1024    RSA 1024: too short, must be refused
#   ecp256/384/521  EC P-256 / P-384 / P-521 (ES256 / ES384 / ES512)
#   ed25519    Ed25519 (EdDSA)
#   secp256k1, x25519   key types the verifier must refuse
#   jwks.json  the public keys above (usable ones) as a JWKS, kids
#              rsa-1, ec256-1, ec384-1, ec521-1, ed-1
#
# Only the openssl CLI and coreutils are needed.  Run from this directory.
set -e

pub() { openssl pkey -in "$1.key.pem" -pubout -out "$1.pub.pem"; }

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2048.key.pem
pub rsa2048
openssl rsa -in rsa2048.key.pem -RSAPublicKey_out -out rsa2048.rsapub.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.key.pem
pub rsa1024
for c in 256 384 521; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-$c \
        -pkeyopt ec_param_enc:named_curve -out ecp$c.key.pem
    pub ecp$c
done
openssl genpkey -algorithm ED25519 -out ed25519.key.pem
pub ed25519
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 \
    -pkeyopt ec_param_enc:named_curve -out secp256k1.key.pem
pub secp256k1
openssl genpkey -algorithm X25519 -out x25519.key.pem
pub x25519
chmod 644 ./*.pem

# base64url without padding of the bytes on stdin
b64u() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
# the last $2 bytes of the DER SubjectPublicKeyInfo of $1.pub.pem
tailbytes() { openssl pkey -pubin -in "$1.pub.pem" -outform DER | tail -c "$2"; }

n=$(openssl rsa -pubin -in rsa2048.pub.pem -noout -modulus | sed 's/^Modulus=//' |
    xxd -r -p | b64u)
# An EC SPKI ends with the uncompressed point 04 || x || y.
ec() { # curve-bits coordinate-bytes -> "x" "y" members
    pt=$(tailbytes "ecp$1" $((2 * $2)) | xxd -p | tr -d '\n')
    x=$(printf %s "$pt" | cut -c1-$((4 * $2 / 2)) | xxd -r -p | b64u)
    y=$(printf %s "$pt" | cut -c$((4 * $2 / 2 + 1))- | xxd -r -p | b64u)
    printf '"x":"%s","y":"%s"' "$x" "$y"
}
ed=$(tailbytes ed25519 32 | b64u)

cat > jwks.json <<EOF
{"keys":[
 {"kty":"RSA","kid":"rsa-1","use":"sig","n":"$n","e":"AQAB"},
 {"kty":"EC","kid":"ec256-1","crv":"P-256",$(ec 256 32)},
 {"kty":"EC","kid":"ec384-1","crv":"P-384",$(ec 384 48)},
 {"kty":"EC","kid":"ec521-1","crv":"P-521",$(ec 521 66)},
 {"crv":"Ed25519","x":"$ed","kty":"OKP","kid":"ed-1","alg":"EdDSA"}
]}
EOF
