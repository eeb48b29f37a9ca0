/*
 * test_policy.c - the MTA-STS cache and refresh rules (checklist 1.5) of
 * policy.c and the session verdicts (checklist 1.8, 1.9) of detect/sts.c.
 *
 * policy.c is driven through a scripted fetcher defined here (the real
 * one, policy/fetch.c, is tested against unbound and nginx by
 * tests/fetch.sh): each lookup it starts is answered at the next poll
 * from the script below, and the clock is the test's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "policy/policy.h"
#include "check.h"

#define SEC	1000000ULL

/* The scripted network: what each domain answers now. */
struct script {
	const char	*domain;
	enum fetch_status txt_status;
	const char	*txt[2];	/* records; NULL ends */
	enum fetch_status pol_status;
	const char	*body;
};

static struct script net[8];
static size_t nnet;
static uint64_t clock_now = 1000 * SEC;
static unsigned txt_asked, pol_asked;

/* Requests waiting for the next poll. */
static struct {
	enum fetch_kind	 kind;
	char		 domain[256];
	void		*cookie;
} queue[16];
static size_t nqueue;

struct fetcher {
	int	unused;
};
static struct fetcher the_fetcher;

static uint64_t
test_clock(void)
{
	return clock_now;
}

static void
answer_with(const char *domain, enum fetch_status ts, const char *r1,
    const char *r2, enum fetch_status ps, const char *body)
{
	size_t i;

	for (i = 0; i < nnet; i++)
		if (strcmp(net[i].domain, domain) == 0)
			break;
	if (i == nnet)
		nnet++;
	net[i].domain = domain;
	net[i].txt_status = ts;
	net[i].txt[0] = r1;
	net[i].txt[1] = r2;
	net[i].pol_status = ps;
	net[i].body = body;
}

struct fetcher *
fetcher_new(const struct fetch_opts *o, char *err, size_t errlen)
{
	(void)o;
	(void)err;
	(void)errlen;
	return &the_fetcher;
}

static bool
enqueue(enum fetch_kind k, const char *domain, void *cookie)
{
	if (nqueue == 16)
		return false;
	queue[nqueue].kind = k;
	snprintf(queue[nqueue].domain, sizeof(queue[0].domain), "%s", domain);
	queue[nqueue].cookie = cookie;
	nqueue++;
	return true;
}

bool
fetcher_txt(struct fetcher *f, const char *domain, void *cookie)
{
	(void)f;
	txt_asked++;
	return enqueue(FETCH_TXT, domain, cookie);
}

bool
fetcher_policy(struct fetcher *f, const char *domain, void *cookie)
{
	(void)f;
	pol_asked++;
	return enqueue(FETCH_POLICY, domain, cookie);
}

size_t
fetcher_poll(struct fetcher *f, int timeout_ms,
    void (*cb)(void *, const struct fetch_result *), void *ctx)
{
	size_t n = nqueue, i, j;

	(void)f;
	(void)timeout_ms;
	nqueue = 0;
	for (i = 0; i < n; i++) {
		struct fetch_result r;
		const char *recs[2];
		size_t lens[2];

		memset(&r, 0, sizeof(r));
		r.kind = queue[i].kind;
		r.domain = queue[i].domain;
		r.cookie = queue[i].cookie;
		r.status = FETCH_NO_RECORD;
		for (j = 0; j < nnet; j++) {
			if (strcmp(net[j].domain, queue[i].domain) != 0)
				continue;
			if (r.kind == FETCH_TXT) {
				r.status = net[j].txt_status;
				for (; r.ntxt < 2 && net[j].txt[r.ntxt] != NULL;
				    r.ntxt++) {
					recs[r.ntxt] = net[j].txt[r.ntxt];
					lens[r.ntxt] = strlen(recs[r.ntxt]);
				}
				r.txt = recs;
				r.txt_lens = lens;
			} else {
				r.status = net[j].pol_status;
				r.http_status = r.status == FETCH_OK ? 200 : 404;
				r.body = (const uint8_t *)net[j].body;
				r.body_len = net[j].body ? strlen(net[j].body) : 0;
			}
		}
		cb(ctx, &r);
	}
	return nqueue;
}

void
fetcher_free(struct fetcher *f)
{
	(void)f;
}

const char *
fetch_status_name(enum fetch_status s)
{
	return s == FETCH_OK ? "FETCH_OK" : "FETCH_failed";
}

/* The database cache, as a single remembered row. */
static struct {
	char	 domain[256];
	char	 id[STS_ID_MAX + 1];
	char	 body[1024];
	uint64_t fetched;
	int	 saves;
} db;

static bool
load(void *ctx, const char *domain, struct policy_cache_row *row)
{
	(void)ctx;
	if (strcmp(db.domain, domain) != 0)
		return false;
	memset(row, 0, sizeof(*row));
	snprintf(row->id, sizeof(row->id), "%s", db.id);
	row->body = (const uint8_t *)db.body;
	row->body_len = strlen(db.body);
	row->fetched = db.fetched;
	return true;
}

static void
save(void *ctx, const char *domain, const struct policy_cache_row *row,
    const struct sts_policy *pol)
{
	(void)ctx;
	(void)pol;
	snprintf(db.domain, sizeof(db.domain), "%s", domain);
	snprintf(db.id, sizeof(db.id), "%s", row->id);
	snprintf(db.body, sizeof(db.body), "%.*s", (int)row->body_len,
	    (const char *)row->body);
	db.fetched = row->fetched;
	db.saves++;
}

static const char P_ENFORCE[] =
    "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 604800\n";
static const char P_TESTING[] =
    "version: STSv1\nmode: testing\nmx: mail.example.com\nmax_age: 604800\n";
static const char P_SHORT[] =
    "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 100\n";
static const char P_NONE[] =
    "version: STSv1\nmode: none\nmax_age: 60\n";

static struct policy *
fresh(bool fetch)
{
	struct policy_hooks h = { load, save, NULL };
	struct policy_opts o;
	char err[128];

	memset(&o, 0, sizeof(o));
	o.fetch = fetch;
	o.clock = test_clock;
	nnet = nqueue = 0;
	txt_asked = pol_asked = 0;
	memset(&db, 0, sizeof(db));
	clock_now = 1000 * SEC;
	return policy_new(&o, &h, err, sizeof(err));
}

/* The answer after the lookups ran to their end, or NULL (a failure). */
static struct policy_answer *got;
#define SETTLE(p, d) do {						\
	got = settle_ok((p), (d));					\
	CHECK(got != NULL);						\
} while (0)

static struct policy_answer *
settle_ok(struct policy *p, const char *domain)
{
	struct policy_answer *a = NULL;
	int i;

	/* A refresh runs behind a cached answer: poll it to its end too. */
	(void)policy_want(p, domain, &a);
	for (i = 0; i < 4; i++)
		policy_poll(p, 0);
	if (policy_want(p, domain, &a) != POLICY_READY)
		return NULL;
	return a;
}

/* STS-81: first sight: TXT id, fetch, cache with the id and time. */
static void
sts_081(void)
{
	struct policy *p = fresh(true);
	struct policy_answer *a;

	answer_with("example.com", FETCH_OK, "v=STSv1; id=A1;", NULL,
	    FETCH_OK, P_ENFORCE);
	CHECK_EQ_U(policy_want(p, "example.com", &a), POLICY_PENDING);
	SETTLE(p, "example.com");
	CHECK(got->have);
	CHECK(strcmp(got->id, "A1") == 0);
	CHECK(got->pol.mode == STS_MODE_ENFORCE);
	CHECK_EQ_U(got->pol.max_age, 604800);
	CHECK_EQ_U(got->fetched, 1000 * SEC);
	CHECK_EQ_U(db.saves, 1);
	CHECK(strcmp(db.id, "A1") == 0 && strcmp(db.body, P_ENFORCE) == 0);
	policy_free(p);
}

/* STS-82: the id unchanged at the next check: no HTTPS fetch. */
static void
sts_082(void)
{
	struct policy *p = fresh(true);

	answer_with("example.com", FETCH_OK, "v=STSv1; id=A1;", NULL,
	    FETCH_OK, P_ENFORCE);
	SETTLE(p, "example.com");
	clock_now += 2 * 3600 * SEC;	/* past the recheck interval */
	SETTLE(p, "example.com");
	CHECK_EQ_U(txt_asked, 2);
	CHECK_EQ_U(pol_asked, 1);
	CHECK(got->have && strcmp(got->id, "A1") == 0);
	policy_free(p);
}

/* STS-83, STS-95: a new id fetches and replaces the policy (to testing). */
static void
sts_083(void)
{
	struct policy *p = fresh(true);

	answer_with("example.com", FETCH_OK, "v=STSv1; id=A1;", NULL,
	    FETCH_OK, P_ENFORCE);
	SETTLE(p, "example.com");
	clock_now += 2 * 3600 * SEC;
	answer_with("example.com", FETCH_OK, "v=STSv1; id=B2;", NULL,
	    FETCH_OK, P_TESTING);
	SETTLE(p, "example.com");
	CHECK_EQ_U(pol_asked, 2);
	CHECK(strcmp(got->id, "B2") == 0);
	CHECK(got->pol.mode == STS_MODE_TESTING);	/* STS-95 too */
	CHECK_EQ_U(got->fetched, clock_now);
	policy_free(p);
}

/* STS-84: new id, fetch fails: the cached policy holds, error reported. */
static void
sts_084(void)
{
	struct policy *p = fresh(true);

	answer_with("example.com", FETCH_OK, "v=STSv1; id=A1;", NULL,
	    FETCH_OK, P_ENFORCE);
	SETTLE(p, "example.com");
	clock_now += 2 * 3600 * SEC;
	answer_with("example.com", FETCH_OK, "v=STSv1; id=B2;", NULL,
	    FETCH_HTTP_STATUS, NULL);
	SETTLE(p, "example.com");
	CHECK(got->have && strcmp(got->id, "A1") == 0);
	CHECK(got->error_type != NULL &&
	    strcmp(got->error_type, "sts-policy-fetch-error") == 0);
	policy_free(p);
}

/* STS-85: the TXT record vanished: the unexpired cache holds. */
static void
sts_085(void)
{
	struct policy *p = fresh(true);

	answer_with("example.com", FETCH_OK, "v=STSv1; id=A1;", NULL,
	    FETCH_OK, P_ENFORCE);
	SETTLE(p, "example.com");
	clock_now += 2 * 3600 * SEC;
	answer_with("example.com", FETCH_NO_RECORD, NULL, NULL, FETCH_OK,
	    NULL);
	SETTLE(p, "example.com");
	CHECK(got->have && got->pol.mode == STS_MODE_ENFORCE);
	policy_free(p);
}

/* STS-86: two STSv1 records: the unexpired cache holds. */
static void
sts_086(void)
{
	struct policy *p = fresh(true);

	answer_with("example.com", FETCH_OK, "v=STSv1; id=A1;", NULL,
	    FETCH_OK, P_ENFORCE);
	SETTLE(p, "example.com");
	clock_now += 2 * 3600 * SEC;
	answer_with("example.com", FETCH_OK, "v=STSv1; id=B1;",
	    "v=STSv1; id=B2;", FETCH_OK, P_TESTING);
	SETTLE(p, "example.com");
	CHECK(got->have && strcmp(got->id, "A1") == 0);
	CHECK_EQ_U(pol_asked, 1);
	policy_free(p);
}

/* STS-87: expired and the refresh fails: no policy any more. */
static void
sts_087(void)
{
	struct policy *p = fresh(true);

	answer_with("example.com", FETCH_OK, "v=STSv1; id=A1;", NULL,
	    FETCH_OK, P_SHORT);
	SETTLE(p, "example.com");
	CHECK(got->have);
	clock_now += 200 * SEC;		/* max_age 100 s */
	answer_with("example.com", FETCH_DNS_TEMPFAIL, NULL, NULL, FETCH_OK,
	    NULL);
	SETTLE(p, "example.com");
	CHECK(!got->have);
	policy_free(p);
}

/*
 * An MX name maps to every held domain whose enforce or testing policy
 * lists it, wherever the domains fall in the table; none or another MX
 * does not.
 */
static void
mx_to_domains(void)
{
	static const char *names[] = {
		"a.example", "b.example", "c.example", "d.example", "e.example",
	};
	const char *bodies[] = { P_ENFORCE, P_NONE, P_TESTING,
	    "version: STSv1\nmode: enforce\nmx: other.example.net\n"
	    "max_age: 604800\n", P_ENFORCE };
	struct policy *p = fresh(true);
	const char *doms[8];
	unsigned seen = 0;
	size_t i, j, n;

	nnet = 0;
	for (i = 0; i < 5; i++) {
		answer_with(names[i], FETCH_OK, "v=STSv1; id=M;", NULL,
		    FETCH_OK, bodies[i]);
		SETTLE(p, names[i]);
	}
	n = policy_domains_for_mx(p, "mail.example.com", doms, 8);
	CHECK_EQ_U(n, 3);
	for (i = 0; i < n; i++)
		for (j = 0; j < 5; j++)
			if (strcmp(doms[i], names[j]) == 0)
				seen |= 1U << j;
	CHECK_EQ_U(seen, 0x15);		/* a, c and e */
	CHECK_EQ_U(policy_domains_for_mx(p, "mail.example.com", doms, 2), 2);
	CHECK_EQ_U(policy_domains_for_mx(p, "mx.elsewhere.test", doms, 8), 0);
	policy_free(p);
}

/* STS-89, STS-141: mode none maps no MX and judges nothing. */
static void
sts_089(void)
{
	struct policy *p = fresh(true);
	struct detect_summary sum;
	const char *doms[4];
	char detail[128];

	answer_with("example.com", FETCH_OK, "v=STSv1; id=N;", NULL,
	    FETCH_OK, P_NONE);
	SETTLE(p, "example.com");
	CHECK(got->have && got->pol.mode == STS_MODE_NONE);
	CHECK_EQ_U(policy_domains_for_mx(p, "mail.example.com", doms, 4), 0);
	memset(&sum, 0, sizeof(sum));
	sum.mail_in_clear = true;
	CHECK(detect_sts(&sum, &got->pol, true, detail, sizeof(detail)) ==
	    NULL);
	policy_free(p);
}

/* STS-91, STS-50: max_age 0 refreshes each time, but failures wait. */
static void
sts_091(void)
{
	struct policy *p = fresh(true);
	struct policy_answer *a;

	answer_with("example.com", FETCH_OK, "v=STSv1; id=Z;", NULL,
	    FETCH_OK, "version: STSv1\nmode: enforce\nmx: m.example.com\n"
	    "max_age: 0\n");
	SETTLE(p, "example.com");
	CHECK(got->have && got->pol.max_age == 0);
	clock_now += SEC;
	CHECK_EQ_U(policy_want(p, "example.com", &a), POLICY_PENDING);
	CHECK_EQ_U(txt_asked, 2);
	answer_with("example.com", FETCH_DNS_TEMPFAIL, NULL, NULL, FETCH_OK,
	    NULL);
	policy_poll(p, 0);
	CHECK_EQ_U(policy_want(p, "example.com", &a), POLICY_READY);
	CHECK(!a->have);
	clock_now += 60 * SEC;		/* STS-50: not before 5 minutes */
	CHECK_EQ_U(policy_want(p, "example.com", &a), POLICY_READY);
	CHECK_EQ_U(txt_asked, 2);
	clock_now += 300 * SEC;
	CHECK_EQ_U(policy_want(p, "example.com", &a), POLICY_PENDING);
	CHECK_EQ_U(txt_asked, 3);
	policy_free(p);
}

/* STS-92: the fetch fails and nothing is cached: no policy, an error. */
static void
sts_092(void)
{
	struct policy *p = fresh(true);

	answer_with("example.com", FETCH_OK, "v=STSv1; id=A1;", NULL,
	    FETCH_WEBPKI, NULL);
	SETTLE(p, "example.com");
	CHECK(!got->have);
	CHECK(got->error_type != NULL &&
	    strcmp(got->error_type, "sts-webpki-invalid") == 0);
	policy_free(p);
}

/* STS-93: an invalid body while a valid cache exists: the cache holds. */
static void
sts_093(void)
{
	struct policy *p = fresh(true);

	answer_with("example.com", FETCH_OK, "v=STSv1; id=A1;", NULL,
	    FETCH_OK, P_ENFORCE);
	SETTLE(p, "example.com");
	clock_now += 2 * 3600 * SEC;
	answer_with("example.com", FETCH_OK, "v=STSv1; id=B2;", NULL,
	    FETCH_OK, "version: STSv1\nmode: bogus\n");
	SETTLE(p, "example.com");
	CHECK(got->have && strcmp(got->id, "A1") == 0);
	CHECK(got->error_type != NULL &&
	    strcmp(got->error_type, "sts-policy-invalid") == 0);
	policy_free(p);
}

/* STS-96: one cache entry per lower-cased domain; subdomains apart. */
static void
sts_096(void)
{
	struct policy *p = fresh(true);

	answer_with("example.com", FETCH_OK, "v=STSv1; id=A1;", NULL,
	    FETCH_OK, P_ENFORCE);
	SETTLE(p, "example.com");
	SETTLE(p, "Example.COM.");
	CHECK(got->have && strcmp(got->domain, "example.com") == 0);
	CHECK_EQ_U(txt_asked, 1);
	SETTLE(p, "mail.example.com");
	CHECK(!got->have);
	CHECK_EQ_U(txt_asked, 2);
	policy_free(p);
}

/* --no-fetch: the database's policy, never a lookup; junk names refused. */
static void
no_fetch_uses_cache(void)
{
	struct policy *p = fresh(false);
	struct policy_answer *a;

	snprintf(db.domain, sizeof(db.domain), "example.com");
	snprintf(db.id, sizeof(db.id), "C1");
	snprintf(db.body, sizeof(db.body), "%s", P_ENFORCE);
	db.fetched = 5 * SEC;
	CHECK_EQ_U(policy_want(p, "example.com", &a), POLICY_READY);
	CHECK(a->have && strcmp(a->source, "cache") == 0);
	CHECK(strcmp(a->id, "C1") == 0);
	CHECK_EQ_U(txt_asked, 0);
	CHECK_EQ_U(policy_want(p, "not a domain", &a), POLICY_READY);
	CHECK(!a->have);
	CHECK_EQ_U(policy_want(p, "", &a), POLICY_READY);
	CHECK(!a->have);
	policy_free(p);
}

/* Verdicts: the session facts the monitor hands over. */
static struct detect_summary
session(bool clear, bool tls, unsigned problems, const char *sni)
{
	struct detect_summary s;

	memset(&s, 0, sizeof(s));
	s.mail_in_clear = clear;
	s.tls = tls;
	s.cert_seen = tls && problems != (unsigned)-1;
	s.cert_problems = problems == (unsigned)-1 ? 0 : problems;
	snprintf(s.sni, sizeof(s.sni), "%s", sni);
	s.cert_status = s.cert_seen ? (problems ? "problems" : "ok") :
	    "not_observable_tls13";
	return s;
}

static const char *
verdict(const struct detect_summary *s, const char *body, bool check_mx)
{
	static char detail[200];
	struct sts_policy pol;
	char why[128];

	if (!sts_policy_parse((const uint8_t *)body, strlen(body), &pol, why,
	    sizeof(why)))
		return "unparsed";
	return detect_sts(s, &pol, check_mx, detail, sizeof(detail));
}

#define EQ(a, b)	((a) != NULL && (b) != NULL && strcmp((a), (b)) == 0)

/* STS-134, STS-135, STS-136: any mail in clear under enforce. */
static void
sts_134(void)
{
	struct detect_summary s = session(true, false, 0, "");
	const char *v = verdict(&s, P_ENFORCE, true);

	CHECK(EQ(v, "starttls-not-supported"));
	s.starttls_offered = true;	/* STS-135: offered, not used */
	v = verdict(&s, P_ENFORCE, true);
	CHECK(EQ(v, "starttls-not-supported"));
	s.starttls_sent = true;		/* STS-136: 454, then mail in clear */
	s.starttls_reply = 454;
	v = verdict(&s, P_ENFORCE, true);
	CHECK(EQ(v, "starttls-not-supported"));
	s.mail_in_clear = false;	/* refused and gave up: no delivery */
	CHECK(verdict(&s, P_ENFORCE, true) == NULL);
}

/* STS-138: TLS, a good chain, the MX in the policy: pass. */
static void
sts_138(void)
{
	struct detect_summary s = session(false, true, 0, "mail.example.com");

	CHECK(verdict(&s, P_ENFORCE, true) == NULL);
}

/* STS-139: a bad chain counts unless the client turned it down. */
static void
sts_139(void)
{
	struct detect_summary s = session(false, true, CERT_UNTRUSTED,
	    "mail.example.com");

	CHECK(EQ(verdict(&s, P_ENFORCE, true), "certificate-not-trusted"));
	s.client_refused = true;
	CHECK(verdict(&s, P_ENFORCE, true) == NULL);
}

/* STS-140: testing mode gives the same result type (reported, not enforced). */
static void
sts_140(void)
{
	struct detect_summary s = session(false, true, CERT_EXPIRED,
	    "mail.example.com");

	CHECK(EQ(verdict(&s, P_TESTING, true), "certificate-expired"));
}

/* STS-142: an MX outside the policy, even with good TLS. */
static void
sts_142(void)
{
	struct detect_summary s = session(false, true, 0, "other.example.net");

	CHECK(EQ(verdict(&s, P_ENFORCE, true), "validation-failure"));
	/* Mapped through the mx list in the first place: nothing to add. */
	CHECK(verdict(&s, P_ENFORCE, false) == NULL);
}

/* STS-123, STS-124, STS-120: problems map to RFC 8460 result types. */
static void
result_types(void)
{
	struct detect_summary s = session(false, true, CERT_NAME_MISMATCH,
	    "mail.example.com");

	CHECK(EQ(verdict(&s, P_ENFORCE, true), "certificate-host-mismatch"));
	s.cert_problems = CERT_NOT_YET_VALID;
	CHECK(EQ(verdict(&s, P_ENFORCE, true), "validation-failure"));
	s.cert_problems = CERT_EXPIRED | CERT_UNTRUSTED;
	CHECK(EQ(verdict(&s, P_ENFORCE, true), "certificate-expired"));
}

/* MON-3: TLS 1.3 hides the chain: no verdict on it, never a pass claim. */
static void
mon_3(void)
{
	struct detect_summary s = session(false, true, (unsigned)-1,
	    "mail.example.com");
	char detail[200];
	struct sts_policy pol;
	char why[64];

	CHECK(verdict(&s, P_ENFORCE, true) == NULL);
	CHECK(sts_policy_parse((const uint8_t *)P_ENFORCE, strlen(P_ENFORCE),
	    &pol, why, sizeof(why)));
	CHECK(detect_sts(&s, &pol, true, detail, sizeof(detail)) == NULL);
	CHECK(strstr(detail, "not_observable") != NULL);
}

int
main(void)
{
	RUN(sts_081);
	RUN(sts_082);
	RUN(sts_083);
	RUN(sts_084);
	RUN(sts_085);
	RUN(sts_086);
	RUN(sts_087);
	RUN(sts_089);
	RUN(sts_091);
	RUN(sts_092);
	RUN(sts_093);
	RUN(sts_096);
	RUN(no_fetch_uses_cache);
	RUN(sts_134);
	RUN(sts_138);
	RUN(sts_139);
	RUN(sts_140);
	RUN(sts_142);
	RUN(result_types);
	RUN(mon_3);
	RUN(mx_to_domains);
	return check_done("test_policy");
}
