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
# The tls-* cases (server certificates, session resumption, TLS interception
# by tests/tls_mitm.py, MTA-STS) use a second private Postfix instance
# (tests/fixtures/postfix-tls/, server name mx.stripwatch.test, ports
# 10225-10230 and 10235) and a throw-away test CA whose certificate is written
# to pcaps/tls-ca.pem; because they share that CA they are always regenerated
# together (asking for one tls-* case runs all of them). They write
# pcaps/<case>/{input.pcap,README.md,args} (+ policies/, domains) and leave any
# expected-*.tsv in place.
#
# Usage: tests/mkfixtures.sh [CASE...]      (default: all cases; must run as root)
# Env:   STRIPWATCH_PORT_TLS (10025) STRIPWATCH_PORT_PLAIN (10026)
#        STRIPWATCH_PORT_PROXY (10125)  STRIPWATCH_TLS_PORT_BASE (10225: tls-*
#        cases use BASE..BASE+5 and BASE+10)  KEEP_WORKDIR=1 to keep the temp dir.
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
TLS_CASES=(tls-tls12-valid tls-tls12-expired tls-tls12-wrongname tls-tls12-selfsigned
    tls-tls13-valid tls-tls12-resumed tls-intercept tls-plain-to-sts-domain
    tls-tls12-valid-sts)
ALL_CASES+=("${TLS_CASES[@]}")

WORK=""
PFCONF=""
TCPDUMP_PID=""
PROXY_PID=""
PF_STARTED=0
TLSPROXY_PID=""
TPF_STARTED=0

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
    stop_pid "$TLSPROXY_PID" TERM
    stop_tls_postfix
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

# ================================================================ tls-* cases
# Server certificates (valid, expired, wrong name, self-signed), TLS 1.3,
# TLS 1.2 session resumption, TLS interception and MTA-STS. A second private
# Postfix instance (tests/fixtures/postfix-tls/, server name mx.stripwatch.test)
# offers one STARTTLS listener per server certificate; all certificates but
# the self-signed one and the interceptor's come from one throw-away test CA
# made here ("stripwatch TLS fixtures CA"), written to pcaps/tls-ca.pem so that
# `--ca-file pcaps/tls-ca.pem` (in each case's `args`) makes it trusted.
TLSMITM="$HERE/tls_mitm.py"
MX=mx.stripwatch.test
TLS_PORT_BASE=${STRIPWATCH_TLS_PORT_BASE:-10225}
TP_VALID=$TLS_PORT_BASE                 # valid certificate
TP_EXPIRED=$((TLS_PORT_BASE + 1))       # expired certificate
TP_WRONGNAME=$((TLS_PORT_BASE + 2))     # certificate for other.stripwatch.test
TP_SELFSIGNED=$((TLS_PORT_BASE + 3))    # self-signed certificate
TP_PLAIN=$((TLS_PORT_BASE + 4))         # no STARTTLS
TP_RESUME=$((TLS_PORT_BASE + 5))        # valid certificate + session tickets
TP_PROXY=$((TLS_PORT_BASE + 10))        # tests/tls_mitm.py -> TP_VALID
TLSD="" TPF="" TPFCONF=""
TLS12=(--tls --tls-sni "$MX" --tls-protocol tlsv1_2)

make_tls_certs() {
    TLSD="$WORK/tlsca"
    mkdir -p "$TLSD/db"
    (
        set -e
        cd "$TLSD"
        : >db/index.txt
        echo 1000 >db/serial
        cat >ca.cnf <<EOF
[ ca ]
default_ca = testca
[ testca ]
dir = $TLSD/db
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
default_md = sha256
policy = pol_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ pol_any ]
organizationName = optional
commonName = supplied
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ v3_leaf ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = \$ENV::SAN
EOF
        newkey() {  # newkey NAME SUBJECT: ECDSA P-256 key + CSR
            openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
                -keyout "$1.key" -out "$1.csr" -subj "$2"
        }
        leaf() {  # leaf NAME CN SAN VALIDITY-OPTIONS...: leaf certificate from the test CA
            local n=$1 cn=$2 san=$3; shift 3
            newkey "$n" "/O=stripwatch tests/CN=$cn"
            SAN=$san openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in "$n.csr" \
                -out "$n.pem" -notext -rand_serial -extensions v3_leaf "$@"
            cat "$n.pem" ca.pem >"$n-chain.pem"
        }
        export SAN=DNS:unused
        # Test CA, valid 2019-01-01 .. 2049-12-31 (covers the expired certificate's dates).
        newkey ca "/O=stripwatch tests/CN=stripwatch TLS fixtures CA"
        openssl ca -batch -config ca.cnf -selfsign -keyfile ca.key -in ca.csr -out ca.pem \
            -notext -rand_serial -startdate 20190101000000Z -enddate 20491231235959Z -extensions v3_ca
        leaf valid "$MX" "DNS:$MX" -days 7305
        leaf expired "$MX" "DNS:$MX" -startdate 20200101000000Z -enddate 20210101000000Z
        leaf wrongname other.stripwatch.test DNS:other.stripwatch.test -days 7305
        # Self-signed certificate for the MX name (not from the test CA).
        printf '%s\n' "[ req ]" "distinguished_name = dn" "prompt = no" "x509_extensions = ext" \
            "[ dn ]" "O = stripwatch tests" "CN = $MX" \
            "[ ext ]" "basicConstraints = critical,CA:FALSE" "keyUsage = critical,digitalSignature" \
            "extendedKeyUsage = serverAuth" "subjectKeyIdentifier = hash" "subjectAltName = DNS:$MX" \
            >selfsigned.cnf
        openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -config selfsigned.cnf -keyout selfsigned.key -out selfsigned.pem -days 7305
        # The interceptor's own CA and its certificate for the MX name.
        openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout attacker-ca.key -out attacker-ca.pem -days 7305 \
            -subj "/O=stripwatch attacker/CN=stripwatch Interception CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
        newkey attacker "/O=stripwatch attacker/CN=$MX"
        printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
            "extendedKeyUsage=serverAuth" "subjectAltName=DNS:$MX" >attacker.ext
        openssl x509 -req -in attacker.csr -CA attacker-ca.pem -CAkey attacker-ca.key \
            -CAcreateserial -out attacker.pem -days 7305 -extfile attacker.ext
        cat attacker.pem attacker-ca.pem >attacker-chain.pem
        chmod 600 ./*.key
        openssl verify -CAfile ca.pem valid.pem wrongname.pem
        ! openssl verify -CAfile ca.pem expired.pem
        openssl verify -CAfile ca.pem -no_check_time expired.pem
        ! openssl verify -CAfile ca.pem selfsigned.pem
        ! openssl verify -CAfile ca.pem attacker.pem
        openssl verify -CAfile attacker-ca.pem attacker.pem
    ) >"$WORK/openssl-tls.log" 2>&1 || { cat "$WORK/openssl-tls.log" >&2; fail "tls-* certificate generation failed"; }
    grep -q 'expired.pem: verification failed' "$WORK/openssl-tls.log" &&
        grep -q 'certificate has expired' "$WORK/openssl-tls.log" ||
        { cat "$WORK/openssl-tls.log" >&2; fail "expired certificate does not fail as expired"; }
}

cert_fp() {  # cert_fp PEM -> lower-case hex SHA-256 of the DER certificate
    openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f
}

cert_desc() {  # cert_desc PEM: one Markdown line about a certificate file
    local subj iss san nb na
    subj=$(openssl x509 -in "$1" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
    iss=$(openssl x509 -in "$1" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')
    san=$(openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | sed -n '2s/^ *//p')
    nb=$(openssl x509 -in "$1" -noout -startdate | sed 's/^notBefore=//')
    na=$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')
    printf 'subject `%s`, SAN `%s`, issuer `%s`, valid %s .. %s, ECDSA P-256, SHA-256 `%s`' \
        "$subj" "${san:-(none)}" "$iss" "$nb" "$na" "$(cert_fp "$1")"
}

start_tls_postfix() {
    TPF="$WORK/tlspf"
    TPFCONF="$TPF/conf"
    mkdir -p "$TPFCONF" "$TPF/queue" "$TPF/data"
    chown postfix:postfix "$TPF/data"
    sed -e "s#@@PFDIR@@#$TPF#g; s#@@TLSDIR@@#$TLSD#g" "$FIX/postfix-tls/main.cf.in" >"$TPFCONF/main.cf"
    sed -e "s#@@TLSDIR@@#$TLSD#g; s#@@PORT_VALID@@#$TP_VALID#g; s#@@PORT_EXPIRED@@#$TP_EXPIRED#g" \
        -e "s#@@PORT_WRONGNAME@@#$TP_WRONGNAME#g; s#@@PORT_SELFSIGNED@@#$TP_SELFSIGNED#g" \
        -e "s#@@PORT_PLAIN@@#$TP_PLAIN#g; s#@@PORT_RESUME@@#$TP_RESUME#g" \
        "$FIX/postfix-tls/master.cf.in" >"$TPFCONF/master.cf"
    : >"$TPF/maillog"
    postfix -c "$TPFCONF" check >"$TPF/postfix-check.log" 2>&1 ||
        { cat "$TPF/postfix-check.log" "$TPF/maillog" >&2; fail "postfix check failed for $TPFCONF"; }
    TPF_STARTED=1
    postfix -c "$TPFCONF" start >"$TPF/postfix-start.log" 2>&1 ||
        { cat "$TPF/postfix-start.log" >&2; fail "postfix -c $TPFCONF start failed"; }
    local p
    for p in "$TP_VALID" "$TP_EXPIRED" "$TP_WRONGNAME" "$TP_SELFSIGNED" "$TP_PLAIN" "$TP_RESUME"; do
        wait_listen "$p" "postfix (tls-* instance)"
    done
    PF_VERSION=$(postconf -c "$TPFCONF" -h mail_version 2>/dev/null || echo '?')
    log "postfix $PF_VERSION (tls-* instance, $MX) on 127.0.0.1:$TP_VALID-$TP_RESUME (pid $(tr -dc '0-9' <"$TPF/queue/pid/master.pid"))"
}

stop_tls_postfix() {
    [ "$TPF_STARTED" = 1 ] || return 0
    TPF_STARTED=0
    local pidfile="$TPF/queue/pid/master.pid" pid="" i
    [ -f "$pidfile" ] && pid=$(tr -dc '0-9' <"$pidfile")
    postfix -c "$TPFCONF" stop >/dev/null 2>&1 || true
    if [ -n "$pid" ]; then
        for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            log "postfix master $pid (tls-* instance) still running, sending SIGTERM"
            kill -TERM "$pid" 2>/dev/null || true
            sleep 1
        fi
    fi
}

start_tls_proxy() {
    port_free "$TP_PROXY" || fail "port $TP_PROXY already in use"
    rm -f "$WORK/tlsproxy.ready"
    TLSPROXY_CMD=(python3 "$TLSMITM" --listen "127.0.0.1:$TP_PROXY" --upstream "127.0.0.1:$TP_VALID"
        --cert "$TLSD/attacker-chain.pem" --key "$TLSD/attacker.key" --max-conns 1 --idle-timeout 30
        --ready-file "$WORK/tlsproxy.ready")
    "${TLSPROXY_CMD[@]}" 2>"$CWORK/proxy.log" &
    TLSPROXY_PID=$!
    local i
    for i in $(seq 100); do
        [ -f "$WORK/tlsproxy.ready" ] && return 0
        kill -0 "$TLSPROXY_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$CWORK/proxy.log" >&2
    fail "tls_mitm.py did not start"
}

stop_tls_proxy() {  # it exits by itself after its one connection
    local i
    for i in $(seq 100); do kill -0 "$TLSPROXY_PID" 2>/dev/null || break; sleep 0.1; done
    stop_pid "$TLSPROXY_PID" TERM
    TLSPROXY_PID=""
}

# ---------------------------------------------------------------- tls-* capture and clients
tls_begin() {  # tls_begin CASE CAPTURE_FILTER SERVER_PORTS
    CASE=$1; CFILTER=$2; SPORTS=$3
    CWORK="$WORK/cases/$CASE"
    mkdir -p "$CWORK/out"
    PCAP="$CWORK/input.pcap"
    VERIFY=() CLIENTS=() DECODE=() LABELS=()
    local p
    for p in ${SPORTS//,/ }; do DECODE+=(-d "tcp.port==$p,smtp"); done
    : >"$CWORK/proxy.log"
    log "case $CASE"
    MLINES=$(wc -l <"$TPF/maillog")
    start_tcpdump "$PCAP" "$CFILTER"
}

tls_end() {
    stop_tcpdump
    sleep 0.3
    tail -n +"$((MLINES + 1))" "$TPF/maillog" | grep -E 'smtpd|cleanup|qmgr|discard' \
        | sed -E 's/^[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} [^ ]+ //' >"$CWORK/postfix.log" || true
    [ -s "$PCAP" ] || fail "$CASE: empty capture"
    [ "$(od -An -tx1 -N4 "$PCAP" | tr -d ' \n')" = d4c3b2a1 ] ||
        fail "$CASE: $PCAP is not a little-endian microsecond pcap"
}

readable_cmd() { shell_quote "$@" | sed "s#$WORK#\$WORK#g; s#$REPO/##g"; }

client_done() {  # client_done LABEL WANT_RC RC CMD...
    local label=$1 want=$2 rc=$3; shift 3
    LABELS+=("$label")
    CLIENTS+=("- $label: \`$(readable_cmd "$@")\` (exit status $rc)")
    if [ "$rc" != "$want" ]; then
        cat "$CWORK/client.$label.log" >&2
        fail "$CASE: client $label exited $rc, expected $want"
    fi
}

tls_swaks() {  # tls_swaks LABEL PORT SWAKS_ARGS...: one SMTP session by swaks
    local label=$1 port=$2 rc; shift 2
    local cmd=(swaks --server "127.0.0.1:$port" --from a@sender.test --helo client.sender.test
        --timeout 15 --header "Subject: stripwatch fixture $CASE"
        --header "Message-Id: <$CASE.$label@sender.test>"
        --body "stripwatch test message for fixture $CASE ($label)." "$@")
    set +e
    timeout 90 "${cmd[@]}" </dev/null >"$CWORK/client.$label.log" 2>&1
    rc=$?
    set -e
    client_done "$label" 0 "$rc" "${cmd[@]}"
}

sclient_smtp() {  # the SMTP dialogue inside TLS for s_client, paced to wait for replies
    sleep 1.5; printf 'EHLO client.sender.test\n'
    sleep 0.5; printf 'MAIL FROM:<a@sender.test>\n'
    sleep 0.3; printf 'RCPT TO:<user@example.test>\n'
    sleep 0.3; printf 'DATA\n'
    sleep 0.3; printf 'Subject: stripwatch fixture %s\nMessage-Id: <%s.%s@sender.test>\n\nstripwatch test message for fixture %s (%s).\n.\n' \
        "$CASE" "$CASE" "$1" "$CASE" "$1"
    sleep 0.5; printf 'QUIT\n'
    sleep 2
}

tls_sclient() {  # tls_sclient LABEL PORT -sess_out|-sess_in FILE: one session by openssl s_client
    local label=$1 port=$2 rc
    local cmd=(openssl s_client -starttls smtp -name client.sender.test -connect "127.0.0.1:$port"
        -servername "$MX" -tls1_2 -CAfile "$TLSD/ca.pem" -verify_hostname "$MX" -verify_return_error
        "$3" "$4" -crlf -ign_eof -nocommands)
    set +e
    sclient_smtp "$label" | timeout 60 "${cmd[@]}" >"$CWORK/client.$label.log" 2>&1
    rc=${PIPESTATUS[1]}
    set -e
    client_done "$label" 0 "$rc" "${cmd[@]}"
}

expect_client() {  # expect_client LABEL REGEX "what"
    grep -qE -- "$2" "$CWORK/client.$1.log" || fail "$CASE: client $1 output lacks /$2/ ($3)"
    VERIFY+=("- client $1 transcript shows $3")
}

# ---------------------------------------------------------------- tls-* verification helpers
stream_of() {  # stream_of FILTER -> tcp.stream of the first matching frame
    tsh -Y "$1" -T fields -e tcp.stream | head -n1
}

certs_in() {  # certs_in FILTER -> one line per certificate of the first Certificate message: sha256
    tsh -Y "($1) && tls.handshake.type==11" -T fields -E occurrence=a -e tls.handshake.certificate \
        | head -n1 | tr ',' '\n' | grep . | while read -r h; do
            printf '%s' "$h" | python3 -c 'import sys,hashlib; print(hashlib.sha256(bytes.fromhex(sys.stdin.read().strip())).hexdigest())'
        done
}

expect_chain() {  # expect_chain "what" FILTER PEM...: the Certificate message carries exactly these
    local want="" got f pem
    for pem in "${@:3}"; do want+="$(cert_fp "$pem")"$'\n'; done
    got=$(certs_in "$2")
    [ "$got" = "${want%$'\n'}" ] || fail "$CASE: $1: certificates on the wire [$got] != [${want%$'\n'}]"
    f=$(frames "($2) && tls.handshake.type==11")
    VERIFY+=("- $1: frame $f carries $(($# - 2)) certificate(s), SHA-256 $(printf '%s' "$got" | paste -sd' ' -)"$'\n'"  \`($2) && tls.handshake.type==11\` (tls.handshake.certificate)")
}

smtp_starttls_checks() {  # smtp_starttls_checks PORT [STREAM-FILTER]
    local p=$1 sf=${2:-}
    [ -z "$sf" ] || sf=" && $sf"
    expect "server advertises STARTTLS (port $p)" "tcp.srcport==$p$sf && tcp.payload contains \"250-STARTTLS\r\n\""
    expect "client sends STARTTLS (port $p)" "tcp.dstport==$p$sf && tcp.payload == \"STARTTLS\r\n\""
    expect "server 220 Ready to start TLS, nothing appended (port $p)" "tcp.srcport==$p$sf && tcp.payload == \"220 2.0.0 Ready to start TLS\r\n\""
}

hello_checks() {  # hello_checks PORT VERSION(1.2|1.3) [STREAM-FILTER]
    local p=$1 v=$2 sf=${3:-}
    [ -z "$sf" ] || sf=" && $sf"
    expect "ClientHello with SNI $MX (port $p)" "tcp.dstport==$p$sf && tls.handshake.type==1 && tls.handshake.extensions_server_name==\"$MX\""
    if [ "$v" = 1.2 ]; then
        expect "TLS 1.2 ServerHello (port $p)" "tcp.srcport==$p$sf && tls.handshake.type==2 && tls.handshake.version==0x0303 && !tls.handshake.extensions.supported_version"
    else
        expect "TLS 1.3 ServerHello (port $p)" "tcp.srcport==$p$sf && tls.handshake.type==2 && tls.handshake.extensions.supported_version==0x0304"
    fi
}

one_session_tls12_checks() {  # one_session_tls12_checks PORT SAN PEM...
    local p=$1 san=$2; shift 2
    expect_streams 1
    smtp_starttls_checks "$p"
    hello_checks "$p" 1.2
    expect "Certificate message in clear, SAN $san" "tcp.srcport==$p && tls.handshake.type==11 && x509ce.dNSName==\"$san\""
    expect_chain "server certificate chain" "tcp.srcport==$p" "$@"
    expect_none "NewSessionTicket (this listener has no session resumption)" "tls.handshake.type==4"
    expect_none "MAIL FROM in cleartext" "tcp.payload contains \"MAIL FROM\""
}

# ---------------------------------------------------------------- tls-* README, args, install
write_tls_readme() {
    local r="$CWORK/README.md" npk size l
    npk=$(tsh -T fields -e frame.number | grep -c .)
    size=$(stat -c %s "$PCAP")
    {
        printf '# %s\n\n' "$CASE"
        printf '%s\n\n' "$PURPOSE"
        printf '## What the capture shows\n\n%s\n\n' "$SEE"
        printf '## TLS handshakes (tshark on input.pcap; certificates decoded with openssl x509)\n\n'
        printf 'Frame numbers are tshark'"'"'s (1-based). The server is `%s` (Postfix myhostname).\n\n```\n' "$MX"
        tsh -Y tls.handshake -T fields -E occurrence=a -e frame.number -e tcp.stream -e tcp.srcport \
            -e tcp.dstport -e tls.handshake.type -e tls.handshake.extensions_server_name \
            -e tls.handshake.version -e tls.handshake.extensions.supported_version \
            -e tls.handshake.session_id -e tls.handshake.extension.type -e tls.handshake.extension.len \
            -e tls.handshake.certificate | python3 "$FIX/tls_summary.py"
        printf '```\n\n'
        printf '## Expected alerts (for whoever writes expected-alerts.tsv)\n\n%s\n\n' "$EXPECT"
        printf '## Sensor options (`args`)\n\n```\n%s\n```\n\n%s\n\n' "$(cat "$CWORK/out/args")" "$ARGS_NOTE"
        printf '## How it was generated\n\n'
        printf 'Generated by `tests/mkfixtures.sh %s` (rerun it to regenerate; all tls-* cases are made together; do not edit by hand).\n' "$CASE"
        printf 'Real software only, all on loopback: Postfix %s (`postconf -d mail_version`; Debian %s) with a private config\n' "$PF_VERSION" "$(cat /etc/debian_version 2>/dev/null || echo '?')"
        printf 'and queue directory (templates in `tests/fixtures/postfix-tls/`; `myhostname = %s`, one STARTTLS listener per server certificate), ' "$MX"
        printf 'swaks %s and/or %s as the client(s), Python %s (tests/tls_mitm.py, if used), capture by tcpdump %s.\n' \
            "$SWAKS_VERSION" "$(openssl version | cut -d' ' -f1-2) s_client" "$(python3 -c 'import platform; print(platform.python_version())')" "$TCPDUMP_VERSION"
        printf 'Certificates: ECDSA P-256, made with `openssl ca`/`openssl req`/`openssl x509` (%s) at generation time, so they change on every run; the test CA certificate of this run is `pcaps/tls-ca.pem`:\n\n' "$(openssl version | cut -d' ' -f1-2)"
        printf -- '- test CA (`pcaps/tls-ca.pem`): %s\n' "$(cert_desc "$TLSD/ca.pem")"
        printf '%s\n' "${CERTS_USED[@]}"
        printf '\n- Topology: %s\n' "$TOPO"
        printf -- '- Captured: `tcpdump -i lo -n -U -s 0 -w input.pcap '"'"'%s'"'"'` — %s\n' "$CFILTER" "$LEG"
        printf -- '- File: classic pcap (not pcapng), link type EN10MB (Linux loopback: zero MACs), snaplen 262144, %s packets, %s bytes. tshark does not dissect SMTP/TLS on these ports by default: use `%s`.\n' "$npk" "$size" "tshark -r input.pcap ${DECODE[*]}"
        [ -z "${TLSPROXY_DESC:-}" ] || printf -- '- Interceptor: `%s`\n' "$TLSPROXY_DESC"
        printf -- '- Client session(s), in capture order (`$WORK` is the generator'"'"'s temp dir):\n'
        printf '  %s\n' "${CLIENTS[@]}"
        printf '\n## Verification (tshark, run by mkfixtures.sh on this file)\n\n'
        printf '%s\n' "${VERIFY[@]}"
        printf '\n## Payload frames\n\n```\n'
        tsh -Y 'tcp.len>0' -T fields -e frame.number -e tcp.stream -e tcp.srcport \
            -e tcp.dstport -e tcp.len -e tcp.payload | python3 "$FIX/pcap_summary.py" "$SPORTS"
        printf '```\n'
        if [ -s "$CWORK/proxy.log" ]; then
            printf '\n## Interceptor log (tls_mitm.py)\n\n```\n'
            cat "$CWORK/proxy.log"
            printf '```\n'
        fi
        for l in "${LABELS[@]}"; do
            printf '\n## Client transcript: %s\n\n```\n' "$l"
            sed -E "s#$WORK#\$WORK#g; s/^( *Master-Key: ).*/\1(omitted from this README)/" "$CWORK/client.$l.log"
            printf '```\n'
        done
        printf '\n## Server log (postfix)\n\n```\n'
        cat "$CWORK/postfix.log"
        printf '```\n'
    } >"$r"
    unset TLSPROXY_DESC
}

tls_finish() {  # tls_finish ARGS-LINE: write args, README
    printf '%s\n' "$1" >"$CWORK/out/args"
    write_tls_readme
}

write_policy() {  # write_policy DIR DOMAIN MODE MX
    mkdir -p "$1"
    printf 'version: STSv1\nmode: %s\nmx: %s\nmax_age: 86400\n' "$3" "$4" >"$1/$2"
}

install_tls_case() {  # replace our files in pcaps/<case>/, keep anything else (expected-*.tsv)
    local c=$1 dst="$OUTROOT/$1" f
    mkdir -p "$dst"
    rm -rf "${dst:?}/input.pcap" "$dst/README.md" "$dst/args" "$dst/domains" "$dst/policies"
    cp "$WORK/cases/$c/input.pcap" "$WORK/cases/$c/README.md" "$dst/"
    cp -r "$WORK/cases/$c/out/." "$dst/"
    for f in input.pcap README.md args domains policies; do
        [ -e "$dst/$f" ] && chmod -R u=rwX,go=rX "$dst/$f"
    done
    if compgen -G "$dst/expected-*" >/dev/null; then
        log "NOTE: pcaps/$c/ keeps its expected-* files from before; the capture changed, review them"
    fi
    log "wrote pcaps/$c/ ($(stat -c %s "$dst/input.pcap") bytes)"
}

# ---------------------------------------------------------------- the tls-* cases
TOPO_TLS_DIRECT="client (127.0.0.1, ephemeral port) -> postfix smtpd 127.0.0.1"
LEG_ONE="the single client <-> server connection."

tls12_cert_case() {  # tls12_cert_case CASE PORT SAN ARGS-LINE PEM...: one swaks session, TLS 1.2
    local case=$1 port=$2 san=$3 args=$4; shift 4
    dirs "$port"
    TOPO="swaks -> postfix smtpd 127.0.0.1:$port"; LEG=$LEG_ONE
    tls_begin "$case" "tcp port $port" "$port"
    tls_swaks s1 "$port" --to user@example.test "${TLS12[@]}"
    tls_end
    one_session_tls12_checks "$port" "$san" "$@"
    expect_client s1 'TLS started with cipher TLSv1.2' "TLS 1.2 was negotiated"
    expect_client s1 '250 2.0.0 Ok: queued' "the message was accepted inside TLS"
    tls_finish "$args"
}

ARGS_CA="--ca-file pcaps/tls-ca.pem"
ARGS_CA_NOTE="\`--ca-file pcaps/tls-ca.pem\` makes the run's test CA a trust anchor (without it every certificate of the test CA is untrusted)."

do_tls_tls12_valid() {
    PURPOSE="Clean TLS 1.2 STARTTLS session with a valid server certificate: issued by the test CA (\`pcaps/tls-ca.pem\`), for the MX name \`$MX\` the client asked for in SNI, valid from generation time for 20 years. TLS 1.2 (client forced: swaks --tls-protocol tlsv1_2), so the Certificate message is in clear. Baseline for the certificate checks: a correct sensor raises nothing."
    SEE="Cleartext SMTP up to \`220 2.0.0 Ready to start TLS\`, ClientHello with SNI \`$MX\`, then ServerHello + Certificate (leaf \`$MX\` + test CA) + ServerKeyExchange + ServerHelloDone in one segment, then only encrypted records. The client verified the certificate (swaks --tls-verify against the test CA) and delivered the message inside TLS."
    EXPECT="- none: the certificate chains to the \`--ca-file\` CA, its SAN \`$MX\` matches the SNI, and the capture time lies inside its validity. (Without \`--ca-file\` a sensor would have to say cert_untrusted.)"
    ARGS_NOTE=$ARGS_CA_NOTE
    CERTS_USED=("- server certificate: $(cert_desc "$TLSD/valid.pem")")
    dirs "$TP_VALID"
    TOPO="swaks -> postfix smtpd 127.0.0.1:$TP_VALID"; LEG=$LEG_ONE
    tls_begin tls-tls12-valid "tcp port $TP_VALID" "$TP_VALID"
    tls_swaks s1 "$TP_VALID" --to user@example.test "${TLS12[@]}" --tls-verify --tls-ca-path "$TLSD/ca.pem"
    tls_end
    one_session_tls12_checks "$TP_VALID" "$MX" "$TLSD/valid.pem" "$TLSD/ca.pem"
    expect_client s1 'TLS started with cipher TLSv1.2' "TLS 1.2 was negotiated"
    expect_client s1 "TLS peer DN=\"/O=stripwatch tests/CN=$MX\"" "the verified peer certificate"
    expect_client s1 '250 2.0.0 Ok: queued' "the message was accepted inside TLS"
    tls_finish "$ARGS_CA"
}

do_tls_tls12_expired() {
    PURPOSE="TLS 1.2 STARTTLS session where the server presents an EXPIRED certificate: issued by the test CA for \`$MX\` (the SNI name), valid only 2020-01-01 .. 2021-01-01. The client (swaks without --tls-verify, like an opportunistic MTA) delivers anyway."
    SEE="As tls-tls12-valid, but the leaf in the clear Certificate message has notBefore 2020-01-01 00:00:00 UTC and notAfter 2021-01-01 00:00:00 UTC, years before the capture time."
    EXPECT="- cert_expired: server certificate \`$MX\` expired 2021-01-01 (capture time $(date -u +%Y-%m-%d)), in the Certificate frame. Chain (to the \`--ca-file\` CA) and name (SAN = SNI) are fine, so no cert_untrusted and no cert_name_mismatch."
    ARGS_NOTE=$ARGS_CA_NOTE
    CERTS_USED=("- server certificate: $(cert_desc "$TLSD/expired.pem")")
    tls12_cert_case tls-tls12-expired "$TP_EXPIRED" "$MX" "$ARGS_CA" "$TLSD/expired.pem" "$TLSD/ca.pem"
}

do_tls_tls12_wrongname() {
    PURPOSE="TLS 1.2 STARTTLS session where the server presents a certificate for the WRONG NAME: valid and issued by the test CA, but for \`other.stripwatch.test\` only (CN and SAN), while the client asked for \`$MX\` in SNI. The client (swaks without --tls-verify) delivers anyway."
    SEE="As tls-tls12-valid, but the leaf in the clear Certificate message has CN and SAN \`other.stripwatch.test\`; the ClientHello's SNI is \`$MX\`."
    EXPECT="- cert_name_mismatch: SNI (and MX name) \`$MX\` is not covered by the certificate (SAN \`DNS:other.stripwatch.test\` only). Chain and validity are fine: no cert_untrusted, no cert_expired."
    ARGS_NOTE=$ARGS_CA_NOTE
    CERTS_USED=("- server certificate: $(cert_desc "$TLSD/wrongname.pem")")
    tls12_cert_case tls-tls12-wrongname "$TP_WRONGNAME" other.stripwatch.test "$ARGS_CA" "$TLSD/wrongname.pem" "$TLSD/ca.pem"
}

do_tls_tls12_selfsigned() {
    PURPOSE="TLS 1.2 STARTTLS session where the server presents a SELF-SIGNED certificate for \`$MX\` (right name, valid now, but not issued by the test CA or any CA). The client (swaks without --tls-verify) delivers anyway."
    SEE="As tls-tls12-valid, but the Certificate message carries one certificate whose issuer equals its subject (\`CN=$MX,O=stripwatch tests\`)."
    EXPECT="- cert_untrusted: the chain does not lead to the \`--ca-file\` CA (self-signed leaf). Name and validity are fine: no cert_name_mismatch, no cert_expired."
    ARGS_NOTE=$ARGS_CA_NOTE
    CERTS_USED=("- server certificate (self-signed): $(cert_desc "$TLSD/selfsigned.pem")")
    tls12_cert_case tls-tls12-selfsigned "$TP_SELFSIGNED" "$MX" "$ARGS_CA" "$TLSD/selfsigned.pem"
}

do_tls_tls13_valid() {
    PURPOSE="TLS 1.3 STARTTLS session with the valid certificate of tls-tls12-valid. In TLS 1.3 the Certificate message is encrypted, so a passive sensor cannot judge the certificate."
    SEE="Cleartext SMTP up to \`220 2.0.0 Ready to start TLS\`, ClientHello with SNI \`$MX\`, ServerHello with supported_versions = TLS 1.3, then a ChangeCipherSpec and encrypted records only: no Certificate message in clear. The client verified the certificate (swaks --tls-verify against the test CA)."
    EXPECT="- none: the certificate is not observable (TLS 1.3). A sensor may note the session as unjudged, but must not raise a certificate alert."
    ARGS_NOTE=$ARGS_CA_NOTE
    CERTS_USED=("- server certificate (encrypted on the wire): $(cert_desc "$TLSD/valid.pem")")
    dirs "$TP_VALID"
    TOPO="swaks -> postfix smtpd 127.0.0.1:$TP_VALID"; LEG=$LEG_ONE
    tls_begin tls-tls13-valid "tcp port $TP_VALID" "$TP_VALID"
    tls_swaks s1 "$TP_VALID" --to user@example.test --tls --tls-sni "$MX" --tls-verify --tls-ca-path "$TLSD/ca.pem"
    tls_end
    expect_streams 1
    smtp_starttls_checks "$TP_VALID"
    hello_checks "$TP_VALID" 1.3
    expect_none "Certificate message in clear" "tls.handshake.type==11"
    expect_none "MAIL FROM in cleartext" "tcp.payload contains \"MAIL FROM\""
    expect_client s1 'TLS started with cipher TLSv1.3' "TLS 1.3 was negotiated"
    expect_client s1 "TLS peer DN=\"/O=stripwatch tests/CN=$MX\"" "the verified peer certificate"
    expect_client s1 '250 2.0.0 Ok: queued' "the message was accepted inside TLS"
    tls_finish "$ARGS_CA"
}

do_tls_tls12_resumed() {
    PURPOSE="Two TLS 1.2 STARTTLS sessions from the same client to the same server (valid certificate); the second RESUMES the first's TLS session (abbreviated handshake), so only the first shows the Certificate message. Client: \`openssl s_client -starttls smtp\` with \`-sess_out\` then \`-sess_in\` (same SNI \`$MX\`, certificate verified against the test CA); server: Postfix with session tickets enabled (\`smtpd_tls_session_cache_timeout = 3600s\` on this listener)."
    SEE="Connection 1: full TLS 1.2 handshake with the Certificate in clear (leaf \`$MX\` + test CA) and a NewSessionTicket. Connection 2: ClientHello with the same SNI offering the ticket (and a session ID), ServerHello echoing that session ID, then straight to ChangeCipherSpec/Finished: no Certificate. Both sessions deliver a message inside TLS. (s_client's transcript of connection 2 still prints the server certificate: it comes from the saved session, not from the wire; note its much smaller 'SSL handshake has read N bytes'.)"
    EXPECT="- none for connection 1 (valid certificate, as tls-tls12-valid).
- none for connection 2: its certificate is not observable (resumed session); the sensor must not alert (and may relate it to connection 1's certificate)."
    ARGS_NOTE=$ARGS_CA_NOTE
    CERTS_USED=("- server certificate: $(cert_desc "$TLSD/valid.pem")")
    dirs "$TP_RESUME"
    TOPO="openssl s_client -> postfix smtpd 127.0.0.1:$TP_RESUME (session tickets on), twice"
    LEG="both client <-> server connections (server port $TP_RESUME). Two TCP connections."
    tls_begin tls-tls12-resumed "tcp port $TP_RESUME" "$TP_RESUME"
    tls_sclient s1-new "$TP_RESUME" -sess_out "$CWORK/tls-session.pem"
    [ -s "$CWORK/tls-session.pem" ] || fail "$CASE: s_client wrote no session"
    sleep 0.5
    tls_sclient s2-resumed "$TP_RESUME" -sess_in "$CWORK/tls-session.pem"
    tls_end
    expect_streams 2
    smtp_starttls_checks "$TP_RESUME" "tcp.stream==0"
    smtp_starttls_checks "$TP_RESUME" "tcp.stream==1"
    hello_checks "$TP_RESUME" 1.2 "tcp.stream==0"
    hello_checks "$TP_RESUME" 1.2 "tcp.stream==1"
    expect "connection 1: Certificate in clear for $MX" "tcp.stream==0 && tls.handshake.type==11 && x509ce.dNSName==\"$MX\""
    expect_chain "connection 1: server certificate chain" "tcp.stream==0" "$TLSD/valid.pem" "$TLSD/ca.pem"
    expect "connection 1: NewSessionTicket in clear" "tcp.stream==0 && tls.handshake.type==4"
    local tlen
    tlen=$(tsh -Y "tcp.stream==1 && tls.handshake.type==1" -T fields -E occurrence=a \
        -e tls.handshake.extension.type -e tls.handshake.extension.len | head -n1 |
        awk -F'\t' '{ n = split($1, t, ","); split($2, l, ","); for (i = 1; i <= n; i++) if (t[i] == 35) print l[i] }')
    [ "${tlen:-0}" -gt 0 ] || fail "$CASE: connection 2 ClientHello offers no session ticket"
    VERIFY+=("- connection 2: the ClientHello offers the ticket from connection 1 (session_ticket extension, $tlen bytes)"$'\n'"  \`tcp.stream==1 && tls.handshake.type==1\` (tls.handshake.extension.type 35, tls.handshake.extension.len)")
    expect_none "connection 2: Certificate message" "tcp.stream==1 && tls.handshake.type==11"
    local csid ssid
    csid=$(tsh -Y "tcp.stream==1 && tls.handshake.type==1" -T fields -e tls.handshake.session_id | head -n1)
    ssid=$(tsh -Y "tcp.stream==1 && tls.handshake.type==2" -T fields -e tls.handshake.session_id | head -n1)
    [ -n "$csid" ] && [ "$csid" = "$ssid" ] || fail "$CASE: connection 2 ServerHello session ID '$ssid' != ClientHello's '$csid'"
    VERIFY+=("- connection 2: ServerHello echoes the ClientHello's session ID \`$csid\` (abbreviated handshake)")
    expect "connection 2: server ChangeCipherSpec in the ServerHello's flight (abbreviated handshake)" "tcp.stream==1 && tls.handshake.type==2 && tls.record.content_type==20"
    expect_none "MAIL FROM in cleartext" "tcp.payload contains \"MAIL FROM\""
    expect_client s1-new 'New, TLSv1.2' "a new TLS 1.2 session"
    expect_client s1-new 'Verify return code: 0 \(ok\)' "the certificate verified against the test CA"
    expect_client s2-resumed 'Reused, TLSv1.2' "the session was resumed"
    expect_client s1-new '250 2.0.0 Ok: queued' "the first message was accepted inside TLS"
    expect_client s2-resumed '250 2.0.0 Ok: queued' "the second message was accepted inside TLS"
    tls_finish "$ARGS_CA"
}

do_tls_intercept() {
    PURPOSE="STARTTLS interception: an on-path box (tests/tls_mitm.py) relays the cleartext SMTP dialogue, lets the client's STARTTLS through, then answers the client's TLS itself with its OWN certificate for \`$MX\` (issued by its own \"stripwatch Interception CA\", not the test CA) and opens a second TLS session to the real Postfix, relaying the decrypted SMTP between the two. For comparison the capture first holds a direct, untampered TLS 1.2 session to the real server with the same SNI, so the sensor has seen the genuine certificate before. TLS 1.2 on every leg, so every certificate is in clear."
    SEE="Three TCP connections. (1) client -> postfix :$TP_VALID directly: Certificate = the valid test-CA certificate. (2) client -> interceptor :$TP_PROXY: the EHLO reply still offers STARTTLS (relayed), \`220 2.0.0 Ready to start TLS\` comes from Postfix via the interceptor, the Certificate is the interceptor's (issuer \`stripwatch Interception CA\`, a different key and fingerprint). (3) interceptor -> postfix :$TP_VALID: the interceptor's own SMTP + TLS session; the real certificate again, SNI \`$MX\` copied from the client. tcpdump on lo sees both legs of the intercepted path: the client->proxy leg shows the proxy's certificate, the proxy->server leg the real one. Note the client leg's server port is $TP_PROXY (the interceptor), the direct session's is $TP_VALID: the sensor must compare certificates by the server name (SNI \`$MX\`), not by address."
    EXPECT="- connection 1 (direct, port $TP_VALID): none (valid certificate).
- connection 2 (client <-> interceptor, port $TP_PROXY): cert_untrusted (chain ends at \`stripwatch Interception CA\`, not the \`--ca-file\` CA) and cert_changed (the certificate for \`$MX\` differs from the one seen in connection 1). The name matches (SAN \`$MX\`) and it is within validity: no cert_name_mismatch, no cert_expired.
- connection 3 (interceptor <-> server, port $TP_VALID): none by this README's reading: it is the genuine certificate again, identical to connection 1's. (A sensor that compares with the most recently seen certificate for \`$MX\` — the interceptor's, in connection 2 — will report a cert_changed back to the genuine one here; whoever writes expected-alerts.tsv must decide which comparison is wanted.)"
    ARGS_NOTE=$ARGS_CA_NOTE
    CERTS_USED=("- real server certificate: $(cert_desc "$TLSD/valid.pem")"
        "- interceptor's certificate: $(cert_desc "$TLSD/attacker.pem")"
        "- interceptor's CA: $(cert_desc "$TLSD/attacker-ca.pem")")
    TOPO="connection 1: swaks -> postfix smtpd 127.0.0.1:$TP_VALID; then swaks -> tests/tls_mitm.py 127.0.0.1:$TP_PROXY -> postfix smtpd 127.0.0.1:$TP_VALID"
    LEG="everything on lo for both ports: the direct session, and both legs of the intercepted one. Three TCP connections."
    tls_begin tls-intercept "tcp port $TP_VALID or tcp port $TP_PROXY" "$TP_VALID,$TP_PROXY"
    tls_swaks s1-direct "$TP_VALID" --to user@example.test "${TLS12[@]}" --tls-verify --tls-ca-path "$TLSD/ca.pem"
    sleep 0.5
    start_tls_proxy
    TLSPROXY_DESC=$(readable_cmd "${TLSPROXY_CMD[@]}")
    tls_swaks s2-intercepted "$TP_PROXY" --to user@example.test "${TLS12[@]}"
    stop_tls_proxy
    tls_end
    expect_streams 3
    local sc ss
    sc=$(stream_of "tcp.port==$TP_PROXY")
    ss=$(stream_of "tcp.port==$TP_VALID && tcp.stream!=0")
    [ "$sc" = 1 ] && [ "$ss" = 2 ] || fail "$CASE: unexpected stream order (client leg $sc, server leg $ss)"
    smtp_starttls_checks "$TP_VALID" "tcp.stream==0"
    hello_checks "$TP_VALID" 1.2 "tcp.stream==0"
    expect_chain "connection 1 (direct): the real certificate" "tcp.stream==0" "$TLSD/valid.pem" "$TLSD/ca.pem"
    smtp_starttls_checks "$TP_PROXY"
    hello_checks "$TP_PROXY" 1.2
    expect_chain "connection 2 (client <-> interceptor): the interceptor's certificate" "tcp.stream==1" "$TLSD/attacker.pem" "$TLSD/attacker-ca.pem"
    expect "connection 2: issuer is the interception CA" "tcp.stream==1 && tls.handshake.type==11 && x509sat.uTF8String==\"stripwatch Interception CA\""
    smtp_starttls_checks "$TP_VALID" "tcp.stream==2"
    hello_checks "$TP_VALID" 1.2 "tcp.stream==2"
    expect_chain "connection 3 (interceptor <-> server): the real certificate" "tcp.stream==2" "$TLSD/valid.pem" "$TLSD/ca.pem"
    expect_none "MAIL FROM in cleartext" "tcp.payload contains \"MAIL FROM\""
    grep -q " INTERCEPT conn=1 client TLS accepted: TLSv1.2 .* client SNI '$MX'" "$CWORK/proxy.log" &&
        grep -q " INTERCEPT conn=1 upstream TLS established: TLSv1.2 .* SNI '$MX'" "$CWORK/proxy.log" &&
        grep -q " INTERCEPT conn=1 relayed " "$CWORK/proxy.log" ||
        { cat "$CWORK/proxy.log" >&2; fail "$CASE: tls_mitm.py did not intercept"; }
    VERIFY+=("- tls_mitm.py log: client TLS 1.2 with SNI $MX accepted with its own certificate, upstream TLS 1.2 with the same SNI, SMTP relayed")
    expect_client s1-direct "TLS peer DN=\"/O=stripwatch tests/CN=$MX\"" "the direct session verified the real certificate"
    expect_client s2-intercepted "TLS peer DN=\"/O=stripwatch attacker/CN=$MX\"" "the intercepted client got the interceptor's certificate (no verification)"
    expect_client s2-intercepted '250 2.0.0 Ok: queued' "the intercepted message still reached Postfix"
    tls_finish "$ARGS_CA"
}

do_tls_plain_to_sts_domain() {
    PURPOSE="Plaintext delivery to domains with an MTA-STS policy: the server (\`$MX\`, a Postfix listener without TLS) does not offer STARTTLS, and the client (swaks --tls-optional, like an opportunistic MTA) delivers in clear to user@sts-enforce.test and user@sts-testing.test. The policies in \`policies/\` (given with --policy-dir, no fetching) say both domains require TLS to mx \`$MX\`: sts-enforce.test in mode enforce, sts-testing.test in mode testing."
    SEE="Greeting \`220 $MX ESMTP stripwatch-fixture\`, an EHLO reply without STARTTLS, then MAIL FROM, two RCPT TOs (\`<user@sts-enforce.test>\`, \`<user@sts-testing.test>\`), DATA and the message, all in clear, and \`250 2.0.0 Ok: queued\`. No TLS record at all."
    EXPECT="- plaintext_mail: the message is sent in clear (no STARTTLS offered).
- sts_violation for sts-enforce.test (mode enforce): starttls-not-supported — delivery to a policy MX without TLS.
- sts_violation for sts-testing.test (mode testing): the same failure, reported as testing-mode (report-only, lower severity)."
    ARGS_NOTE="\`--no-fetch --policy-dir\` makes the sensor use the policies in \`pcaps/tls-plain-to-sts-domain/policies/\` (one file per policy domain, named after it) instead of fetching them. The recipient domains are visible in the clear RCPT TO commands."
    CERTS_USED=("- (no TLS in this capture)")
    local pol="$WORK/cases/tls-plain-to-sts-domain/out/policies"
    write_policy "$pol" sts-enforce.test enforce "$MX"
    write_policy "$pol" sts-testing.test testing "$MX"
    dirs "$TP_PLAIN"
    TOPO="swaks -> postfix smtpd 127.0.0.1:$TP_PLAIN (smtpd_tls_security_level=none)"; LEG=$LEG_ONE
    tls_begin tls-plain-to-sts-domain "tcp port $TP_PLAIN" "$TP_PLAIN"
    tls_swaks s1 "$TP_PLAIN" --to user@sts-enforce.test,user@sts-testing.test --tls-optional --tls-sni "$MX"
    tls_end
    expect_streams 1
    expect "greeting names $MX" "$S2C && tcp.payload == \"220 $MX ESMTP stripwatch-fixture\r\n\""
    expect "EHLO reply (multi-line 250)" "$S2C && tcp.payload contains \"250-PIPELINING\""
    expect_none "STARTTLS anywhere" "tcp.payload contains \"STARTTLS\""
    expect "RCPT TO sts-enforce.test in clear" "$C2S && tcp.payload == \"RCPT TO:<user@sts-enforce.test>\r\n\""
    expect "RCPT TO sts-testing.test in clear" "$C2S && tcp.payload == \"RCPT TO:<user@sts-testing.test>\r\n\""
    expect "message body in cleartext" "$C2S && tcp.payload contains \"stripwatch test message for fixture $CASE\""
    expect "server accepts the message in cleartext" "$S2C && tcp.payload contains \"250 2.0.0 Ok: queued\""
    expect_none "any TLS record" "tcp.payload[0:1]==16 || tcp.payload[0:1]==17"
    expect_client s1 'Host did not advertise STARTTLS' "the client saw no STARTTLS and went on in plaintext (--tls-optional)"
    VERIFY+=("- policies/sts-enforce.test: \`$(tr '\n' ' ' <"$pol/sts-enforce.test")\`"
        "- policies/sts-testing.test: \`$(tr '\n' ' ' <"$pol/sts-testing.test")\`")
    tls_finish "--no-fetch --policy-dir pcaps/tls-plain-to-sts-domain/policies"
}

do_tls_tls12_valid_sts() {
    PURPOSE="As tls-tls12-valid (TLS 1.2, valid test-CA certificate for \`$MX\`, SNI \`$MX\`), but the message goes to user@sts-enforce.test, whose MTA-STS policy (mode enforce) allows only mx \`other.sts-enforce.test\`: the server reached is not a policy MX, so the delivery violates the policy even though the certificate itself is fine."
    SEE="Cleartext SMTP up to \`220 2.0.0 Ready to start TLS\`, ClientHello with SNI \`$MX\`, TLS 1.2 ServerHello + Certificate (leaf \`$MX\` + test CA) in clear, then encrypted records only. The RCPT TO is inside TLS, so the recipient domain is not visible: the \`domains\` file (given with --domains) tells the sensor this server/session is for sts-enforce.test."
    EXPECT="- sts_violation for sts-enforce.test (mode enforce): validation-failure / mx mismatch — the MX name \`$MX\` (SNI and certificate SAN) does not match the policy's \`mx: other.sts-enforce.test\`.
- no certificate alert: the certificate is valid and trusted for \`$MX\` (as tls-tls12-valid).

Caveat for the sensor design: the recipient is encrypted and the policy's mx pattern does not match \`$MX\` by construction, so the policy itself cannot tie this session to sts-enforce.test; the link has to come from \`--domains\` (the session is on a server the operator says serves sts-enforce.test), from the domain's DNS MX records (not available with --no-fetch), or from elsewhere."
    ARGS_NOTE="\`--ca-file pcaps/tls-ca.pem\` trusts the test CA; \`--no-fetch --policy-dir pcaps/tls-tls12-valid-sts/policies\` supplies the policy for sts-enforce.test without fetching; \`--domains pcaps/tls-tls12-valid-sts/domains\` lists the policy domains (one per line: sts-enforce.test) that the sensor should check the sessions against, since the recipients are encrypted."
    CERTS_USED=("- server certificate: $(cert_desc "$TLSD/valid.pem")")
    local out="$WORK/cases/tls-tls12-valid-sts/out"
    write_policy "$out/policies" sts-enforce.test enforce other.sts-enforce.test
    mkdir -p "$out"
    printf 'sts-enforce.test\n' >"$out/domains"
    dirs "$TP_VALID"
    TOPO="swaks -> postfix smtpd 127.0.0.1:$TP_VALID"; LEG=$LEG_ONE
    tls_begin tls-tls12-valid-sts "tcp port $TP_VALID" "$TP_VALID"
    tls_swaks s1 "$TP_VALID" --to user@sts-enforce.test "${TLS12[@]}" --tls-verify --tls-ca-path "$TLSD/ca.pem"
    tls_end
    one_session_tls12_checks "$TP_VALID" "$MX" "$TLSD/valid.pem" "$TLSD/ca.pem"
    expect_none "recipient domain in clear" "tcp.payload contains \"sts-enforce.test\""
    expect_client s1 'TLS started with cipher TLSv1.2' "TLS 1.2 was negotiated"
    expect_client s1 '~> RCPT TO:<user@sts-enforce.test>' "the recipient user@sts-enforce.test, sent inside TLS"
    expect_client s1 '250 2.0.0 Ok: queued' "the message was accepted inside TLS"
    VERIFY+=("- policies/sts-enforce.test: \`$(tr '\n' ' ' <"$out/policies/sts-enforce.test")\`; domains: \`$(tr '\n' ' ' <"$out/domains")\`")
    tls_finish "--ca-file pcaps/tls-ca.pem --no-fetch --policy-dir pcaps/tls-tls12-valid-sts/policies --domains pcaps/tls-tls12-valid-sts/domains"
}

# ---------------------------------------------------------------- main
[ "$(id -u)" = 0 ] || fail "must run as root (tcpdump on lo, postfix)"
[ -f "$MITM" ] || fail "missing $MITM"

CASES=("$@")
[ ${#CASES[@]} -gt 0 ] || CASES=("${ALL_CASES[@]}")
for c in "${CASES[@]}"; do
    case " ${ALL_CASES[*]} " in *" $c "*) ;; *) fail "unknown case '$c' (known: ${ALL_CASES[*]})" ;; esac
done
# The tls-* cases share one throw-away CA (pcaps/tls-ca.pem): all or none.
WANT_OLD=0 WANT_TLS=0
for c in "${CASES[@]}"; do
    case $c in tls-*) WANT_TLS=1 ;; *) WANT_OLD=1 ;; esac
done
if [ "$WANT_TLS" = 1 ]; then
    old=()
    for c in "${CASES[@]}"; do case $c in tls-*) ;; *) old+=("$c") ;; esac; done
    n_tls=$(( ${#CASES[@]} - ${#old[@]} ))
    [ "$n_tls" = "${#TLS_CASES[@]}" ] ||
        log "tls-* cases share pcaps/tls-ca.pem: regenerating all ${#TLS_CASES[@]} of them"
    CASES=(${old[@]+"${old[@]}"} "${TLS_CASES[@]}")
fi

ensure_deps
if [ "$WANT_OLD" = 1 ]; then
    for p in "$PORT_TLS" "$PORT_PLAIN" "$PORT_PROXY"; do
        port_free "$p" || fail "port 127.0.0.1:$p is in use (set STRIPWATCH_PORT_TLS/PLAIN/PROXY)"
    done
fi
if [ "$WANT_TLS" = 1 ]; then
    [ -f "$TLSMITM" ] || fail "missing $TLSMITM"
    for p in "$TP_VALID" "$TP_EXPIRED" "$TP_WRONGNAME" "$TP_SELFSIGNED" "$TP_PLAIN" "$TP_RESUME" "$TP_PROXY"; do
        port_free "$p" || fail "port 127.0.0.1:$p is in use (set STRIPWATCH_TLS_PORT_BASE)"
    done
fi

WORK=$(mktemp -d /tmp/stripwatch-fixtures.XXXXXX)
chmod 755 "$WORK"   # postfix's unprivileged daemons must traverse it
SWAKS_VERSION=$(swaks --version 2>/dev/null | sed -n 's/^swaks version \([^ ]*\).*/\1/p' | head -n1)
TCPDUMP_VERSION=$(tcpdump --version 2>&1 | sed -n 's/^tcpdump version //p' | head -n1)

if [ "$WANT_OLD" = 1 ]; then
    make_certs
    start_postfix
fi
if [ "$WANT_TLS" = 1 ]; then
    make_tls_certs
    start_tls_postfix
fi

for c in "${CASES[@]}"; do
    "do_${c//-/_}"
done

stop_postfix
stop_tls_postfix

# Everything verified: replace only our own case directories.
mkdir -p "$OUTROOT"
for c in "${CASES[@]}"; do
    case $c in tls-*) install_tls_case "$c"; continue ;; esac
    rm -rf "${OUTROOT:?}/$c"
    mkdir -p "$OUTROOT/$c"
    cp "$WORK/cases/$c/input.pcap" "$WORK/cases/$c/README.md" "$OUTROOT/$c/"
    chmod 644 "$OUTROOT/$c/input.pcap" "$OUTROOT/$c/README.md"
    log "wrote pcaps/$c/ ($(stat -c %s "$OUTROOT/$c/input.pcap") bytes)"
done
if [ "$WANT_TLS" = 1 ]; then
    cp "$TLSD/ca.pem" "$OUTROOT/tls-ca.pem"
    chmod 644 "$OUTROOT/tls-ca.pem"
    log "wrote pcaps/tls-ca.pem (test CA certificate for --ca-file)"
fi
log "done: ${#CASES[@]} case(s) regenerated"
