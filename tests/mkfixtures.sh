#!/bin/bash
# tests/mkfixtures.sh - regenerate stripwatch's real SMTP/STARTTLS test captures.
#
# Runs real software on loopback only and writes pcaps/<case>/{input.pcap,README.md}:
#   * Debian's Postfix (private config + queue under a temp dir, high ports,
#     never touches /etc/postfix's instance), STARTTLS with a test CA/cert
#     made here with openssl for mx.test.example;
#   * swaks as the SMTP client;
#   * tests/smtp_mitm.py as the on-path attacker for the attack cases;
#   * tcpdump on lo (pcap, snaplen 262144, packet-buffered).
# Every capture is checked with tshark before anything under pcaps/ is
# replaced; on any failure the script exits non-zero and pcaps/ is untouched.
#
# Usage: tests/mkfixtures.sh [CASE...]      (default: all cases; must run as root)
# Env:   STRIPWATCH_PORT_TLS (10025) STRIPWATCH_PORT_PLAIN (10026)
#        STRIPWATCH_PORT_PROXY (10125)  KEEP_WORKDIR=1 to keep the temp dir.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
FIX="$HERE/fixtures"
MITM="$HERE/smtp_mitm.py"
OUTROOT="$REPO/pcaps"

PORT_TLS=${STRIPWATCH_PORT_TLS:-10025}
PORT_PLAIN=${STRIPWATCH_PORT_PLAIN:-10026}
PORT_PROXY=${STRIPWATCH_PORT_PROXY:-10125}

ALL_CASES=(clean-starttls clean-starttls-tls12 clean-plaintext
    strip-xxxxxxxa strip-xxxxxxxb strip-random strip-line-removed
    strip-xxxxxxxa-both-legs
    starttls-454 starttls-cmd-mangled inject-after-starttls inject-after-220)

WORK=""
PFCONF=""
TCPDUMP_PID=""
PROXY_PID=""
PF_STARTED=0

log()  { printf 'mkfixtures: %s\n' "$*" >&2; }
fail() { printf 'mkfixtures: ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- cleanup
stop_pid() {  # stop_pid PID SIGNAL: signal one process we started and reap it
    local pid=$1 sig=${2:-TERM} i
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -"$sig" "$pid" 2>/dev/null || true
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

stop_postfix() {
    [ "$PF_STARTED" = 1 ] || return 0
    PF_STARTED=0
    local pidfile="$WORK/queue/pid/master.pid" pid="" i
    [ -f "$pidfile" ] && pid=$(tr -dc '0-9' <"$pidfile")
    postfix -c "$PFCONF" stop >/dev/null 2>&1 || true
    if [ -n "$pid" ]; then
        for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            log "postfix master $pid still running, sending SIGTERM"
            kill -TERM "$pid" 2>/dev/null || true
            sleep 1
        fi
    fi
}

cleanup() {
    local rc=$?
    set +e
    stop_pid "$TCPDUMP_PID" INT
    stop_pid "$PROXY_PID" TERM
    stop_postfix
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        if [ "${KEEP_WORKDIR:-0}" = 1 ] || { [ $rc -ne 0 ] && [ -n "${KEEP_ON_FAIL:-}" ]; }; then
            log "work dir kept: $WORK"
        else
            if [ $rc -ne 0 ] && [ -f "$WORK/maillog" ]; then
                log "last postfix log lines:"; tail -n 15 "$WORK/maillog" >&2
            fi
            rm -rf "$WORK"
        fi
    fi
    [ $rc -eq 0 ] || log "FAILED (exit $rc); pcaps/ left unchanged"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---------------------------------------------------------------- deps
ensure_deps() {
    local missing=() c
    for c in postfix:postfix swaks:swaks tcpdump:tcpdump openssl:openssl tshark:tshark \
             python3:python3 ss:iproute2 od:coreutils; do
        command -v "${c%%:*}" >/dev/null 2>&1 || missing+=("${c#*:}")
    done
    # swaks needs Net::SSLeay (a Recommends) for --tls.
    perl -MNet::SSLeay -e1 >/dev/null 2>&1 || missing+=(libnet-ssleay-perl libio-socket-ssl-perl)
    id postfix >/dev/null 2>&1 || missing+=(postfix)
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing: ${missing[*]}"
    command -v apt-get >/dev/null || fail "apt-get not found; install ${missing[*]} by hand"
    debconf-set-selections <<'EOF'
postfix postfix/main_mailer_type select No configuration
postfix postfix/mailname string mx.test.example
wireshark-common wireshark-common/install-setuid boolean false
EOF
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q </dev/null >&2 || fail "apt-get update failed"
    apt-get install -y -q "${missing[@]}" </dev/null >&2 || fail "apt-get install ${missing[*]} failed"
    for c in postfix swaks tcpdump openssl tshark python3 ss; do
        command -v "$c" >/dev/null 2>&1 || fail "$c still missing after install"
    done
}

port_free() { [ -z "$(ss -ltnH "sport = :$1" 2>/dev/null)" ]; }

wait_listen() {  # wait_listen PORT WHAT
    local i
    for i in $(seq 100); do
        port_free "$1" || return 0
        sleep 0.1
    done
    fail "$2 is not listening on 127.0.0.1:$1"
}

# ---------------------------------------------------------------- TLS material
make_certs() {
    local d="$WORK/tls"
    mkdir -p "$d"
    (
        cd "$d"
        openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout ca.key -out ca.pem -days 3650 -subj "/O=stripwatch tests/CN=stripwatch Test CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout server.key -out server.csr -subj "/O=stripwatch tests/CN=mx.test.example"
        printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
            "extendedKeyUsage=serverAuth" "subjectAltName=DNS:mx.test.example" >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out server.pem -days 3650 -extfile server.ext
        cat server.pem ca.pem >server-chain.pem
        chmod 600 ca.key server.key
        openssl verify -CAfile ca.pem server.pem
    ) >"$WORK/openssl.log" 2>&1 || { cat "$WORK/openssl.log" >&2; fail "certificate generation failed"; }
}

# ---------------------------------------------------------------- postfix
start_postfix() {
    PFCONF="$WORK/postfix-conf"
    mkdir -p "$PFCONF" "$WORK/queue" "$WORK/data"
    chown postfix:postfix "$WORK/data"
    sed -e "s#@@WORKDIR@@#$WORK#g" "$FIX/postfix/main.cf.in" >"$PFCONF/main.cf"
    sed -e "s#@@PORT_TLS@@#$PORT_TLS#g; s#@@PORT_PLAIN@@#$PORT_PLAIN#g" \
        "$FIX/postfix/master.cf.in" >"$PFCONF/master.cf"
    : >"$WORK/maillog"
    postfix -c "$PFCONF" check >"$WORK/postfix-check.log" 2>&1 ||
        { cat "$WORK/postfix-check.log" "$WORK/maillog" >&2; fail "postfix check failed for $PFCONF"; }
    PF_STARTED=1
    postfix -c "$PFCONF" start >"$WORK/postfix-start.log" 2>&1 ||
        { cat "$WORK/postfix-start.log" >&2; fail "postfix -c $PFCONF start failed"; }
    wait_listen "$PORT_TLS" "postfix (STARTTLS listener)"
    wait_listen "$PORT_PLAIN" "postfix (plaintext listener)"
    PF_VERSION=$(postconf -c "$PFCONF" -h mail_version 2>/dev/null || echo '?')
    log "postfix $PF_VERSION running: STARTTLS on 127.0.0.1:$PORT_TLS, no TLS on 127.0.0.1:$PORT_PLAIN (pid $(tr -dc '0-9' <"$WORK/queue/pid/master.pid"))"
}

# ---------------------------------------------------------------- capture helpers
start_tcpdump() {  # start_tcpdump FILE FILTER
    : >"$WORK/tcpdump.err"
    tcpdump -i lo -n -U -s 0 -Z root -w "$1" "$2" 2>"$WORK/tcpdump.err" &
    TCPDUMP_PID=$!
    local i
    for i in $(seq 100); do
        grep -q 'listening on' "$WORK/tcpdump.err" && { sleep 0.2; return 0; }
        kill -0 "$TCPDUMP_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$WORK/tcpdump.err" >&2
    fail "tcpdump did not start"
}

stop_tcpdump() {
    sleep 1   # let FIN/ACKs arrive; -U writes every packet at once
    stop_pid "$TCPDUMP_PID" INT
    TCPDUMP_PID=""
    grep -q '^0 packets dropped by kernel' "$WORK/tcpdump.err" ||
        { cat "$WORK/tcpdump.err" >&2; fail "tcpdump dropped packets"; }
}

start_proxy() {  # start_proxy ATTACK
    port_free "$PORT_PROXY" || fail "port $PORT_PROXY already in use"
    rm -f "$WORK/proxy.ready"
    python3 "$MITM" --listen "127.0.0.1:$PORT_PROXY" --upstream "127.0.0.1:$PORT_TLS" \
        --attack "$1" --seed 1 --max-conns 1 --idle-timeout 30 \
        --ready-file "$WORK/proxy.ready" 2>"$CWORK/proxy.log" &
    PROXY_PID=$!
    local i
    for i in $(seq 100); do
        [ -f "$WORK/proxy.ready" ] && return 0
        kill -0 "$PROXY_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$CWORK/proxy.log" >&2
    fail "smtp_mitm.py did not start"
}

stop_proxy() {  # the proxy exits by itself after its one connection
    local i
    for i in $(seq 100); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
    stop_pid "$PROXY_PID" TERM
    PROXY_PID=""
}

# ---------------------------------------------------------------- verification helpers
# All checks run tshark on the fresh capture; results go into the README.
tsh() { tshark -n -r "$PCAP" "${DECODE[@]}" "$@" 2>>"$CWORK/tshark.err"; }

frames() {  # frames FILTER -> "1,2,3" (at most 6 shown)
    local all n
    all=$(tsh -Y "$1" -T fields -e frame.number) || fail "$CASE: tshark failed on filter: $1"
    n=$(printf '%s\n' "$all" | grep -c . || true)
    if [ "$n" -gt 6 ]; then
        printf '%s, ... (%d frames)' "$(printf '%s\n' "$all" | head -n 6 | paste -sd, - | sed 's/,/, /g')" "$n"
    else
        printf '%s\n' "$all" | grep . | paste -sd, - | sed 's/,/, /g' || true
    fi
}

expect() {  # expect "what" FILTER
    local f; f=$(frames "$2")
    [ -n "$f" ] || fail "$CASE: not found on the wire: $1   [tshark -Y '$2']"
    VERIFY+=("- $1: frame $f"$'\n'"  \`$2\`")
}

expect_none() {  # expect_none "what" FILTER
    local f; f=$(frames "$2")
    [ -z "$f" ] || fail "$CASE: unexpectedly on the wire (frames $f): $1   [tshark -Y '$2']"
    VERIFY+=("- $1: no frame"$'\n'"  \`$2\`")
}

expect_follow() {  # expect_follow STREAM "fixed text" : text in tshark's follow,tcp,ascii output
    local out="$CWORK/follow.$1.txt"
    [ -f "$out" ] || tsh -qz "follow,tcp,ascii,$1" >"$out"
    grep -qF -- "$2" "$out" || fail "$CASE: '$2' not in tshark follow,tcp,ascii,$1"
    VERIFY+=("- \`tshark -r input.pcap -qz follow,tcp,ascii,$1\` contains \`$2\`")
}

expect_no_follow() {  # expect_no_follow STREAM "text"
    local out="$CWORK/follow.$1.txt"
    [ -f "$out" ] || tsh -qz "follow,tcp,ascii,$1" >"$out"
    ! grep -qF -- "$2" "$out" || fail "$CASE: '$2' unexpectedly in tshark follow,tcp,ascii,$1"
    VERIFY+=("- \`tshark -r input.pcap -qz follow,tcp,ascii,$1\` does not contain \`$2\`")
}

expect_streams() {  # expect_streams N
    local n
    n=$(tsh -T fields -e tcp.stream | sort -u | grep -c . || true)
    [ "$n" = "$1" ] || fail "$CASE: expected $1 TCP connection(s), capture has $n"
    VERIFY+=("- TCP connections in the capture: $n")
}

expect_swaks() {  # expect_swaks REGEX "what": client-side evidence (for what TLS hides)
    grep -qE -- "$1" "$CWORK/swaks.log" || fail "$CASE: swaks output lacks /$1/ ($2)"
    VERIFY+=("- client transcript (swaks) shows $2")
}

# ---------------------------------------------------------------- one case
# run_case CASE ATTACK SWAKS_PORT CAPTURE_FILTER SERVER_PORTS EXPECTED_SWAKS_RC SWAKS_ARGS...
run_case() {
    CASE=$1; ATTACK=$2; local sport=$3; CFILTER=$4; SPORTS=$5; local want_rc=$6; shift 6
    CWORK="$WORK/cases/$CASE"; mkdir -p "$CWORK"
    PCAP="$CWORK/input.pcap"
    VERIFY=()
    DECODE=()
    local p
    for p in ${SPORTS//,/ }; do DECODE+=(-d "tcp.port==$p,smtp"); done
    log "case $CASE"

    [ "$ATTACK" = - ] || start_proxy "$ATTACK"
    local mlines; mlines=$(wc -l <"$WORK/maillog")
    start_tcpdump "$PCAP" "$CFILTER"

    SWAKS=(swaks --server "127.0.0.1:$sport" --from a@sender.test --to user@example.test
        --helo client.sender.test --timeout 15
        --header "Subject: stripwatch fixture $CASE"
        --header "Message-Id: <$CASE@sender.test>"
        --body "stripwatch test message for fixture $CASE."
        "$@")
    set +e
    timeout 90 "${SWAKS[@]}" </dev/null >"$CWORK/swaks.log" 2>&1
    SWAKS_RC=$?
    set -e
    stop_tcpdump
    [ "$ATTACK" = - ] || stop_proxy
    sleep 0.3
    tail -n +"$((mlines + 1))" "$WORK/maillog" | grep -E 'smtpd|cleanup|qmgr|discard' \
        | sed -E 's/^[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} [^ ]+ //' >"$CWORK/postfix.log" || true

    [ -s "$PCAP" ] || fail "$CASE: empty capture"
    [ "$(od -An -tx1 -N4 "$PCAP" | tr -d ' \n')" = d4c3b2a1 ] ||
        fail "$CASE: $PCAP is not a little-endian microsecond pcap"
    if [ "$want_rc" != any ] && [ "$SWAKS_RC" != "$want_rc" ]; then
        cat "$CWORK/swaks.log" >&2
        fail "$CASE: swaks exited $SWAKS_RC, expected $want_rc"
    fi
    if [ "$ATTACK" != - ]; then
        grep -q ' ATTACK ' "$CWORK/proxy.log" ||
            { cat "$CWORK/proxy.log" >&2; fail "$CASE: proxy never performed attack $ATTACK"; }
    fi
    "verify_${CASE//-/_}"
    write_readme
}

# ---------------------------------------------------------------- README
shell_quote() {  # print args as a readable shell command line
    local a out=()
    for a in "$@"; do
        if [[ $a =~ ^[A-Za-z0-9@%_.:/=,+-]+$ ]]; then out+=("$a"); else out+=("'${a//\'/\'\\\'\'}'"); fi
    done
    printf '%s' "${out[*]}"
}

write_readme() {
    local r="$CWORK/README.md" npk size proxycmd=""
    npk=$(tsh -T fields -e frame.number | grep -c .)
    size=$(stat -c %s "$PCAP")
    [ "$ATTACK" = - ] || proxycmd="python3 tests/smtp_mitm.py --listen 127.0.0.1:$PORT_PROXY --upstream 127.0.0.1:$PORT_TLS --attack $ATTACK --seed 1 --max-conns 1"
    {
        printf '# %s\n\n' "$CASE"
        printf '%s\n\n' "$PURPOSE"
        printf '## What happened / what an analyst should see\n\n%s\n\n' "$SEE"
        printf '## How it was generated\n\n'
        printf 'Generated by `tests/mkfixtures.sh` (rerun it to regenerate; do not edit by hand).\n'
        printf 'Real software only, all on loopback: Postfix %s (Debian %s) with a private config\n' "$PF_VERSION" "$(cat /etc/debian_version 2>/dev/null || echo '?')"
        printf 'and queue directory (templates in `tests/fixtures/postfix/`), swaks %s as the\n' "$SWAKS_VERSION"
        printf 'client, %s, capture by tcpdump %s.\n' "$(openssl version | cut -d' ' -f1-2)" "$TCPDUMP_VERSION"
        printf 'Server certificate: CN/SAN `mx.test.example`, ECDSA P-256, issued by a throw-away\n'
        printf '"stripwatch Test CA" created with openssl at generation time (so it changes on every run).\n\n'
        printf -- '- Topology: %s\n' "$TOPO"
        printf -- '- Captured: `tcpdump -i lo -n -U -s 0 -w input.pcap '"'"'%s'"'"'` — %s\n' "$CFILTER" "$LEG"
        printf -- '- File: classic pcap (not pcapng), link type EN10MB (Linux loopback: zero MACs), snaplen 262144, %s packets, %s bytes. tshark does not dissect SMTP on these ports by default: use `%s`.\n' "$npk" "$size" "tshark -r input.pcap ${DECODE[*]}"
        [ -z "$proxycmd" ] || printf -- '- Attacker: `%s`\n' "$proxycmd"
        printf -- '- Client: `%s`\n' "$(shell_quote "${SWAKS[@]}")"
        printf -- '- Client exit status: %s%s\n\n' "$SWAKS_RC" "${RC_NOTE:-}"
        printf '## Verification (tshark, run by mkfixtures.sh on this file)\n\n'
        printf '%s\n' "${VERIFY[@]}"
        printf '\n## Payload frames\n\n```\n'
        tsh -Y 'tcp.len>0' -T fields -e frame.number -e tcp.stream -e tcp.srcport \
            -e tcp.dstport -e tcp.len -e tcp.payload | python3 "$FIX/pcap_summary.py" "$SPORTS"
        printf '```\n'
        if [ -n "$proxycmd" ]; then
            printf '\n## Attacker log (smtp_mitm.py)\n\n```\n'
            cat "$CWORK/proxy.log"
            printf '```\n'
        fi
        printf '\n## Client transcript (swaks)\n\n```\n'
        cat "$CWORK/swaks.log"
        printf '```\n\n## Server log (postfix)\n\n```\n'
        cat "$CWORK/postfix.log"
        printf '```\n'
    } >"$r"
    unset RC_NOTE
}

# ---------------------------------------------------------------- the cases
# Direction filters on the captured leg: C2S = client -> server, S2C = server -> client.
dirs() { C2S="tcp.dstport==$1"; S2C="tcp.srcport==$1"; }

TLS_CLIENT=(--tls --tls-sni mx.test.example)
TLS_OPTIONAL=(--tls-optional --tls-sni mx.test.example)
TOPO_DIRECT="swaks (127.0.0.1, ephemeral port) -> postfix smtpd 127.0.0.1:$PORT_TLS"
TOPO_MITM="swaks (127.0.0.1, ephemeral port) -> tests/smtp_mitm.py 127.0.0.1:$PORT_PROXY -> postfix smtpd 127.0.0.1:$PORT_TLS"
LEG_SERVER="only the attacker <-> server leg (what a sensor in front of the server sees; the attacker acts as the SMTP client there, so the bytes it rewrote or injected on the client -> server direction are on this leg); server port $PORT_TLS. One TCP connection."
LEG_CLIENT="only the client <-> attacker leg (what an on-path sensor between the client and the attacker sees); the server port on the wire is $PORT_PROXY. One TCP connection."

plain_delivery_checks() {  # mail went through in the clear on the captured leg
    expect "client's MAIL FROM in cleartext" "$C2S && tcp.payload contains \"MAIL FROM:<a@sender.test>\""
    expect "message body in cleartext" "$C2S && tcp.payload contains \"stripwatch test message for fixture $CASE\""
    expect "server accepts the message in cleartext" "$S2C && tcp.payload contains \"250 2.0.0 Ok: queued\""
    expect_none "any TLS record" "tcp.payload[0:1]==16 || tcp.payload[0:1]==17"
}

do_clean_starttls() {
    dirs "$PORT_TLS"
    PURPOSE="Clean baseline (no attack): the server offers STARTTLS, the client uses it, the whole mail transaction runs inside TLS (TLS 1.3 negotiated). stripwatch must NOT alert."
    SEE="Server greeting and EHLO reply in clear with \`250-STARTTLS\`, client \`STARTTLS\`, server \`220 2.0.0 Ready to start TLS\`, then a TLS 1.3 handshake (ClientHello/ServerHello) and only TLS records until the FINs. MAIL FROM/RCPT/DATA never appear in clear. The client verified the server certificate against the test CA (swaks --tls-verify)."
    TOPO=$TOPO_DIRECT; LEG="the single client <-> server connection (server port $PORT_TLS)."
    run_case clean-starttls - "$PORT_TLS" "tcp port $PORT_TLS" "$PORT_TLS" 0 \
        "${TLS_CLIENT[@]}" --tls-verify --tls-ca-path "$WORK/tls/ca.pem"
}
verify_clean_starttls() {
    expect_streams 1
    expect "server advertises STARTTLS" "$S2C && tcp.payload contains \"250-STARTTLS\r\n\""
    expect "client sends STARTTLS" "$C2S && tcp.payload == \"STARTTLS\r\n\""
    expect "server 220 Ready to start TLS, nothing appended" "$S2C && tcp.payload == \"220 2.0.0 Ready to start TLS\r\n\""
    expect "TLS ClientHello" "tls.handshake.type==1"
    expect "TLS ServerHello" "tls.handshake.type==2"
    expect "TLS 1.3 negotiated" "tls.handshake.extensions.supported_version==0x0304 && tls.handshake.type==2"
    expect_none "MAIL FROM in cleartext" "tcp.payload contains \"MAIL FROM\""
    expect_follow 0 "250-STARTTLS"
    expect_follow 0 "220 2.0.0 Ready to start TLS"
    expect_no_follow 0 "MAIL FROM"
    expect_swaks 'TLS started with cipher TLSv1.3' "TLS 1.3 was negotiated"
    expect_swaks '250 2.0.0 Ok: queued' "the message was accepted inside TLS"
}

do_clean_starttls_tls12() {
    dirs "$PORT_TLS"
    PURPOSE="Clean baseline (no attack) like clean-starttls, but the client is restricted to TLS 1.2 (swaks --tls-protocol tlsv1_2), so the server's Certificate handshake message (mx.test.example, issued by stripwatch Test CA) is visible in clear. stripwatch must NOT alert."
    SEE="Cleartext SMTP up to \`220 2.0.0 Ready to start TLS\`, then a TLS 1.2 handshake: ClientHello, then ServerHello + Certificate (CN/SAN mx.test.example) + ServerKeyExchange + ServerHelloDone in clear, then ClientKeyExchange/ChangeCipherSpec and ApplicationData only."
    TOPO=$TOPO_DIRECT; LEG="the single client <-> server connection (server port $PORT_TLS)."
    run_case clean-starttls-tls12 - "$PORT_TLS" "tcp port $PORT_TLS" "$PORT_TLS" 0 \
        "${TLS_CLIENT[@]}" --tls-protocol tlsv1_2 --tls-verify --tls-ca-path "$WORK/tls/ca.pem"
}
verify_clean_starttls_tls12() {
    expect_streams 1
    expect "server advertises STARTTLS" "$S2C && tcp.payload contains \"250-STARTTLS\r\n\""
    expect "client sends STARTTLS" "$C2S && tcp.payload == \"STARTTLS\r\n\""
    expect "server 220 Ready to start TLS" "$S2C && tcp.payload == \"220 2.0.0 Ready to start TLS\r\n\""
    expect "TLS 1.2 ServerHello" "tls.handshake.type==2 && tls.handshake.version==0x0303 && !tls.handshake.extensions.supported_version"
    expect "server Certificate in clear for mx.test.example" "tls.handshake.type==11 && x509ce.dNSName==\"mx.test.example\""
    expect_none "MAIL FROM in cleartext" "tcp.payload contains \"MAIL FROM\""
    expect_follow 0 "220 2.0.0 Ready to start TLS"
    expect_follow 0 "mx.test.example"
    expect_swaks 'TLS started with cipher TLSv1.2' "TLS 1.2 was negotiated"
    expect_swaks '250 2.0.0 Ok: queued' "the message was accepted inside TLS"
}

do_clean_plaintext() {
    dirs "$PORT_PLAIN"
    PURPOSE="Clean plaintext baseline (no attack): this Postfix listener has no STARTTLS configured at all, so the server never offers it and the client delivers in clear. Nothing was stripped: stripwatch must NOT alert (at most it may note an unencrypted session)."
    SEE="Greeting, an EHLO reply without any STARTTLS line (the list goes PIPELINING, SIZE, VRFY, ETRN, ENHANCEDSTATUSCODES, 8BITMIME, DSN, SMTPUTF8, CHUNKING), then MAIL/RCPT/DATA/QUIT and the message, all in clear."
    TOPO="swaks (127.0.0.1, ephemeral port) -> postfix smtpd 127.0.0.1:$PORT_PLAIN (smtpd_tls_security_level=none)"
    LEG="the single client <-> server connection (server port $PORT_PLAIN)."
    run_case clean-plaintext - "$PORT_PLAIN" "tcp port $PORT_PLAIN" "$PORT_PLAIN" 0
}
verify_clean_plaintext() {
    expect_streams 1
    expect "EHLO reply (multi-line 250)" "$S2C && tcp.payload contains \"250-PIPELINING\""
    expect_none "STARTTLS anywhere" "tcp.payload contains \"STARTTLS\""
    plain_delivery_checks
    expect_follow 0 "250 2.0.0 Ok: queued"
    expect_no_follow 0 "STARTTLS"
}

strip_case() {  # strip_case CASE ATTACK TOKEN
    dirs "$PORT_PROXY"
    TOPO=$TOPO_MITM; LEG=$LEG_CLIENT
    run_case "$1" "$2" "$PORT_PROXY" "tcp port $PORT_PROXY" "$PORT_PROXY" 0 "${TLS_OPTIONAL[@]}"
}
strip_checks() {  # strip_checks TOKEN
    expect_streams 1
    expect "EHLO reply with STARTTLS overwritten by $1 (same length)" "$S2C && tcp.payload contains \"\r\n250-$1\r\n\""
    expect_none "STARTTLS anywhere on the client leg" "tcp.payload contains \"STARTTLS\""
    plain_delivery_checks
    expect_follow 0 "250-$1"
    expect_no_follow 0 "STARTTLS"
    expect_swaks 'Host did not advertise STARTTLS' "the client saw no STARTTLS and went on in plaintext (--tls-optional)"
}

do_strip_xxxxxxxa() {
    PURPOSE="STARTTLS stripping attack: an on-path attacker overwrites the STARTTLS keyword in the server's EHLO reply with the same-length garbage \`XXXXXXXA\` (the classic pattern seen in the wild), so the client believes TLS is unavailable and sends the mail in clear. stripwatch MUST alert."
    SEE="The server's EHLO reply (a single segment from the attacker) contains the line \`250-XXXXXXXA\` where Postfix sent \`250-STARTTLS\` (segment length unchanged). The client never sends STARTTLS; MAIL FROM, RCPT TO, DATA and the message body follow in clear and the server answers \`250 2.0.0 Ok: queued\`. The capture holds only the client <-> attacker leg, so the original STARTTLS is not in this file (see strip-xxxxxxxa-both-legs)."
    strip_case strip-xxxxxxxa strip-xxxxxxxa
}
verify_strip_xxxxxxxa() { strip_checks XXXXXXXA; }

do_strip_xxxxxxxb() {
    PURPOSE="STARTTLS stripping attack, variant: STARTTLS in the server's EHLO reply overwritten with \`XXXXXXXB\` (same length). The client continues in plaintext. stripwatch MUST alert."
    SEE="The EHLO reply contains \`250-XXXXXXXB\` instead of \`250-STARTTLS\`; no STARTTLS from the client; MAIL FROM/RCPT/DATA and the body in clear; \`250 2.0.0 Ok: queued\`."
    strip_case strip-xxxxxxxb strip-xxxxxxxb
}
verify_strip_xxxxxxxb() { strip_checks XXXXXXXB; }

do_strip_random() {
    RANDOM_TOKEN=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import smtp_mitm; print(smtp_mitm.random_token(1).decode())' "$HERE")
    PURPOSE="STARTTLS stripping attack, variant: STARTTLS in the server's EHLO reply overwritten with 8 random capital letters (\`$RANDOM_TOKEN\`; deterministic: Python random.Random(1) in smtp_mitm.py --seed 1), i.e. a same-length unknown extension keyword instead of a fixed X pattern. stripwatch MUST alert."
    SEE="The EHLO reply contains \`250-$RANDOM_TOKEN\` in the position where Postfix sends \`250-STARTTLS\` (between \`250-ETRN\` and \`250-ENHANCEDSTATUSCODES\`); no STARTTLS from the client; the mail follows in clear and is accepted."
    strip_case strip-random strip-random
}
verify_strip_random() {
    strip_checks "$RANDOM_TOKEN"
    expect "random keyword sits where STARTTLS was" "$S2C && tcp.payload contains \"250-ETRN\r\n250-$RANDOM_TOKEN\r\n250-ENHANCEDSTATUSCODES\""
}

do_strip_line_removed() {
    PURPOSE="STARTTLS stripping attack, variant: the attacker deletes the whole \`250-STARTTLS\` line from the server's EHLO reply (the reply gets 14 bytes shorter, so TCP sequence numbers on the client leg no longer match the server's). No garbage keyword is left behind. The client continues in plaintext. stripwatch MUST alert if it can (e.g. by comparing both legs, or by flagging a TLS-capable server/cleartext session); this is the hard case."
    SEE="The EHLO reply on the client leg goes \`250-ETRN\` directly to \`250-ENHANCEDSTATUSCODES\`, with no STARTTLS line and no replacement; the client never sends STARTTLS and delivers in clear. On its own this capture looks like clean-plaintext except for the missing line — compare with clean-plaintext (listener without TLS: same EHLO list)."
    strip_case strip-line-removed strip-line-removed
}
verify_strip_line_removed() {
    expect_streams 1
    expect "EHLO reply with the STARTTLS line removed (ETRN followed by ENHANCEDSTATUSCODES)" "$S2C && tcp.payload contains \"250-ETRN\r\n250-ENHANCEDSTATUSCODES\r\n\""
    expect_none "STARTTLS anywhere on the client leg" "tcp.payload contains \"STARTTLS\""
    plain_delivery_checks
    expect_follow 0 "250-ETRN"
    expect_no_follow 0 "STARTTLS"
    expect_swaks 'Host did not advertise STARTTLS' "the client saw no STARTTLS and went on in plaintext"
    grep -q "removed" "$CWORK/proxy.log" || fail "$CASE: proxy did not remove the line"
}

do_strip_xxxxxxxa_both_legs() {
    dirs "$PORT_PROXY"
    PURPOSE="Same attack as strip-xxxxxxxa, but captured on BOTH legs of the attacker: the attacker <-> server connection shows the genuine \`250-STARTTLS\`, the client <-> attacker connection shows \`250-XXXXXXXA\`. For a sensor that sees both sides of an on-path box, or for stream comparison. stripwatch MUST alert on the client-side connection (port $PORT_PROXY). The server-side connection on its own shows STARTTLS offered but not used by the (attacker's) client, with the mail sent in clear."
    SEE="Two TCP connections: stream on port $PORT_PROXY (client <-> attacker) with \`250-XXXXXXXA\`, and stream on port $PORT_TLS (attacker <-> postfix) with the original \`250-STARTTLS\`. Every SMTP line appears twice, once per leg, a few hundred microseconds apart. On the server leg the 'client' (the attacker) ignores the offered STARTTLS and sends MAIL FROM in clear."
    TOPO=$TOPO_MITM
    LEG="both legs: client <-> attacker (port $PORT_PROXY) and attacker <-> server (port $PORT_TLS). Two TCP connections."
    run_case strip-xxxxxxxa-both-legs strip-xxxxxxxa "$PORT_PROXY" \
        "tcp port $PORT_PROXY or tcp port $PORT_TLS" "$PORT_PROXY,$PORT_TLS" 0 "${TLS_OPTIONAL[@]}"
}
verify_strip_xxxxxxxa_both_legs() {
    expect_streams 2
    expect "client leg: EHLO reply with 250-XXXXXXXA" "tcp.srcport==$PORT_PROXY && tcp.payload contains \"\r\n250-XXXXXXXA\r\n\""
    expect "server leg: genuine EHLO reply with 250-STARTTLS" "tcp.srcport==$PORT_TLS && tcp.payload contains \"\r\n250-STARTTLS\r\n\""
    expect_none "STARTTLS on the client leg" "tcp.port==$PORT_PROXY && tcp.payload contains \"STARTTLS\""
    expect_none "XXXXXXXA on the server leg" "tcp.port==$PORT_TLS && tcp.payload contains \"XXXXXXXA\""
    expect "client leg: MAIL FROM in cleartext" "tcp.dstport==$PORT_PROXY && tcp.payload contains \"MAIL FROM:<a@sender.test>\""
    expect "server leg: MAIL FROM in cleartext" "tcp.dstport==$PORT_TLS && tcp.payload contains \"MAIL FROM:<a@sender.test>\""
    expect "server accepts the message in cleartext" "tcp.srcport==$PORT_TLS && tcp.payload contains \"250 2.0.0 Ok: queued\""
    expect_none "any TLS record" "tcp.payload[0:1]==16 || tcp.payload[0:1]==17"
    local s_client s_server
    s_client=$(tsh -Y "tcp.port==$PORT_PROXY" -T fields -e tcp.stream | head -n1)
    s_server=$(tsh -Y "tcp.port==$PORT_TLS" -T fields -e tcp.stream | head -n1)
    expect_follow "$s_client" "250-XXXXXXXA"
    expect_follow "$s_server" "250-STARTTLS"
}

do_starttls_454() {
    dirs "$PORT_PROXY"
    PURPOSE="STARTTLS downgrade by refusal: the server really offers STARTTLS (visible on the client leg), the client sends STARTTLS, but the attacker does not forward it and answers the client itself with \`454 4.7.0 TLS not available due to local problem\`. The client (swaks --tls-optional) then continues in plaintext. stripwatch MUST alert (454 to STARTTLS followed by a cleartext transaction)."
    SEE="\`250-STARTTLS\` in the EHLO reply, client \`STARTTLS\`, the reply \`454 4.7.0 TLS not available due to local problem\` (forged by the attacker; Postfix never saw the STARTTLS), then MAIL FROM/RCPT/DATA and the body in clear, \`250 2.0.0 Ok: queued\`."
    TOPO=$TOPO_MITM; LEG=$LEG_CLIENT
    run_case starttls-454 starttls-454 "$PORT_PROXY" "tcp port $PORT_PROXY" "$PORT_PROXY" 0 "${TLS_OPTIONAL[@]}"
}
verify_starttls_454() {
    expect_streams 1
    expect "server advertises STARTTLS" "$S2C && tcp.payload contains \"250-STARTTLS\r\n\""
    expect "client sends STARTTLS" "$C2S && tcp.payload == \"STARTTLS\r\n\""
    expect "454 reply to STARTTLS" "$S2C && tcp.payload == \"454 4.7.0 TLS not available due to local problem\r\n\""
    plain_delivery_checks
    expect_follow 0 "454 4.7.0 TLS not available due to local problem"
    expect_swaks 'STARTTLS attempted but failed' "the client accepted the 454 and went on in plaintext"
    if grep -q 'starttls=' "$CWORK/postfix.log"; then fail "$CASE: postfix saw STARTTLS"; fi
}

do_starttls_cmd_mangled() {
    dirs "$PORT_TLS"
    PURPOSE="STARTTLS downgrade by corrupting the client's command: the attacker overwrites the client's \`STARTTLS\` with same-length garbage \`XXXXXXXX\` before it reaches the server; Postfix answers \`500 5.5.2 Error: command not recognized\` and the client (swaks --tls-optional) continues in plaintext. Captured on the attacker <-> server leg, where the rewritten command is on the wire. stripwatch MUST alert."
    SEE="Server leg: the real EHLO reply with \`250-STARTTLS\`, then the client -> server segment \`XXXXXXXX\\r\\n\` (same length as \`STARTTLS\\r\\n\`) where STARTTLS would be, the server's \`500 5.5.2 Error: command not recognized\`, then MAIL FROM/RCPT/DATA and the body in clear and \`250 2.0.0 Ok: queued\`. (On the client <-> attacker leg, not captured here, the client sent a genuine \`STARTTLS\` and received the 500.)"
    TOPO=$TOPO_MITM; LEG=$LEG_SERVER
    run_case starttls-cmd-mangled starttls-cmd-mangled "$PORT_PROXY" "tcp port $PORT_TLS" "$PORT_TLS" 0 "${TLS_OPTIONAL[@]}"
}
verify_starttls_cmd_mangled() {
    expect_streams 1
    expect "server advertises STARTTLS" "$S2C && tcp.payload contains \"250-STARTTLS\r\n\""
    expect "client command overwritten with XXXXXXXX (same length)" "$C2S && tcp.payload == \"XXXXXXXX\r\n\""
    expect_none "STARTTLS command from the client" "$C2S && tcp.payload contains \"STARTTLS\""
    expect "server rejects the mangled command" "$S2C && tcp.payload == \"500 5.5.2 Error: command not recognized\r\n\""
    plain_delivery_checks
    expect_follow 0 "XXXXXXXX"
    expect_follow 0 "500 5.5.2 Error: command not recognized"
    expect_swaks 'STARTTLS attempted but failed' "the client sent STARTTLS, got the 500 and went on in plaintext"
    grep -q "b'STARTTLS' -> b'XXXXXXXX'" "$CWORK/proxy.log" || fail "$CASE: proxy did not rewrite STARTTLS"
    grep -q 'unknown=0/1' "$CWORK/postfix.log" || fail "$CASE: postfix did not log the unknown command"
    VERIFY+=("- postfix logged the session with \`unknown=0/1\` (it received XXXXXXXX)")
}

do_inject_after_starttls() {
    dirs "$PORT_TLS"
    PURPOSE="STARTTLS command injection (CVE-2011-0411 style): the attacker appends \`MAIL FROM:<evil@attacker.test>\\r\\n\` to the client's \`STARTTLS\\r\\n\` in the same TCP segment, i.e. cleartext commands pipelined after STARTTLS, before the TLS handshake, hoping the server executes them as if they came inside TLS. Captured on the attacker <-> server leg, where the injected bytes are on the wire. stripwatch MUST alert (client data after STARTTLS before the ClientHello)."
    SEE="One client -> server segment containing \`STARTTLS\\r\\nMAIL FROM:<evil@attacker.test>\\r\\n\`, then the server's \`220 2.0.0 Ready to start TLS\` (nothing else in clear: no reply to the injected MAIL FROM), then the TLS 1.3 handshake and an encrypted session. Postfix (fixed since 2.8.5) discards cleartext buffered after STARTTLS, so the real mail is delivered normally inside TLS (from a@sender.test, not evil@)."
    TOPO=$TOPO_MITM; LEG=$LEG_SERVER
    run_case inject-after-starttls inject-after-starttls "$PORT_PROXY" "tcp port $PORT_TLS" "$PORT_TLS" 0 "${TLS_OPTIONAL[@]}"
}
verify_inject_after_starttls() {
    expect_streams 1
    expect "server advertises STARTTLS" "$S2C && tcp.payload contains \"250-STARTTLS\r\n\""
    expect "STARTTLS + injected command in ONE client segment" "$C2S && tcp.payload == \"STARTTLS\r\nMAIL FROM:<evil@attacker.test>\r\n\""
    expect "server 220 Ready to start TLS, alone" "$S2C && tcp.payload == \"220 2.0.0 Ready to start TLS\r\n\""
    expect_none "cleartext reply to the injected MAIL FROM" "$S2C && tcp.payload contains \"2.1.0\""
    expect "TLS ClientHello after the injection" "tls.handshake.type==1"
    expect "TLS ServerHello" "tls.handshake.type==2"
    expect_none "client MAIL FROM a@sender.test in cleartext" "tcp.payload contains \"MAIL FROM:<a@sender.test>\""
    expect_follow 0 "MAIL FROM:<evil@attacker.test>"
    expect_swaks 'TLS started with cipher' "TLS was established despite the injection"
    expect_swaks '250 2.0.0 Ok: queued' "the real message was accepted inside TLS"
    if grep -q 'evil@attacker' "$CWORK/postfix.log"; then fail "$CASE: postfix executed the injected command"; fi
    VERIFY+=("- postfix did not log evil@attacker.test (injected command discarded)")
}

do_inject_after_220() {
    dirs "$PORT_PROXY"
    PURPOSE="STARTTLS response injection: the attacker appends \`250 fake\\r\\n\` to the server's \`220 2.0.0 Ready to start TLS\\r\\n\` in the same TCP segment, before the TLS ServerHello. A vulnerable client buffers the extra cleartext line and later treats it as if it came from inside TLS. Captured on the client <-> attacker leg, where the injected bytes are on the wire. stripwatch MUST alert (server data after the 220 before the ServerHello)."
    SEE="One server -> client segment containing \`220 2.0.0 Ready to start TLS\\r\\n250 fake\\r\\n\`, then the client's ClientHello and the server's ServerHello; the rest is TLS. swaks 20201014 is vulnerable: its transcript below shows \`250 fake\` read as the answer to its EHLO *inside* TLS, after which every reply is off by one (the real EHLO reply answers MAIL FROM, ...); it gives up after DATA without sending the message, so Postfix logs 'lost connection after DATA'."
    TOPO=$TOPO_MITM; LEG=$LEG_CLIENT
    RC_NOTE=" (non-zero is expected: the injected line desynchronised swaks' reply parsing inside TLS)"
    run_case inject-after-220 inject-after-220 "$PORT_PROXY" "tcp port $PORT_PROXY" "$PORT_PROXY" any "${TLS_OPTIONAL[@]}"
}
verify_inject_after_220() {
    expect_streams 1
    expect "client sends STARTTLS" "$C2S && tcp.payload == \"STARTTLS\r\n\""
    expect "220 + injected 250 in ONE server segment" "$S2C && tcp.payload == \"220 2.0.0 Ready to start TLS\r\n250 fake\r\n\""
    expect "TLS ClientHello" "$C2S && tcp.payload[0:1]==16"
    expect "TLS ServerHello after the injected line" "$S2C && tcp.payload[0:1]==16"
    expect_none "MAIL FROM in cleartext" "tcp.payload contains \"MAIL FROM\""
    expect_follow 0 "250 fake"
    expect_swaks '<~ +250 fake' "the injected line was read as a reply inside TLS"
}

# ---------------------------------------------------------------- main
[ "$(id -u)" = 0 ] || fail "must run as root (tcpdump on lo, postfix)"
[ -f "$MITM" ] || fail "missing $MITM"

CASES=("$@")
[ ${#CASES[@]} -gt 0 ] || CASES=("${ALL_CASES[@]}")
for c in "${CASES[@]}"; do
    case " ${ALL_CASES[*]} " in *" $c "*) ;; *) fail "unknown case '$c' (known: ${ALL_CASES[*]})" ;; esac
done

ensure_deps
for p in "$PORT_TLS" "$PORT_PLAIN" "$PORT_PROXY"; do
    port_free "$p" || fail "port 127.0.0.1:$p is in use (set STRIPWATCH_PORT_TLS/PLAIN/PROXY)"
done

WORK=$(mktemp -d /tmp/stripwatch-fixtures.XXXXXX)
chmod 755 "$WORK"   # postfix's unprivileged daemons must traverse it
SWAKS_VERSION=$(swaks --version 2>/dev/null | sed -n 's/^swaks version \([^ ]*\).*/\1/p' | head -n1)
TCPDUMP_VERSION=$(tcpdump --version 2>&1 | sed -n 's/^tcpdump version //p' | head -n1)

make_certs
start_postfix

for c in "${CASES[@]}"; do
    "do_${c//-/_}"
done

stop_postfix

# Everything verified: replace only our own case directories.
mkdir -p "$OUTROOT"
for c in "${CASES[@]}"; do
    rm -rf "${OUTROOT:?}/$c"
    mkdir -p "$OUTROOT/$c"
    cp "$WORK/cases/$c/input.pcap" "$WORK/cases/$c/README.md" "$OUTROOT/$c/"
    chmod 644 "$OUTROOT/$c/input.pcap" "$OUTROOT/$c/README.md"
    log "wrote pcaps/$c/ ($(stat -c %s "$OUTROOT/$c/input.pcap") bytes)"
done
log "done: ${#CASES[@]} case(s) regenerated"
