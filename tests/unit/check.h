/*
 * check.h - the unit-test framework: CHECK() records a failure and leaves
 * the test function; RUN() calls one and counts it; check_done() prints
 * the closing "N passed, N failed" line and returns the exit status.
 */
#ifndef SW_CHECK_H
#define SW_CHECK_H

#include <stdio.h>

static int check_passed, check_failed, check_failing;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		check_failing = 1;					\
		return;							\
	}								\
} while (0)

#define CHECK_EQ_U(a, b) do {						\
	unsigned long long a_ = (a), b_ = (b);				\
	if (a_ != b_) {							\
		fprintf(stderr, "%s:%d: CHECK failed: %s == %s "	\
		    "(%llu != %llu)\n", __FILE__, __LINE__, #a, #b,	\
		    a_, b_);						\
		check_failing = 1;					\
		return;							\
	}								\
} while (0)

#define RUN(fn) do {							\
	check_failing = 0;						\
	fn();								\
	if (check_failing) {						\
		check_failed++;						\
		fprintf(stderr, "FAIL %s\n", #fn);			\
	} else								\
		check_passed++;						\
} while (0)

static inline int
check_done(const char *suite)
{
	printf("%s: %d passed, %d failed\n", suite, check_passed,
	    check_failed);
	return check_failed != 0;
}

#endif
