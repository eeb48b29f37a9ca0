#!/bin/sh
# install.sh - `make install` and `make uninstall` (tools/install.mk): a
# staged install has every file with its mode, the man page renders
# without a warning and names every option, the unit has the keys the
# sensor needs, an edited /etc/default/stripwatch survives, uninstall
# removes the rest.  The system user is only ever created in a private
# copy of /etc (a mount namespace), never on this machine.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0 skipped=0

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }
skip() { echo "SKIP $1"; skipped=$((skipped + 1)); }
# check NAME COMMAND...: passes when the command succeeds.
check() {
	name=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		pass "$name"
	else
		fail "$name"
		sed 's/^/    /' "$tmp/out" | head -n 40
	fi
}

# Works before and after the Makefile includes tools/install.mk (the file
# guards against a second reading).  systemctl is never run: a test must
# not reload or stop this machine's services.
mk() {
	make -C "$top" --no-print-directory -f Makefile -f tools/install.mk \
	    SYSTEMCTL=/nonexistent/systemctl "$@"
}

# mode PATH WANT: the octal mode of PATH is WANT.
mode() {
	[ -e "$1" ] || { echo "$1: missing"; return 1; }
	got=$(stat -c %a "$1")
	[ "$got" = "$2" ] || { echo "$1: mode $got, want $2"; return 1; }
}

st=$tmp/stage
bin=$st/usr/local/bin/stripwatch
man8=$st/usr/local/share/man/man8/stripwatch.8
unit=$st/usr/local/lib/systemd/system/stripwatch.service
dflt=$st/etc/default/stripwatch
lrot=$st/etc/logrotate.d/stripwatch

# --- a staged install ------------------------------------------------------
check "make install DESTDIR PREFIX=/usr/local" \
    mk install DESTDIR="$st" PREFIX=/usr/local

check "binary 0755" mode "$bin" 755
check "man page 0644" mode "$man8" 644
check "unit 0644" mode "$unit" 644
check "default file 0644" mode "$dflt" 644
check "logrotate snippet 0644" mode "$lrot" 644
check "/etc/stripwatch 0755" mode "$st/etc/stripwatch" 755
check "state dir 0750" mode "$st/var/lib/stripwatch" 750
check "log dir 0750" mode "$st/var/log/stripwatch" 750
check "no stray files" sh -c "[ -z \"\$(find '$st' -name '*.new')\" ]"
check "installed binary runs" sh -c "'$bin' --version | grep -q '^stripwatch '"
if command -v readelf >/dev/null 2>&1; then
	check "binary keeps its symbols" sh -c \
	    "readelf -S '$bin' | grep -q '\.symtab'"
else
	skip "binary keeps its symbols (no readelf)"
fi

# --- the man page ----------------------------------------------------------
check "man -l renders without warnings" sh -c \
    "out=\$(MANWIDTH=80 man --warnings -l '$man8' 2>&1 >/dev/null); \
     [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
if command -v mandoc >/dev/null 2>&1; then
	# Lines about this machine's man database are not about the page.
	check "mandoc -T lint is clean" sh -c \
	    "out=\$(mandoc -T lint '$man8' 2>&1 | grep -v -e 'mandoc.db' -e 'referenced manual not found'); \
	     [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
else
	skip "mandoc -T lint (no mandoc)"
fi
MANWIDTH=250 man -l "$man8" 2>/dev/null | col -b >"$tmp/man.txt"
"$bin" --help >"$tmp/help.txt" 2>&1
check "man page names every option of --help and the new ones" \
    "$py" - "$tmp/man.txt" "$tmp/help.txt" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
text = " ".join(text.split())
help_ = open(sys.argv[2], encoding="utf-8").read()
opts = set(re.findall(r"(?m)^\s+(-[A-Za-z]|--[a-z][a-z-]*)", help_))
opts |= set(re.findall(r", (--[a-z][a-z-]*)", help_))
opts |= {"--user", "--allow-root", "--stats-interval", "--syslog",
         "--workers", "--since", "--until", "--kind", "--server",
         "--severity", "--limit", "--format"}
missing = sorted(o for o in opts
                 if not re.search(r"(?<![\w-])" + re.escape(o) + r"(?![\w-])",
                                  text))
for s in ("SYNOPSIS", "DESCRIPTION", "SIGNALS", "EXIT STATUS", "FILES",
          "ALERT KINDS", "EXAMPLES", "SEE ALSO", "STANDARDS", "CAVEATS",
          "stripwatch alerts", "SIGHUP", "RFC 3207", "RFC 5321", "RFC 8461",
          "RFC 8460", "RFC 5424", "RFC 6125", "pcap-filter(7)",
          "tcpdump(8)", "sqlite3(1)", "/var/lib/stripwatch/stripwatch.db"):
    if s not in text:
        missing.append(s)
if len(opts) < 25:
    missing.append("(only %d options parsed from --help)" % len(opts))
if missing:
    print("missing from the man page:", " ".join(missing))
    sys.exit(1)
EOF

# --- the unit --------------------------------------------------------------
check "unit keys" "$py" - "$unit" <<'EOF'
import configparser, sys
c = configparser.ConfigParser(strict=False, interpolation=None,
                              delimiters=("=",))
c.optionxform = str
c.read(sys.argv[1])
s = c["Service"]
want = {
    "Type": "simple",
    "ExecStart": "/usr/local/bin/stripwatch -i ${STRIPWATCH_IFACE} "
                 "-w /var/lib/stripwatch/stripwatch.db "
                 "--json /var/log/stripwatch/alerts.json "
                 "--user stripwatch $STRIPWATCH_OPTS",
    "ExecReload": "/bin/kill -HUP $MAINPID",
    "EnvironmentFile": "-/etc/default/stripwatch",
    "Restart": "on-failure",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "StateDirectory": "stripwatch",
    "LogsDirectory": "stripwatch",
    "SystemCallArchitectures": "native",
    "MemoryDenyWriteExecute": "yes",
    "LockPersonality": "yes",
}
sets = {
    "CapabilityBoundingSet": {"CAP_NET_RAW", "CAP_NET_ADMIN", "CAP_SETUID",
                              "CAP_SETGID"},
    "ReadWritePaths": {"/var/lib/stripwatch", "/var/log/stripwatch"},
    "RestrictAddressFamilies": {"AF_PACKET", "AF_INET", "AF_INET6",
                                "AF_UNIX", "AF_NETLINK"},
}
bad = []
for k, v in want.items():
    if s.get(k) != v:
        bad.append("%s=%r, want %r" % (k, s.get(k), v))
for k, v in sets.items():
    if set((s.get(k) or "").split()) != v:
        bad.append("%s=%r, want %s" % (k, s.get(k), " ".join(sorted(v))))
# The binary drops privileges itself: the unit must start it as root.
if "User" in s:
    bad.append("User= is set: stripwatch must start as root to drop itself")
if c.get("Unit", "Documentation", fallback="") != "man:stripwatch(8)":
    bad.append("Documentation= is not man:stripwatch(8)")
if c.get("Install", "WantedBy", fallback="") != "multi-user.target":
    bad.append("WantedBy= is not multi-user.target")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
if command -v systemd-analyze >/dev/null 2>&1; then
	# Pointed at the staged binary and man page, which verify looks for.
	sed "s|/usr/local/bin/stripwatch|$bin|" "$unit" \
	    >"$tmp/stripwatch.service"
	check "systemd-analyze verify" sh -c \
	    "out=\$(MANPATH='$st/usr/local/share/man' systemd-analyze verify \
	        '$tmp/stripwatch.service' 2>&1) && [ -z \"\$out\" ] || \
	     { echo \"\$out\"; exit 1; }"
else
	skip "systemd-analyze verify (no systemd-analyze)"
fi

# --- /etc/default and logrotate --------------------------------------------
check "default file sets STRIPWATCH_IFACE and STRIPWATCH_OPTS" sh -c \
    ". '$dflt' && [ \"\${STRIPWATCH_IFACE+x}\" = x ] && \
     [ \"\${STRIPWATCH_OPTS+x}\" = x ]"
if command -v logrotate >/dev/null 2>&1; then
	# The snippet with this user and a scratch log: rotate it for real,
	# with the reload script made harmless.
	mkdir -p "$tmp/lr/log"
	echo '{"event":1}' >"$tmp/lr/log/alerts.json"
	u=$(id -un) g=$(id -gn)
	sed -e "s|/var/log/stripwatch|$tmp/lr/log|" \
	    -e "s|stripwatch stripwatch\$|$u $g|" \
	    -e "s|systemctl|: systemctl|g" "$lrot" >"$tmp/lr/conf"
	check "logrotate rotates with the snippet" sh -c \
	    "logrotate -f -s '$tmp/lr/state' '$tmp/lr/conf' && \
	     [ -s '$tmp/lr/log/alerts.json.1' ] && \
	     [ -e '$tmp/lr/log/alerts.json' ] && \
	     [ ! -s '$tmp/lr/log/alerts.json' ]"
else
	skip "logrotate rotates with the snippet (no logrotate)"
fi

# --- reinstall and uninstall -----------------------------------------------
echo "STRIPWATCH_IFACE=ens2f1  # mine" >>"$dflt"
check "reinstall" mk install DESTDIR="$st" PREFIX=/usr/local
check "reinstall keeps an edited default file" grep -q '# mine' "$dflt"
check "make uninstall DESTDIR" mk uninstall DESTDIR="$st" PREFIX=/usr/local
for f in "$bin" "$man8" "$unit" "$lrot"; do
	check "uninstall removed ${f#"$st"}" test ! -e "$f"
done
check "uninstall kept the edited default file" grep -q '# mine' "$dflt"
check "uninstall kept the state and log dirs" \
    test -d "$st/var/lib/stripwatch" -a -d "$st/var/log/stripwatch"
cp "$top/tools/stripwatch.default" "$dflt"
check "uninstall again" mk uninstall DESTDIR="$st" PREFIX=/usr/local
check "uninstall removed an unedited default file" test ! -e "$dflt"
check "uninstall removed the empty /etc/stripwatch" \
    test ! -e "$st/etc/stripwatch"

# --- staging as a user who is not root -------------------------------------
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
    getent passwd nobody >/dev/null; then
	mkdir "$tmp/nobody"
	chown nobody "$tmp/nobody"
	chmod 0711 "$tmp"
	check "make install DESTDIR as nobody" setpriv --reuid=nobody \
	    --regid="$(id -g nobody)" --clear-groups env HOME=/ \
	    make -C "$top" --no-print-directory -f Makefile \
	    -f tools/install.mk -o stripwatch \
	    SYSTEMCTL=/nonexistent/systemctl install \
	    DESTDIR="$tmp/nobody/stage"
	check "nobody's stage is nobody's" sh -c \
	    "[ -z \"\$(find '$tmp/nobody/stage' ! -user nobody)\" ] && \
	     [ -x '$tmp/nobody/stage/usr/local/bin/stripwatch' ]"
else
	skip "make install DESTDIR as nobody (needs root and setpriv)"
fi

# --- the live-system path: user and directories ----------------------------
# Everything under $tmp/live; the user is the one running the test, so it
# exists and useradd (made to fail here) must not run.  A state directory
# left 0755 by someone else is set right.
lv=$tmp/live
mkdir -p "$lv/var/lib/stripwatch"
chmod 0755 "$lv/var/lib/stripwatch"
u=$(id -un) g=$(id -gn)
check "install without DESTDIR, user exists" mk install DESTDIR= \
    PREFIX="$lv/usr/local" SYSCONFDIR="$lv/etc" LOCALSTATEDIR="$lv/var" \
    STRIPWATCH_USER="$u" STRIPWATCH_GROUP="$g" USERADD=false
for d in "$lv/var/lib/stripwatch" "$lv/var/log/stripwatch"; do
	check "${d#"$lv"} is $u's, 0750" sh -c \
	    "[ \"\$(stat -c '%U %G %a' '$d')\" = '$u $g 750' ] || \
	     { stat -c '%U %G %a' '$d'; exit 1; }"
done
check "unit and snippet name the user and the paths" sh -c \
    "grep -q '^ExecStart=$lv/usr/local/bin/stripwatch .*--user $u ' \
        '$lv/usr/local/lib/systemd/system/stripwatch.service' && \
     grep -q '^EnvironmentFile=-$lv/etc/default/stripwatch\$' \
        '$lv/usr/local/lib/systemd/system/stripwatch.service' && \
     grep -q '^ExecStartPre=+/bin/chown -R $u: ' \
        '$lv/usr/local/lib/systemd/system/stripwatch.service' && \
     grep -q 'su $u $g\$' '$lv/etc/logrotate.d/stripwatch'"

# The user created for real, in a mount namespace where /etc is a copy.
nsuser=swtest$$
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1 &&
    command -v useradd >/dev/null 2>&1 &&
    unshare -m sh -c 'mount --make-rprivate /' 2>/dev/null; then
	cp -a /etc "$tmp/etc"
	ns=$tmp/ns
	cat >"$tmp/ns.sh" <<EOF
set -e
mount --make-rprivate /
mount --bind "$tmp/etc" /etc
make -C "$top" --no-print-directory -f Makefile -f tools/install.mk \
    SYSTEMCTL=/nonexistent/systemctl install DESTDIR= \
    PREFIX="$ns/usr/local" SYSCONFDIR="$ns/etc" LOCALSTATEDIR="$ns/var" \
    STRIPWATCH_USER=$nsuser
getent passwd $nsuser >"$tmp/ns.passwd"
getent group $nsuser >"$tmp/ns.group"
stat -c '%U %G %a' "$ns/var/lib/stripwatch" "$ns/var/log/stripwatch" \
    >"$tmp/ns.dirs"
# A second install finds the user and must not add it again.
make -C "$top" --no-print-directory -f Makefile -f tools/install.mk \
    SYSTEMCTL=/nonexistent/systemctl install DESTDIR= \
    PREFIX="$ns/usr/local" SYSCONFDIR="$ns/etc" LOCALSTATEDIR="$ns/var" \
    STRIPWATCH_USER=$nsuser USERADD=false
EOF
	check "install without DESTDIR creates the user (private /etc)" \
	    unshare -m sh "$tmp/ns.sh"
	check "the user is a system user with nologin and its home" sh -c \
	    "IFS=: read -r n x uid gid gecos home shell <'$tmp/ns.passwd' && \
	     [ \"\$n\" = $nsuser ] && [ \"\$uid\" -lt 1000 ] && \
	     [ \"\$home\" = '$ns/var/lib/stripwatch' ] && \
	     [ \"\$shell\" = /usr/sbin/nologin ] && \
	     [ ! -e '$ns/var/lib/stripwatch/.profile' ] || \
	     { cat '$tmp/ns.passwd'; exit 1; }"
	check "the user has its own group" grep -q "^$nsuser:" "$tmp/ns.group"
	check "its directories are its own, 0750" sh -c \
	    "[ \"\$(sort -u '$tmp/ns.dirs')\" = '$nsuser $nsuser 750' ] || \
	     { cat '$tmp/ns.dirs'; exit 1; }"
	check "this machine's /etc/passwd is untouched" sh -c \
	    "! getent passwd $nsuser"
else
	skip "install creates the user (needs root, useradd and unshare -m)"
fi

[ $skipped -gt 0 ] && echo "install: $skipped checks skipped"
echo "install: $passed passed, $failed failed"
[ $failed -eq 0 ]
