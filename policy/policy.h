/*
 * policy.h - which MTA-STS policy holds for a domain (RFC 8461 3, 5.1).
 *
 * Answers come from, in this order: a --policy-dir file (the operator's
 * word, never fetched), the in-memory cache, the database cache, and, unless
 * fetching is off, the domain's TXT record and HTTPS policy fetched in the
 * background.  Nothing here blocks: policy_want() starts what is needed and
 * policy_poll() moves it on; a caller holding a session asks again later.
 */
#ifndef SW_POLICY_H
#define SW_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/fetch.h"
#include "policy/sts.h"

#define POLICY_DOMAINS_MAX	4096	/* domains tracked in memory */
#define POLICY_REFETCH_US	(300ULL * 1000000)	/* a failed fetch is retried after (STS-50) */

enum policy_state {
	POLICY_PENDING,		/* a lookup or fetch is under way */
	POLICY_READY,		/* answer below (which may be "no policy") */
};

/* What is known of a domain. */
struct policy_answer {
	const char	*domain;
	bool		 have;		/* a usable policy */
	struct sts_policy pol;
	char		 id[STS_ID_MAX + 1];	/* the TXT id it came with */
	const char	*source;	/* "dir", "fetch", "cache" */
	uint64_t	 fetched;	/* wall clock, µs (0 for dir) */
	/* A broken record or policy (RFC 8460 sts-* result types). */
	const char	*error_type;	/* NULL, or sts-policy-invalid, ... */
	char		 error[256];
	bool		 error_reported;	/* the caller's: alerted on */
};

/* The database cache, reached through the caller. */
struct policy_cache_row {
	char		 id[STS_ID_MAX + 1];
	const uint8_t	*body;
	size_t		 body_len;
	uint64_t	 fetched;	/* wall clock, µs */
};

struct policy_hooks {
	/* Latest cached policy of domain, or false. */
	bool	(*load)(void *ctx, const char *domain,
		    struct policy_cache_row *);
	/* A policy fetched and parsed: remember it. */
	void	(*save)(void *ctx, const char *domain,
		    const struct policy_cache_row *, const struct sts_policy *);
	void	*ctx;
};

struct policy_opts {
	bool		 fetch;		/* false: --no-fetch */
	const char	*dir;		/* --policy-dir, or NULL */
	struct fetch_opts fo;
	uint64_t	(*clock)(void);	/* wall clock, µs; NULL: the system's */
};

struct policy;

/* Loads --policy-dir; starts the fetcher.  NULL with a message in err. */
struct policy	*policy_new(const struct policy_opts *,
		    const struct policy_hooks *, char *err, size_t errlen);

/*
 * The state of domain (any case) now; starts a lookup when none is under
 * way and the answer is missing or stale.  *ans is valid until the next
 * call into this module; the caller may set its error_reported.  An
 * invalid domain name is READY with no policy.
 */
enum policy_state policy_want(struct policy *, const char *domain,
		    struct policy_answer **ans);

/* Moves lookups on, waiting at most timeout_ms; returns how many remain. */
size_t		 policy_poll(struct policy *, int timeout_ms);

/*
 * Counts the lookup steps that have ended (answers, failures, timeouts).
 * A domain still PENDING turns READY only when this moves, so a caller
 * holding sessions need not ask again before it does.
 */
uint64_t	 policy_results(const struct policy *);

/*
 * Domains whose known policy (mode testing or enforce) lists an mx
 * pattern matching host; up to max names into out.  Returns the count.
 */
size_t		 policy_domains_for_mx(struct policy *, const char *host,
		    const char **out, size_t max);

void		 policy_free(struct policy *);

#endif
