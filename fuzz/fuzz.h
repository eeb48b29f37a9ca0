/*
 * fuzz.h - what every fuzz target and the onefile.c replayer share.
 *
 * A target defines LLVMFuzzerTestOneInput() and links either with libFuzzer
 * (clang -fsanitize=fuzzer) or with onefile.c (any compiler), which replays
 * saved inputs.  FUZZ_CHECK() stays on under NDEBUG: a broken invariant must
 * abort in both builds so libFuzzer saves the input and the replay fails.
 */
#ifndef SW_FUZZ_H
#define SW_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * Runs one input of size bytes.  data points to exactly size readable bytes
 * (never more, so ASan sees a one-byte over-read).  Returns 0; anything
 * wrong aborts.
 */
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#endif
