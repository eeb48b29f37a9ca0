# stripwatch - passive monitor for SMTP STARTTLS downgrade and MTA-STS breaches.
#
#   make                      build ./stripwatch
#   make test                 unit tests, regression captures, interop suites
#   make SANITIZER=address,undefined test
#   make WERROR=1             warnings are errors (CI)
#   make run                  analyse three bundled captures (a clean STARTTLS
#                             session, a stripped one, an intercepted TLS one
#                             under an MTA-STS policy) into ./stripwatch.db

CC	?= cc
PKGS	 = libpcap libndpi openssl sqlite3 zlib libunbound libcurl
SANITIZER ?=

WARN	 = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wcast-qual -Wsign-compare -Wwrite-strings \
	   -Wformat=2 -Wvla -Werror=implicit-function-declaration
HARDEN	 = -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -D_DEFAULT_SOURCE $(WARN) $(HARDEN) -I.
LDFLAGS	+= -pie -Wl,-z,relro,-z,now

ifeq ($(WERROR),1)
CFLAGS	+= -Werror
endif
ifneq ($(SANITIZER),)
CFLAGS	+= -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS	+= -fsanitize=$(SANITIZER)
endif

# Missing libraries are installed on Debian/Ubuntu, or named elsewhere.
DEPS_OK	:= $(shell tools/deps.sh check >/dev/null 2>&1 && echo yes)
ifneq ($(DEPS_OK),yes)
$(info stripwatch: installing build dependencies (tools/deps.sh))
DEPS_RC	:= $(shell tools/deps.sh install >&2; echo $$?)
ifneq ($(DEPS_RC),0)
$(error build dependencies missing; see the message above)
endif
endif

PYTHON	?= /usr/bin/python3

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CFLAGS	+= $(PKG_CFLAGS)
LIBS	 = $(PKG_LIBS)

LIB_SRCS = monitor.c capture/capture.c capture/decode.c capture/pcapfile.c \
	   dissect/classify.c dissect/flow.c dissect/reasm.c dissect/smtp.c \
	   dissect/tls.c detect/detect.c detect/expect.c detect/cert.c \
	   detect/sts.c policy/sts.c policy/fetch.c policy/policy.c \
	   store/store.c store/json.c store/syslog.c
LIB_OBJS = $(LIB_SRCS:.c=.o)
HDRS	 = config.h monitor.h report.h $(wildcard */*.h)

# Objects remember the flags they were built with: switching SANITIZER=
# or CFLAGS rebuilds everything instead of mixing instrumented objects.
FLAGS_ID := $(shell echo '$(CC) $(CFLAGS) $(LDFLAGS)' | cksum | cut -d' ' -f1)
FLAGS_STAMP := .flags-$(FLAGS_ID)
$(FLAGS_STAMP):
	@rm -f .flags-*
	@touch $@

UNIT_TESTS = tests/unit/test_decode tests/unit/test_pcapfile \
	     tests/unit/test_reasm tests/unit/test_flow tests/unit/test_store \
	     tests/unit/test_smtp tests/unit/test_cert tests/unit/test_policy \
	     tests/unit/test_tls tests/unit/test_sts

.PHONY: all test unit cli regress alerts public-alerts readers cases live \
	interop reseg fetch certs-interop feed replay sigkill adversarial \
	valgrind run clean

all: stripwatch

%.o: %.c $(HDRS) $(FLAGS_STAMP)
	$(CC) $(CFLAGS) -c -o $@ $<

libstripwatch.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $(LIB_OBJS)

stripwatch: stripwatch.o report.o libstripwatch.a
	$(CC) $(LDFLAGS) -o $@ stripwatch.o report.o libstripwatch.a $(LIBS)

tests/unit/%: tests/unit/%.c tests/unit/check.h libstripwatch.a $(FLAGS_STAMP)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< libstripwatch.a $(LIBS)

unit: $(UNIT_TESTS)
	@tests/run-units.sh $(UNIT_TESTS)

cli: stripwatch
	@tests/cli.sh

regress: stripwatch
	@tests/regress.sh

live: stripwatch
	@tests/live.sh

alerts: stripwatch
	@tests/alerts.sh

feed: stripwatch
	@tests/feed.sh

public-alerts: stripwatch
	@tests/public_alerts.sh

# pcapfile.c and libpcap read each classic pcap to the same run.
readers: stripwatch
	@tests/readers.sh

# tests/mkcases.py makes the committed hand-made cases byte for byte.
cases:
	@PYTHON=$(PYTHON) tests/cases.sh

interop: stripwatch
	@$(PYTHON) tests/interop.py --corpus pcaps && $(PYTHON) tests/interop.py

certs-interop: stripwatch
	@$(PYTHON) tests/certs_interop.py

reseg: stripwatch
	@tests/reseg_test.sh

# The fetch suite's driver always has ASan and UBSan: it compiles
# policy/fetch.c itself, so the library's flags do not matter.
tests/fetch_drv: tests/fetch_drv.c policy/fetch.c policy/fetch.h $(FLAGS_STAMP)
	$(CC) $(CFLAGS) -fsanitize=address,undefined -fno-omit-frame-pointer \
	    $(LDFLAGS) -o $@ tests/fetch_drv.c policy/fetch.c $(LIBS)

fetch: tests/fetch_drv stripwatch
	@tests/fetch.sh

# Live equals offline through a veth pair (tests/replay.sh); kill -9 leaves
# a consistent database (tests/sigkill.sh).  Both need root, iproute2 and
# tcpreplay.  The plain build must take a million packets at 100 Mbit/s.
replay: stripwatch
	@$(if $(SANITIZER),,REPLAY_BIG_LOOPS=1600 \
	    REPLAY_BIG_RATES="50 100 200 top" REPLAY_RATE_MIN=100) \
	    tests/replay.sh

sigkill: stripwatch
	@tests/sigkill.sh

# Unit tests and the sensor under memcheck (not for sanitizer builds).
valgrind: stripwatch $(UNIT_TESTS)
	@SANITIZER=$(SANITIZER) tests/valgrind.sh $(UNIT_TESTS)

# Floods, huge lines, evasive TCP/IP, broken TLS (tests/mkadversarial.py).
# Sanitizer builds take smaller floods and skip the RSS bounds.
adversarial: stripwatch
	@$(if $(SANITIZER),ADV_FLOWS=200000 ADV_SYNS=100000 \
	    ADV_CONCURRENT=200000 ADV_NO_RSS=1) tests/adversarial.sh

# Every suite runs even when an earlier one fails; the summary says which.
SUITES	= unit cli regress cases alerts public-alerts readers live fuzz-replay \
	  interop reseg fetch certs-interop install-check feed replay sigkill \
	  adversarial valgrind
test: stripwatch $(UNIT_TESTS)
	@tests/run-suites.sh $(SUITES)

run: stripwatch
	./stripwatch -r pcaps/clean-starttls/input.pcap \
	    -r pcaps/strip-xxxxxxxa/input.pcap -r pcaps/tls-intercept/input.pcap \
	    --ca-file pcaps/tls-ca.pem --no-fetch \
	    --policy-dir pcaps/tls-intercept/policies -w stripwatch.db
	@sqlite3 -header -column stripwatch.db \
	    "SELECT client_ip, client_port, server_ip, server_port, protocol, \
	     c2s_bytes, s2c_bytes, c2s_gaps + s2c_gaps AS gaps, conflicts \
	     FROM flows ORDER BY id DESC LIMIT 10; \
	     SELECT id, server_port, banner_host, starttls_offered, outcome, \
	     sni, tls_version, cert_status, sts FROM sessions \
	     ORDER BY id DESC LIMIT 10; \
	     SELECT kind, severity, frame, substr(evidence, 1, 120) AS evidence \
	     FROM alerts ORDER BY id DESC LIMIT 10"

clean: fuzz-clean
	rm -f stripwatch *.o */*.o libstripwatch.a $(UNIT_TESTS) .flags-* \
	    tests/fetch_drv

# libFuzzer targets (make fuzz CC=clang) and their replayers (make test).
include fuzz/fuzz.mk

# make install / uninstall / install-check (PREFIX, DESTDIR, ...).
include tools/install.mk
