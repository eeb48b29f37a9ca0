/*
 * fuzz_sts_policy.c - fuzz target for the MTA-STS policy parser and the MX
 * matcher (RFC 8461 3.2, 4.1; policy/sts.c).
 *
 * Input:	k(1) host(min(k, rest)) body(rest)
 * The host goes NUL-terminated to sts_mx_match() and sts_name_match();
 * the body, copied into a malloc of exactly its size (STYLE.md R13), to
 * sts_policy_parse().
 *
 * Checked: a rejected policy is all zero and says why; an accepted one
 * keeps every limit and invariant of sts.h (mode/mx rule, lower-case
 * distinct patterns that parse again on their own, max_age cap, lint bits
 * and their note); why is terminated printable ASCII; the same body with
 * CRLF for LF, or a short why buffer, gives the same policy; each pattern
 * matches the hosts it must (itself, upper case, with a trailing dot, one
 * label for the '*') and not those it must not (zero or two labels for the
 * '*', a label more or a byte more); sts_mx_match() is the OR of
 * sts_name_match() over the patterns.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "policy/sts.h"

#define WHY_LEN		200
#define LINTS		(STS_LINT_MAX_AGE_CAPPED | STS_LINT_MX_ADDRESS | \
			 STS_LINT_MX_WILDCARD_TLD)

static void
why_check(const char *why, size_t whylen)
{
	size_t n = strnlen(why, whylen), i;

	FUZZ_CHECK(n < whylen);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(why[i] >= 0x20 && why[i] < 0x7f);
}

static bool
parse(const uint8_t *body, size_t len, struct sts_policy *p, char *why,
    size_t wl)
{
	bool ok;

	memset(why, 'X', wl);
	ok = sts_policy_parse(body, len, p, why, wl);
	why_check(why, wl);
	return ok;
}

static bool
same_policy(const struct sts_policy *a, const struct sts_policy *b)
{
	size_t i;

	if (a->mode != b->mode || a->max_age != b->max_age ||
	    a->nmx != b->nmx || a->lint != b->lint)
		return false;
	for (i = 0; i < a->nmx; i++)
		if (strcmp(a->mx[i], b->mx[i]) != 0)
			return false;
	return true;
}

static bool
last_label_digits(const char *s)
{
	const char *dot = strrchr(s, '.');

	dot = dot != NULL ? dot + 1 : s;
	if (*dot == '\0')
		return false;
	for (; *dot != '\0'; dot++)
		if (*dot < '0' || *dot > '9')
			return false;
	return true;
}

/* Each pattern again, alone in a policy of its own: the same pattern. */
static void
check_reparse(const char *mx)
{
	static const char head[] = "version: STSv1\nmode: enforce\n"
	    "max_age: 1\nmx: ";
	uint8_t body[sizeof(head) + STS_NAME_MAX];
	struct sts_policy p;
	char why[WHY_LEN];
	size_t n = strlen(mx);

	memcpy(body, head, sizeof(head) - 1);
	memcpy(body + sizeof(head) - 1, mx, n);
	FUZZ_CHECK(parse(body, sizeof(head) - 1 + n, &p, why, sizeof(why)));
	FUZZ_CHECK(p.nmx == 1 && strcmp(p.mx[0], mx) == 0);
}

/* What one pattern must and must not match. */
static void
check_pattern(const char *mx)
{
	char host[STS_NAME_MAX + 8];
	size_t n = strlen(mx), i;
	bool numeric = last_label_digits(mx);

	if (mx[0] == '*') {
		const char *rest = mx + 2;
		bool one_label = strchr(rest, '.') == NULL;

		snprintf(host, sizeof(host), "q.%s", rest);
		FUZZ_CHECK(sts_name_match(mx, host) ==
		    (!one_label && !numeric));
		host[0] = 'Q';
		FUZZ_CHECK(sts_name_match(mx, host) ==
		    (!one_label && !numeric));
		FUZZ_CHECK(!sts_name_match(mx, rest));
		snprintf(host, sizeof(host), "q.q.%s", rest);
		FUZZ_CHECK(!sts_name_match(mx, host));
		FUZZ_CHECK(!sts_name_match(mx, mx));
		return;
	}
	FUZZ_CHECK(sts_name_match(mx, mx) == !numeric);
	for (i = 0; i < n; i++)
		host[i] = (mx[i] >= 'a' && mx[i] <= 'z') ? mx[i] - 32 : mx[i];
	host[n] = '.';
	host[n + 1] = '\0';
	FUZZ_CHECK(sts_name_match(mx, host) == !numeric);
	host[n] = '\0';
	FUZZ_CHECK(sts_name_match(mx, host) == !numeric);
	snprintf(host, sizeof(host), "q.%s", mx);
	FUZZ_CHECK(!sts_name_match(mx, host));
	snprintf(host, sizeof(host), "%sq", mx);
	FUZZ_CHECK(!sts_name_match(mx, host));
}

static void
check_ok(const struct sts_policy *p, const char *why)
{
	size_t i, j, n;

	FUZZ_CHECK(p->mode == STS_MODE_NONE || p->mode == STS_MODE_TESTING ||
	    p->mode == STS_MODE_ENFORCE);
	FUZZ_CHECK(p->nmx <= STS_MX_MAX);
	FUZZ_CHECK(p->mode == STS_MODE_NONE || p->nmx >= 1);
	FUZZ_CHECK(p->max_age <= STS_MAX_AGE_MAX);
	FUZZ_CHECK((p->lint & ~(unsigned)LINTS) == 0);
	FUZZ_CHECK((p->lint == 0) == (why[0] == '\0'));
	if (p->lint & STS_LINT_MAX_AGE_CAPPED)
		FUZZ_CHECK(p->max_age == STS_MAX_AGE_MAX);
	for (i = 0; i < p->nmx; i++) {
		n = strnlen(p->mx[i], sizeof(p->mx[i]));
		FUZZ_CHECK(n >= 1 && n <= STS_NAME_MAX);
		for (j = 0; j < n; j++)
			FUZZ_CHECK(p->mx[i][j] < 'A' || p->mx[i][j] > 'Z');
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(p->mx[i], p->mx[j]) != 0);
		check_reparse(p->mx[i]);
		check_pattern(p->mx[i]);
	}
}

/* The body with every LF made CRLF, if it has no CR and stays in size. */
static uint8_t *
to_crlf(const uint8_t *b, size_t n, size_t *outlen)
{
	size_t i, lf = 0, o = 0;
	uint8_t *c;

	if (memchr(b, '\r', n) != NULL)
		return NULL;
	for (i = 0; i < n; i++)
		lf += b[i] == '\n';
	if (lf == 0 || n + lf > STS_BODY_MAX)
		return NULL;
	FUZZ_CHECK((c = malloc(n + lf)) != NULL);
	for (i = 0; i < n; i++) {
		if (b[i] == '\n')
			c[o++] = '\r';
		c[o++] = b[i];
	}
	*outlen = o;
	return c;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sts_policy zero;
	struct sts_policy p, p2;
	char why[WHY_LEN], why2[WHY_LEN], *host;
	uint8_t *body, *crlf;
	size_t hlen, blen, clen, i, wl;
	bool ok, any = false;

	if (size < 1)
		return 0;
	hlen = data[0] < size - 1 ? data[0] : size - 1;
	FUZZ_CHECK((host = malloc(hlen + 1)) != NULL);
	memcpy(host, data + 1, hlen);
	host[hlen] = '\0';
	blen = size - 1 - hlen;
	FUZZ_CHECK((body = malloc(blen > 0 ? blen : 1)) != NULL);
	memcpy(body, data + 1 + hlen, blen);

	ok = parse(body, blen, &p, why, sizeof(why));
	if (ok)
		check_ok(&p, why);
	else {
		FUZZ_CHECK(why[0] != '\0');
		FUZZ_CHECK(memcmp(&p, &zero, sizeof(p)) == 0);
	}

	/* Line ends are LF or CRLF, each as good as the other. */
	if ((crlf = to_crlf(body, blen, &clen)) != NULL) {
		FUZZ_CHECK(parse(crlf, clen, &p2, why2, sizeof(why2)) == ok);
		FUZZ_CHECK(same_policy(&p, &p2));
		free(crlf);
	}

	/* A short why buffer truncates, never changes the outcome. */
	wl = 1 + size % 16;
	FUZZ_CHECK(parse(body, blen, &p2, why2, wl) == ok);
	FUZZ_CHECK(same_policy(&p, &p2));
	FUZZ_CHECK(strncmp(why, why2, wl - 1) == 0);

	for (i = 0; i < p.nmx; i++)
		any |= sts_name_match(p.mx[i], host);
	FUZZ_CHECK(sts_mx_match(&p, host) == any);
	/* The host as a pattern: whatever it matches, in any case. */
	if (sts_name_match(host, host) && host[0] != '*') {
		for (i = 0; i < hlen; i++)
			if (host[i] >= 'a' && host[i] <= 'z')
				host[i] -= 32;
		FUZZ_CHECK(sts_name_match(host, host));
	}
	free(host);
	free(body);
	return 0;
}
