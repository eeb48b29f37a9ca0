/*
 * policy.c - which MTA-STS policy holds for a domain: --policy-dir, the
 * caches, and the background TXT lookup and HTTPS fetch (RFC 8461 3.1,
 * 3.3, 5.1).
 *
 * Refresh rules (checklist 1.5): a TXT id equal to the cached policy's
 * keeps the cache without a fetch (STS-82); a new id fetches (STS-83); a
 * failed or invalid fetch, a vanished or doubled TXT record, keep a cached
 * policy until its max_age runs out (STS-84..86, 93), and after that the
 * domain has no policy (STS-87).  A failed lookup is tried again only
 * after POLICY_REFETCH_US (STS-50).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "policy/policy.h"

#define POLICY_RECHECK_US	(3600ULL * 1000000)	/* a fresh answer is trusted this long */
#define POLICY_HASH		8192	/* buckets; a power of two */

enum busy { IDLE, TXT, FETCH };

struct dom {
	struct dom	*next;		/* hash chain */
	char		 name[STS_NAME_MAX + 1];
	struct policy_answer ans;
	enum busy	 busy;
	bool		 ready;		/* ans was decided at least once */
	bool		 from_dir;
	bool		 cache_tried;
	bool		 failed;	/* the last lookup failed */
	uint64_t	 checked;	/* wall clock of the last decision */
	uint64_t	 next_try;	/* no lookup before this */
	char		 txt_id[STS_ID_MAX + 1];
};

struct policy {
	struct policy_opts	 o;
	struct policy_hooks	 h;
	struct fetcher		*f;
	struct dom		*hash[POLICY_HASH];
	uint64_t		 used[POLICY_HASH / 64];	/* a bit a chain */
	size_t			 ndoms;
	struct policy_answer	 invalid;	/* for names that are no domain */
	uint64_t		(*clock)(void);
	uint64_t		 results;	/* lookup steps ended so far */
};

static uint64_t
system_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

/* Lower-cases name into out without a trailing dot; false if no domain. */
static bool
normalise(const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name), i;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n >= outlen)
		return false;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[n] = '\0';
	/* A name matches itself only when it is a well-formed host name. */
	return strchr(out, '.') != NULL && sts_name_match(out, out);
}

static size_t
bucket(const char *name)
{
	uint32_t h = 2166136261u;

	while (*name != '\0')
		h = (h ^ (uint8_t)*name++) * 16777619u;
	return h & (POLICY_HASH - 1);
}

static struct dom *
find(struct policy *p, const char *name, bool create)
{
	size_t b = bucket(name);
	struct dom *d;

	for (d = p->hash[b]; d != NULL; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d;
	if (!create || p->ndoms >= POLICY_DOMAINS_MAX ||
	    (d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->ans.domain = d->name;
	d->next = p->hash[b];
	p->hash[b] = d;
	p->used[b / 64] |= 1ULL << (b % 64);
	p->ndoms++;
	return d;
}

static bool
expired(const struct dom *d, uint64_t now)
{
	return d->ans.have && !d->from_dir &&
	    d->ans.fetched + (uint64_t)d->ans.pol.max_age * 1000000 < now;
}

static void set_error(struct dom *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Records a broken record or policy; the text is cut to fit. */
static void
set_error(struct dom *d, const char *type, const char *fmt, ...)
{
	char text[sizeof(d->ans.error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* The same complaint again is not news: it is alerted on once. */
	if (d->ans.error_type == type && strcmp(d->ans.error, text) == 0)
		return;
	d->ans.error_type = type;
	memcpy(d->ans.error, text, sizeof(text));
	d->ans.error_reported = false;
}

/* The database's latest policy for d, if it parses. */
static void
load_cache(struct policy *p, struct dom *d)
{
	struct policy_cache_row row;
	char why[128];

	d->cache_tried = true;
	if (p->h.load == NULL || !p->h.load(p->h.ctx, d->name, &row))
		return;
	if (!sts_policy_parse(row.body, row.body_len, &d->ans.pol, why,
	    sizeof(why)))
		return;		/* was valid when stored; a newer parser disagrees */
	d->ans.have = true;
	d->ans.source = "cache";
	d->ans.fetched = row.fetched;
	snprintf(d->ans.id, sizeof(d->ans.id), "%s", row.id);
}

/* Ends a lookup: without a usable cache the domain has no policy. */
static void
decide(struct dom *d, uint64_t now, bool failed)
{
	if (expired(d, now))
		d->ans.have = false;	/* STS-87 */
	d->ready = true;
	d->busy = IDLE;
	/* A failure is retried after POLICY_REFETCH_US, an answer rechecked
	   after POLICY_RECHECK_US. */
	if (!failed)
		d->checked = now;
	d->failed = failed;
	d->next_try = failed ? now + POLICY_REFETCH_US : now;
}

static void
on_txt(struct policy *p, struct dom *d, const struct fetch_result *r,
    uint64_t now)
{
	struct sts_record rec;
	char why[200];

	if (r->status != FETCH_OK) {
		/* No record: no policy unless one is cached (STS-85). */
		decide(d, now, r->status != FETCH_NO_RECORD);
		return;
	}
	switch (sts_txt_parse(r->txt, r->txt_lens, r->ntxt, &rec, why,
	    sizeof(why))) {
	case STS_TXT_OK:
		break;
	case STS_TXT_NONE:
		decide(d, now, false);
		return;
	case STS_TXT_MULTIPLE:
	case STS_TXT_INVALID:
		set_error(d, "sts-policy-invalid", "_mta-sts.%s TXT: %s",
		    d->name, why);
		decide(d, now, true);	/* STS-86: a cache still holds */
		return;
	}
	if (d->ans.have && !expired(d, now) && strcmp(rec.id, d->ans.id) == 0) {
		decide(d, now, false);	/* STS-82: same id, no fetch */
		return;
	}
	snprintf(d->txt_id, sizeof(d->txt_id), "%s", rec.id);
	if (!fetcher_policy(p->f, d->name, d)) {
		set_error(d, "sts-policy-fetch-error", "%s: fetch could not "
		    "start", d->name);
		decide(d, now, true);
		return;
	}
	d->busy = FETCH;
}

static void
on_policy(struct policy *p, struct dom *d, const struct fetch_result *r,
    uint64_t now)
{
	struct policy_cache_row row;
	struct sts_policy pol;
	char why[200];

	if (r->status != FETCH_OK) {
		set_error(d, r->status == FETCH_WEBPKI ? "sts-webpki-invalid" :
		    "sts-policy-fetch-error", "https://mta-sts.%s/: %s",
		    d->name, r->detail[0] != '\0' ? r->detail :
		    fetch_status_name(r->status));
		decide(d, now, true);	/* STS-84: a cache still holds */
		return;
	}
	if (!sts_policy_parse(r->body, r->body_len, &pol, why, sizeof(why))) {
		set_error(d, "sts-policy-invalid", "policy of %s: %s", d->name,
		    why);
		decide(d, now, true);	/* STS-93 */
		return;
	}
	d->ans.pol = pol;
	d->ans.have = true;
	d->ans.source = "fetch";
	d->ans.fetched = now;
	d->ans.error_type = NULL;
	snprintf(d->ans.id, sizeof(d->ans.id), "%s", d->txt_id);
	if (p->h.save != NULL) {
		snprintf(row.id, sizeof(row.id), "%s", d->txt_id);
		row.body = r->body;
		row.body_len = r->body_len;
		row.fetched = now;
		p->h.save(p->h.ctx, d->name, &row, &pol);
	}
	decide(d, now, false);
}

static void
on_result(void *ctx, const struct fetch_result *r)
{
	struct policy *p = ctx;
	struct dom *d = r->cookie;
	uint64_t now = p->clock();

	p->results++;
	if (d == NULL)
		return;
	if (r->kind == FETCH_TXT)
		on_txt(p, d, r, now);
	else
		on_policy(p, d, r, now);
}

/* Reads one --policy-dir file into d. */
static void
load_file(struct dom *d, const char *path)
{
	static uint8_t buf[STS_BODY_MAX + 1];
	char why[200];
	size_t n;
	FILE *fp;

	d->from_dir = d->ready = true;
	d->ans.source = "dir";
	if ((fp = fopen(path, "rb")) == NULL) {
		set_error(d, "sts-policy-fetch-error", "%s: %s", path,
		    strerror(errno));
		return;
	}
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	if (n > STS_BODY_MAX) {
		set_error(d, "sts-policy-fetch-error", "%s: over 64 KB", path);
		return;
	}
	if (!sts_policy_parse(buf, n, &d->ans.pol, why, sizeof(why))) {
		set_error(d, "sts-policy-invalid", "%s: %s", path, why);
		return;
	}
	d->ans.have = true;
}

static bool
load_dir(struct policy *p, const char *dir, char *err, size_t errlen)
{
	char name[STS_NAME_MAX + 1], path[4096];
	struct dirent *de;
	struct stat st;
	struct dom *d;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return false;
	}
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (!normalise(de->d_name, name, sizeof(name))) {
			fprintf(stderr, "stripwatch: %s: not named after a "
			    "domain, ignored\n", path);
			continue;
		}
		if ((d = find(p, name, true)) == NULL) {
			snprintf(err, errlen, "%s: too many domains", dir);
			closedir(dp);
			return false;
		}
		load_file(d, path);
	}
	closedir(dp);
	return true;
}

struct policy *
policy_new(const struct policy_opts *o, const struct policy_hooks *h,
    char *err, size_t errlen)
{
	struct policy *p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->o = *o;
	p->clock = o->clock != NULL ? o->clock : system_us;
	if (h != NULL)
		p->h = *h;
	p->invalid.domain = "";
	p->invalid.source = "none";
	if (o->dir != NULL && !load_dir(p, o->dir, err, errlen)) {
		policy_free(p);
		return NULL;
	}
	if (o->fetch && (p->f = fetcher_new(&o->fo, err, errlen)) == NULL) {
		policy_free(p);
		return NULL;
	}
	return p;
}

enum policy_state
policy_want(struct policy *p, const char *domain, struct policy_answer **ans)
{
	char name[STS_NAME_MAX + 1];
	uint64_t now;
	struct dom *d;

	*ans = &p->invalid;
	if (!normalise(domain, name, sizeof(name)) ||
	    (d = find(p, name, true)) == NULL)
		return POLICY_READY;
	*ans = &d->ans;
	if (d->from_dir)
		return POLICY_READY;
	if (!d->cache_tried)
		load_cache(p, d);
	if (p->f == NULL) {	/* --no-fetch: what the caches hold */
		d->ready = true;
		return POLICY_READY;
	}
	now = p->clock();
	if (d->busy == IDLE && now >= d->next_try &&
	    (!d->ready || d->failed || expired(d, now) ||
	    now - d->checked > POLICY_RECHECK_US)) {
		if (fetcher_txt(p->f, d->name, d))
			d->busy = TXT;
		else
			decide(d, now, true);
	}
	/* While a refresh runs, a cached policy that has not expired holds. */
	if (d->busy != IDLE && !(d->ans.have && !expired(d, now)))
		return POLICY_PENDING;
	if (!d->ready && d->busy != IDLE)
		return POLICY_PENDING;
	return POLICY_READY;
}

size_t
policy_poll(struct policy *p, int timeout_ms)
{
	if (p == NULL || p->f == NULL)
		return 0;
	return fetcher_poll(p->f, timeout_ms, on_result, p);
}

uint64_t
policy_results(const struct policy *p)
{
	return p->results;
}

size_t
policy_domains_for_mx(struct policy *p, const char *host, const char **out,
    size_t max)
{
	uint64_t now = p->clock(), bits;
	size_t w, b, n = 0;
	struct dom *d;

	/* Chains in bucket order, only those ever used. */
	for (w = 0; w < POLICY_HASH / 64 && n < max; w++)
		for (bits = p->used[w]; bits != 0 && n < max;
		    bits &= bits - 1) {
			b = w * 64 + (size_t)__builtin_ctzll(bits);
			for (d = p->hash[b]; d != NULL && n < max; d = d->next)
				if (d->ans.have &&
				    (p->f == NULL || !expired(d, now)) &&
				    d->ans.pol.mode != STS_MODE_NONE &&
				    sts_mx_match(&d->ans.pol, host))
					out[n++] = d->name;
		}
	return n;
}

void
policy_free(struct policy *p)
{
	struct dom *d, *next;
	size_t b;

	if (p == NULL)
		return;
	fetcher_free(p->f);
	for (b = 0; b < POLICY_HASH; b++)
		for (d = p->hash[b]; d != NULL; d = next) {
			next = d->next;
			free(d);
		}
	free(p);
}
