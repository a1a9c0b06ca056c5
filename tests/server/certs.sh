#!/usr/bin/env bash
# Test certificates for the TLS tests, made fresh with the openssl command.
#
#   tests/server/certs.sh DIR      (DIR must be new or empty)
#
# All keys are EC P-256 (fast to make). Files written to DIR:
#
#   ca.pem ca.key                 the test CA ("mywire test CA")
#   server.pem server.key         server cert from ca: SAN DNS:localhost, IP:127.0.0.1
#   wrongca.pem wrongca.key       a second, unrelated CA
#   wrongca-server.pem/.key       server cert (same SANs) signed by wrongca
#   expired.pem expired.key       from ca, valid 2000-01-01 .. 2001-01-01
#   notyet.pem notyet.key         from ca, valid 2090-01-01 .. 2091-01-01
#   wronghost.pem wronghost.key   from ca, SAN DNS:wrong.example only
#   iponly.pem iponly.key         from ca, SAN IP:127.0.0.1 only (its CN is no host
#                                 name, so no CN fallback can match "localhost")
#   revoked.pem revoked.key       from ca, same SANs as server.pem, revoked
#   crl-revoked.pem               CRL from ca listing revoked.pem
#   crl-good.pem                  CRL from ca listing nothing
#   capath/                       ca.pem under its subject hash (for ssl_capath)
#   crlpath-revoked/              ca.pem and crl-revoked.pem, hashed (ssl_crlpath)
#   client.pem client.key         client cert from ca (extendedKeyUsage clientAuth)
#   client-enc.key                client.key encrypted (AES-256) with the
#                                 passphrase in client-key.pass
#   client-key.pass               that passphrase, no newline
#   wrongca-client.pem/.key       client cert signed by wrongca
#   NAME.sha256                   for each server cert NAME.pem: its SHA-256
#                                 fingerprint as "AB:CD:...", no newline
#
# Validity of everything not said otherwise: from yesterday for 50 years.
# The CA's own bookkeeping (index, serials, openssl.cnf) stays in DIR/.ca*.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
command -v openssl >/dev/null 2>&1 || { echo "certs.sh: 'openssl' not found" >&2; exit 1; }
DIR=$(realpath -m -- "$1")
mkdir -p "$DIR"
[[ -z $(ls -A "$DIR") ]] || { echo "certs.sh: $DIR is not empty" >&2; exit 1; }
cd "$DIR"
umask 077

# A config of our own everywhere, so the system's openssl.cnf changes nothing.
export OPENSSL_CONF=/dev/null
yesterday=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)
later=$(date -u -d '+50 years' +%Y%m%d%H%M%SZ)

# ca_init NAME: bookkeeping for a CA whose files are NAME.pem / NAME.key.
ca_init() {
    local name=$1 d=".ca-$1"
    mkdir "$d" "$d/new"
    : >"$d/index.txt"
    echo 1000 >"$d/serial"
    cat >"$d/openssl.cnf" <<EOF
[ca]
default_ca = this_ca
[this_ca]
dir = $DIR/$d
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
certificate = $DIR/$name.pem
private_key = $DIR/$name.key
default_md = sha256
default_crl_days = 3650
policy = any_name
unique_subject = no
copy_extensions = none
email_in_dn = no
[any_name]
commonName = supplied
[req]
distinguished_name = dn
prompt = no
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = \${ENV::MYWIRE_SAN}
[client_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
}

newkey() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# make_ca NAME CN: a self-signed CA.
make_ca() {
    local name=$1 cn=$2
    ca_init "$name"
    newkey "$name.key"
    openssl req -new -key "$name.key" -subj "/CN=$cn" -config ".ca-$name/openssl.cnf" \
        -out ".ca-$name/self.csr"
    openssl ca -batch -selfsign -notext -config ".ca-$name/openssl.cnf" \
        -keyfile "$name.key" -extensions ca_ext -startdate "$yesterday" -enddate "$later" \
        -in ".ca-$name/self.csr" -out "$name.pem" 2>/dev/null
}

# issue CA NAME CN EXT SAN START END: NAME.pem + NAME.key signed by CA.
issue() {
    local ca=$1 name=$2 cn=$3 ext=$4 san=$5 start=$6 end=$7
    newkey "$name.key"
    openssl req -new -key "$name.key" -subj "/CN=$cn" -config ".ca-$ca/openssl.cnf" \
        -out ".ca-$ca/$name.csr"
    MYWIRE_SAN=$san openssl ca -batch -notext -config ".ca-$ca/openssl.cnf" \
        -extensions "$ext" -startdate "$start" -enddate "$end" \
        -in ".ca-$ca/$name.csr" -out "$name.pem" 2>/dev/null
}

fingerprint() {
    local fp
    fp=$(openssl x509 -in "$1.pem" -noout -fingerprint -sha256)
    printf '%s' "${fp#*=}" >"$1.sha256"
}

good_san='DNS:localhost, IP:127.0.0.1'
# The [client_ext] section has no SAN; openssl still expands ${ENV::...} once.
export MYWIRE_SAN=$good_san

make_ca ca "mywire test CA"
make_ca wrongca "mywire wrong CA"

issue ca server localhost server_ext "$good_san" "$yesterday" "$later"
issue wrongca wrongca-server localhost server_ext "$good_san" "$yesterday" "$later"
issue ca expired localhost server_ext "$good_san" 20000101000000Z 20010101000000Z
issue ca notyet localhost server_ext "$good_san" 20900101000000Z 20910101000000Z
issue ca wronghost wrong.example server_ext 'DNS:wrong.example' "$yesterday" "$later"
issue ca iponly "mywire ip-only server" server_ext 'IP:127.0.0.1' "$yesterday" "$later"
issue ca revoked localhost server_ext "$good_san" "$yesterday" "$later"
issue ca client mywire-client client_ext "$good_san" "$yesterday" "$later"
issue wrongca wrongca-client mywire-client client_ext "$good_san" "$yesterday" "$later"

cnf=.ca-ca/openssl.cnf
openssl ca -batch -gencrl -config "$cnf" -out crl-good.pem 2>/dev/null
openssl ca -batch -revoke revoked.pem -crl_reason keyCompromise -config "$cnf" 2>/dev/null
openssl ca -batch -gencrl -config "$cnf" -out crl-revoked.pem 2>/dev/null

printf '%s' 'client-key-pw' >client-key.pass
openssl pkey -in client.key -aes256 -passout file:client-key.pass -out client-enc.key

mkdir capath crlpath-revoked
cp ca.pem capath/
cp ca.pem crl-revoked.pem crlpath-revoked/
openssl rehash capath crlpath-revoked

for name in server wrongca-server expired notyet wronghost iponly revoked; do
    fingerprint "$name"
done

# The server (which may run as another user) and the tests read these.
chmod 644 ./*.pem ./*.key ./*.sha256 client-key.pass capath/* crlpath-revoked/*
chmod 755 . capath crlpath-revoked
