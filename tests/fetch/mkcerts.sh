#!/bin/sh
# mkcerts.sh DIR GOOD_SANS - makes the test PKI for tests/fetch.sh in DIR
# (keys included: nothing here is ever committed).
#   ca.crt          the CA the fetcher is told to trust
#   good.*          signed by it, SANs from GOOD_SANS ("DNS:a,DNS:b")
#   fallback.*      nginx's default server: SNI that names no server gets this
#   provider.*      valid only for mta-sts.provider.example (wrong name, STS-32)
#   cnonly.*        CN=mta-sts.cnonly.example, no SAN
#   expired.*       notAfter in 2020;  notyet.*  notBefore in 2099
#   untrusted.*     from a second CA nobody trusts
#   selfsigned.*    self-signed for its own name
set -eu
dir=$1 good_sans=$2
here=$(cd "$(dirname "$0")" && pwd)
cnf="$here/ca.cnf"
export OPENSSL_CONF="$cnf"

key() {	# key FILE
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1" 2>/dev/null
}

mkca() {	# mkca NAME CN
	d="$dir/$1"
	mkdir -p "$d/new"
	: >"$d/index.txt"
	echo 1000 >"$d/serial"
	key "$d/ca.key"
	CADIR=$d SAN= openssl req -config "$cnf" -new -x509 -days 30 \
	    -key "$d/ca.key" -subj "/CN=$2" -extensions ca_ext \
	    -out "$d/ca.crt"
}

# sign CA NAME CN SAN [START END]: NAME.key, NAME.crt in $dir
sign() {
	ca=$1 name=$2 cn=$3 san=$4 start=${5:-} end=${6:-}
	ext=srv
	[ -n "$san" ] || ext=srv_nosan
	key "$dir/$name.key"
	CADIR="$dir/$ca" SAN="${san:-DNS:unused}" openssl req -config "$cnf" \
	    -new -key "$dir/$name.key" -subj "/CN=$cn" -out "$dir/$name.csr"
	set -- -batch -notext -config "$cnf" -extensions "$ext" \
	    -in "$dir/$name.csr" -out "$dir/$name.crt"
	if [ -n "$start" ]; then
		set -- "$@" -startdate "$start" -enddate "$end"
	fi
	CADIR="$dir/$ca" SAN="${san:-DNS:unused}" \
	    openssl ca "$@" 2>"$dir/ca.log" || { cat "$dir/ca.log" >&2; exit 1; }
}

mkdir -p "$dir"
mkca ca "stripwatch test CA"
mkca other "stripwatch untrusted CA"
cp "$dir/ca/ca.crt" "$dir/ca.crt"
sign ca good mta-sts.good.example "$good_sans"
sign ca fallback fallback.example DNS:fallback.example
sign ca provider mta-sts.provider.example DNS:mta-sts.provider.example
sign ca cnonly mta-sts.cnonly.example ""
sign ca expired mta-sts.expired.example DNS:mta-sts.expired.example \
    20200101000000Z 20200201000000Z
sign ca notyet mta-sts.notyet.example DNS:mta-sts.notyet.example \
    20990101000000Z 20990201000000Z
sign other untrusted mta-sts.untrusted.example DNS:mta-sts.untrusted.example
key "$dir/selfsigned.key"
CADIR="$dir/ca" SAN=DNS:mta-sts.selfsigned.example openssl req -config "$cnf" \
    -new -x509 -days 30 -key "$dir/selfsigned.key" \
    -subj /CN=mta-sts.selfsigned.example -extensions srv \
    -out "$dir/selfsigned.crt"
rm -f "$dir"/*.csr "$dir/ca.log"
