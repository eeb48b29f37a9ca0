/*
 * monitor.c - one run of the pipeline: capture -> decode -> flow table
 * (reassembly, classification) -> store.  The only file that includes
 * every stage's header.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "config.h"
#include "capture/capture.h"
#include "capture/decode.h"
#include "dissect/classify.h"
#include "dissect/flow.h"
#include "dissect/smtp.h"
#include "detect/detect.h"
#include "detect/expect.h"
#include "store/json.h"
#include "store/store.h"
#include "monitor.h"

#define MONITOR_FLUSH_US	1000000	/* live: commit at least this often */

struct run {
	const struct monitor_opts *o;
	struct store	*store;
	struct json_feed *json;		/* NULL without --json */
	struct expect	*expect;	/* NULL without --expect-starttls */
	int64_t		 run_id;
	bool		 store_failed;
	uint64_t	 now_ts;	/* pcap time of the packet at hand */
	uint64_t	 tcp, malformed, fragments, bad_cksum;
	uint64_t	 first_ts, last_ts;
	uint64_t	 sessions, alerts;
};

/* What the SMTP stages hang on a flow. */
struct app {
	struct smtp_session	*smtp;		/* NULL once done */
	struct detect_session	*det;		/* NULL until an SMTP event */
	int64_t			 session_id;	/* 0 until recognised */
};

/* Context of one detect call: the run, the flow, its endpoints as text. */
struct judge {
	struct run		*run;
	struct flow		*flow;
	struct app		*app;
	const struct flow_record *rec;
	char			 cip[INET6_ADDRSTRLEN], sip[INET6_ADDRSTRLEN];
	uint64_t		 ts;
};

static struct capture *running;	/* for the signal handler */

static void
on_signal(int sig)
{
	(void)sig;
	if (running != NULL)
		capture_stop(running);
}

void
monitor_opts_default(struct monitor_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->db = "stripwatch.db";
	o->verify = o->classify = true;
	flow_limits_default(&o->lim);
}

static uint64_t
wall_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

static void
hex(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static void store_failed(struct run *);

/* Commits the database, then lets the feed out what it now holds. */
static bool
commit(struct run *run)
{
	if (run->store_failed || !store_flush(run->store)) {
		store_failed(run);
		json_discard(run->json);
		return false;
	}
	if (!json_commit(run->json)) {
		fprintf(stderr, "stripwatch: JSON feed: write failed\n");
		return false;
	}
	return true;
}

static void
store_failed(struct run *run)
{
	if (!run->store_failed)
		fprintf(stderr, "stripwatch: database: %s\n",
		    store_error(run->store));
	run->store_failed = true;
}

static const char *
source_name(const struct run *run, uint32_t source)
{
	if (run->o->iface != NULL)
		return run->o->iface;
	return source < run->o->nfiles ? run->o->files[source] : "";
}

static void on_smtp_event(void *, const struct smtp_event *);

/*
 * Sets up a judge and the SMTP sink that reports to it.  The endpoints
 * are formatted only when something is written (judge_addrs), not for
 * every segment.
 */
static void
judge_init(struct judge *j, struct smtp_sink *sink, struct run *run,
    struct flow *f, uint64_t ts)
{
	j->run = run;
	j->flow = f;
	j->app = *flow_user(f);
	j->rec = flow_peek(f);
	j->ts = ts;
	j->cip[0] = j->sip[0] = '\0';
	sink->event = on_smtp_event;
	sink->ctx = j;
}

static void
judge_addrs(struct judge *j)
{
	int af = j->rec->family == 6 ? AF_INET6 : AF_INET;

	if (j->cip[0] != '\0')
		return;
	inet_ntop(af, j->rec->ip[0], j->cip, sizeof(j->cip));
	inet_ntop(af, j->rec->ip[1], j->sip, sizeof(j->sip));
}

static bool
hook_offered_before(void *ctx, const char *host)
{
	struct judge *j = ctx;

	judge_addrs(j);
	return store_server_offered_before(j->run->store, j->sip,
	    j->rec->port[1], host);
}

static bool
hook_expected(void *ctx)
{
	struct judge *j = ctx;

	return expect_match(j->run->expect, j->rec->family, j->rec->ip[1]);
}

static void
hook_offered(void *ctx, const char *host, bool offered)
{
	struct judge *j = ctx;

	judge_addrs(j);
	if (!store_server_record(j->run->store, j->sip, j->rec->port[1], host,
	    offered, j->ts))
		store_failed(j->run);
}

static void
hook_alert(void *ctx, const struct alert *a)
{
	struct judge *j = ctx;
	struct store_alert sa;
	int64_t id;

	judge_addrs(j);
	memset(&sa, 0, sizeof(sa));
	sa.kind = alert_kind_name(a->kind);
	sa.severity = alert_severity_name(a->severity);
	sa.ts = j->ts;
	sa.client_ip = j->cip;
	sa.client_port = j->rec->port[0];
	sa.server_ip = j->sip;
	sa.server_port = j->rec->port[1];
	sa.session_id = j->app->session_id;
	sa.source = source_name(j->run, j->rec->first_source);
	sa.frame = a->frame;
	sa.evidence = a->evidence;
	j->run->alerts++;
	if ((id = store_alert(j->run->store, j->run->run_id, &sa)) < 0) {
		store_failed(j->run);
		return;
	}
	if (j->run->json != NULL && !json_queue(j->run->json, id, &sa))
		fprintf(stderr, "stripwatch: JSON feed: out of memory\n");
}

static const struct detect_hooks detect_hooks_proto = {
	hook_offered_before, hook_expected, hook_offered, hook_alert, NULL
};

/* A recognised SMTP session gets its row before its first alert. */
static void
session_begin(struct judge *j)
{
	struct store_session ss;

	judge_addrs(j);
	memset(&ss, 0, sizeof(ss));
	ss.client_ip = j->cip;
	ss.server_ip = j->sip;
	ss.client_port = j->rec->port[0];
	ss.server_port = j->rec->port[1];
	ss.first_ts = j->rec->first_ts;
	ss.flow_id = j->rec->id;
	if ((j->app->session_id = store_session_begin(j->run->store,
	    j->run->run_id, &ss)) < 0) {
		j->app->session_id = 0;
		store_failed(j->run);
		return;
	}
	j->run->sessions++;
}

static void
on_smtp_event(void *ctx, const struct smtp_event *ev)
{
	struct judge *j = ctx;
	struct detect_hooks h = detect_hooks_proto;

	/* Judgement state only for what turned out to be SMTP. */
	if (j->app->det == NULL &&
	    (j->app->det = detect_session_new()) == NULL)
		return;
	if (j->app->session_id == 0)
		session_begin(j);
	h.ctx = j;
	detect_event(j->app->det, ev, &h);
}

static struct app *
app_get(struct flow *f)
{
	struct app *a = *flow_user(f);
	const struct flow_record *r;

	if (a != NULL)
		return a;
	r = flow_peek(f);
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->smtp = smtp_new(r->port[1] == 465)) == NULL) {
		free(a);
		return NULL;
	}
	*flow_user(f) = a;
	return a;
}

static void
on_flow_data(void *ctx, struct flow *f, int dir, const uint8_t *buf,
    size_t len, uint64_t frame)
{
	struct run *run = ctx;
	struct app *a = app_get(f);
	struct smtp_sink sink;
	struct judge j;

	if (a == NULL || a->smtp == NULL)
		return;
	judge_init(&j, &sink, run, f, run->now_ts);
	if (smtp_feed(a->smtp, dir, buf, len, frame, &sink) == SMTP_DONE) {
		smtp_free(a->smtp);	/* TLS both ways, or not SMTP */
		a->smtp = NULL;
	}
}

static void
on_flow_gap(void *ctx, struct flow *f, int dir, uint64_t len)
{
	struct run *run = ctx;
	struct app *a = *flow_user(f);
	struct smtp_sink sink;
	struct judge j;

	if (a == NULL || a->smtp == NULL)
		return;
	judge_init(&j, &sink, run, f, run->now_ts);
	smtp_gap(a->smtp, dir, len, &sink);
}

/* Ends the SMTP session of a closing flow: last alerts, the session row. */
static void
app_close(struct run *run, struct flow *f, const struct flow_record *r)
{
	struct app *a = *flow_user(f);
	struct detect_hooks h = detect_hooks_proto;
	struct detect_summary sum;
	struct store_session ss;
	struct smtp_sink sink;
	struct judge j;
	bool incomplete;

	if (a == NULL)
		return;
	if (a->session_id > 0 && a->det != NULL) {
		judge_init(&j, &sink, run, f, r->last_ts);
		h.ctx = &j;
		incomplete = (a->smtp != NULL && smtp_incomplete(a->smtp)) ||
		    r->gaps[0] > 0 || r->gaps[1] > 0 || r->packets[0] == 0 ||
		    r->packets[1] == 0;
		detect_session_end(a->det, r->conflicts, r->last_frame, &h,
		    &sum);
		memset(&ss, 0, sizeof(ss));
		ss.last_ts = r->last_ts;
		ss.banner_host = sum.banner_host;
		ss.ehlo_name = sum.ehlo_name;
		ss.capabilities = sum.capabilities;
		ss.rcpt_domains = sum.rcpt_domains;
		ss.auth_mech = sum.auth_mech;
		ss.outcome = sum.outcome;
		ss.starttls_offered = sum.starttls_offered;
		ss.starttls_sent = sum.starttls_sent;
		ss.starttls_reply = sum.starttls_reply;
		ss.tls = sum.tls;
		ss.mail_in_clear = sum.mail_in_clear;
		ss.complete = !incomplete;
		if (!store_session_end(run->store, a->session_id, &ss))
			store_failed(run);
	}
	smtp_free(a->smtp);
	detect_session_free(a->det);
	free(a);
	*flow_user(f) = NULL;
}

static void
on_flow_close(void *ctx, struct flow *f, const struct flow_record *r)
{
	struct run *run = ctx;
	char cip[INET6_ADDRSTRLEN], sip[INET6_ADDRSTRLEN];
	char sha[2][65];
	struct store_flow sf;
	int af = r->family == 6 ? AF_INET6 : AF_INET;

	app_close(run, f, r);
	if (run->store_failed)
		return;
	inet_ntop(af, r->ip[0], cip, sizeof(cip));
	inet_ntop(af, r->ip[1], sip, sizeof(sip));
	hex(sha[0], r->sha256[0], 32);
	hex(sha[1], r->sha256[1], 32);
	memset(&sf, 0, sizeof(sf));
	sf.client_ip = cip;
	sf.server_ip = sip;
	sf.client_port = r->port[0];
	sf.server_port = r->port[1];
	sf.first_ts = r->first_ts;
	sf.last_ts = r->last_ts;
	sf.first_source = r->first_source;
	sf.first_frame = r->first_frame;
	sf.last_frame = r->last_frame;
	sf.protocol = r->protocol;
	memcpy(sf.packets, r->packets, sizeof(sf.packets));
	memcpy(sf.bytes, r->bytes, sizeof(sf.bytes));
	memcpy(sf.gap_bytes, r->gap_bytes, sizeof(sf.gap_bytes));
	memcpy(sf.gaps, r->gaps, sizeof(sf.gaps));
	sf.conflicts = r->conflicts;
	sf.sha256[0] = sha[0];
	sf.sha256[1] = sha[1];
	sf.close_reason = flow_close_reason_name(r->reason);
	sf.syn_seen = r->syn_seen;
	if (!store_flow(run->store, run->run_id, &sf))
		store_failed(run);
}

static void
fill_run(struct store_run *sr, const struct run *run, struct capture *cap,
    const struct flow_stats *fs)
{
	struct capture_stats cs;

	capture_stats(cap, &cs);
	sr->ended = wall_us();
	sr->first_ts = run->first_ts;
	sr->last_ts = run->last_ts;
	sr->packets = cs.packets;
	sr->bytes = cs.bytes;
	sr->tcp_packets = run->tcp;
	sr->truncated = cs.truncated;
	sr->damaged = cs.damaged;
	sr->malformed = run->malformed;
	sr->fragments = run->fragments;
	sr->bad_checksums = run->bad_cksum;
	sr->drops = cs.drops;
	sr->ifdrops = cs.ifdrops;
	sr->flows = fs->flows;
	sr->evicted = fs->evicted;
	sr->flows_peak = fs->peak;
	sr->mem_peak = fs->mem_peak;
}

static void
summary(const struct store_run *sr, const struct flow_stats *fs)
{
	fprintf(stderr, "stripwatch: %s: %llu packets (%llu TCP), %llu bytes, "
	    "%llu flows (peak %llu, evicted %llu)\n", sr->source,
	    (unsigned long long)sr->packets, (unsigned long long)sr->tcp_packets,
	    (unsigned long long)sr->bytes, (unsigned long long)sr->flows,
	    (unsigned long long)sr->flows_peak,
	    (unsigned long long)sr->evicted);
	fprintf(stderr, "stripwatch: bad checksums %llu, snaplen-cut %llu, "
	    "malformed %llu, IP fragments %llu, damaged files %llu, "
	    "kernel drops %llu, interface drops %llu\n",
	    (unsigned long long)sr->bad_checksums,
	    (unsigned long long)sr->truncated,
	    (unsigned long long)sr->malformed,
	    (unsigned long long)sr->fragments,
	    (unsigned long long)sr->damaged, (unsigned long long)sr->drops,
	    (unsigned long long)sr->ifdrops);
	fprintf(stderr, "stripwatch: reassembly peak %llu bytes, holes given "
	    "up at caps %llu, retransmitted bytes unverified %llu\n",
	    (unsigned long long)fs->mem_peak,
	    (unsigned long long)fs->cap_skips,
	    (unsigned long long)fs->unverified);
}

int
monitor_run(const struct monitor_opts *mo)
{
	const struct monitor_opts o = *mo;
	struct capture_opts co;
	struct capture *cap;
	struct classify *cls = NULL;
	struct flow_table *ft;
	struct flow_hooks hooks;
	struct flow_stats fs;
	struct store_run sr;
	struct run run;
	struct sigaction sa, old_int, old_term;
	char err[512];
	enum capture_result cr;
	uint64_t flushed = 0, polls = 0;
	bool failed = false;

	memset(&co, 0, sizeof(co));
	co.iface = o.iface;
	co.files = o.files;
	co.nfiles = o.nfiles;
	co.filter = o.filter;
	co.snaplen = o.snaplen;
	co.buffer_kb = o.buffer_kb;
	co.immediate = o.immediate;
	if ((cap = capture_open(&co, err, sizeof(err))) == NULL) {
		fprintf(stderr, "stripwatch: %s\n", err);
		return MONITOR_EXIT_ERROR;
	}
	memset(&run, 0, sizeof(run));
	run.o = mo;
	if ((o.expect_file != NULL && (run.expect = expect_load(o.expect_file,
	    err, sizeof(err))) == NULL) || (o.json != NULL &&
	    (run.json = json_open(o.json, err, sizeof(err))) == NULL) ||
	    (run.store = store_open(o.db, err, sizeof(err))) == NULL) {
		fprintf(stderr, "stripwatch: %s\n", err);
		expect_free(run.expect);
		json_close(run.json);
		capture_close(cap);
		return MONITOR_EXIT_ERROR;
	}
	memset(&sr, 0, sizeof(sr));
	sr.source = capture_source(cap);
	sr.started = wall_us();
	sr.status = "running";
	if ((run.run_id = store_run_begin(run.store, &sr)) < 0 ||
	    !store_flush(run.store)) {
		fprintf(stderr, "stripwatch: %s: %s\n", o.db,
		    store_error(run.store));
		store_close(run.store);
		capture_close(cap);
		return MONITOR_EXIT_ERROR;
	}
	if (o.classify && (cls = classify_new()) == NULL)
		fprintf(stderr, "stripwatch: nDPI failed to start; flows stay "
		    "unclassified\n");
	memset(&hooks, 0, sizeof(hooks));
	hooks.data = on_flow_data;
	hooks.gap = on_flow_gap;
	hooks.close = on_flow_close;
	hooks.ctx = &run;
	if ((ft = flow_table_new(&o.lim, cls, &hooks)) == NULL) {
		fprintf(stderr, "stripwatch: out of memory\n");
		classify_free(cls);
		store_close(run.store);
		json_close(run.json);
		expect_free(run.expect);
		capture_close(cap);
		return MONITOR_EXIT_ERROR;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	running = cap;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	for (;;) {
		struct capture_frame fr;
		struct packet p;
		enum decode_result dr;

		cr = capture_next(cap, &fr, err, sizeof(err));
		if (err[0] != '\0')
			fprintf(stderr, "stripwatch: %s\n", err);
		/* Live, rows reach the disk within a second of their close. */
		if (o.iface != NULL && (cr == CAPTURE_AGAIN || ++polls % 64 == 0) &&
		    wall_us() - flushed > MONITOR_FLUSH_US) {
			flushed = wall_us();
			if (!commit(&run))
				break;
		}
		if (cr == CAPTURE_AGAIN)
			continue;
		if (cr != CAPTURE_FRAME)
			break;
		if (run.first_ts == 0)
			run.first_ts = fr.ts_us;
		if (fr.ts_us > run.last_ts)
			run.last_ts = fr.ts_us;
		dr = decode_frame(fr.dlt, fr.data, fr.caplen, fr.wirelen,
		    o.verify, &p);
		switch (dr) {
		case DECODE_TCP:
			break;
		case DECODE_MALFORMED:
			run.malformed++;
			continue;
		case DECODE_FRAGMENT:
			run.fragments++;
			continue;
		case DECODE_TRUNCATED:	/* counted as a snaplen cut */
		case DECODE_NOT_TCP:
			continue;
		}
		run.tcp++;
		if (p.cksum_bad)
			run.bad_cksum++;
		p.ts_us = fr.ts_us;
		p.frame = fr.frame;
		p.source = fr.source;
		run.now_ts = p.ts_us;
		flow_table_packet(ft, &p);
		if (run.store_failed)
			break;
	}
	running = NULL;
	sigaction(SIGINT, &old_int, NULL);	/* the caller's again */
	sigaction(SIGTERM, &old_term, NULL);
	if (cr == CAPTURE_ERROR) {
		fprintf(stderr, "stripwatch: %s\n", err);
		failed = true;
	}
	flow_table_stats(ft, &fs);
	flow_table_free(ft);
	fs.active = 0;
	classify_free(cls);

	fill_run(&sr, &run, cap, &fs);
	if (run.store_failed || failed)
		sr.status = "failed";
	else if (sr.damaged > 0)
		sr.status = "damaged";
	else
		sr.status = "complete";
	if (!store_run_update(run.store, run.run_id, &sr))
		store_failed(&run);
	if (!commit(&run))
		failed = true;
	store_close(run.store);
	json_close(run.json);
	expect_free(run.expect);
	if (!o.quiet) {
		summary(&sr, &fs);
		fprintf(stderr, "stripwatch: %llu SMTP sessions, %llu alerts\n",
		    (unsigned long long)run.sessions,
		    (unsigned long long)run.alerts);
	}
	capture_close(cap);
	if (failed || run.store_failed)
		return MONITOR_EXIT_ERROR;
	return sr.damaged > 0 ? MONITOR_EXIT_DAMAGED : MONITOR_EXIT_OK;
}
