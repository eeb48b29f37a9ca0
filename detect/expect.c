/*
 * expect.c - the operator's list of servers that must offer STARTTLS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"

#define EXPECT_MAX	65536		/* entries in one file */

struct net {
	uint8_t	family;
	uint8_t	addr[16];
	uint8_t	prefix;			/* bits */
};

struct expect {
	struct net	*nets;
	size_t		 n;
};

static bool
prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

/* Parses "addr" or "addr/len" into *n; false when it is neither. */
static bool
parse_net(char *s, struct net *n)
{
	char *slash = strchr(s, '/'), *end;
	unsigned long bits;
	unsigned max;

	if (slash != NULL)
		*slash = '\0';
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, s, n->addr) == 1) {
		n->family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, s, n->addr) == 1) {
		n->family = 6;
		max = 128;
	} else
		return false;
	n->prefix = (uint8_t)max;
	if (slash != NULL) {
		errno = 0;
		bits = strtoul(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno != 0 || bits > max)
			return false;
		n->prefix = (uint8_t)bits;
	}
	return true;
}

struct expect *
expect_load(const char *path, char *err, size_t errlen)
{
	struct expect *e;
	char line[256];
	unsigned lineno = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->nets = calloc(EXPECT_MAX, sizeof(*e->nets))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *q;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path,
			    lineno);
			goto fail;
		}
		if ((q = strchr(p, '#')) != NULL)
			*q = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		for (q = p + strlen(p); q > p && (q[-1] == '\n' ||
		    q[-1] == '\r' || q[-1] == ' ' || q[-1] == '\t'); q--)
			;
		*q = '\0';
		if (*p == '\0')
			continue;
		if (e->n == EXPECT_MAX) {
			snprintf(err, errlen, "%s:%u: more than %d entries",
			    path, lineno, EXPECT_MAX);
			goto fail;
		}
		if (!parse_net(p, &e->nets[e->n])) {
			snprintf(err, errlen, "%s:%u: not an address or CIDR "
			    "block", path, lineno);
			goto fail;
		}
		e->n++;
	}
	fclose(f);
	return e;
fail:
	fclose(f);
	expect_free(e);
	return NULL;
}

bool
expect_match(const struct expect *e, uint8_t family, const uint8_t *addr)
{
	size_t i;

	if (e == NULL)
		return false;
	for (i = 0; i < e->n; i++)
		if (e->nets[i].family == family &&
		    prefix_match(e->nets[i].addr, addr, e->nets[i].prefix))
			return true;
	return false;
}

void
expect_free(struct expect *e)
{
	if (e == NULL)
		return;
	free(e->nets);
	free(e);
}
