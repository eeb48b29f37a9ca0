/*
 * fuzz_sts_txt.c - fuzz target for the "_mta-sts" TXT record parser
 * (RFC 8461 3.1, policy/sts.c).
 *
 * Input: the TXT RRset, one record per LF-separated chunk (so a record
 * never holds an LF; every other byte, NUL included, can appear), at most
 * TXT_RECORDS_MAX records.  Each record is copied into a malloc of exactly
 * its size (STYLE.md R13).
 *
 * Checked: the result agrees with an independent count of the records
 * that start with "v=STSv1"; an id is 1-32 letters and digits that appear
 * as "id=<id>" in the one record; why is terminated printable ASCII, empty
 * exactly on success; the order of the records, a short why buffer, and
 * adding an extension field to a valid record change nothing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "policy/sts.h"

#define TXT_RECORDS_MAX	16
#define WHY_LEN		200

struct rrset {
	char	*rec[TXT_RECORDS_MAX];
	size_t	 len[TXT_RECORDS_MAX];
	size_t	 n;
};

static char *
dup_exact(const uint8_t *p, size_t n)
{
	char *c = malloc(n > 0 ? n : 1);

	FUZZ_CHECK(c != NULL);
	if (n > 0)
		memcpy(c, p, n);
	return c;
}

static void
why_check(const char *why, size_t whylen)
{
	size_t n = strnlen(why, whylen), i;

	FUZZ_CHECK(n < whylen);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(why[i] >= 0x20 && why[i] < 0x7f);
}

/* The checklist's candidate rule (STS-5/8), written out again. */
static bool
is_candidate(const char *r, size_t n)
{
	if (n < 7 || memcmp(r, "v=STSv1", 7) != 0)
		return false;
	return n == 7 || r[7] == ';' || r[7] == ' ' || r[7] == '\t';
}

/*
 * Is "id=<id>" a whole field of r: after ';' and optional WSP, before the
 * end, WSP or ';'?
 */
static bool
has_id_field(const char *r, size_t n, const char *id)
{
	size_t idlen = strlen(id), i, j;

	for (i = 0; i + 3 + idlen <= n; i++) {
		j = i + 3 + idlen;
		if (memcmp(r + i, "id=", 3) != 0 ||
		    memcmp(r + i + 3, id, idlen) != 0 || (j < n &&
		    r[j] != ';' && r[j] != ' ' && r[j] != '\t'))
			continue;
		for (j = i; j > 0 && (r[j - 1] == ' ' || r[j - 1] == '\t'); j--)
			;
		if (j > 0 && r[j - 1] == ';')
			return true;
	}
	return false;
}

static enum sts_txt_result
parse(const struct rrset *rs, struct sts_record *out, char *why, size_t wl)
{
	enum sts_txt_result res;

	memset(why, 'X', wl);
	res = sts_txt_parse((const char *const *)rs->rec, rs->len, rs->n, out,
	    why, wl);
	FUZZ_CHECK(res == STS_TXT_OK || res == STS_TXT_NONE ||
	    res == STS_TXT_MULTIPLE || res == STS_TXT_INVALID);
	why_check(why, wl);
	return res;
}

/* A valid record plus one more extension field parses the same. */
static void
check_extended(const char *r, size_t n, const char *id)
{
	static const char more[] = ";zz-9.x=~1";
	struct sts_record out;
	struct rrset one;
	char why[WHY_LEN];
	size_t last = n, skip = 0;

	while (last > 0 && (r[last - 1] == ' ' || r[last - 1] == '\t'))
		last--;
	if (last > 0 && r[last - 1] == ';')
		skip = 1;		/* already ends in a delimiter */
	one.n = 1;
	one.len[0] = n + sizeof(more) - 1 - skip;
	FUZZ_CHECK((one.rec[0] = malloc(one.len[0])) != NULL);
	memcpy(one.rec[0], r, n);
	memcpy(one.rec[0] + n, more + skip, sizeof(more) - 1 - skip);
	FUZZ_CHECK(parse(&one, &out, why, sizeof(why)) == STS_TXT_OK);
	FUZZ_CHECK(strcmp(out.id, id) == 0);
	free(one.rec[0]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rrset rs, rev;
	struct sts_record out, out2;
	char why[WHY_LEN], why2[WHY_LEN];
	enum sts_txt_result res;
	size_t pos = 0, i, count = 0, which = 0, idlen, wl;

	memset(&rs, 0, sizeof(rs));
	while (size > 0) {
		const uint8_t *lf = memchr(data + pos, '\n', size - pos);
		size_t end = lf != NULL ? (size_t)(lf - data) : size;

		rs.rec[rs.n] = dup_exact(data + pos, end - pos);
		rs.len[rs.n++] = end - pos;
		if (lf == NULL || rs.n == TXT_RECORDS_MAX)
			break;
		pos = end + 1;
	}
	for (i = 0; i < rs.n; i++)
		if (is_candidate(rs.rec[i], rs.len[i]) && count++ == 0)
			which = i;

	res = parse(&rs, &out, why, sizeof(why));
	FUZZ_CHECK((res == STS_TXT_OK) == (why[0] == '\0'));
	FUZZ_CHECK(strnlen(out.id, sizeof(out.id)) < sizeof(out.id));
	switch (res) {
	case STS_TXT_NONE:
		FUZZ_CHECK(count == 0);
		break;
	case STS_TXT_MULTIPLE:
		FUZZ_CHECK(count > 1);
		break;
	case STS_TXT_INVALID:
		FUZZ_CHECK(count == 1);
		break;
	case STS_TXT_OK:
		FUZZ_CHECK(count == 1);
		idlen = strlen(out.id);
		FUZZ_CHECK(idlen >= 1 && idlen <= STS_ID_MAX);
		for (i = 0; i < idlen; i++)
			FUZZ_CHECK((out.id[i] >= '0' && out.id[i] <= '9') ||
			    (out.id[i] >= 'a' && out.id[i] <= 'z') ||
			    (out.id[i] >= 'A' && out.id[i] <= 'Z'));
		FUZZ_CHECK(has_id_field(rs.rec[which], rs.len[which],
		    out.id));
		check_extended(rs.rec[which], rs.len[which], out.id);
		break;
	}
	if (res != STS_TXT_OK)
		FUZZ_CHECK(out.id[0] == '\0');

	/* The resolver's order of the RRset means nothing. */
	rev.n = rs.n;
	for (i = 0; i < rs.n; i++) {
		rev.rec[i] = rs.rec[rs.n - 1 - i];
		rev.len[i] = rs.len[rs.n - 1 - i];
	}
	FUZZ_CHECK(parse(&rev, &out2, why2, sizeof(why2)) == res);
	FUZZ_CHECK(strcmp(out.id, out2.id) == 0);

	/* A short why buffer truncates, never changes the outcome. */
	wl = 1 + size % 12;
	FUZZ_CHECK(parse(&rs, &out2, why2, wl) == res);
	FUZZ_CHECK(strcmp(out.id, out2.id) == 0);
	FUZZ_CHECK(strncmp(why, why2, wl - 1) == 0);

	for (i = 0; i < rs.n; i++)
		free(rs.rec[i]);
	return 0;
}
