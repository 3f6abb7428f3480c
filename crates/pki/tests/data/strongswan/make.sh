#!/bin/bash
# Makes the strongSwan-issued fixtures (independent issuer) with strongSwan 5.9's `pki`.
# Fixed validity 2026-01-01 .. 2036-01-01; keys and serials are random, so rerunning changes
# every file. The tests verify these with a fixed "now" of 2027-06-01.
# certreq-ca.pem / certreq-moon.pem come from ../capture-certreq.sh (see that script).
set -euo pipefail
cd "$(dirname "$0")"
P() { pki "$@" 2>/dev/null; }
NB="01.01.26 00:00:00"; NA="01.01.36 00:00:00"
V=(--not-before "$NB" --not-after "$NA")
key() { # name type size
  if [ "$2" = ed25519 ]; then P --gen --type ed25519 --outform pem > "$1.key"
  else P --gen --type "$2" --size "$3" --outform pem > "$1.key"; fi
}
# RSA-PSS: root 3072 -> intermediate 2048 -> leaf 2048, every signature RSASSA-PSS.
key pss-root rsa 3072; key pss-int rsa 2048; key pss-leaf rsa 2048
P --self --ca --in pss-root.key --dn "C=CH, O=strongSwan PSS, CN=PSS Root" --rsa-padding pss "${V[@]}" --outform pem > pss-root.pem
P --pub --in pss-int.key | P --issue --ca --cacert pss-root.pem --cakey pss-root.key --dn "C=CH, O=strongSwan PSS, CN=PSS Intermediate" --rsa-padding pss "${V[@]}" --outform pem > pss-int.pem
P --pub --in pss-leaf.key | P --issue --cacert pss-int.pem --cakey pss-int.key --dn "C=CH, O=strongSwan PSS, CN=pss.example.org" --san pss.example.org --flag serverAuth --rsa-padding pss "${V[@]}" --outform pem > pss-leaf.pem
# Ed25519 root -> Ed25519 leaf (clientAuth, email SAN).
key ed-root ed25519; key ed-leaf ed25519
P --self --ca --in ed-root.key --dn "C=CH, O=strongSwan Ed25519, CN=Ed25519 Root" "${V[@]}" --outform pem > ed-root.pem
P --pub --in ed-leaf.key | P --issue --cacert ed-root.pem --cakey ed-root.key --dn "C=CH, O=strongSwan Ed25519, CN=carol" --san carol@example.org --flag clientAuth "${V[@]}" --outform pem > ed-leaf.pem
# ECDSA P-521 root -> P-384 intermediate -> P-256 leaves (one revoked by the intermediate's
# CRL), and an RSA 2048 PKCS#1 root -> P-384 leaf.
key ec-root ecdsa 521; key ec-int ecdsa 384; key ec-leaf ecdsa 256; key ec-leaf2 ecdsa 256
P --self --ca --in ec-root.key --dn "C=CH, O=strongSwan ECDSA, CN=P-521 Root" "${V[@]}" --outform pem > ec-root.pem
P --pub --in ec-int.key | P --issue --ca --cacert ec-root.pem --cakey ec-root.key --dn "C=CH, O=strongSwan ECDSA, CN=P-384 Intermediate" "${V[@]}" --outform pem > ec-int.pem
P --pub --in ec-leaf.key | P --issue --cacert ec-int.pem --cakey ec-int.key --dn "C=CH, O=strongSwan ECDSA, CN=moon.example.org" --san moon.example.org --san 192.0.2.1 --flag serverAuth "${V[@]}" --outform pem > ec-leaf.pem
P --pub --in ec-leaf2.key | P --issue --cacert ec-int.pem --cakey ec-int.key --dn "C=CH, O=strongSwan ECDSA, CN=revoked.example.org" --san revoked.example.org "${V[@]}" --outform pem > ec-leaf2.pem
P --signcrl --cacert ec-int.pem --cakey ec-int.key --cert ec-leaf2.pem --reason key-compromise --this-update "$NB" --next-update "$NA" --outform pem > ec-int.crl
key rsa-root rsa 2048
P --self --ca --in rsa-root.key --dn "C=CH, O=strongSwan RSA, CN=RSA Root" "${V[@]}" --outform pem > rsa-root.pem
P --pub --in ec-leaf.key | P --issue --cacert rsa-root.pem --cakey rsa-root.key --dn "C=CH, O=strongSwan RSA, CN=mixed.example.org" --san mixed.example.org --flag serverAuth --flag clientAuth "${V[@]}" --outform pem > rsa-leaf.pem
# An intermediate restricted to serverAuth (EKU applies along the chain), and a leaf signed
# with SHA-1 (refused).
key eku-int ecdsa 256; key eku-leaf ecdsa 256
P --pub --in eku-int.key | P --issue --ca --cacert ec-root.pem --cakey ec-root.key --dn "C=CH, O=strongSwan ECDSA, CN=Server-only Intermediate" --flag serverAuth "${V[@]}" --outform pem > eku-int.pem
P --pub --in eku-leaf.key | P --issue --cacert eku-int.pem --cakey eku-int.key --dn "C=CH, O=strongSwan ECDSA, CN=eku.example.org" --san eku.example.org --flag serverAuth --flag clientAuth "${V[@]}" --outform pem > eku-leaf.pem
P --pub --in ec-leaf.key | P --issue --cacert rsa-root.pem --cakey rsa-root.key --dn "C=CH, O=strongSwan RSA, CN=sha1.example.org" --digest sha1 "${V[@]}" --outform pem > sha1-leaf.pem
rm -f ./*.key
