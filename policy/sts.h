/*
 * sts.h - strict parsers for MTA-STS (RFC 8461): the "_mta-sts" TXT record
 * (3.1), the policy body (3.2), and MX host matching (4.1).
 *
 * Pure functions: no I/O, no allocation, no global state.  Every input is
 * untrusted bytes with an explicit length.  Every `why` written is
 * NUL-terminated printable ASCII (untrusted bytes in it are escaped as
 * \xHH), so it can go into an alert's evidence as it is.
 */
#ifndef SW_STS_H
#define SW_STS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STS_ID_MAX	32		/* id= chars, RFC 8461 3.1 */
#define STS_MX_MAX	32		/* distinct mx: patterns kept; more =
					   invalid policy */
#define STS_NAME_MAX	253		/* bytes of a host name / pattern */
#define STS_LABEL_MAX	63		/* bytes of one label, RFC 1035 2.3.4 */
#define STS_BODY_MAX	65536		/* policy bytes accepted (RFC 8461 3.3
					   suggests 64 KB) */
#define STS_MAX_AGE_MAX	31557600	/* seconds, RFC 8461 3.2 */

enum sts_mode {
	STS_MODE_NONE,
	STS_MODE_TESTING,
	STS_MODE_ENFORCE
};

enum sts_txt_result {
	STS_TXT_OK,		/* exactly one v=STSv1 record, valid: id set */
	STS_TXT_NONE,		/* no record starting with v=STSv1: no policy */
	STS_TXT_MULTIPLE,	/* several v=STSv1 records: treated as none
				   (3.1) */
	STS_TXT_INVALID		/* a v=STSv1 record that breaks the grammar */
};

struct sts_record {
	char	id[STS_ID_MAX + 1];	/* as published (case kept); "" unless
					   STS_TXT_OK */
};

/*
 * Things a valid policy may still be worth telling the operator about
 * (sts_policy.lint).  None of them makes the policy invalid.
 */
#define STS_LINT_MAX_AGE_CAPPED	0x01	/* max_age above STS_MAX_AGE_MAX:
					   max_age holds the cap */
#define STS_LINT_MX_ADDRESS	0x02	/* an mx whose last label is all
					   digits (an IPv4 address): matches
					   nothing */
#define STS_LINT_MX_WILDCARD_TLD 0x04	/* an mx "*.<one label>": never
					   matched (see sts_name_match) */

struct sts_policy {
	enum sts_mode	mode;
	uint32_t	max_age;		/* seconds, capped */
	size_t		nmx;			/* distinct patterns in mx[] */
	char		mx[STS_MX_MAX][STS_NAME_MAX + 1];
						/* lower case, as published */
	unsigned	lint;			/* STS_LINT_* bits */
};

/*
 * Decides the "_mta-sts" TXT RRset (RFC 8461 3.1).  records[i] is one TXT
 * RR's character-strings already concatenated without spaces, lens[i] its
 * length (it may hold NUL or any byte); n may be 0 (NXDOMAIN, NODATA).
 *
 * A record is an MTA-STS record when it starts with "v=STSv1" followed by
 * ';', SP, HTAB or its end (so "v=STSv10" is not one, and "v=STSv1 ;" is:
 * checklist STS-5/8).  Returns STS_TXT_OK and fills out->id only when
 * exactly one such record exists and it matches the ABNF: id is 1-32
 * ALPHA/DIGIT, extensions are name=value per the grammar, the first id=
 * wins and later ones need only be valid extensions.  On every result out
 * is written (id "" unless OK) and why, if whylen > 0, says why (empty on
 * OK).
 */
enum sts_txt_result sts_txt_parse(const char *const *records,
	    const size_t *lens, size_t n, struct sts_record *out, char *why,
	    size_t whylen);

/*
 * Strict RFC 8461 3.2 parse of a policy body, bytes as fetched (at most
 * STS_BODY_MAX).  Lines end in LF or CRLF (mixed is fine), the last one
 * optionally; an empty line, a bare CR, a UTF-8 BOM, a line not of the
 * form key ":" *WSP value *WSP, a CTL, or non-UTF-8 bytes make it
 * invalid.  Keys and fixed values are case-sensitive.  For version, mode
 * and max_age the first line wins and must hold a valid value; later
 * copies need only be valid extension lines.  Unknown keys are checked as
 * extensions and ignored.  mx values are ["*."] RFC 5321 Domain in
 * A-labels; duplicates are kept once; more than STS_MX_MAX distinct ones
 * make the policy invalid.  max_age above STS_MAX_AGE_MAX is capped (with
 * STS_LINT_MAX_AGE_CAPPED), as the checklist recommends (STS-65).
 *
 * Returns true with *out filled, why = "" or a note on the lint bits set;
 * false with why saying what broke (out is then zeroed, never a partial
 * policy).
 */
bool	sts_policy_parse(const uint8_t *body, size_t len,
	    struct sts_policy *out, char *why, size_t whylen);

/*
 * RFC 8461 4.1: does host (any case, optional trailing dot, NUL-terminated)
 * match one of the policy's mx patterns?  False for a NULL policy or host.
 */
bool	sts_mx_match(const struct sts_policy *, const char *host);

/*
 * One pattern against one host, both NUL-terminated.  True when the
 * pattern equals the host (case-insensitive, the host may end in one dot)
 * or the pattern is "*." + rest and the host is exactly one label followed
 * by "." + rest.  Shared with certificate name checks, so it trusts
 * neither side: a '*' anywhere but a whole left-most label, a wildcard
 * over a single label ("*.com"), an empty label, a byte other than letter,
 * digit or '-', a label over 63 bytes, a name over 253 or a host whose
 * last label is all digits (an IPv4 address, never a host name: RFC 1123
 * 2.1) all give false.
 */
bool	sts_name_match(const char *pattern, const char *host);

/* "none", "testing", "enforce"; "?" for anything else. */
const char *sts_mode_name(enum sts_mode);

#endif
