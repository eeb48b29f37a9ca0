/*
 * test_smtp.c - the SMTP dissector on written-out dialogues: banners,
 * multi-line EHLO replies, pipelining, DATA and BDAT, AUTH redaction,
 * the STARTTLS hand-over and its injections.  Every dialogue is also fed
 * with each chunk cut at every offset and must give the same events.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dissect/smtp.h"
#include "check.h"

#define LOG_MAX 4096

struct chunk {
	int		 dir;	/* 0 client, 1 server */
	const char	*text;
	size_t		 len;	/* 0: strlen(text) */
};

static char logbuf[LOG_MAX];
static uint8_t tlsbuf[2][256];	/* SMTP_EV_TLS_DATA bytes per direction */
static size_t tlslen[2];

static void logf_(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
logf_(const char *fmt, ...)
{
	size_t used = strlen(logbuf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(logbuf + used, LOG_MAX - used, fmt, ap);
	va_end(ap);
}

static void
on_event(void *ctx, const struct smtp_event *ev)
{
	char text[128];
	size_t i, n = ev->text_len < sizeof(text) - 1 ? ev->text_len :
	    sizeof(text) - 1;

	(void)ctx;
	if (n > 0)
		memcpy(text, ev->text, n);
	text[n] = '\0';
	switch (ev->type) {
	case SMTP_EV_BANNER:
		logf_("BANNER  %d|", ev->code);
		break;
	case SMTP_EV_COMMAND:
		logf_("CMD %s|", text);
		break;
	case SMTP_EV_REPLY:
		logf_("REPLY %s %d", smtp_verb_name(ev->verb), ev->code);
		for (i = 0; i < ev->ncaps; i++)
			logf_(" %s", ev->caps[i]);
		logf_("|");
		break;
	case SMTP_EV_DATA_DONE:
		logf_("DATA_DONE %d|", (int)ev->count);
		break;
	case SMTP_EV_TLS:
		logf_("TLS %d|", ev->dir);
		break;
	case SMTP_EV_TLS_DATA:	/* kept apart: the log shows the verdicts */
		if (tlslen[ev->dir] + ev->text_len <= sizeof(tlsbuf[0])) {
			memcpy(tlsbuf[ev->dir] + tlslen[ev->dir], ev->text,
			    ev->text_len);
			tlslen[ev->dir] += ev->text_len;
		}
		break;
	case SMTP_EV_NOT_TLS:
		logf_("NOT_TLS %d|", ev->dir);
		break;
	case SMTP_EV_INJECTION:
		logf_("INJECT %s %d|", text, ev->dir);
		break;
	case SMTP_EV_GAP:
		logf_("GAP %d|", ev->dir);
		break;
	case SMTP_EV_LINE_TOO_LONG:
		logf_("LONG %d|", ev->dir);
		break;
	case SMTP_EV_PIPELINE_OVERFLOW:
		logf_("OVERFLOW|");
		break;
	case SMTP_EV_UNEXPECTED_REPLY:
		logf_("UNEXPECTED %s|", text);
		break;
	case SMTP_EV_BAD_REPLY:
		logf_("BADREPLY %s|", text);
		break;
	}
}

static const struct smtp_sink sink = { on_event, NULL };

static bool fed_done;

/*
 * Feeds as the monitor does: once the dissector says done, a direction's
 * bytes go straight to the TLS parser (here: tlsbuf).
 */
static void
feed(struct smtp_session *s, int dir, const uint8_t *b, size_t len,
    uint64_t frame)
{
	if (fed_done) {
		if (tlslen[dir] + len <= sizeof(tlsbuf[0])) {
			memcpy(tlsbuf[dir] + tlslen[dir], b, len);
			tlslen[dir] += len;
		}
		return;
	}
	fed_done = smtp_feed(s, dir, b, len, frame, &sink) == SMTP_DONE;
}

/* Feeds chunks; chunk cut_chunk is cut at cut_at (0: not cut). */
static void
run(const struct chunk *c, size_t n, size_t cut_chunk, size_t cut_at,
    bool implicit)
{
	struct smtp_session *s = smtp_new(implicit);
	size_t i;

	logbuf[0] = '\0';
	tlslen[0] = tlslen[1] = 0;
	fed_done = false;
	for (i = 0; i < n; i++) {
		size_t len = c[i].len ? c[i].len : strlen(c[i].text);
		/* An exact-size copy, so a sanitizer sees an over-read. */
		uint8_t *b = malloc(len + 1);

		memcpy(b, c[i].text, len);
		if (i == cut_chunk && cut_at > 0 && cut_at < len) {
			feed(s, c[i].dir, b, cut_at, i + 1);
			feed(s, c[i].dir, b + cut_at, len - cut_at, i + 1);
		} else
			feed(s, c[i].dir, b, len, i + 1);
		free(b);
	}
	smtp_free(s);
}

/* Runs whole, then cut everywhere; every run must log `want`. */
static int
same_everywhere(const struct chunk *c, size_t n, const char *want,
    bool implicit)
{
	size_t i, at;

	run(c, n, (size_t)-1, 0, implicit);
	if (strcmp(logbuf, want) != 0) {
		fprintf(stderr, "  got:  %s\n  want: %s\n", logbuf, want);
		return 0;
	}
	for (i = 0; i < n; i++) {
		size_t len = c[i].len ? c[i].len : strlen(c[i].text);

		for (at = 1; at < len; at++) {
			run(c, n, i, at, implicit);
			if (strcmp(logbuf, want) != 0) {
				fprintf(stderr, "  cut chunk %zu at %zu:\n"
				    "  got:  %s\n  want: %s\n", i, at, logbuf,
				    want);
				return 0;
			}
		}
	}
	return 1;
}

#define EHLO_REPLY_TLS \
	"250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n" \
	"250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"

static const char tls_hello[] = "\x16\x03\x01\x00\x05hello";

static void
test_starttls_clean(void)
{
	const struct chunk c[] = {
		{ 1, "220 mx.example.test ESMTP Postfix\r\n", 0 },
		{ 0, "EHLO client.test\r\n", 0 },
		{ 1, EHLO_REPLY_TLS, 0 },
		{ 0, "STARTTLS\r\n", 0 },
		{ 1, "220 2.0.0 Ready to start TLS\r\n", 0 },
		{ 0, tls_hello, 10 },
		{ 1, tls_hello, 10 },
	};

	CHECK(same_everywhere(c, 7, "BANNER  220|CMD EHLO client.test|"
	    "REPLY EHLO 250 PIPELINING SIZE STARTTLS AUTH 8BITMIME|"
	    "CMD STARTTLS|REPLY STARTTLS 220|TLS 0|TLS 1|", false));
}

/*
 * Every byte from each direction's first TLS record on goes to the TLS
 * parser, in order, however the stream was cut: the held record-type
 * byte too.
 */
static void
test_tls_data(void)
{
	static const char more[] = "\x17\x03\x03\x00\x02" "ab";
	const struct chunk c[] = {
		{ 1, "220 mx.example.test ESMTP\r\n", 0 },
		{ 0, "EHLO client.test\r\n", 0 },
		{ 1, EHLO_REPLY_TLS, 0 },
		{ 0, "STARTTLS\r\n", 0 },
		{ 1, "220 2.0.0 Ready to start TLS\r\n", 0 },
		{ 0, tls_hello, 10 },
		{ 0, more, 7 },
		{ 1, tls_hello, 10 },	/* both TLS: the caller takes over */
	};
	size_t i, at, len;

	for (i = 0; i < 8; i++) {
		len = c[i].len ? c[i].len : strlen(c[i].text);
		for (at = 0; at < len; at++) {
			run(c, 8, i, at, false);
			CHECK_EQ_U(tlslen[0], 17);
			CHECK(memcmp(tlsbuf[0], tls_hello, 10) == 0);
			CHECK(memcmp(tlsbuf[0] + 10, more, 7) == 0);
			CHECK_EQ_U(tlslen[1], 10);
			CHECK(memcmp(tlsbuf[1], tls_hello, 10) == 0);
		}
	}
}

/* XXXXXXXA in place of STARTTLS is just another keyword to the dissector. */
static void
test_stripped_keyword(void)
{
	const struct chunk c[] = {
		{ 1, "220 mx ESMTP\r\n", 0 },
		{ 0, "ehlo c\r\n", 0 },
		{ 1, "250-mx\r\n250-XXXXXXXA\r\n250 8BITMIME\r\n", 0 },
		{ 0, "MAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.test>\r\n"
		    "DATA\r\n", 0 },
		{ 1, "250 ok\r\n250 ok\r\n354 go\r\n", 0 },
		{ 0, "Subject: x\r\n\r\nbody\r\n..dot\r\n.\r\n", 0 },
		{ 1, "250 queued\r\n", 0 },
		{ 0, "QUIT\r\n", 0 },
		{ 1, "221 bye\r\n", 0 },
	};

	CHECK(same_everywhere(c, 9, "BANNER  220|CMD ehlo c|"
	    "REPLY EHLO 250 XXXXXXXA 8BITMIME|CMD MAIL FROM:<a@b.test>|"
	    "CMD RCPT TO:<u@example.test>|CMD DATA|REPLY MAIL 250|"
	    "REPLY RCPT 250|REPLY DATA 354|DATA_DONE 27|REPLY DATA 250|"
	    "CMD QUIT|REPLY QUIT 221|", false));
}

/*
 * A message is only scanned for its end: lines that begin like it (".x",
 * ".\r\r"), dot-stuffing, bare LFs and a line longer than any kept are
 * all message bytes, counted as sent, and what follows the end is parsed.
 */
static void
test_message_lines(void)
{
	static char body[SMTP_LINE_MAX + 200], want[512];
	struct chunk c[] = {
		{ 1, "220 mx\r\n", 0 },
		{ 0, "HELO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@c.test>\r\n"
		    "DATA\r\n", 0 },
		{ 1, "250 hi\r\n250 ok\r\n250 ok\r\n354 go\r\n", 0 },
		{ 0, body, 0 },
		{ 1, "250 queued\r\n221 bye\r\n", 0 },
	};
	static const char head[] = ".x\r\n.\r\r\n..\r\n\r\n\nbare lf\n.";
	static const char tail[] = "\r\n.\r\nQUIT\r\n";
	size_t n;

	memcpy(body, head, sizeof(head) - 1);
	n = sizeof(head) - 1;
	memset(body + n, 'y', SMTP_LINE_MAX + 10);
	n += SMTP_LINE_MAX + 10;
	memcpy(body + n, tail, sizeof(tail));
	snprintf(want, sizeof(want), "BANNER  220|CMD HELO c|"
	    "CMD MAIL FROM:<a@b.test>|CMD RCPT TO:<u@c.test>|CMD DATA|"
	    "REPLY HELO 250|REPLY MAIL 250|REPLY RCPT 250|REPLY DATA 354|"
	    "DATA_DONE %zu|CMD QUIT|REPLY DATA 250|REPLY QUIT 221|", n + 2);
	CHECK(same_everywhere(c, 5, want, false));
}

static void
test_starttls_rejected_then_plain(void)
{
	const struct chunk c[] = {
		{ 1, "220 mx ESMTP\r\n", 0 },
		{ 0, "EHLO c\r\n", 0 },
		{ 1, "250-mx\r\n250 STARTTLS\r\n", 0 },
		{ 0, "STARTTLS\r\n", 0 },
		{ 1, "454 4.7.0 TLS not available\r\n", 0 },
		{ 0, "MAIL FROM:<a@b>\r\n", 0 },
		{ 1, "250 ok\r\n", 0 },
	};

	CHECK(same_everywhere(c, 7, "BANNER  220|CMD EHLO c|"
	    "REPLY EHLO 250 STARTTLS|CMD STARTTLS|REPLY STARTTLS 454|"
	    "CMD MAIL FROM:<a@b>|REPLY MAIL 250|", false));
}

/* Bytes after STARTTLS in the client's segment: a command injection. */
static void
test_command_injection(void)
{
	const struct chunk c[] = {
		{ 1, "220 mx ESMTP\r\n", 0 },
		{ 0, "EHLO c\r\n", 0 },
		{ 1, "250-mx\r\n250 STARTTLS\r\n", 0 },
		{ 0, "STARTTLS\r\nMAIL FROM:<evil@x>\r\n", 0 },
		{ 1, "220 go ahead\r\n", 0 },
		{ 0, tls_hello, 10 },
		{ 1, tls_hello, 10 },
	};

	CHECK(same_everywhere(c, 7, "BANNER  220|CMD EHLO c|"
	    "REPLY EHLO 250 STARTTLS|CMD STARTTLS|INJECT MAIL FROM:<evil@x> 0|"
	    "CMD MAIL FROM:<evil@x>|REPLY STARTTLS 220|TLS 0|TLS 1|", false));
}

/* A ClientHello captured before the 220 is still TLS, not clear text. */
static void
test_hello_before_220(void)
{
	const struct chunk c[] = {
		{ 1, "220 mx ESMTP\r\n", 0 },
		{ 0, "EHLO c\r\n", 0 },
		{ 1, "250-mx\r\n250 STARTTLS\r\n", 0 },
		{ 0, "STARTTLS\r\n", 0 },
		{ 0, tls_hello, 10 },
		{ 1, "220 go ahead\r\n", 0 },
		{ 0, "\x00\x01\x02more hello", 13 },
		{ 1, tls_hello, 10 },
	};

	CHECK(same_everywhere(c, 8, "BANNER  220|CMD EHLO c|"
	    "REPLY EHLO 250 STARTTLS|CMD STARTTLS|TLS 0|REPLY STARTTLS 220|"
	    "TLS 1|", false));
}

/* Bytes after the 220 in the server's segment: a response injection. */
static void
test_response_injection(void)
{
	const struct chunk c[] = {
		{ 1, "220 mx ESMTP\r\n", 0 },
		{ 0, "EHLO c\r\n", 0 },
		{ 1, "250-mx\r\n250 STARTTLS\r\n", 0 },
		{ 0, "STARTTLS\r\n", 0 },
		{ 1, "220 go ahead\r\n250 fake\r\n", 0 },
		{ 0, tls_hello, 10 },
		{ 1, tls_hello, 10 },
	};

	CHECK(same_everywhere(c, 7, "BANNER  220|CMD EHLO c|"
	    "REPLY EHLO 250 STARTTLS|CMD STARTTLS|REPLY STARTTLS 220|"
	    "INJECT 250 fake 1|TLS 0|TLS 1|", false));
}

/* 220 to STARTTLS, then the client goes on in clear. */
static void
test_no_tls_after_220(void)
{
	const struct chunk c[] = {
		{ 1, "220 mx ESMTP\r\n", 0 },
		{ 0, "EHLO c\r\n", 0 },
		{ 1, "250-mx\r\n250 STARTTLS\r\n", 0 },
		{ 0, "STARTTLS\r\n", 0 },
		{ 1, "220 2.0.0 SMTP server ready\r\n", 0 },
		{ 0, "EHLO c\r\n", 0 },
		{ 1, "250-mx\r\n250 AUTH LOGIN\r\n", 0 },
	};

	CHECK(same_everywhere(c, 7, "BANNER  220|CMD EHLO c|"
	    "REPLY EHLO 250 STARTTLS|CMD STARTTLS|REPLY STARTTLS 220|"
	    "NOT_TLS 0|CMD EHLO c|REPLY EHLO 250 AUTH|", false));
}

/* AUTH: the mechanism is reported; the exchange never is. */
static void
test_auth_redacted(void)
{
	const struct chunk c[] = {
		{ 1, "220 mx ESMTP\r\n", 0 },
		{ 0, "AUTH PLAIN dXNlcgB1c2VyAHNlY3JldA==\r\n", 0 },
		{ 1, "235 ok\r\n", 0 },
		{ 0, "AUTH LOGIN\r\n", 0 },
		{ 1, "334 VXNlcm5hbWU6\r\n", 0 },
		{ 0, "dXNlcg==\r\n", 0 },
		{ 1, "334 UGFzc3dvcmQ6\r\n", 0 },
		{ 0, "c2VjcmV0\r\n", 0 },
		{ 1, "235 2.7.0 ok\r\n", 0 },
		{ 0, "QUIT\r\n", 0 },
	};

	CHECK(same_everywhere(c, 10, "BANNER  220|CMD AUTH PLAIN|"
	    "REPLY AUTH 235|CMD AUTH LOGIN|REPLY AUTH 334|REPLY AUTH 334|"
	    "REPLY AUTH 235|CMD QUIT|", false));
	CHECK(strstr(logbuf, "dXNl") == NULL && strstr(logbuf, "c2Vj") == NULL);
}

/* A TLS type byte followed by clear text is clear text, however cut. */
static void
test_type_byte_then_clear(void)
{
	const struct chunk c[] = {
		{ 1, "220 mx ESMTP\r\n", 0 },
		{ 0, "EHLO c\r\n", 0 },
		{ 1, "250-mx\r\n250 STARTTLS\r\n", 0 },
		{ 0, "STARTTLS\r\n", 0 },
		{ 1, "220 go ahead\r\n", 0 },
		{ 0, "\x16", 0 },
		{ 0, "EHLO c\r\n", 0 },
	};

	CHECK(same_everywhere(c, 7, "BANNER  220|CMD EHLO c|"
	    "REPLY EHLO 250 STARTTLS|CMD STARTTLS|REPLY STARTTLS 220|"
	    "NOT_TLS 0|CMD \x16" "EHLO c|", false));
}

/* A tab after AUTH or its mechanism hides nothing: still redacted. */
static void
test_auth_tab(void)
{
	const struct chunk c[] = {
		{ 1, "220 mx ESMTP\r\n", 0 },
		{ 0, "AUTH\tPLAIN\tc2VjcmV0\r\n", 0 },
		{ 1, "235 ok\r\n", 0 },
	};

	CHECK(same_everywhere(c, 3, "BANNER  220|CMD AUTH\tPLAIN|"
	    "REPLY AUTH 235|", false));
	CHECK(strstr(logbuf, "c2Vj") == NULL);
}

/* Bytes lost where TLS should begin: that direction is not judged. */
static void
test_gap_in_handover(void)
{
	struct smtp_session *s = smtp_new(false);
	static const char *const lines[] = { "220 mx\r\n", "EHLO c\r\n",
	    "250 STARTTLS\r\n", "STARTTLS\r\n", "220 go\r\n" };
	int i;

	logbuf[0] = '\0';
	for (i = 0; i < 5; i++)
		smtp_feed(s, i % 2 == 0, (const uint8_t *)lines[i],
		    strlen(lines[i]), 1, &sink);
	smtp_gap(s, 0, 50, &sink);
	smtp_feed(s, 0, (const uint8_t *)"mid-hello bytes\r\n", 17, 2, &sink);
	CHECK(strstr(logbuf, "NOT_TLS") == NULL);
	CHECK(smtp_incomplete(s));
	smtp_free(s);
}

/* BDAT chunks are counted, not parsed: a chunk holding "QUIT" is data. */
static void
test_bdat(void)
{
	const struct chunk c[] = {
		{ 1, "220 mx ESMTP\r\n", 0 },
		{ 0, "BDAT 12\r\nQUIT\r\nRSET\r\nBDAT 0 LAST\r\n", 0 },
		{ 1, "250 ok\r\n250 ok\r\n", 0 },
	};

	CHECK(same_everywhere(c, 3, "BANNER  220|CMD BDAT 12|"
	    "CMD BDAT 0 LAST|REPLY BDAT 250|REPLY BDAT 250|", false));
}

/* Bare LF line ends and lower-case verbs (as in a public capture). */
static void
test_bare_lf(void)
{
	const struct chunk c[] = {
		{ 0, "staRttLs\n", 0 },
		{ 1, "220 ok\n", 0 },
	};

	CHECK(same_everywhere(c, 2, "CMD staRttLs|BANNER  220|", false));
}

static void
test_implicit_tls(void)
{
	const struct chunk c[] = {
		{ 0, tls_hello, 10 },
		{ 1, tls_hello, 10 },
	};

	CHECK(same_everywhere(c, 2, "TLS 0|TLS 1|", true));
}

static void
test_not_smtp(void)
{
	struct smtp_session *s = smtp_new(false);
	static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

	logbuf[0] = '\0';
	CHECK(smtp_feed(s, 0, (const uint8_t *)get, strlen(get), 1, &sink) ==
	    SMTP_DONE);
	CHECK(!smtp_recognised(s));
	CHECK(logbuf[0] == '\0');
	smtp_free(s);
}

/*
 * smtp_rules_out() is the first-bytes judgement smtp_feed() makes: a
 * reply opens with a digit 1-5, a command with a letter, anything goes on
 * the implicit-TLS port; every opening ruled out ends a new session at
 * once with nothing said, and none of the ways a session opens is.
 */
static void
test_rules_out(void)
{
	static const char *open[][2] = {	/* client, server */
		{ "EHLO c\r\n", "220 mx ESMTP\r\n" },
		{ "helo c\r\n", "554 go away\r\n" },
		{ "QUIT\r\n", "421-busy\r\n" },
	};
	uint8_t b[3];
	size_t i;
	int c, dir, imp;

	for (imp = 0; imp < 2; imp++)
		for (dir = 0; dir < 2; dir++)
			for (c = 0; c < 256; c++) {
				struct smtp_session *s = smtp_new(imp);

				b[0] = (uint8_t)c;
				b[1] = '\r';
				b[2] = '\n';
				logbuf[0] = '\0';
				bool can = imp || (dir == 1 ?
				    c >= '1' && c <= '5' :
				    (c >= 'a' && c <= 'z') ||
				    (c >= 'A' && c <= 'Z'));

				CHECK(smtp_rules_out(dir, b, sizeof(b), imp) ==
				    !can);
				if (!can) {
					CHECK(smtp_feed(s, dir, b, sizeof(b), 1,
					    &sink) == SMTP_DONE);
					CHECK(logbuf[0] == '\0');
					CHECK(!smtp_recognised(s));
				}
				smtp_free(s);
			}
	for (i = 0; i < sizeof(open) / sizeof(open[0]); i++)
		for (dir = 0; dir < 2; dir++)
			CHECK(!smtp_rules_out(dir, (const uint8_t *)open[i][dir],
			    strlen(open[i][dir]), false));
	b[0] = 0x16;		/* a TLS handshake record */
	CHECK(smtp_rules_out(0, b, 1, false));
	CHECK(smtp_rules_out(1, b, 1, false));
	CHECK(!smtp_rules_out(0, b, 1, true));	/* port 465 */
	CHECK(!smtp_rules_out(0, b, 0, false));	/* nothing to judge */
	CHECK(smtp_rules_out(0, (const uint8_t *)"\0\x1c", 2, false)); /* DNS */
	CHECK(smtp_rules_out(1, (const uint8_t *)"HTTP/1.1", 8, false));
}

/* An overlong line is reported once and the next line is parsed. */
static void
test_long_line(void)
{
	struct smtp_session *s = smtp_new(false);
	static char big[10000];

	logbuf[0] = '\0';
	memset(big, 'A', sizeof(big));
	smtp_feed(s, 1, (const uint8_t *)"220 mx\r\n", 8, 1, &sink);
	smtp_feed(s, 0, (const uint8_t *)big, sizeof(big), 2, &sink);
	smtp_feed(s, 0, (const uint8_t *)big, sizeof(big), 3, &sink);
	smtp_feed(s, 0, (const uint8_t *)"\r\nQUIT\r\n", 8, 4, &sink);
	CHECK(strcmp(logbuf, "BANNER  220|LONG 0|CMD QUIT|") == 0);
	CHECK(smtp_incomplete(s));
	smtp_free(s);
}

/* More pipelined commands than the FIFO holds: reported, bounded. */
static void
test_pipeline_overflow(void)
{
	struct smtp_session *s = smtp_new(false);
	int i;

	logbuf[0] = '\0';
	smtp_feed(s, 1, (const uint8_t *)"220 mx\r\n", 8, 1, &sink);
	for (i = 0; i < 100; i++)
		smtp_feed(s, 0, (const uint8_t *)"NOOP\r\n", 6, 2, &sink);
	CHECK(strstr(logbuf, "OVERFLOW") != NULL);
	CHECK(smtp_incomplete(s));
	smtp_free(s);
}

/* After a gap the partial line is dropped and parsing resumes. */
static void
test_gap(void)
{
	struct smtp_session *s = smtp_new(false);

	logbuf[0] = '\0';
	smtp_feed(s, 1, (const uint8_t *)"220 mx\r\n", 8, 1, &sink);
	smtp_feed(s, 0, (const uint8_t *)"EHLO pa", 7, 2, &sink);
	smtp_gap(s, 0, 100, &sink);
	smtp_feed(s, 0, (const uint8_t *)"rt\r\nQUIT\r\n", 10, 3, &sink);
	CHECK(strcmp(logbuf, "BANNER  220|GAP 0|CMD QUIT|") == 0);
	CHECK(smtp_incomplete(s));
	smtp_free(s);
}

int
main(void)
{
	RUN(test_starttls_clean);
	RUN(test_stripped_keyword);
	RUN(test_message_lines);
	RUN(test_starttls_rejected_then_plain);
	RUN(test_command_injection);
	RUN(test_hello_before_220);
	RUN(test_response_injection);
	RUN(test_no_tls_after_220);
	RUN(test_auth_redacted);
	RUN(test_type_byte_then_clear);
	RUN(test_auth_tab);
	RUN(test_gap_in_handover);
	RUN(test_bdat);
	RUN(test_bare_lf);
	RUN(test_implicit_tls);
	RUN(test_not_smtp);
	RUN(test_rules_out);
	RUN(test_long_line);
	RUN(test_pipeline_overflow);
	RUN(test_gap);
	RUN(test_tls_data);
	return check_done("smtp");
}
