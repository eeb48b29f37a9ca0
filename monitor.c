/*
 * monitor.c - one run of the pipeline: capture -> decode -> flow table
 * (reassembly, classification) -> store.  The only file that includes
 * every stage's header.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "config.h"
#include "capture/capture.h"
#include "capture/decode.h"
#include "dissect/classify.h"
#include "dissect/flow.h"
#include "dissect/smtp.h"
#include "dissect/tls.h"
#include "detect/cert.h"
#include "detect/detect.h"
#include "detect/expect.h"
#include "policy/policy.h"
#include "store/json.h"
#include "store/syslog.h"
#include "store/store.h"
#include "monitor.h"

#define MONITOR_FLUSH_US	1000000	/* live: commit at least this often */
#define MONITOR_POLL_PKTS	256	/* policy answers looked for this often */
#define MONITOR_AHEAD		16	/* segments decoded ahead of the flow
					   table, reading a plain pcap file */
#define MONITOR_STS_WAIT_MS	60000	/* at the end, policy answers awaited */
#define MONITOR_PENDING_MAX	65536	/* sessions awaiting a policy; beyond,
					   judged with what is known */

/* A finished session waiting for its domains' MTA-STS answers. */
struct pending {
	struct pending	*next;
	int64_t		 session_id;
	char		 cip[INET6_ADDRSTRLEN], sip[INET6_ADDRSTRLEN];
	uint16_t	 cport, sport;
	uint64_t	 ts, frame;
	uint32_t	 source;
	bool		 via_rcpt;	/* domains from RCPT TO, else the MX name */
	struct detect_summary sum;
};

/*
 * What the workers share.  One lock guards the store, the feeds, the
 * policies and the waiting sessions: the database has one writer however
 * many workers capture.
 */
struct run {
	const struct monitor_opts *o;
	pthread_mutex_t	 lock;		/* recursive */
	struct store	*store;
	struct json_feed *json;		/* NULL without --json */
	struct syslog_feed *syslog;	/* NULL without --syslog */
	struct expect	*expect;	/* NULL without --expect-starttls */
	int64_t		 run_id;
	atomic_bool	 store_failed;
	uint64_t	 sessions, alerts;
	struct cert_store *certs;
	struct policy	*policy;	/* NULL: no MTA-STS judgement */
	struct pending	*pending, **pending_tail;
	uint64_t	 npending, sts_unjudged;
	uint64_t	 pending_results;	/* policy_results() at the last
						   look through pending */
	struct worker	*w;
	size_t		 nw;
};

/* One capture handle and everything that follows from its packets. */
struct worker {
	struct run	*run;
	size_t		 idx;
	struct capture	*cap;
	struct classify	*cls;
	struct flow_table *ft;
	uint64_t	 now_ts;	/* pcap time of the packet at hand */
	uint64_t	 tcp, malformed, fragments, bad_cksum;
	uint64_t	 first_ts, last_ts;
	enum capture_result cr;		/* how the loop ended */
	char		 err[512];
	/* Counters published under the lock for the live runs row. */
	struct capture_stats pcs;
	struct flow_stats pfs;
	uint64_t	 ptcp, pmalformed, pfragments, pbad_cksum;
	uint64_t	 pfirst_ts, plast_ts;
	pthread_t	 thread;
};

#define LOCK(run)	pthread_mutex_lock(&(run)->lock)
#define UNLOCK(run)	pthread_mutex_unlock(&(run)->lock)

/* What the SMTP stages hang on a flow. */
struct app {
	struct smtp_session	*smtp;		/* NULL once done */
	struct tls_session	*tls;		/* NULL until TLS began, and once done */
	bool			 tls_dir[2];	/* the direction's bytes are TLS */
	struct detect_session	*det;		/* NULL until an SMTP event */
	int64_t			 session_id;	/* 0 until recognised */
	uint32_t		 gaps;		/* holes seen while followed */
	/* The endpoints as text, made at the first need ("" before). */
	char			 cip[INET6_ADDRSTRLEN];
	char			 sip[INET6_ADDRSTRLEN];
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

/* For the signal handler: every worker's capture. */
static struct capture *running[MONITOR_WORKERS_MAX];
static size_t nrunning;
static volatile sig_atomic_t reopen_feeds;	/* SIGHUP seen */

static void
on_signal(int sig)
{
	size_t i;

	(void)sig;
	for (i = 0; i < nrunning; i++)
		if (running[i] != NULL)
			capture_stop(running[i]);
}

/* SIGHUP: the feeds reopen (logrotate, a restarted collector). */
static void
on_hup(int sig)
{
	(void)sig;
	reopen_feeds = 1;
}

static void
feeds_reopen(struct run *run)
{
	char err[512];

	reopen_feeds = 0;
	LOCK(run);
	if (run->json != NULL && !json_reopen(run->json, err, sizeof(err)))
		fprintf(stderr, "stripwatch: JSON feed: %s\n", err);
	if (run->syslog != NULL && !syslog_reopen(run->syslog, err,
	    sizeof(err)))
		fprintf(stderr, "stripwatch: syslog: %s\n", err);
	UNLOCK(run);
}

void
monitor_opts_default(struct monitor_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->db = "stripwatch.db";
	o->verify = o->classify = o->fetch = true;
	o->user = MONITOR_USER;
	o->workers = 1;
	o->stats_interval = MONITOR_STATS_INTERVAL;
	flow_limits_default(&o->lim);
	o->lim.digest = false;		/* --all-flows */
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
	bool ok = true;

	LOCK(run);
	if (run->store_failed || !store_flush(run->store)) {
		store_failed(run);
		json_discard(run->json);
		syslog_discard(run->syslog);
		ok = false;
	} else {
		syslog_commit(run->syslog);	/* failures are counted inside */
		if (!json_commit(run->json)) {
			fprintf(stderr, "stripwatch: JSON feed: write failed\n");
			ok = false;
		}
	}
	UNLOCK(run);
	return ok;
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

/* The endpoints as text, written once per session. */
static void
endpoints(const struct flow_record *r, char *cip, char *sip)
{
	int af = r->family == 6 ? AF_INET6 : AF_INET;

	inet_ntop(af, r->ip[0], cip, INET6_ADDRSTRLEN);
	inet_ntop(af, r->ip[1], sip, INET6_ADDRSTRLEN);
}

static void
judge_addrs(struct judge *j)
{
	struct app *a = j->app;

	if (j->cip[0] != '\0')
		return;
	if (a == NULL) {
		endpoints(j->rec, j->cip, j->sip);
		return;
	}
	if (a->cip[0] == '\0')
		endpoints(j->rec, a->cip, a->sip);
	memcpy(j->cip, a->cip, sizeof(j->cip));
	memcpy(j->sip, a->sip, sizeof(j->sip));
}

static bool
hook_offered_before(void *ctx, const char *host)
{
	struct judge *j = ctx;

	bool yes;

	judge_addrs(j);
	LOCK(j->run);
	yes = store_server_offered_before(j->run->store, j->sip,
	    j->rec->port[1], host);
	UNLOCK(j->run);
	return yes;
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
	LOCK(j->run);
	if (!store_server_record(j->run->store, j->sip, j->rec->port[1], host,
	    offered, j->ts))
		store_failed(j->run);
	UNLOCK(j->run);
}

/* Stores an alert and queues it for the feed, which sees it after commit. */
static void
emit_alert(struct run *run, const struct store_alert *sa)
{
	int64_t id;

	LOCK(run);
	run->alerts++;
	if ((id = store_alert(run->store, run->run_id, sa)) < 0) {
		store_failed(run);
		UNLOCK(run);
		return;
	}
	if (run->json != NULL && !json_queue(run->json, id, run->run_id, sa))
		fprintf(stderr, "stripwatch: JSON feed: out of memory\n");
	if (run->syslog != NULL)
		syslog_queue(run->syslog, id, run->run_id, sa);
	UNLOCK(run);
}

static void
hook_alert(void *ctx, const struct alert *a)
{
	struct judge *j = ctx;
	struct store_alert sa;

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
	emit_alert(j->run, &sa);
}

static int64_t
hook_cert_seen(void *ctx, const struct cert_info *ci)
{
	struct judge *j = ctx;
	struct store_cert sc;
	int64_t id;

	memset(&sc, 0, sizeof(sc));
	sc.sha256 = ci->sha256;
	sc.spki_sha256 = ci->spki_sha256;
	sc.subject = ci->subject;
	sc.issuer = ci->issuer;
	sc.sans = ci->sans;
	sc.not_before = ci->not_before;
	sc.not_after = ci->not_after;
	sc.key_type = ci->key_type;
	sc.key_bits = ci->key_bits;
	sc.der = ci->der;
	sc.der_len = ci->der_len;
	LOCK(j->run);
	if ((id = store_cert(j->run->store, &sc, j->ts)) < 0) {
		store_failed(j->run);
		id = 0;
	}
	UNLOCK(j->run);
	return id;
}

static int
hook_pin(void *ctx, const char *server, const char *spki, const char *issuer,
    int64_t cert_id, bool replace, char *prev, size_t prevlen)
{
	struct judge *j = ctx;
	int r;

	LOCK(j->run);
	if ((r = store_pin(j->run->store, server, spki, issuer, cert_id,
	    replace, j->ts, prev, prevlen)) < 0) {
		store_failed(j->run);
		r = 0;
	}
	UNLOCK(j->run);
	return r;
}

static void
hook_server_id(void *ctx, char *out, size_t outlen)
{
	struct judge *j = ctx;

	judge_addrs(j);
	snprintf(out, outlen, j->rec->family == 6 ? "[%s]:%u" : "%s:%u",
	    j->sip, j->rec->port[1]);
}

static const struct detect_hooks detect_hooks_proto = {
	.offered_before = hook_offered_before,
	.expected = hook_expected,
	.offered = hook_offered,
	.alert = hook_alert,
	.cert_seen = hook_cert_seen,
	.pin = hook_pin,
	.server_id = hook_server_id,
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
	LOCK(j->run);
	if ((j->app->session_id = store_session_begin(j->run->store,
	    j->run->run_id, &ss)) < 0) {
		j->app->session_id = 0;
		store_failed(j->run);
	} else
		j->run->sessions++;
	UNLOCK(j->run);
}

static void
on_tls_event(void *ctx, const struct tls_event *ev)
{
	struct judge *j = ctx;
	struct detect_hooks h = detect_hooks_proto;

	if (j->app->det == NULL)
		return;
	h.ctx = j;
	h.certs = j->run->certs;
	detect_tls_event(j->app->det, ev, j->ts, &h);
}

/* TLS bytes of dir to the TLS dissector, which is freed once done. */
static void
tls_bytes(struct judge *j, int dir, const uint8_t *buf, size_t len,
    uint64_t frame)
{
	struct tls_sink sink = { on_tls_event, j };
	struct app *a = j->app;

	if (a->tls == NULL)
		return;
	if (tls_feed(a->tls, dir, buf, len, frame, &sink) == TLS_DONE) {
		tls_free(a->tls);
		a->tls = NULL;
	}
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
	if (ev->type == SMTP_EV_TLS_DATA) {
		tls_bytes(j, ev->dir, ev->text, ev->text_len, ev->frame);
		return;
	}
	if (ev->type == SMTP_EV_TLS) {
		if (j->app->tls == NULL && !j->app->tls_dir[0] &&
		    !j->app->tls_dir[1])
			j->app->tls = tls_new();
		j->app->tls_dir[ev->dir] = true;
	}
	h.ctx = j;
	h.certs = j->run->certs;
	detect_event(j->app->det, ev, &h);
}

/* The server's port says TLS from the first byte (SMTPS, RFC 8314). */
static bool
implicit_tls(struct flow *f)
{
	return flow_peek(f)->port[1] == 465;
}

static struct app *
app_get(struct flow *f)
{
	struct app *a = *flow_user(f);

	if (a != NULL)
		return a;
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->smtp = smtp_new(implicit_tls(f))) == NULL) {
		free(a);
		return NULL;
	}
	*flow_user(f) = a;
	return a;
}

/*
 * Once neither the SMTP nor the TLS dissector has anything left to read,
 * the flow is bypassed: a flow that is not SMTP after its first bytes,
 * an SMTP session once its TLS handshakes are read.
 */
static void
on_flow_data(void *ctx, struct flow *f, int dir, const uint8_t *buf,
    size_t len, uint64_t frame)
{
	struct worker *w = ctx;
	struct run *run = w->run;
	struct smtp_sink sink;
	struct judge j;
	struct app *a;

	/* Most flows are not SMTP from their first byte: nothing to make. */
	if (*flow_user(f) == NULL &&
	    smtp_rules_out(dir, buf, len, implicit_tls(f))) {
		flow_bypass(f);
		return;
	}
	if ((a = app_get(f)) == NULL)
		return;
	judge_init(&j, &sink, run, f, w->now_ts);
	if (a->smtp == NULL) {	/* past the hand-over: TLS only */
		if (a->tls != NULL && a->tls_dir[dir])
			tls_bytes(&j, dir, buf, len, frame);
	} else if (smtp_feed(a->smtp, dir, buf, len, frame, &sink) ==
	    SMTP_DONE) {
		smtp_free(a->smtp);	/* TLS both ways, or not SMTP */
		a->smtp = NULL;
	}
	if (a->smtp == NULL && a->tls == NULL) {
		if (a->det == NULL) {	/* never SMTP: nothing to keep */
			free(a);
			*flow_user(f) = NULL;
		}
		flow_bypass(f);
	}
}

static void
on_flow_gap(void *ctx, struct flow *f, int dir, uint64_t len)
{
	struct worker *w = ctx;
	struct run *run = w->run;
	struct app *a = *flow_user(f);
	struct smtp_sink sink;
	struct judge j;

	if (a == NULL)
		return;
	a->gaps++;
	judge_init(&j, &sink, run, f, w->now_ts);
	if (a->smtp != NULL)
		smtp_gap(a->smtp, dir, len, &sink);
	if (a->tls != NULL && a->tls_dir[dir]) {
		struct tls_sink ts = { on_tls_event, &j };

		tls_gap(a->tls, dir, len, &ts);
	}
}

/* One alert of a session judged after its end. */
static void
pending_alert(struct run *run, const struct pending *p, enum alert_kind k,
    enum alert_severity sev, const char *evidence)
{
	struct store_alert sa;

	memset(&sa, 0, sizeof(sa));
	sa.kind = alert_kind_name(k);
	sa.severity = alert_severity_name(sev);
	sa.ts = p->ts;
	sa.client_ip = p->cip;
	sa.client_port = p->cport;
	sa.server_ip = p->sip;
	sa.server_port = p->sport;
	sa.session_id = p->session_id;
	sa.source = source_name(run, p->source);
	sa.frame = p->frame;
	sa.evidence = evidence;
	emit_alert(run, &sa);
}

/* The policy of domain, or NULL when it is still being looked up. */
static struct policy_answer *
answer(struct run *run, const char *domain)
{
	struct policy_answer *ans;

	return policy_want(run->policy, domain, &ans) == POLICY_READY ? ans :
	    NULL;
}

/*
 * The domains a session's policy question is about: the recipients when
 * they were seen (mail in clear), else the domains whose policy lists the
 * MX name the client asked for (SNI).  Returns the count.
 */
static size_t
session_domains(struct run *run, const struct pending *p, char *buf,
    size_t buflen, const char **out, size_t max)
{
	size_t n = 0;
	char *d, *save;

	if (!p->via_rcpt)
		return p->sum.sni[0] != '\0' ? policy_domains_for_mx(
		    run->policy, p->sum.sni, out, max) : 0;
	snprintf(buf, buflen, "%s", p->sum.rcpt_domains);
	for (d = strtok_r(buf, ",", &save); d != NULL && n < max;
	    d = strtok_r(NULL, ",", &save))
		out[n++] = d;
	return n;
}

/* True once every domain of p has its answer. */
static bool
pending_ready(struct run *run, const struct pending *p)
{
	char buf[sizeof(p->sum.rcpt_domains)];
	const char *doms[SMTP_RCPT_DOMAINS_MAX];
	size_t i, n;

	if (!p->via_rcpt)
		return true;	/* mapped through policies already held */
	n = session_domains(run, p, buf, sizeof(buf), doms,
	    SMTP_RCPT_DOMAINS_MAX);
	for (i = 0; i < n; i++)
		if (answer(run, doms[i]) == NULL)
			return false;
	return true;
}

/*
 * Judges a finished session against each domain's policy (STS-144: one
 * verdict per domain) and records the verdicts on the session row.
 */
static void
pending_judge(struct run *run, struct pending *p)
{
	char buf[sizeof(p->sum.rcpt_domains)], ev[ALERT_EVIDENCE_MAX];
	char detail[200], verdicts[512];
	const char *doms[SMTP_RCPT_DOMAINS_MAX], *res, *via;
	struct policy_answer *ans;
	size_t i, n;

	via = p->via_rcpt ? "recipient" : "MX name in SNI";
	verdicts[0] = '\0';
	n = session_domains(run, p, buf, sizeof(buf), doms,
	    SMTP_RCPT_DOMAINS_MAX);
	for (i = 0; i < n; i++) {
		if ((ans = answer(run, doms[i])) == NULL) {
			run->sts_unjudged++;
			continue;
		}
		if (ans->error_type != NULL && !ans->error_reported) {
			ans->error_reported = true;
			detect_textf(ev, sizeof(ev), "%s: %s (%s)", ans->domain,
			    ans->error, ans->error_type);
			pending_alert(run, p, ALERT_STS_POLICY_ERROR, SEV_MEDIUM,
			    ev);
		}
		if (!ans->have)
			continue;
		/* A cached policy holds until max_age past its fetch (STS-97). */
		if (ans->fetched != 0 && p->ts > ans->fetched +
		    (uint64_t)ans->pol.max_age * 1000000)
			continue;
		res = detect_sts(&p->sum, &ans->pol, p->via_rcpt, detail,
		    sizeof(detail));
		detect_textf(verdicts + strlen(verdicts), sizeof(verdicts) -
		    strlen(verdicts), "%s%s:%s:%s", verdicts[0] ? "," : "",
		    ans->domain, sts_mode_name(ans->pol.mode),
		    res != NULL ? res : "pass");
		if (res == NULL)
			continue;
		/*
		 * Mail in clear to a domain whose policy demands TLS is news
		 * even from a server that never offered it (DESIGN.md).
		 */
		if (p->sum.mail_in_clear && !p->sum.plaintext_alerted) {
			p->sum.plaintext_alerted = true;
			detect_textf(ev, sizeof(ev), "mail in clear to %s, "
			    "whose MTA-STS policy (mode %s) requires TLS",
			    p->sum.rcpt_domains, sts_mode_name(ans->pol.mode));
			pending_alert(run, p, ALERT_PLAINTEXT_MAIL, SEV_HIGH, ev);
		}
		detect_textf(ev, sizeof(ev), "domain %s (from the %s), mode %s, "
		    "result %s: %s; policy %s%s%s", ans->domain, via,
		    sts_mode_name(ans->pol.mode), res, detail, ans->source,
		    ans->id[0] ? " id " : "", ans->id);
		pending_alert(run, p, ALERT_STS_VIOLATION,
		    ans->pol.mode == STS_MODE_ENFORCE ? SEV_HIGH : SEV_MEDIUM,
		    ev);
	}
	if (verdicts[0] != '\0' &&
	    !store_session_sts(run->store, p->session_id, verdicts))
		store_failed(run);
}

/*
 * Judges the waiting sessions whose answers are in; all of them if force.
 * Without a lookup ended since the last look, none can be ready: with
 * thousands waiting on a slow resolver, looking anyway would cost more
 * than the packets.
 */
static void
pending_run(struct run *run, bool force)
{
	struct pending **pp = &run->pending, *p;
	uint64_t results = policy_results(run->policy);

	if (!force && results == run->pending_results)
		return;
	run->pending_results = results;
	while ((p = *pp) != NULL) {
		if (!force && !pending_ready(run, p)) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		if (run->pending_tail == &p->next)
			run->pending_tail = pp;
		run->npending--;
		pending_judge(run, p);
		free(p);
	}
}

/*
 * Hands a finished session to MTA-STS judgement: at once when its
 * policies are known, else when their lookups end.  Submission ports
 * are outside MTA-STS (MON-9).
 */
static void
sts_submit(struct run *run, struct judge *j, const struct flow_record *r,
    const struct detect_summary *sum)
{
	struct pending *p;

	if (run->policy == NULL || r->port[1] == 465 || r->port[1] == 587 ||
	    (!sum->mail_in_clear && !sum->tls))
		return;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return;
	judge_addrs(j);
	p->session_id = j->app->session_id;
	memcpy(p->cip, j->cip, sizeof(p->cip));
	memcpy(p->sip, j->sip, sizeof(p->sip));
	p->cport = r->port[0];
	p->sport = r->port[1];
	p->ts = r->last_ts;
	/* The frame that shows it: the mail in clear, or the chain. */
	p->frame = sum->mail_in_clear && sum->mail_frame != 0 ?
	    sum->mail_frame : sum->cert_seen ? sum->cert_frame : r->last_frame;
	p->source = r->first_source;
	p->via_rcpt = sum->rcpt_domains[0] != '\0';
	p->sum = *sum;
	if (pending_ready(run, p) || run->npending >= MONITOR_PENDING_MAX) {
		pending_judge(run, p);
		free(p);
		return;
	}
	*run->pending_tail = p;
	run->pending_tail = &p->next;
	run->npending++;
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
		    a->gaps > 0 || r->packets[0] == 0 || r->packets[1] == 0;
		detect_session_end(a->det, r->conflicts_followed,
		    r->last_frame, &h, &sum);
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
		ss.complete = !incomplete && !sum.tls_lost;
		ss.sni = sum.sni[0] != '\0' ? sum.sni : NULL;
		ss.tls_version = sum.tls_version;
		ss.cipher = sum.cipher;
		ss.cert_id = sum.cert_id;
		ss.cert_status = sum.cert_status;
		LOCK(run);
		if (!store_session_end(run->store, a->session_id, &ss))
			store_failed(run);
		sts_submit(run, &j, r, &sum);
		UNLOCK(run);
	}
	tls_free(a->tls);
	smtp_free(a->smtp);
	detect_session_free(a->det);
	free(a);
	*flow_user(f) = NULL;
}

static void
on_flow_close(void *ctx, struct flow *f, const struct flow_record *r)
{
	struct worker *w = ctx;
	struct run *run = w->run;
	char cip[INET6_ADDRSTRLEN], sip[INET6_ADDRSTRLEN];
	char sha[2][65];
	struct store_flow sf;
	struct app *a = *flow_user(f);
	bool session = a != NULL && a->session_id > 0;

	cip[0] = '\0';
	if (a != NULL && a->cip[0] != '\0') {
		memcpy(cip, a->cip, sizeof(cip));
		memcpy(sip, a->sip, sizeof(sip));
	}
	app_close(run, f, r);
	/* Rows for SMTP sessions' flows; for all with --all-flows. */
	if (run->store_failed || (!session && !run->o->lim.digest))
		return;
	if (cip[0] == '\0')
		endpoints(r, cip, sip);
	memset(&sf, 0, sizeof(sf));
	if (r->digest) {
		hex(sha[0], r->sha256[0], 32);
		hex(sha[1], r->sha256[1], 32);
		sf.sha256[0] = sha[0];
		sf.sha256[1] = sha[1];
	}
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
	sf.close_reason = flow_close_reason_name(r->reason);
	sf.syn_seen = r->syn_seen;
	LOCK(run);
	if (!store_flow(run->store, run->run_id, &sf))
		store_failed(run);
	UNLOCK(run);
}

static bool
policy_load(void *ctx, const char *domain, struct policy_cache_row *row)
{
	static struct store_policy_row r;	/* 64 KB: not on the stack */
	struct run *run = ctx;

	if (!store_policy_get(run->store, domain, &r) || !r.found)
		return false;
	memset(row, 0, sizeof(*row));
	detect_textf(row->id, sizeof(row->id), "%s", r.policy_id);
	row->body = r.body;
	row->body_len = r.body_len;
	row->fetched = r.fetched;
	return true;
}

static void
policy_save(void *ctx, const char *domain, const struct policy_cache_row *row,
    const struct sts_policy *pol)
{
	struct run *run = ctx;
	struct store_policy sp;
	char mx[1024];
	size_t i;

	mx[0] = '\0';
	for (i = 0; i < pol->nmx; i++)
		snprintf(mx + strlen(mx), sizeof(mx) - strlen(mx), "%s%s",
		    i > 0 ? " " : "", pol->mx[i]);
	memset(&sp, 0, sizeof(sp));
	sp.domain = domain;
	sp.policy_id = row->id;
	sp.mode = sts_mode_name(pol->mode);
	sp.max_age = pol->max_age;
	sp.mx = mx;
	sp.body = row->body;
	sp.body_len = row->body_len;
	sp.source = "fetch";
	sp.fetched = row->fetched;
	if (!store_policy_put(run->store, &sp))
		store_failed(run);
}

/*
 * Starts MTA-STS: the policy cache and fetcher, and the protected domains
 * of --domains, whose policies are asked for at once.
 */
static bool
sts_start(struct run *run, const struct monitor_opts *o, char *err,
    size_t errlen)
{
	struct policy_hooks h = { policy_load, policy_save, run };
	struct policy_answer *ans;
	struct policy_opts po;
	char line[512];
	FILE *fp;
	size_t n;

	memset(&po, 0, sizeof(po));
	po.fetch = o->fetch;
	po.dir = o->policy_dir;
	po.fo.dns_server = o->dns_server;
	po.fo.ca_file = o->sts_ca_file;
	po.fo.https_port = o->https_port;
	po.fo.timeout_ms = o->fetch_timeout_ms;
	if ((run->policy = policy_new(&po, &h, err, errlen)) == NULL)
		return false;
	if (o->domains_file == NULL)
		return true;
	if ((fp = fopen(o->domains_file, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", o->domains_file,
		    strerror(errno));
		return false;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		n = strcspn(line, " \t\r\n#");
		line[n] = '\0';
		if (n > 0)
			(void)policy_want(run->policy, line, &ans);
	}
	fclose(fp);
	return true;
}

/*
 * At the end of the input: the lookups still running get their time,
 * then every waiting session is judged with what is known.
 */
static void
sts_finish(struct run *run)
{
	uint64_t deadline = wall_us() + MONITOR_STS_WAIT_MS * 1000ULL;

	while (run->pending != NULL && wall_us() < deadline) {
		pending_run(run, false);
		if (run->pending == NULL ||
		    policy_poll(run->policy, 100) == 0)
			break;
	}
	pending_run(run, false);
	pending_run(run, true);
}

/*
 * A live sensor gives root up once the interface is open: everything it
 * parses arrives after that, as the unprivileged user, who must be able to
 * write the database and the feeds.  setgroups, then setgid, then setuid,
 * and a check that root cannot be taken back.
 */
static bool
drop_privileges(const struct monitor_opts *o, char *err, size_t errlen)
{
	struct passwd *pw;

	if (geteuid() != 0 || o->allow_root)
		return true;
	if (o->user == NULL || (pw = getpwnam(o->user)) == NULL) {
		snprintf(err, errlen, "user %s does not exist: create it (make "
		    "install does), name another with --user, or keep root "
		    "with --allow-root", o->user != NULL ? o->user : "(none)");
		return false;
	}
	if (pw->pw_uid == 0) {
		if (o->allow_root)
			return true;
		snprintf(err, errlen, "--user %s is root: give an unprivileged "
		    "user, or --allow-root", o->user);
		return false;
	}
	if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		snprintf(err, errlen, "dropping to %s: %s", o->user,
		    strerror(errno));
		return false;
	}
	if (setuid(0) == 0 || geteuid() == 0) {
		snprintf(err, errlen, "root could be regained after dropping "
		    "to %s", o->user);
		return false;
	}
	return true;
}

/* A worker's counters, copied for the runs row; the caller holds the lock. */
static void
publish(struct worker *w)
{
	capture_stats(w->cap, &w->pcs);
	flow_table_stats(w->ft, &w->pfs);
	w->ptcp = w->tcp;
	w->pmalformed = w->malformed;
	w->pfragments = w->fragments;
	w->pbad_cksum = w->bad_cksum;
	w->pfirst_ts = w->first_ts;
	w->plast_ts = w->last_ts;
}

/* The runs row from every worker's last published counters. */
static void
fill_run(struct store_run *sr, const struct run *run, struct flow_stats *fs)
{
	size_t i;

	memset(fs, 0, sizeof(*fs));
	sr->ended = wall_us();
	sr->first_ts = sr->last_ts = 0;
	sr->packets = sr->bytes = sr->tcp_packets = sr->truncated = 0;
	sr->damaged = sr->malformed = sr->fragments = sr->bad_checksums = 0;
	sr->drops = sr->ifdrops = 0;
	for (i = 0; i < run->nw; i++) {
		const struct worker *w = &run->w[i];

		if (w->pfirst_ts != 0 && (sr->first_ts == 0 ||
		    w->pfirst_ts < sr->first_ts))
			sr->first_ts = w->pfirst_ts;
		if (w->plast_ts > sr->last_ts)
			sr->last_ts = w->plast_ts;
		sr->packets += w->pcs.packets;
		sr->bytes += w->pcs.bytes;
		sr->truncated += w->pcs.truncated;
		sr->damaged += w->pcs.damaged;
		sr->drops += w->pcs.drops;
		sr->ifdrops += w->pcs.ifdrops;
		sr->tcp_packets += w->ptcp;
		sr->malformed += w->pmalformed;
		sr->fragments += w->pfragments;
		sr->bad_checksums += w->pbad_cksum;
		fs->flows += w->pfs.flows;
		fs->evicted += w->pfs.evicted;
		fs->peak += w->pfs.peak;	/* an upper bound across workers */
		fs->mem_peak += w->pfs.mem_peak;
		fs->cap_skips += w->pfs.cap_skips;
		fs->unverified += w->pfs.unverified;
	}
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

/* A decoded TCP segment and the frame it came in. */
struct held {
	struct capture_frame	 fr;
	struct packet		 p;
	uint32_t		 hash;	/* flow_table_hash() of p */
	uint64_t		 at;	/* ahead.read once it was read */
};

/*
 * Segments of a plain pcap file decoded ahead of the flow table, oldest
 * first.  While one waits, its flow-table bucket and then its flow are
 * loaded, so those cache misses overlap with other packets' work.
 */
struct ahead {
	struct held		 h[MONITOR_AHEAD];	/* a ring */
	unsigned		 first, n;
	uint64_t		 read;	/* bytes of frames read, by span */
};

/* The i-th waiting segment, 0 the oldest (i may be a->n: the next slot). */
static struct held *
ahead_at(struct ahead *a, unsigned i)
{
	return &a->h[(a->first + i) % MONITOR_AHEAD];
}

/* One TCP segment through the flow table (and the checksum count). */
static void
segment(struct worker *w, struct held *h)
{
	w->tcp++;
	h->p.ts_us = h->fr.ts_us;
	h->p.frame = h->fr.frame;
	h->p.source = h->fr.source;
	w->now_ts = h->p.ts_us;
	if (flow_table_packet_hash(w->ft, &h->p, h->hash) &&
	    w->run->o->verify) {
		decode_verify(&h->p);
		if (h->p.cksum_bad)
			w->bad_cksum++;
	}
}

/*
 * Puts waiting segments through, oldest first, until no more than keep
 * wait and the oldest is safe from the next read.  False once the store
 * failed.
 */
static bool
ahead_run(struct worker *w, struct ahead *a, unsigned keep)
{
	while (a->n > keep || (a->n > 0 &&
	    a->read - ahead_at(a, 0)->at > CAPTURE_KEEP)) {
		segment(w, ahead_at(a, 0));
		a->first = (a->first + 1) % MONITOR_AHEAD;
		a->n--;
		if (w->run->store_failed)
			return false;
	}
	return true;
}

/*
 * One worker's loop: its packets through decode and its flow table.
 * Worker 0 also commits, updates the runs row, reopens the feeds and
 * takes policy answers in; live, every worker commits at least once a
 * second so its rows reach the disk.
 *
 * A plain pcap file's segments wait in `ahead` (see there).  Frames that
 * are valid for one call only (live, pcapng, gzip, a filter) go through
 * at once, and so does whatever waits when a file ends: its buffers go
 * with the next read.
 */
static void *
worker_loop(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	const struct monitor_opts *o = run->o;
	uint64_t flushed = 0, polls = 0, npkts = 0, stats_at = wall_us();
	struct store_run sr;
	struct flow_stats fs;
	struct ahead ring, *a = &ring;

	memset(&sr, 0, sizeof(sr));
	memset(&ring, 0, sizeof(ring));
	for (;;) {
		struct held *cur;
		enum decode_result dr;

		/* The next read may take the oldest segment's frame away. */
		if (!ahead_run(w, a, MONITOR_AHEAD - 1))
			break;
		cur = ahead_at(a, a->n);
		w->cr = capture_next(w->cap, &cur->fr, w->err, sizeof(w->err));
		if (reopen_feeds && w->idx == 0)
			feeds_reopen(run);
		if (w->err[0] != '\0' && w->cr != CAPTURE_ERROR)
			fprintf(stderr, "stripwatch: %s\n", w->err);
		/* Live, rows reach the disk within a second of their close. */
		if (o->iface != NULL && (w->cr == CAPTURE_AGAIN ||
		    ++polls % 64 == 0) && wall_us() - flushed > MONITOR_FLUSH_US) {
			flushed = wall_us();
			LOCK(run);
			publish(w);
			/* And the counters, every stats_interval seconds. */
			if (w->idx == 0 && o->stats_interval > 0 &&
			    flushed - stats_at >= o->stats_interval * 1000000ULL) {
				stats_at = flushed;
				fill_run(&sr, run, &fs);
				sr.ended = 0;		/* still running */
				sr.status = "running";
				if (!store_run_update(run->store, run->run_id,
				    &sr))
					store_failed(run);
			}
			UNLOCK(run);
			if (!commit(run))
				break;
		}
		/* Policy answers are taken in as they come, never waited for. */
		if (w->idx == 0 && run->policy != NULL &&
		    (w->cr == CAPTURE_AGAIN || ++npkts % MONITOR_POLL_PKTS == 0)) {
			LOCK(run);
			policy_poll(run->policy, 0);
			if (run->pending != NULL)
				pending_run(run, false);
			UNLOCK(run);
		}
		dr = DECODE_NOT_TCP;
		/*
		 * What waits goes first when this frame does not join it: the
		 * file ended or another began (the old one's buffers go with
		 * the next read).
		 */
		if ((w->cr != CAPTURE_FRAME || (a->n > 0 && cur->fr.source !=
		    ahead_at(a, a->n - 1)->fr.source)) && !ahead_run(w, a, 0))
			break;
		if (w->cr == CAPTURE_FRAME) {
			if (w->first_ts == 0)
				w->first_ts = cur->fr.ts_us;
			if (cur->fr.ts_us > w->last_ts)
				w->last_ts = cur->fr.ts_us;
			a->read += cur->fr.span;
			/* Checksums only for flows followed (segment()). */
			dr = decode_frame(cur->fr.dlt, cur->fr.data,
			    cur->fr.caplen, cur->fr.wirelen, false, &cur->p);
		}
		if (w->cr == CAPTURE_AGAIN)
			continue;
		if (w->cr != CAPTURE_FRAME)
			break;
		switch (dr) {
		case DECODE_TCP:
			break;
		case DECODE_MALFORMED:
			w->malformed++;
			continue;
		case DECODE_FRAGMENT:
			w->fragments++;
			continue;
		case DECODE_TRUNCATED:	/* counted as a snaplen cut */
		case DECODE_NOT_TCP:
			continue;
		}
		cur->at = a->read;
		cur->hash = flow_table_hash(w->ft, &cur->p);
		flow_table_prefetch(w->ft, cur->hash);
		/* Half the ring back, the bucket is in: its flow next. */
		if (a->n >= MONITOR_AHEAD / 2)
			flow_table_prefetch_flow(w->ft,
			    ahead_at(a, a->n - MONITOR_AHEAD / 2)->hash);
		a->n++;
		/* A frame valid for one call only goes through at once. */
		if (cur->fr.span == 0 && !ahead_run(w, a, 0))
			break;
	}
	/* Stop the others too: one worker failing ends the run. */
	if (w->cr == CAPTURE_ERROR || run->store_failed)
		on_signal(SIGTERM);
	return NULL;
}

static void
workers_free(struct run *run)
{
	size_t i;

	for (i = 0; i < run->nw; i++) {
		flow_table_free(run->w[i].ft);
		classify_free(run->w[i].cls);
		capture_close(run->w[i].cap);
	}
	free(run->w);
	run->w = NULL;
	run->nw = 0;
}

/*
 * Opens the workers' captures (one for files; o->workers fanned-out
 * handles live), before privileges are dropped.
 */
static bool
workers_open(struct run *run, const struct monitor_opts *o, char *err,
    size_t errlen)
{
	struct capture_opts co;
	size_t i, n = o->iface != NULL && o->workers > 1 ? o->workers : 1;

	if ((run->w = calloc(n, sizeof(*run->w))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	memset(&co, 0, sizeof(co));
	co.iface = o->iface;
	co.files = o->files;
	co.nfiles = o->nfiles;
	co.filter = o->filter;
	co.snaplen = o->snaplen;
	co.buffer_kb = o->buffer_kb;
	co.immediate = o->immediate;
	co.fanout = n > 1 ? ((unsigned)getpid() & 0xffff) | 1 : 0;
	for (i = 0; i < n; i++) {
		run->w[i].run = run;
		run->w[i].idx = i;
		run->nw = i + 1;
		if ((run->w[i].cap = capture_open(&co, err, errlen)) == NULL)
			return false;
	}
	return true;
}

/* Each worker's classifier and flow table. */
static bool
workers_ready(struct run *run, const struct monitor_opts *o)
{
	struct flow_hooks hooks;
	size_t i;

	for (i = 0; i < run->nw; i++) {
		struct worker *w = &run->w[i];

		/* With --all-flows every flow is named, by all nDPI knows. */
		if (o->classify && (w->cls = classify_new(o->lim.digest)) ==
		    NULL && i == 0)
			fprintf(stderr, "stripwatch: nDPI failed to start; "
			    "flows stay unclassified\n");
		memset(&hooks, 0, sizeof(hooks));
		hooks.data = on_flow_data;
		hooks.gap = on_flow_gap;
		hooks.close = on_flow_close;
		hooks.ctx = w;
		if ((w->ft = flow_table_new(&o->lim, w->cls, &hooks)) == NULL)
			return false;
	}
	return true;
}

int
monitor_run(const struct monitor_opts *mo)
{
	const struct monitor_opts o = *mo;
	pthread_mutexattr_t ma;
	struct flow_stats fs;
	struct store_run sr;
	struct run run;
	struct sigaction sa, old_int, old_term, old_hup;
	char err[512];
	bool failed = false;
	size_t i, total;

	memset(&run, 0, sizeof(run));
	run.o = mo;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&run.lock, &ma);
	pthread_mutexattr_destroy(&ma);
	if (!workers_open(&run, &o, err, sizeof(err)) ||
	    (o.iface != NULL && !drop_privileges(&o, err, sizeof(err)))) {
		fprintf(stderr, "stripwatch: %s\n", err);
		workers_free(&run);
		return MONITOR_EXIT_ERROR;
	}
	if ((o.expect_file != NULL && (run.expect = expect_load(o.expect_file,
	    err, sizeof(err))) == NULL) || (o.json != NULL &&
	    (run.json = json_open(o.json, err, sizeof(err))) == NULL) ||
	    (o.syslog != NULL &&
	    (run.syslog = syslog_open(o.syslog, err, sizeof(err))) == NULL) ||
	    (run.store = store_open(o.db, err, sizeof(err))) == NULL) {
		fprintf(stderr, "stripwatch: %s\n", err);
		expect_free(run.expect);
		json_close(run.json);
		syslog_close(run.syslog);
		workers_free(&run);
		return MONITOR_EXIT_ERROR;
	}
	memset(&sr, 0, sizeof(sr));
	sr.source = capture_source(run.w[0].cap);
	sr.started = wall_us();
	sr.status = "running";
	if (!store_runs_reap(run.store) ||
	    (run.run_id = store_run_begin(run.store, &sr)) < 0 ||
	    !store_flush(run.store)) {
		fprintf(stderr, "stripwatch: %s: %s\n", o.db,
		    store_error(run.store));
		store_close(run.store);
		json_close(run.json);
		syslog_close(run.syslog);
		expect_free(run.expect);
		workers_free(&run);
		return MONITOR_EXIT_ERROR;
	}
	run.pending_tail = &run.pending;
	if ((run.certs = cert_store_new(o.ca_file, o.ca_path, err,
	    sizeof(err))) == NULL || !sts_start(&run, &o, err, sizeof(err)) ||
	    !workers_ready(&run, &o)) {
		if (run.certs != NULL && run.w[0].cap != NULL && err[0] == '\0')
			snprintf(err, sizeof(err), "out of memory");
		fprintf(stderr, "stripwatch: %s\n", err);
		policy_free(run.policy);
		cert_store_free(run.certs);
		store_close(run.store);
		json_close(run.json);
		syslog_close(run.syslog);
		expect_free(run.expect);
		workers_free(&run);
		return MONITOR_EXIT_ERROR;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < run.nw; i++)
		running[i] = run.w[i].cap;
	nrunning = run.nw;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, &old_hup);

	total = run.nw;
	if (run.nw == 1)
		worker_loop(&run.w[0]);
	else {
		for (i = 0; i < run.nw; i++)
			if (pthread_create(&run.w[i].thread, NULL, worker_loop,
			    &run.w[i]) != 0) {
				fprintf(stderr, "stripwatch: cannot start "
				    "worker %zu\n", i);
				on_signal(SIGTERM);
				run.nw = i;	/* join those that started */
				failed = true;
				break;
			}
		for (i = 0; i < run.nw; i++)
			pthread_join(run.w[i].thread, NULL);
		run.nw = total;	/* those that never ran are closed too */
	}
	nrunning = 0;
	sigaction(SIGINT, &old_int, NULL);	/* the caller's again */
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	for (i = 0; i < run.nw; i++) {
		struct worker *w = &run.w[i];

		if (w->cr == CAPTURE_ERROR) {
			fprintf(stderr, "stripwatch: %s\n", w->err);
			failed = true;
		}
		if (w->ft == NULL)
			continue;
		publish(w);
		flow_table_free(w->ft);		/* closes every flow */
		w->ft = NULL;
		classify_free(w->cls);
		w->cls = NULL;
	}
	sts_finish(&run);
	policy_free(run.policy);
	cert_store_free(run.certs);

	fill_run(&sr, &run, &fs);
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
	syslog_close(run.syslog);
	expect_free(run.expect);
	if (!o.quiet) {
		summary(&sr, &fs);
		fprintf(stderr, "stripwatch: %llu SMTP sessions, %llu alerts\n",
		    (unsigned long long)run.sessions,
		    (unsigned long long)run.alerts);
		if (run.sts_unjudged > 0)
			fprintf(stderr, "stripwatch: %llu MTA-STS verdicts "
			    "left open: policy lookups unanswered\n",
			    (unsigned long long)run.sts_unjudged);
	}
	workers_free(&run);
	pthread_mutex_destroy(&run.lock);
	if (failed || run.store_failed)
		return MONITOR_EXIT_ERROR;
	return sr.damaged > 0 ? MONITOR_EXIT_DAMAGED : MONITOR_EXIT_OK;
}
