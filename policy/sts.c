/*
 * sts.c - strict parsers for MTA-STS (RFC 8461): the "_mta-sts" TXT record
 * (3.1), the policy body (3.2), and MX host matching (4.1, RFC 6125 6.4).
 *
 * The grammar is followed to the letter (RFC 7405 %s literals are
 * case-sensitive); where implementations disagree, the choice is the one
 * in ../shared/spec/mta-sts-checklist.md (STS-1..STS-119).  Nothing here
 * allocates or reads past an explicit length; a NUL byte in the input is
 * just another byte.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy/sts.h"

#define TXT_VERSION	"v=STSv1"
#define TXT_VERSION_LEN	7
#define EXT_NAME_MAX	32		/* alnum + *31 of alnum "_" "-" "." */
#define ESC_MAX		48		/* bytes of untrusted input quoted in
					   a why */

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static unsigned char
to_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool
eq_nocase(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (to_lower((unsigned char)a[i]) !=
		    to_lower((unsigned char)b[i]))
			return false;
	return true;
}

/* Does the n bytes at s spell the literal lit exactly (case-sensitive)? */
static bool
is_lit(const uint8_t *s, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static void why_set(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes a reason; snprintf truncates and always terminates. */
static void
why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/*
 * Renders up to ESC_MAX untrusted bytes as printable ASCII for a why:
 * '\\' and anything outside 0x20-0x7e become \xHH, a longer input ends in
 * "...".  dst must hold ESC_MAX * 4 + 4 bytes.
 */
#define ESC_BUF		(ESC_MAX * 4 + 4)
static const char *
esc(char *dst, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < n && i < ESC_MAX; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\') {
			dst[o++] = (char)s[i];
			continue;
		}
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[s[i] >> 4];
		dst[o++] = hex[s[i] & 0xf];
	}
	if (n > ESC_MAX) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}

/*
 * Checks an RFC 5321 Domain (dot-separated labels of letters, digits and
 * inner hyphens, RFC 1035 lengths).  Returns NULL if fine, else why not.
 */
static const char *
domain_check(const uint8_t *s, size_t n)
{
	size_t i, lab = 0;	/* bytes of the current label so far */

	if (n == 0)
		return "empty name";
	if (n > STS_NAME_MAX)
		return "name longer than 253 bytes";
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '.') {
			if (lab == 0)
				return i == 0 ? "name starts with a dot" :
				    "empty label";
			if (s[i - 1] == '-')
				return "label ends with '-'";
			lab = 0;
			continue;
		}
		if (c == '*')
			return "'*' other than a whole left-most label";
		if (c >= 0x80)
			return "not ASCII (a U-label, not an A-label?)";
		if (!is_alnum(c) && c != '-')
			return "byte other than letter, digit, '-' or '.'";
		if (lab == 0 && c == '-')
			return "label starts with '-'";
		if (++lab > STS_LABEL_MAX)
			return "label longer than 63 bytes";
	}
	if (lab == 0)
		return "name ends with a dot";
	if (s[n - 1] == '-')
		return "label ends with '-'";
	return NULL;
}

const char *
sts_mode_name(enum sts_mode m)
{
	switch (m) {
	case STS_MODE_NONE:
		return "none";
	case STS_MODE_TESTING:
		return "testing";
	case STS_MODE_ENFORCE:
		return "enforce";
	}
	return "?";
}

/*
 * Is the last label all digits?  No top-level domain is (RFC 3696 2), so
 * such a name is an IPv4 address in disguise (STS-68), never an MX name.
 */
static bool
last_label_numeric(const uint8_t *s, size_t n)
{
	size_t i = n;

	while (i > 0 && s[i - 1] != '.') {
		if (!is_digit(s[i - 1]))
			return false;
		i--;
	}
	return i < n;
}

/* ---- TXT record, RFC 8461 3.1 ---- */

static size_t
skip_wsp(const uint8_t *s, size_t len, size_t pos)
{
	while (pos < len && is_wsp(s[pos]))
		pos++;
	return pos;
}

/*
 * "v=STSv1" then ';', WSP or the end: the ABNF allows WSP before the first
 * ';' (STS-5), and "v=STSv10" must not count as a second record (STS-8).
 */
static bool
txt_is_sts(const uint8_t *r, size_t len)
{
	if (len < TXT_VERSION_LEN || memcmp(r, TXT_VERSION,
	    TXT_VERSION_LEN) != 0)
		return false;
	return len == TXT_VERSION_LEN || r[TXT_VERSION_LEN] == ';' ||
	    is_wsp(r[TXT_VERSION_LEN]);
}

/*
 * One sts-field at *pos: sts-id or sts-extension.  The first id= is the
 * id and must be 1*32(ALPHA / DIGIT); a later one is ignored (3.2's
 * first-entry rule, STS-19) but must still be a valid extension.
 */
static bool
txt_field(const uint8_t *r, size_t len, size_t *pos, struct sts_record *out,
    bool *have_id, char *why, size_t whylen)
{
	char e[ESC_BUF];
	size_t name = *pos, i = *pos, v, vlen, nlen;

	if (!is_alnum(r[i])) {
		why_set(why, whylen, "field at offset %zu does not start with "
		    "a letter or digit: \"%s\"", i, esc(e, r + i, len - i));
		return false;
	}
	for (i++; i < len && (is_alnum(r[i]) || r[i] == '_' || r[i] == '-' ||
	    r[i] == '.'); i++)
		;
	nlen = i - name;
	if (nlen > EXT_NAME_MAX) {
		why_set(why, whylen, "field name longer than %d: \"%s\"",
		    EXT_NAME_MAX, esc(e, r + name, nlen));
		return false;
	}
	if (i == len || r[i] != '=') {
		why_set(why, whylen, "field \"%.*s\" not followed by '='",
		    (int)nlen, (const char *)r + name);
		return false;
	}
	/* The value is 1*(%x21-3A / %x3C / %x3E-7E): no '=', ';', SP, CTL. */
	for (v = ++i; i < len && r[i] > 0x20 && r[i] < 0x7f && r[i] != ';' &&
	    r[i] != '='; i++)
		;
	vlen = i - v;
	if (i < len && r[i] != ';' && !is_wsp(r[i])) {
		why_set(why, whylen, "field \"%.*s\": byte not allowed in a "
		    "value: \"%s\"", (int)nlen, (const char *)r + name,
		    esc(e, r + i, len - i));
		return false;
	}
	if (vlen == 0) {
		why_set(why, whylen, "field \"%.*s\" has an empty value",
		    (int)nlen, (const char *)r + name);
		return false;
	}
	if (nlen == 2 && memcmp(r + name, "id", 2) == 0 && !*have_id) {
		size_t k;

		if (vlen > STS_ID_MAX) {
			why_set(why, whylen, "id longer than %d characters",
			    STS_ID_MAX);
			return false;
		}
		for (k = 0; k < vlen; k++)
			if (!is_alnum(r[v + k])) {
				why_set(why, whylen, "id \"%.*s\" has a "
				    "character other than a letter or digit",
				    (int)vlen, (const char *)r + v);
				return false;
			}
		memcpy(out->id, r + v, vlen);
		out->id[vlen] = '\0';
		*have_id = true;
	}
	*pos = i;
	return true;
}

/* sts-version 1*(sts-field-delim sts-field) [sts-field-delim] */
static bool
txt_record(const uint8_t *r, size_t len, struct sts_record *out, char *why,
    size_t whylen)
{
	char e[ESC_BUF];
	size_t pos = TXT_VERSION_LEN, q;
	bool have_id = false;

	for (;;) {
		q = skip_wsp(r, len, pos);
		if (q == len) {
			/* WSP is only allowed around a ';'. */
			if (q != pos) {
				why_set(why, whylen, "white space after the "
				    "last field");
				return false;
			}
			break;
		}
		if (r[q] != ';') {
			why_set(why, whylen, "expected ';' at offset %zu: "
			    "\"%s\"", q, esc(e, r + q, len - q));
			return false;
		}
		q = skip_wsp(r, len, q + 1);
		if (q == len)		/* the optional trailing delimiter */
			break;
		if (!txt_field(r, len, &q, out, &have_id, why, whylen))
			return false;
		pos = q;
	}
	if (!have_id) {
		why_set(why, whylen, "no id= field");
		return false;
	}
	return true;
}

enum sts_txt_result
sts_txt_parse(const char *const *records, const size_t *lens, size_t n,
    struct sts_record *out, char *why, size_t whylen)
{
	size_t i, count = 0, which = 0;
	const uint8_t *r;

	memset(out, 0, sizeof(*out));
	why_set(why, whylen, "%s", "");
	if (records == NULL || lens == NULL)
		n = 0;
	for (i = 0; i < n; i++)
		if (records[i] != NULL &&
		    txt_is_sts((const uint8_t *)records[i], lens[i])) {
			if (count++ == 0)
				which = i;
		}
	if (count == 0) {
		why_set(why, whylen, "no TXT record starts with v=STSv1 "
		    "(%zu records)", n);
		return STS_TXT_NONE;
	}
	if (count > 1) {
		why_set(why, whylen, "%zu TXT records start with v=STSv1",
		    count);
		return STS_TXT_MULTIPLE;
	}
	r = (const uint8_t *)records[which];
	if (!txt_record(r, lens[which], out, why, whylen)) {
		memset(out, 0, sizeof(*out));
		return STS_TXT_INVALID;
	}
	return STS_TXT_OK;
}

/* ---- Policy body, RFC 8461 3.2 ---- */

struct pstate {
	struct sts_policy *out;
	bool		 have_version;
	bool		 have_mode;
	bool		 have_max_age;
	uint64_t	 max_age;	/* as published, up to 10 digits */
	size_t		 lineno;	/* 1-based, for why */
	char		*why;
	size_t		 whylen;
};

/*
 * Length of the RFC 3629 UTF-8 sequence of 2-4 bytes at s (n bytes left),
 * or 0 if it is not one (overlong, surrogate, above U+10FFFF, cut).
 */
static size_t
utf8_len(const uint8_t *s, size_t n)
{
	uint8_t lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 2;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 3;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n - 1 < need || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i <= need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need + 1;
}

/*
 * sts-policy-ext-value: VCHAR or UTF-8, inner SP allowed; the caller has
 * trimmed the WSP on both sides.  Returns the offset of the first bad
 * byte, or n if none.
 */
static size_t
ext_value_bad(const uint8_t *v, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if (v[i] >= 0x20 && v[i] < 0x7f) {
			i++;
			continue;
		}
		if (v[i] < 0x80 || (k = utf8_len(v + i, n - i)) == 0)
			return i;	/* CTL, DEL, bad UTF-8 */
		i += k;
	}
	return n;
}

static bool
pfail(struct pstate *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sets why to "line N: ..." and returns false. */
static bool
pfail(struct pstate *st, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	why_set(st->why, st->whylen, "line %zu: %s", st->lineno, msg);
	return false;
}

/* sts-policy-mx-value = ["*."] Domain; kept lower case, once. */
static bool
policy_mx(struct pstate *st, const uint8_t *v, size_t n)
{
	struct sts_policy *p = st->out;
	char e[ESC_BUF], low[STS_NAME_MAX + 1];
	const uint8_t *d = v;
	const char *bad;
	size_t dn = n, i;

	if (n > STS_NAME_MAX)
		return pfail(st, "mx longer than %d bytes", STS_NAME_MAX);
	if (n >= 2 && v[0] == '*' && v[1] == '.') {
		d += 2;
		dn -= 2;
	}
	if ((bad = domain_check(d, dn)) != NULL)
		return pfail(st, "mx \"%s\": %s", esc(e, v, n), bad);
	for (i = 0; i < n; i++)
		low[i] = (char)to_lower(v[i]);
	low[n] = '\0';
	if (last_label_numeric(d, dn))
		p->lint |= STS_LINT_MX_ADDRESS;
	if (d != v && memchr(d, '.', dn) == NULL)
		p->lint |= STS_LINT_MX_WILDCARD_TLD;
	for (i = 0; i < p->nmx; i++)
		if (strcmp(p->mx[i], low) == 0)
			return true;	/* a set: STS-73 */
	if (p->nmx == STS_MX_MAX)
		return pfail(st, "more than %d distinct mx patterns",
		    STS_MX_MAX);
	memcpy(p->mx[p->nmx++], low, n + 1);
	return true;
}

/* sts-policy-max-age-value = 1*10(DIGIT); leading zeros allowed. */
static bool
policy_max_age(struct pstate *st, const uint8_t *v, size_t n)
{
	char e[ESC_BUF];
	uint64_t a = 0;
	size_t i;

	if (n > 10)
		return pfail(st, "max_age \"%s\" has more than 10 digits",
		    esc(e, v, n));
	for (i = 0; i < n; i++) {
		if (!is_digit(v[i]))
			return pfail(st, "max_age \"%s\" is not a number of "
			    "seconds", esc(e, v, n));
		a = a * 10 + (v[i] - '0');
	}
	st->max_age = a;
	st->out->max_age = a > STS_MAX_AGE_MAX ? STS_MAX_AGE_MAX :
	    (uint32_t)a;
	if (a > STS_MAX_AGE_MAX)
		st->out->lint |= STS_LINT_MAX_AGE_CAPPED;
	return true;
}

static bool
policy_mode(struct pstate *st, const uint8_t *v, size_t n)
{
	char e[ESC_BUF];

	if (is_lit(v, n, "enforce"))
		st->out->mode = STS_MODE_ENFORCE;
	else if (is_lit(v, n, "testing"))
		st->out->mode = STS_MODE_TESTING;
	else if (is_lit(v, n, "none"))
		st->out->mode = STS_MODE_NONE;
	else
		return pfail(st, "mode \"%s\" is not testing, enforce or none",
		    esc(e, v, n));
	return true;
}

/*
 * One line without its terminator: sts-policy-field *WSP, where a field
 * is key ":" *WSP value.  The first version, mode and max_age decide; the
 * rest is checked as sts-policy-extension and ignored (3.2, STS-71/72).
 */
static bool
policy_line(struct pstate *st, const uint8_t *l, size_t n)
{
	char e[ESC_BUF];
	size_t i, klen, v, vend, bad;

	if (n == 0)
		return pfail(st, "empty line");
	if (!is_alnum(l[0])) {
		if (is_wsp(l[0]))
			return pfail(st, "starts with white space");
		return pfail(st, "does not start with a key: \"%s\"",
		    esc(e, l, n));
	}
	for (i = 1; i < n && (is_alnum(l[i]) || l[i] == '_' || l[i] == '-' ||
	    l[i] == '.'); i++)
		;
	klen = i;
	if (klen > EXT_NAME_MAX)
		return pfail(st, "key longer than %d: \"%s\"", EXT_NAME_MAX,
		    esc(e, l, klen));
	if (i == n || l[i] != ':')
		return pfail(st, "key \"%.*s\" not followed by ':'",
		    (int)klen, (const char *)l);
	v = i + 1;
	while (v < n && is_wsp(l[v]))
		v++;
	vend = n;
	while (vend > v && is_wsp(l[vend - 1]))
		vend--;
	if (vend == v)
		return pfail(st, "key \"%.*s\" has an empty value",
		    (int)klen, (const char *)l);

	if (is_lit(l, klen, "mx"))
		return policy_mx(st, l + v, vend - v);
	if (is_lit(l, klen, "version") && !st->have_version) {
		st->have_version = true;
		if (!is_lit(l + v, vend - v, "STSv1"))
			return pfail(st, "version \"%s\" is not STSv1",
			    esc(e, l + v, vend - v));
		return true;
	}
	if (is_lit(l, klen, "mode") && !st->have_mode) {
		st->have_mode = true;
		return policy_mode(st, l + v, vend - v);
	}
	if (is_lit(l, klen, "max_age") && !st->have_max_age) {
		st->have_max_age = true;
		return policy_max_age(st, l + v, vend - v);
	}
	if ((bad = ext_value_bad(l + v, vend - v)) != vend - v)
		return pfail(st, "key \"%.*s\": byte not allowed in a value: "
		    "\"%s\"", (int)klen, (const char *)l,
		    esc(e, l + v + bad, vend - v - bad));
	return true;
}

/* Appends a lint note to why: "a; b". */
static void
why_add(char *why, size_t whylen, const char *note)
{
	size_t have;

	if (why == NULL || whylen == 0)
		return;
	have = strlen(why);
	if (have + 1 >= whylen)
		return;
	(void)snprintf(why + have, whylen - have, "%s%s", have ? "; " : "",
	    note);
}

static bool
policy_lines(struct pstate *st, const uint8_t *body, size_t len)
{
	size_t pos = 0, end, next;
	const uint8_t *lf;

	while (pos < len) {
		st->lineno++;
		lf = memchr(body + pos, '\n', len - pos);
		end = lf != NULL ? (size_t)(lf - body) : len;
		next = lf != NULL ? end + 1 : len;
		/* CRLF counts as a terminator; a lone CR is a CTL. */
		if (lf != NULL && end > pos && body[end - 1] == '\r')
			end--;
		if (!policy_line(st, body + pos, end - pos))
			return false;
		pos = next;
	}
	return true;
}

bool
sts_policy_parse(const uint8_t *body, size_t len, struct sts_policy *out,
    char *why, size_t whylen)
{
	struct pstate st;
	char note[96];
	bool ok = false;

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	st.out = out;
	st.why = why;
	st.whylen = whylen;
	why_set(why, whylen, "%s", "");

	if (body == NULL || len == 0)
		why_set(why, whylen, "empty policy");
	else if (len > STS_BODY_MAX)
		why_set(why, whylen, "policy of %zu bytes, over %d", len,
		    STS_BODY_MAX);
	else if (len >= 3 && body[0] == 0xef && body[1] == 0xbb &&
	    body[2] == 0xbf)
		why_set(why, whylen, "starts with a UTF-8 byte order mark");
	else if (!policy_lines(&st, body, len))
		;	/* why set by the line */
	else if (!st.have_version)
		why_set(why, whylen, "no version field");
	else if (!st.have_mode)
		why_set(why, whylen, "no mode field");
	else if (!st.have_max_age)
		why_set(why, whylen, "no max_age field");
	else if (out->mode != STS_MODE_NONE && out->nmx == 0)
		why_set(why, whylen, "mode %s without an mx field",
		    sts_mode_name(out->mode));
	else
		ok = true;
	if (!ok) {
		memset(out, 0, sizeof(*out));
		return false;
	}

	why_set(why, whylen, "%s", "");
	if (out->lint & STS_LINT_MAX_AGE_CAPPED) {
		(void)snprintf(note, sizeof(note), "max_age %llu above %d, "
		    "capped", (unsigned long long)st.max_age, STS_MAX_AGE_MAX);
		why_add(why, whylen, note);
	}
	if (out->lint & STS_LINT_MX_ADDRESS)
		why_add(why, whylen, "an mx is an IP address, matches no MX");
	if (out->lint & STS_LINT_MX_WILDCARD_TLD)
		why_add(why, whylen, "an mx is a wildcard over one label, "
		    "matches no MX");
	return true;
}

/* ---- Matching, RFC 8461 4.1 ---- */

bool
sts_name_match(const char *pattern, const char *host)
{
	const char *rest, *dot;
	size_t plen, hlen, rlen;

	if (pattern == NULL || host == NULL)
		return false;
	plen = strnlen(pattern, STS_NAME_MAX + 1);
	hlen = strnlen(host, STS_NAME_MAX + 2);
	if (hlen > 0 && host[hlen - 1] == '.')	/* absolute name from DNS */
		hlen--;
	if (plen > STS_NAME_MAX || hlen > STS_NAME_MAX ||
	    domain_check((const uint8_t *)host, hlen) != NULL ||
	    last_label_numeric((const uint8_t *)host, hlen))
		return false;
	if (plen < 2 || pattern[0] != '*' || pattern[1] != '.')
		return domain_check((const uint8_t *)pattern, plen) == NULL &&
		    plen == hlen && eq_nocase(pattern, host, plen);

	/*
	 * "*.rest" stands for exactly one label, never zero or several
	 * (STS-103/104).  A wildcard over a single label ("*.com") is a
	 * public-suffix wildcard and matches nothing (STS-119).
	 */
	rest = pattern + 2;
	rlen = plen - 2;
	if (domain_check((const uint8_t *)rest, rlen) != NULL ||
	    memchr(rest, '.', rlen) == NULL)
		return false;
	if ((dot = memchr(host, '.', hlen)) == NULL)
		return false;
	dot++;
	return hlen - (size_t)(dot - host) == rlen &&
	    eq_nocase(dot, rest, rlen);
}

bool
sts_mx_match(const struct sts_policy *p, const char *host)
{
	size_t i;

	if (p == NULL || host == NULL)
		return false;
	for (i = 0; i < p->nmx && i < STS_MX_MAX; i++)
		if (sts_name_match(p->mx[i], host))
			return true;
	return false;
}
