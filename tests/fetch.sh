#!/bin/sh
# fetch.sh - the MTA-STS fetcher (policy/fetch.c) end to end against
# Debian's real unbound and nginx, on loopback only.
#
# Makes a test PKI (tests/fetch/mkcerts.sh), an unbound serving the zone
# "example." (tests/fetch/unbound.conf.in) and an nginx serving the policy
# hosts (tests/fetch/nginx.conf.in) from a temp dir, a small HTTPS server
# for what nginx will not do (tests/fetch/odd_https.py) and a listener that
# accepts and never answers; runs tests/fetch_drv against each case and
# checks the status, and for the good ones the bytes served.  Each check
# names the case of ../shared/spec/mta-sts-checklist.md it covers.  Every
# server started here is stopped by PID on exit.
#
# Zone "example.", not "test.": libunbound answers NXDOMAIN for "test."
# (RFC 6761) itself and never asks the forwarder.
#
# Skipped (0 passed, 0 failed) only when unbound or nginx is not installed.
# Env: FETCH_DRV (default tests/fetch_drv, built with ASan+UBSan if
# missing), UNBOUND, NGINX (paths), PYTHON, KEEP_WORKDIR=1.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
here="$top/tests/fetch"
drv=${FETCH_DRV:-$top/tests/fetch_drv}
py=${PYTHON:-/usr/bin/python3}
passed=0 failed=0
pids=""
tmp=""
start=$(date +%s)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

find_bin() {	# find_bin NAME: its path, also outside a non-root PATH
	command -v "$1" 2>/dev/null && return 0
	[ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1" && return 0
	return 1
}

unbound=${UNBOUND:-$(find_bin unbound)}
nginx=${NGINX:-$(find_bin nginx)}
[ -x "${unbound:-/nonexistent}" ] && [ -x "${nginx:-/nonexistent}" ] || {
	echo "SKIP fetch: unbound or nginx is not installed"
	echo "fetch: 0 passed, 0 failed"
	exit 0
}

stop_pid() {	# stop_pid PID: TERM one process we started, KILL if it lingers
	kill -TERM "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

cleanup() {
	for p in $pids; do
		stop_pid "$p"
	done
	if [ -n "$tmp" ] && [ "${KEEP_WORKDIR:-0}" = 1 ]; then
		echo "fetch: work dir kept: $tmp" >&2
	elif [ -n "$tmp" ]; then
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# printf, not echo: dash's echo would expand the escapes in results.
ok() {
	printf 'PASS %s\n' "$1"
	passed=$((passed + 1))
}

bad() {
	printf 'FAIL %s: %s\n' "$1" "$2"
	failed=$((failed + 1))
}

die() {	# a broken setup: say why, count it, stop
	bad "setup" "$1"
	for f in "$tmp"/*.log; do
		[ -s "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
	done
	echo "fetch: $passed passed, $failed failed"
	exit 1
}

if [ ! -x "$drv" ]; then
	${CC:-cc} -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -O1 -g \
	    -fsanitize=address,undefined -fno-omit-frame-pointer -I"$top" \
	    $(pkg-config --cflags libunbound libcurl openssl) \
	    -o "$drv" "$top/tests/fetch_drv.c" "$top/policy/fetch.c" \
	    $(pkg-config --libs libunbound libcurl openssl) ||
	    { echo "FAIL fetch: cannot build $drv"; echo "fetch: 0 passed, 1 failed"; exit 1; }
fi

tmp=$(mktemp -d)

# Two ports free on loopback: DNS (UDP and TCP) and HTTPS (TCP on the
# five addresses used below).  Another process may still take them.
ports=$("$py" - <<'EOF'
import socket
def free(udp):
    while True:
        s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
        try:
            if udp:
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", p)); u.close()
            else:
                for a in ("127.0.0.3", "127.0.0.4", "127.0.0.5"):
                    t = socket.socket(); t.bind((a, p)); t.close()
            return p
        except OSError:
            pass
print(free(True), free(False))
EOF
) || die "no free ports"
set -- $ports
dport=$1 hport=$2

# ::1 for the IPv6 cases, when this host has it.
v6=1
"$py" -c "import socket; s=socket.socket(socket.AF_INET6); s.bind(('::1', $hport))" \
    2>/dev/null || v6=0

# The PKI: one certificate names every good host.
sans=""
for h in good user dual v6 crlf bom charset upper latin1 notype html \
    plainfoo r301 r302 r307 r308 notfound e500 e204 max over big chunked \
    tls11 trunc trickle eof; do
	sans="${sans}DNS:mta-sts.$h.example,"
done
sans="${sans}DNS:*.wild.example"
sh "$here/mkcerts.sh" "$tmp/pki" "$sans" >"$tmp/mkcerts.log" 2>&1 ||
    die "mkcerts.sh failed: $(tail -n 3 "$tmp/mkcerts.log")"

# Bodies.  good: LF; crlf: CRLF; bom: UTF-8 BOM first (STS-53, STS-78:
# the fetcher hands back the bytes as served, the parser judges them).
good='version: STSv1\nmode: enforce\nmx: mail.good.example\nmax_age: 86400\n'
for d in good crlf bom max over big empty; do
	mkdir -p "$tmp/www/$d/.well-known"
done
w="/.well-known/mta-sts.txt"
printf "$good" >"$tmp/www/good$w"
printf 'version: STSv1\r\nmode: testing\r\nmx: mail.crlf.example\r\nmax_age: 604800\r\n' \
    >"$tmp/www/crlf$w"
printf '\357\273\277version: STSv1\nmode: enforce\nmx: mail.bom.example\nmax_age: 86400\n' \
    >"$tmp/www/bom$w"
head -c 65536 /dev/zero | tr '\0' a >"$tmp/www/max$w"
head -c 65537 /dev/zero | tr '\0' a >"$tmp/www/over$w"
head -c 71680 /dev/zero | tr '\0' z >"$tmp/www/big$w"

# Servers.
sed "s|@TMP@|$tmp|g; s|@PORT@|$dport|g" "$here/unbound.conf.in" \
    >"$tmp/unbound.conf"
# _mta-sts.many.example: one TXT record over FETCH_TXT_RR_MAX (64), which
# also takes the answer over UDP size, to TCP; many64: exactly 64.
{
	echo "server:"
	i=0
	while [ $i -lt 65 ]; do
		echo "	local-data: '_mta-sts.many.example. TXT \"v=STSv1; id=r$i\"'"
		[ $i -lt 64 ] &&
		    echo "	local-data: '_mta-sts.many64.example. TXT \"v=STSv1; id=r$i\"'"
		i=$((i + 1))
	done
} >>"$tmp/unbound.conf"
sed "s|@TMP@|$tmp|g; s|@PORT@|$hport|g" "$here/nginx.conf.in" |
    if [ $v6 = 1 ]; then cat; else grep -v '# v6$'; fi >"$tmp/nginx.conf"
"$nginx" -V 2>&1 | grep -q http_sub_module || {
	echo "NOTE fetch: nginx without sub_filter; the chunked case is skipped"
	sed -i '/sub_filter/d' "$tmp/nginx.conf"
	nochunk=1
}

"$unbound" -d -c "$tmp/unbound.conf" >"$tmp/unbound-out.log" 2>&1 &
pids="$pids $!"
"$nginx" -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/nginx-error.log" \
    >"$tmp/nginx-out.log" 2>&1 &
pids="$pids $!"
# mta-sts.slow.example: accepts and never says a word (STS-45).
"$py" - "$hport" >"$tmp/holder.log" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.3", int(sys.argv[1]))); s.listen(16)
held = []
while True:
    c, _ = s.accept(); held.append(c)
EOF
pids="$pids $!"
"$py" "$here/odd_https.py" 127.0.0.5 "$hport" "$tmp/pki/good.crt" \
    "$tmp/pki/good.key" >"$tmp/odd_https.log" 2>&1 &
pids="$pids $!"

wait_tcp() {	# wait_tcp ADDR PORT: until something accepts, 10 s at most
	"$py" - "$1" "$2" <<'EOF'
import socket, sys, time
end = time.time() + 10
while time.time() < end:
    try:
        socket.create_connection((sys.argv[1], int(sys.argv[2])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}
wait_tcp 127.0.0.1 "$dport" || die "unbound did not start"
wait_tcp 127.0.0.1 "$hport" || die "nginx did not start"
wait_tcp 127.0.0.4 "$hport" || die "nginx did not start on 127.0.0.4"
wait_tcp 127.0.0.3 "$hport" || die "holder did not start"
wait_tcp 127.0.0.5 "$hport" || die "odd_https.py did not start"

dns="--dns-server 127.0.0.1@$dport"
tls="--ca-file $tmp/pki/ca.crt --https-port $hport"

run() {	# run OUT ARGS...: the driver; its exit and stderr are checked
	out=$1
	shift
	t0=$(date +%s%N)
	"$drv" "$@" >"$tmp/$out" 2>"$tmp/$out.err"
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$tmp/$out.err" ]; then
		ok "driver $out: exit 0, no sanitizer report ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
	else
		bad "driver $out" "exit $rc: $(head -c 2000 "$tmp/$out.err")"
	fi
}

# block FILE DOMAIN KIND: the lines of that result, TXT records unnumbered
# (RRset order is the server's choice).  ENVIRON, not -v: awk would expand
# the escapes in the names.
block() {
	D=$2 K=$3 awk '/^[^ ]/ { on = ($1 == ENVIRON["D"] && $2 == ENVIRON["K"]) }
	    on { sub(/^  txt\[[0-9]+\]=/, "  txt="); print }' "$1"
}

# expect "ID what" FILE DOMAIN KIND STATUS [CHECK...]: a CHECK that starts
# with two spaces is a whole line of the result ("  txt=..." a TXT record,
# "  body=..." the body), any other a string in its first line.
expect() {
	name=$1 f="$tmp/$2" d=$3 k=$4 want=$5
	shift 5
	b=$(block "$f" "$d" "$k")
	got=$(printf '%s\n' "$b" | awk 'NR == 1 { print $3 }')
	if [ "$got" != "$want" ]; then
		bad "$name" "$d $k: got ${got:-no result}, want $want: $(printf '%s\n' "$b" | head -n 1)"
		return
	fi
	for c in "$@"; do
		case $c in
		"  "*)	printf '%s\n' "$b" | grep -qxF -- "$c" ;;
		*)	printf '%s\n' "$b" | head -n 1 | grep -qF -- "$c" ;;
		esac || {
			bad "$name" "$d $k: no '$c' in: $b"
			return
		}
	done
	ok "$name"
}

# ---- TXT discovery, all at once (RFC 8461 3.1).
# Names of 244 and 245 bytes: _mta-sts.<244> is 253, the most DNS allows.
l63=$(printf '%063d' 0)
n244="$l63.$l63.$l63.$(printf '%044d' 0).example"
n245="$l63.$l63.$l63.$(printf '%045d' 0).example"
run txt.out $dns --timeout-ms 5000 txt good.example two.example \
    spf.example split.example split2.example bytes.example nodata.example \
    nothing.example sub.good.example cname.example cname2.example \
    dangling.example loop.example servfail.example refused.example \
    GOOD.Example. -bad.example a..example 'sp ace.example' \
    "$(printf 'm\303\270x.example')" \
    "$(printf '%064d' 0).example" bad-.example _x.example many.example \
    many64.example "$n244" "$n245"
expect "STS-1 one STSv1 record" txt.out good.example txt FETCH_OK len=1 \
    '  txt=v=STSv1; id=20160831085700Z;'
expect "STS-21 two STSv1 records both returned" txt.out two.example txt \
    FETCH_OK len=2 '  txt=v=STSv1; id=a' '  txt=v=STSv1; id=b'
expect "STS-20 unrelated TXT returned beside" txt.out spf.example txt \
    FETCH_OK len=2 '  txt=v=spf1 -all' '  txt=v=STSv1; id=a'
expect "STS-23 character-strings concatenated" txt.out split.example txt \
    FETCH_OK '  txt=v=STSv1; id=20160831085700Z;'
expect "STS-23 split inside a token, empty string" txt.out split2.example \
    txt FETCH_OK '  txt=v=STSv1; id=a;'
expect "STS-24 non-ASCII and NUL bytes kept as served" txt.out \
    bytes.example txt FETCH_OK \
    '  txt=v=STSv1; id=caf\xc3\xa9\x00\\"end'
expect "STS-27 NODATA is no record" txt.out nodata.example txt \
    FETCH_NO_RECORD "no TXT data"
expect "STS-27 NXDOMAIN is no record" txt.out nothing.example txt \
    FETCH_NO_RECORD NXDOMAIN
expect "STS-35 no fallback to the parent domain" txt.out sub.good.example \
    txt FETCH_NO_RECORD
expect "STS-29 CNAME followed" txt.out cname.example txt FETCH_OK \
    '  txt=v=STSv1; id=p1'
expect "STS-30 two-hop CNAME followed" txt.out cname2.example txt FETCH_OK \
    '  txt=v=STSv1; id=p1'
expect "STS-31 dangling CNAME is no record" txt.out dangling.example txt \
    FETCH_NO_RECORD
expect "STS-31 CNAME loop is a temporary failure" txt.out loop.example txt \
    FETCH_DNS_TEMPFAIL
expect "STS-28 SERVFAIL is temporary, not absence" txt.out \
    servfail.example txt FETCH_DNS_TEMPFAIL
expect "STS-28 REFUSED is temporary, not absence" txt.out refused.example \
    txt FETCH_DNS_TEMPFAIL
expect "STS-34 upper case and root dot normalised" txt.out good.example \
    txt FETCH_OK
[ "$(grep -c '^good\.example txt FETCH_OK' "$tmp/txt.out")" = 2 ] &&
    ok "STS-96 GOOD.Example. and good.example are one name" ||
    bad "STS-96 GOOD.Example. and good.example are one name" \
    "$(grep '^good' "$tmp/txt.out")"
for d in -bad.example a..example sp\\x20ace.example m\\xc3\\xb8x.example \
    "$(printf '%064d' 0).example" bad-.example; do
	expect "STS-34 invalid name refused, nothing sent ($d)" txt.out "$d" \
	    txt FETCH_ERROR "invalid domain name"
done
expect "STS-34 underscore in the domain refused" txt.out _x.example txt \
    FETCH_ERROR "invalid domain name"
expect "STS-34 244-byte domain queried (_mta-sts. + it = 253)" txt.out \
    "$n244" txt FETCH_NO_RECORD NXDOMAIN
expect "STS-34 245-byte domain refused for TXT" txt.out "$n245" txt \
    FETCH_ERROR "invalid domain name"
expect "STS-21 64 TXT records (over UDP size) all returned" txt.out \
    many64.example txt FETCH_OK len=64 '  txt=v=STSv1; id=r63'
expect "bounded: 65 TXT records refused, not cut" txt.out many.example txt \
    FETCH_ERROR "more than 64 TXT records"
# Nothing for the bad names reached the server; the good ones did.
q=$(grep -o 'info: 127\.0\.0\.1 [^ ]* TXT' "$tmp/unbound.log" 2>/dev/null)
if ! printf '%s\n' "$q" | grep -qF '_mta-sts.good.example.'; then
	bad "STS-34 invalid names never queried" "no query log in unbound.log"
elif printf '%s\n' "$q" | grep -q 'bad\|ace\|_x\.\|\.\.\|m.*x\.example\|^[^ ]* [^ ]* _mta-sts\.0\{64\}'; then
	bad "STS-34 invalid names never queried" "$(printf '%s\n' "$q" | grep 'bad\|ace\|_x')"
else
	ok "STS-34 invalid names never queried"
fi

# ---- Policy fetch, all at once (RFC 8461 3.3).
run policy.out $dns $tls --timeout-ms 5000 policy good.example \
    crlf.example bom.example charset.example upper.example latin1.example \
    notype.example html.example plainfoo.example r301.example r302.example \
    r307.example r308.example notfound.example e500.example e204.example \
    max.example over.example big.example chunked.example untrusted.example \
    selfsigned.example expired.example notyet.example cnonly.example \
    deleg.example nosni.example user.example wild.example dual.example \
    v6.example noconn.example tls11.example noaddr.example \
    servfail.example -bad.example trunc.example eof.example "$n245"
gb='  body=version: STSv1\nmode: enforce\nmx: mail.good.example\nmax_age: 86400\n'
expect "STS-38 good policy, bytes exact" policy.out good.example policy \
    FETCH_OK http=200 type=text/plain len=66 "$gb"
# The system resolver cannot know the test names, so a good fetch shows
# the address came through --dns-server, never curl's own resolver.
if getent hosts mta-sts.good.example >/dev/null 2>&1; then
	echo "NOTE fetch: the system resolver knows mta-sts.good.example; resolver check skipped"
else
	expect "policy host resolved through --dns-server only" policy.out \
	    good.example policy FETCH_OK
fi
expect "STS-41 fetch is unconditional (server answers 412 otherwise)" \
    policy.out good.example policy FETCH_OK http=200
expect "STS-48 SNI names mta-sts.<domain> (else fallback cert)" \
    policy.out good.example policy FETCH_OK
expect "STS-53 CRLF kept exactly" policy.out crlf.example policy FETCH_OK \
    len=71 '  body=version: STSv1\r\nmode: testing\r\nmx: mail.crlf.example\r\nmax_age: 604800\r\n'
expect "STS-78 UTF-8 BOM kept exactly" policy.out bom.example policy \
    FETCH_OK len=68 '  body=\xef\xbb\xbfversion: STSv1\nmode: enforce\nmx: mail.bom.example\nmax_age: 86400\n'
expect "STS-42 text/plain; charset=utf-8 accepted" policy.out \
    charset.example policy FETCH_OK 'type=text/plain;\x20charset=utf-8' "$gb"
expect "STS-42 TEXT/Plain accepted (case-insensitive)" policy.out \
    upper.example policy FETCH_OK type=TEXT/Plain
expect "STS-43 charset=iso-8859-1 ignored" policy.out latin1.example \
    policy FETCH_OK 'charset=iso-8859-1'
expect "STS-42 [DIV] no Content-Type accepted, flagged in detail" \
    policy.out notype.example policy FETCH_OK "no Content-Type"
expect "STS-42 text/html refused" policy.out html.example policy \
    FETCH_CONTENT_TYPE type=text/html
expect "STS-42 text/plainfoo is not text/plain" policy.out \
    plainfoo.example policy FETCH_CONTENT_TYPE
for c in 301 302 307 308; do
	expect "STS-39 redirect $c not followed" policy.out r$c.example policy \
	    FETCH_HTTP_STATUS http=$c "not followed"
done
expect "STS-40 404 is a fetch error" policy.out notfound.example policy \
    FETCH_HTTP_STATUS http=404
expect "STS-40 500 is a fetch error" policy.out e500.example policy \
    FETCH_HTTP_STATUS http=500
expect "STS-40 204 is a fetch error" policy.out e204.example policy \
    FETCH_HTTP_STATUS http=204
expect "STS-44 65536 bytes accepted" policy.out max.example policy FETCH_OK \
    len=65536
expect "STS-44 65537 bytes refused" policy.out over.example policy \
    FETCH_TOO_BIG
expect "STS-44 70 KiB refused" policy.out big.example policy FETCH_TOO_BIG
# That one must really come chunked, without Content-Length.
te=$("$py" - "$hport" <<'EOF'
import socket, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
                    server_hostname="mta-sts.chunked.example")
s.sendall(b"GET /.well-known/mta-sts.txt HTTP/1.1\r\n"
          b"Host: mta-sts.chunked.example\r\nConnection: close\r\n\r\n")
head = b""
while b"\r\n\r\n" not in head:
    d = s.recv(4096)
    if not d:
        break
    head += d
h = head.split(b"\r\n\r\n")[0].lower()
print("chunked" if b"transfer-encoding: chunked" in h and
      b"content-length" not in h else "not chunked")
EOF
)
if [ -z "${nochunk:-}" ] && [ "$te" = chunked ]; then
	expect "STS-44 70 KiB chunked, no Content-Length, refused" \
	    policy.out chunked.example policy FETCH_TOO_BIG
else
	echo "NOTE fetch: nginx did not chunk the body (${te:-no answer}); chunked case skipped"
fi
expect "STS-47 unknown root refused" policy.out untrusted.example policy \
    FETCH_WEBPKI "unable to get local issuer"
expect "STS-47 self-signed refused" policy.out selfsigned.example policy \
    FETCH_WEBPKI "self-signed certificate"
expect "STS-47 expired refused" policy.out expired.example policy \
    FETCH_WEBPKI "certificate has expired"
expect "STS-47 not yet valid refused" policy.out notyet.example policy \
    FETCH_WEBPKI "not yet valid"
expect "STS-47 CN only, no DNS SAN, refused" policy.out cnonly.example \
    policy FETCH_WEBPKI "hostname mismatch"
expect "STS-32 cert only for the provider refused" policy.out \
    deleg.example policy FETCH_WEBPKI "hostname mismatch"
expect "STS-48 fallback cert (no server for the SNI) refused" policy.out \
    nosni.example policy FETCH_WEBPKI "hostname mismatch"
expect "STS-33 policy host CNAME'd to the provider, cert names the user" \
    policy.out user.example policy FETCH_OK "$gb"
expect "STS-47 wildcard SAN *.wild.example accepted" policy.out \
    wild.example policy FETCH_OK "$gb"
if [ $v6 = 1 ]; then
	expect "STS-49 IPv6-only policy host (AAAA)" policy.out v6.example \
	    policy FETCH_OK "$gb"
	expect "STS-49 A refused, AAAA tried next" policy.out dual.example \
	    policy FETCH_OK "$gb"
else
	echo "NOTE fetch: no ::1 here; the IPv6 cases are skipped"
fi
expect "STS-49 connection refused" policy.out noconn.example policy \
    FETCH_CONNECT
expect "STS-49 policy host without address" policy.out noaddr.example \
    policy FETCH_NO_RECORD
expect "STS-28 policy host SERVFAIL is temporary" policy.out \
    servfail.example policy FETCH_DNS_TEMPFAIL
expect "STS-34 invalid name refused (policy)" policy.out -bad.example \
    policy FETCH_ERROR "invalid domain name"
expect "STS-34 245-byte domain fits mta-sts. (253), queried" policy.out \
    "$n245" policy FETCH_NO_RECORD NXDOMAIN
expect "STS-80 truncated body is an error, not a policy" policy.out \
    trunc.example policy FETCH_ERROR len=0
expect "STS-38 body to connection close (HTTP/1.0), whole" policy.out \
    eof.example policy FETCH_OK http=200 "$gb"
# Is the TLS 1.1 server real, or did OpenSSL refuse to speak 1.1 at all?
if echo | openssl s_client -connect "127.0.0.4:$hport" -tls1_1 \
    -cipher 'DEFAULT@SECLEVEL=0' -servername mta-sts.tls11.example \
    >"$tmp/s_client.log" 2>&1; then
	expect "STS-46 TLS 1.1-only server refused" policy.out tls11.example \
	    policy FETCH_TLS "protocol version"
else
	echo "NOTE fetch: nginx/OpenSSL here cannot offer TLS 1.1; checking the refusal only"
	expect "STS-46 TLS 1.1-only server refused (no TLS 1.1 on offer)" \
	    policy.out tls11.example policy FETCH_TLS
fi

# ---- Trust: the system store does not know the test CA (STS-47).
run system.out $dns --https-port "$hport" --timeout-ms 5000 policy \
    good.example
expect "STS-47 test CA not trusted without --ca-file" system.out \
    good.example policy FETCH_WEBPKI "unable to get local issuer"

# ---- Timeouts: a listener that never answers, 700 ms (STS-45).
t0=$(date +%s%N)
run slow.out $dns $tls --timeout-ms 700 policy slow.example trickle.example
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
expect "STS-45 silent server times out" slow.out slow.example policy \
    FETCH_TIMEOUT
expect "STS-45 trickling server times out (limit on the whole fetch)" \
    slow.out trickle.example policy FETCH_TIMEOUT
[ $ms -lt 3000 ] && ok "STS-45 timeout honoured (${ms} ms for 700 ms)" ||
    bad "STS-45 timeout honoured" "${ms} ms for 700 ms"
# A dead DNS server: the lookup gives up on time, as a temporary failure.
run deaddns.out --dns-server 127.0.0.1@9 --timeout-ms 500 txt good.example
expect "STS-28 unreachable DNS server is temporary" deaddns.out \
    good.example txt FETCH_DNS_TEMPFAIL

# ---- DNSSEC: an anchor for bogus.example, whose zone is unsigned.
printf 'bogus.example. IN DS 12345 13 2 %s\n' \
    "$(printf '%064d' 0 | tr 0 a)" >"$tmp/ta.txt"
run bogus.out $dns --ta-file "$tmp/ta.txt" --timeout-ms 5000 txt \
    bogus.example good.example
expect "STS-28 DNSSEC bogus is not absence" bogus.out bogus.example txt \
    FETCH_DNS_BOGUS
expect "STS-1 outside the anchor: insecure, answered" bogus.out \
    good.example txt FETCH_OK

# ---- Never blocking: polls with timeout 0 while handshakes, a 70 KiB
# body, a refused connection and a silent server are under way.
run nonblock.out $dns $tls --timeout-ms 800 --nonblock policy good.example \
    crlf.example big.example untrusted.example noconn.example slow.example \
    servfail.example
expect "STS-38 good policy, polled without blocking" nonblock.out \
    good.example policy FETCH_OK "$gb"
expect "STS-45 silent server, polled without blocking" nonblock.out \
    slow.example policy FETCH_TIMEOUT
maxp=$(sed -n 's/^# max_poll_ms=//p' "$tmp/nonblock.out")
[ -n "$maxp" ] && [ "$maxp" -lt 250 ] &&
    ok "fetcher_poll(0) never blocks (longest poll ${maxp} ms, TLS work included)" ||
    bad "fetcher_poll(0) never blocks" "longest poll ${maxp:-?} ms"

# ---- Freeing with requests pending: in DNS, in a TLS handshake.
run free-dns.out --dns-server 127.0.0.1@9 --timeout-ms 5000 \
    --free-after-ms 200 txt good.example
grep -q '^# freed with 1 pending' "$tmp/free-dns.out" &&
    ok "fetcher_free cancels a pending lookup" ||
    bad "fetcher_free cancels a pending lookup" "$(cat "$tmp/free-dns.out")"
run free-http.out $dns $tls --timeout-ms 5000 --free-after-ms 300 policy \
    slow.example
grep -q '^# freed with 1 pending' "$tmp/free-http.out" &&
    ok "fetcher_free cancels a pending transfer" ||
    bad "fetcher_free cancels a pending transfer" "$(cat "$tmp/free-http.out")"

# ---- Bounds: more requests than FETCH_PENDING_MAX are refused, not lost.
set --
i=0
while [ $i -lt 70 ]; do
	set -- "$@" "good.example"
	i=$((i + 1))
done
"$drv" $dns txt "$@" >"$tmp/many.out" 2>"$tmp/many.err"
n_ok=$(grep -c '^good\.example txt FETCH_OK' "$tmp/many.out")
n_ref=$(grep -c 'refused (queue full)' "$tmp/many.err")
[ "$n_ok" = 64 ] && [ "$n_ref" = 6 ] &&
    ! grep -q 'Sanitizer\|runtime error' "$tmp/many.err" &&
    ok "bounded: 64 pending at most, the rest refused" ||
    bad "bounded: 64 pending at most" "$n_ok answered, $n_ref refused: $(grep -v 'queue full' "$tmp/many.err" | head -c 500)"

# ---- Bad options fail fetcher_new, with a message, before any query.
for a in "--dns-server not-an-address" "--ta-file $tmp/none" \
    "--body-max 2000000" "--https-port 70000"; do
	"$drv" $a txt good.example >"$tmp/opt.out" 2>"$tmp/opt.err"
	rc=$?
	if [ $rc -eq 1 ] && [ ! -s "$tmp/opt.out" ] &&
	    grep -q '^fetch_drv: ' "$tmp/opt.err" &&
	    ! grep -q 'Sanitizer\|runtime error' "$tmp/opt.err"; then
		ok "fetcher_new refuses $a: $(head -n 1 "$tmp/opt.err")"
	else
		bad "fetcher_new refuses $a" "exit $rc: $(cat "$tmp/opt.out" "$tmp/opt.err")"
	fi
done

# ---- stripwatch itself, end to end: a capture whose mail went in clear to
# a domain served here (the recipient domain of pcaps/strip-xxxxxxxa,
# example.test, rewritten to a same-length name of this zone), judged
# against the policy the sensor fetched through this unbound and nginx;
# then again from the database's cache with --no-fetch.
sw="$top/stripwatch"
cap="$top/pcaps/strip-xxxxxxxa/input.pcap"
sts_run() {	# sts_run NAME NEWDOMAIN ARGS...: a rewritten capture through stripwatch
	n=$1 dom=$2
	shift 2
	"$py" -c '
import sys
data = open(sys.argv[1], "rb").read()
new = sys.argv[3].encode()
assert len(new) == len(b"example.test")
open(sys.argv[2], "wb").write(data.replace(b"example.test", new))
' "$cap" "$tmp/$n.pcap" "$dom"
	"$sw" -q --no-checksum -r "$tmp/$n.pcap" -w "$tmp/sts.db" "$@" \
	    >"$tmp/$n.sw" 2>&1
}
alert_of() {	# alert_of PCAP KIND: severity and evidence of that alert
	sqlite3 -separator ' ' "$tmp/sts.db" "SELECT severity, evidence FROM
	    alerts JOIN runs ON runs.id = alerts.run_id WHERE runs.source
	    LIKE '%$1' AND kind = '$2'"
}
if [ -x "$sw" ] && [ -f "$cap" ] && command -v sqlite3 >/dev/null; then
	swdns="--dns-server 127.0.0.1@$dport --sts-ca-file $tmp/pki/ca.crt
	    --https-port $hport --fetch-timeout 3000"
	# shellcheck disable=SC2086
	sts_run e2e-good good.example $swdns
	a=$(alert_of e2e-good.pcap sts_violation)
	case $a in
	"high domain good.example (from the recipient), mode enforce, result starttls-not-supported"*"policy fetch id 20160831085700Z")
		ok "STS-134 stripwatch fetched good.example's enforce policy and raised: $a" ;;
	*)	bad "STS-134 stripwatch fetch end to end" "alert '$a'; $(cat "$tmp/e2e-good.sw")" ;;
	esac
	p=$(sqlite3 "$tmp/sts.db" "SELECT policy_id, mode, mx, max_age, source
	    FROM policies WHERE domain = 'good.example'")
	if [ "$p" = "20160831085700Z|enforce|mail.good.example|86400|fetch" ]; then
		ok "STS-81 the fetched policy is cached in the database: $p"
	else
		bad "STS-81 policy cached" "policies row '$p'"
	fi
	# shellcheck disable=SC2086
	sts_run e2e-crlf crlf.example $swdns
	a=$(alert_of e2e-crlf.pcap sts_violation)
	case $a in
	"medium domain crlf.example (from the recipient), mode testing, result starttls-not-supported"*)
		ok "STS-140 a CRLF policy in testing mode gives a medium verdict: $a" ;;
	*)	bad "STS-140 testing mode end to end" "alert '$a'; $(cat "$tmp/e2e-crlf.sw")" ;;
	esac
	# shellcheck disable=SC2086
	sts_run e2e-html html.example $swdns
	a=$(alert_of e2e-html.pcap sts_policy_error)
	v=$(alert_of e2e-html.pcap sts_violation)
	case $a in
	*"html.example"*"(sts-policy-fetch-error)")
		if [ -z "$v" ]; then
			ok "STS-92 text/html policy: sts_policy_error, no verdict: $a"
		else
			bad "STS-92 no policy, no verdict" "violation '$v'"
		fi ;;
	*)	bad "STS-92 text/html end to end" "alert '$a'; $(cat "$tmp/e2e-html.sw")" ;;
	esac
	# Offline: the database's policy, and no network at all.
	sts_run e2e-cache good.example --no-fetch --dns-server 192.0.2.1
	a=$(alert_of e2e-cache.pcap sts_violation)
	case $a in
	*"good.example"*"policy cache id 20160831085700Z")
		ok "STS-82 --no-fetch judges from the cached policy: $a" ;;
	*)	bad "STS-82 cache end to end" "alert '$a'; $(cat "$tmp/e2e-cache.sw")" ;;
	esac
else
	bad "stripwatch end to end" "no $sw, $cap or sqlite3"
fi

echo "fetch: took $(( $(date +%s) - start )) s"
echo "fetch: $passed passed, $failed failed"
[ $failed -eq 0 ]
