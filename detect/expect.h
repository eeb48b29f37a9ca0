/*
 * expect.h - the operator's list of servers that must offer STARTTLS
 * (--expect-starttls FILE): one address or CIDR block per line.
 */
#ifndef SW_EXPECT_H
#define SW_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct expect;

/*
 * Reads path: addresses or CIDR blocks (IPv4 or IPv6), one per line;
 * '#' starts a comment.  Returns NULL with a message naming the file and
 * line on any error.
 */
struct expect	*expect_load(const char *path, char *err, size_t errlen);

/* True when addr (family 4 or 6; 4 or 16 bytes) is in the list. */
bool		 expect_match(const struct expect *, uint8_t family,
		    const uint8_t *addr);

void		 expect_free(struct expect *);

#endif
