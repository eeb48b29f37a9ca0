/*
 * memfd.h - fuzz inputs as files: the targets that read a capture by path
 * (the pcap readers, the whole pipeline) get each input written to one
 * memfd, named /proc/self/fd/N.
 */
#ifndef SW_FUZZ_MEMFD_H
#define SW_FUZZ_MEMFD_H

#include <stddef.h>
#include <stdint.h>

/*
 * Replaces the memfd's contents with data[0, size) and writes its path to
 * path.  Aborts if the memfd cannot be made or written.
 */
void	fuzz_memfd(const uint8_t *data, size_t size, char *path,
	    size_t pathlen);

#endif
