# tools/install.mk - make install / make uninstall, included by the Makefile.
#
#   make install                      as root: the binary, stripwatch.8, the
#                                     systemd unit, /etc/default/stripwatch,
#                                     the logrotate snippet; the system user
#                                     and its directories
#   make install DESTDIR=/tmp/stage   files only, for a package: no user, no
#                                     chown, nothing outside DESTDIR (works
#                                     as any user)
#   make uninstall [DESTDIR=...]      the files again; the user, the database
#                                     and the logs stay
#   make install-check                tests/install.sh
#
# A package built from DESTDIR must create the user and hand it
# /var/lib/stripwatch and /var/log/stripwatch in its postinst, as the
# non-DESTDIR install below does (the unit's ExecStartPre chown does the
# latter at every start anyway).

ifndef STRIPWATCH_INSTALL_MK
STRIPWATCH_INSTALL_MK := 1
# Included before the Makefile's first target, install must not become the
# default goal (restored at the end of this file).
SW_DEFAULT_GOAL := $(.DEFAULT_GOAL)

PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
MANDIR		?= $(PREFIX)/share/man
# $(PREFIX)/lib/systemd/system: /usr/local/lib/systemd/system is on
# systemd's unit path and leaves /etc/systemd/system to the administrator
# (systemctl edit).  SYSTEMDDIR=/etc/systemd/system works as well.
SYSTEMDDIR	?= $(PREFIX)/lib/systemd/system
SYSCONFDIR	?= /etc
DEFAULTDIR	?= $(SYSCONFDIR)/default
LOGROTATEDIR	?= $(SYSCONFDIR)/logrotate.d
# The unit and the logrotate snippet name /var/lib/stripwatch and
# /var/log/stripwatch: change LOCALSTATEDIR only to test this file.
LOCALSTATEDIR	?= /var
SW_STATEDIR	 = $(LOCALSTATEDIR)/lib/stripwatch
SW_LOGDIR	 = $(LOCALSTATEDIR)/log/stripwatch
STRIPWATCH_USER	?= stripwatch
STRIPWATCH_GROUP ?= $(STRIPWATCH_USER)

INSTALL		?= install
# Not stripped: the binary is built with -g, and a sensor that dies at 3 am
# should leave a core a backtrace can be read from (and perf sees function
# names).  Symbols and debug information cost about 0.5 MB.  A package that
# wants them split off passes INSTALL_PROGRAM='install -m 0755 -s', or lets
# dh_strip keep them in a -dbgsym package.
INSTALL_PROGRAM	?= $(INSTALL) -m 0755
INSTALL_DATA	?= $(INSTALL) -m 0644
USERADD		?= useradd
SYSTEMCTL	?= systemctl

# The unit and the snippet are written with the paths and user chosen here.
SW_SED = -e 's|/usr/local/bin/stripwatch|$(BINDIR)/stripwatch|g' \
	 -e 's|/etc/default/stripwatch|$(DEFAULTDIR)/stripwatch|g' \
	 -e 's|--user stripwatch|--user $(STRIPWATCH_USER)|g' \
	 -e 's|chown -R stripwatch:|chown -R $(STRIPWATCH_USER):|g' \
	 -e 's|\([[:space:]]\)stripwatch stripwatch$$|\1$(STRIPWATCH_USER) $(STRIPWATCH_GROUP)|'

# On a live system (no DESTDIR) with systemd running.
SW_SYSTEMD = [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ] && \
	     command -v $(SYSTEMCTL) >/dev/null 2>&1

.PHONY: install uninstall install-check

install: stripwatch
	$(INSTALL) -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(DEFAULTDIR) \
	    $(DESTDIR)$(LOGROTATEDIR) $(DESTDIR)$(SYSCONFDIR)/stripwatch
	$(INSTALL_PROGRAM) stripwatch $(DESTDIR)$(BINDIR)/stripwatch
	$(INSTALL_DATA) stripwatch.8 $(DESTDIR)$(MANDIR)/man8/stripwatch.8
	sed $(SW_SED) tools/stripwatch.service \
	    >$(DESTDIR)$(SYSTEMDDIR)/stripwatch.service.new
	chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/stripwatch.service.new
	mv -f $(DESTDIR)$(SYSTEMDDIR)/stripwatch.service.new \
	    $(DESTDIR)$(SYSTEMDDIR)/stripwatch.service
	sed $(SW_SED) tools/stripwatch.logrotate \
	    >$(DESTDIR)$(LOGROTATEDIR)/stripwatch.new
	chmod 0644 $(DESTDIR)$(LOGROTATEDIR)/stripwatch.new
	mv -f $(DESTDIR)$(LOGROTATEDIR)/stripwatch.new \
	    $(DESTDIR)$(LOGROTATEDIR)/stripwatch
	@# The administrator's settings: installed once, never overwritten.
	@if [ -e $(DESTDIR)$(DEFAULTDIR)/stripwatch ]; then \
	    echo "kept $(DESTDIR)$(DEFAULTDIR)/stripwatch (yours);" \
	        "the shipped one is tools/stripwatch.default"; \
	else \
	    echo "$(INSTALL_DATA) tools/stripwatch.default" \
	        "$(DESTDIR)$(DEFAULTDIR)/stripwatch"; \
	    $(INSTALL_DATA) tools/stripwatch.default \
	        $(DESTDIR)$(DEFAULTDIR)/stripwatch || exit 1; \
	fi
	@# The user and its directories only on the live system: a staged
	@# tree has no passwd to add to, and a non-root stager cannot chown.
	@if [ -n "$(DESTDIR)" ]; then \
	    echo "$(INSTALL) -d -m 0750 $(DESTDIR)$(SW_STATEDIR)" \
	        "$(DESTDIR)$(SW_LOGDIR)"; \
	    $(INSTALL) -d -m 0750 $(DESTDIR)$(SW_STATEDIR) \
	        $(DESTDIR)$(SW_LOGDIR) || exit 1; \
	else \
	    if ! getent passwd $(STRIPWATCH_USER) >/dev/null; then \
	        if getent group $(STRIPWATCH_GROUP) >/dev/null; then \
	            grp="--gid $(STRIPWATCH_GROUP)"; \
	        else \
	            grp="--user-group"; \
	        fi; \
	        echo "$(USERADD) --system $$grp --no-create-home" \
	            "--home-dir $(SW_STATEDIR) --shell /usr/sbin/nologin" \
	            "--comment 'stripwatch sensor' $(STRIPWATCH_USER)"; \
	        $(USERADD) --system $$grp --no-create-home \
	            --home-dir $(SW_STATEDIR) --shell /usr/sbin/nologin \
	            --comment 'stripwatch sensor' $(STRIPWATCH_USER) || exit 1; \
	    fi; \
	    echo "$(INSTALL) -d -m 0750 -o $(STRIPWATCH_USER)" \
	        "-g $(STRIPWATCH_GROUP) $(SW_STATEDIR) $(SW_LOGDIR)"; \
	    $(INSTALL) -d -m 0750 -o $(STRIPWATCH_USER) \
	        -g $(STRIPWATCH_GROUP) $(SW_STATEDIR) $(SW_LOGDIR) || exit 1; \
	fi
	@if $(SW_SYSTEMD); then \
	    echo "$(SYSTEMCTL) daemon-reload"; $(SYSTEMCTL) daemon-reload; \
	fi

uninstall:
	@if $(SW_SYSTEMD) && { $(SYSTEMCTL) -q is-enabled stripwatch.service \
	    2>/dev/null || $(SYSTEMCTL) -q is-active stripwatch.service \
	    2>/dev/null; }; then \
	    echo "$(SYSTEMCTL) disable --now stripwatch.service"; \
	    $(SYSTEMCTL) disable --now stripwatch.service; \
	fi
	rm -f $(DESTDIR)$(BINDIR)/stripwatch \
	    $(DESTDIR)$(MANDIR)/man8/stripwatch.8 \
	    $(DESTDIR)$(SYSTEMDDIR)/stripwatch.service \
	    $(DESTDIR)$(LOGROTATEDIR)/stripwatch
	@# /etc/default/stripwatch goes only as it was shipped.
	@f=$(DESTDIR)$(DEFAULTDIR)/stripwatch; \
	if [ -e $$f ] && ! cmp -s tools/stripwatch.default $$f; then \
	    echo "kept $$f: it was edited"; \
	else \
	    echo "rm -f $$f"; rm -f $$f; \
	fi
	@rmdir $(DESTDIR)$(SYSCONFDIR)/stripwatch 2>/dev/null || true
	@if $(SW_SYSTEMD); then \
	    echo "$(SYSTEMCTL) daemon-reload"; $(SYSTEMCTL) daemon-reload; \
	fi
	@echo "kept: the user $(STRIPWATCH_USER)," \
	    "$(DESTDIR)$(SW_STATEDIR) (the database) and" \
	    "$(DESTDIR)$(SW_LOGDIR) (the alert feed)"

install-check: stripwatch
	@tests/install.sh

ifeq ($(SW_DEFAULT_GOAL),)
.DEFAULT_GOAL :=
endif
endif
