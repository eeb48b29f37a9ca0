/*
 * capture.c - packets in, from pcap/pcapng files or a live interface.
 *
 * Files are read one after the other as a single capture.  A damaged file
 * (a record header that lies, a file cut mid-packet) ends that file only:
 * what was read before stands, the damage is counted and reported, and the
 * next file is opened.  Timestamps are always microseconds.
 */
#define _GNU_SOURCE		/* fopencookie */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#ifdef __linux__
#include <linux/if_packet.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <zlib.h>

#include "config.h"
#include "capture.h"
#include "decode.h"
#include "pcapfile.h"

struct capture {
	struct capture_opts	 opts;
	pcap_t			*pcap;		/* current handle, or NULL */
	struct pcapfile		*pf;		/* or the current file, read by
						   pcapfile.c */
	struct pcapfile		*pf_done;	/* the last one, whose last frame
						   may still be in use */
	pcap_t			**held;		/* per input: a pipe's handle,
						   opened by the check */
	size_t			 next_file;	/* index of the file to open next */
	uint32_t		 cur_file;	/* index of the open file */
	uint64_t		 frame;		/* frames read from the open file */
	int			 dlt;
	volatile sig_atomic_t	 stop;
	struct pcapfile_rec	 rec;		/* pcapfile.c's latest */
	struct capture_stats	 st;
	char			 source[512];
};

/* fopencookie glue so libpcap reads gzip-compressed captures. */
static ssize_t
gz_read(void *cookie, char *buf, size_t len)
{
	int n;

	if (len > (size_t)1 << 30)
		len = (size_t)1 << 30;
	n = gzread(cookie, buf, (unsigned)len);
	return n < 0 ? -1 : n;
}

static int
gz_close(void *cookie)
{
	return gzclose(cookie) == Z_OK ? 0 : -1;
}

static bool
is_gzip(const char *path)
{
	unsigned char m[2];
	FILE *f = fopen(path, "rb");
	bool gz;

	if (f == NULL)
		return false;
	gz = fread(m, 1, 2, f) == 2 && m[0] == 0x1f && m[1] == 0x8b;
	fclose(f);
	return gz;
}

/* libpcap reads f; on failure f is closed and err says why. */
static pcap_t *
open_stdio(FILE *f, const char *path, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p;

	/*
	 * libpcap freads each record's header and data: with a large buffer
	 * and no stream lock (one thread reads a file) those are copies.
	 */
	setvbuf(f, NULL, _IOFBF, CAPTURE_FILE_BUF);
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	p = pcap_fopen_offline_with_tstamp_precision(f,
	    PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (p == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s: %s", path, ebuf);
	}
	return p;
}

/* libpcap reads what zlib gives; gz is closed on failure. */
static pcap_t *
open_gz(gzFile gz, const char *path, char *err, size_t errlen)
{
	cookie_io_functions_t io = { .read = gz_read, .close = gz_close };
	FILE *f;

	if ((f = fopencookie(gz, "rb", io)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		gzclose(gz);
		return NULL;
	}
	return open_stdio(f, path, err, errlen);
}

static pcap_t *
open_file(const char *path, char *err, size_t errlen)
{
	FILE *f;

	if (is_gzip(path)) {
		gzFile gz = gzopen(path, "rb");

		if (gz == NULL) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return NULL;
		}
		return open_gz(gz, path, err, errlen);
	}
	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	return open_stdio(f, path, err, errlen);
}

/*
 * A pipe (or "-", standard input) can be read only once, so the handle
 * that checks it is kept to read it.  zlib reads it, gzip-compressed or
 * not, without looking ahead of libpcap.
 */
static pcap_t *
open_stream(const char *path, char *err, size_t errlen)
{
	int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) :
	    open(path, O_RDONLY | O_CLOEXEC);
	gzFile gz;

	if (fd < 0 || (gz = gzdopen(fd, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return open_gz(gz, path, err, errlen);
}

/* Checks the link type and installs the filter on a fresh handle. */
static bool
prepare(pcap_t *p, const char *name, const char *filter, char *err,
    size_t errlen)
{
	struct bpf_program prog;
	int dlt = pcap_datalink(p);

	if (!decode_dlt_supported(dlt)) {
		const char *dn = pcap_datalink_val_to_name(dlt);

		snprintf(err, errlen, "%s: unsupported link type %d (%s)", name,
		    dlt, dn != NULL ? dn : "unknown");
		return false;
	}
	if (filter == NULL)
		return true;
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "%s: filter \"%s\": %s", name, filter,
		    pcap_geterr(p));
		return false;
	}
	if (pcap_setfilter(p, &prog) != 0) {
		snprintf(err, errlen, "%s: %s", name, pcap_geterr(p));
		pcap_freecode(&prog);
		return false;
	}
	pcap_freecode(&prog);
	return true;
}

/*
 * Plain classic pcap files without a filter are read by pcapfile.c, which
 * copies nothing.  libpcap has checked the file and named its link type;
 * pcapfile.c reads the same file, opened anew through /proc so that its
 * reads do not move libpcap's offset when the file stays with libpcap
 * (pcapng, say).  A gzip stream or a pipe (both read through zlib) has no
 * descriptor and stays with libpcap, and so does everything without /proc.
 */
static struct pcapfile *
open_plain(pcap_t *p, const char *filter)
{
	struct pcapfile *pf;
	FILE *f = pcap_file(p);
	char path[64];
	int fd;

	if (filter != NULL || f == NULL || fileno(f) < 0)
		return NULL;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fileno(f));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	if ((pf = pcapfile_open(fd)) == NULL)
		close(fd);
	return pf;
}

/*
 * Linux PACKET_FANOUT: every socket of the group gets the packets whose
 * flow hash falls to it.  The kernel's flow hash is symmetric, so both
 * directions of a connection reach the same worker; DEFRAG keeps the
 * fragments of a datagram together.
 */
static bool
join_fanout(pcap_t *p, unsigned group, char *err, size_t errlen)
{
#ifdef PACKET_FANOUT
	uint32_t arg = (group & 0xffff) |
	    (uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16;

	if (setsockopt(pcap_fileno(p), SOL_PACKET, PACKET_FANOUT, &arg,
	    sizeof(arg)) == 0)
		return true;
	snprintf(err, errlen, "PACKET_FANOUT: %s", strerror(errno));
#else
	(void)p;
	(void)group;
	snprintf(err, errlen, "several workers need Linux PACKET_FANOUT");
#endif
	return false;
}

static pcap_t *
open_live(const struct capture_opts *o, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p;
	int rc;

	if ((p = pcap_create(o->iface, ebuf)) == NULL) {
		snprintf(err, errlen, "%s: %s", o->iface, ebuf);
		return NULL;
	}
	pcap_set_snaplen(p, o->snaplen > 0 ? o->snaplen : CAPTURE_SNAPLEN);
	pcap_set_promisc(p, 1);
	pcap_set_timeout(p, CAPTURE_TIMEOUT_MS);
	pcap_set_buffer_size(p, (o->buffer_kb > 0 ? o->buffer_kb :
	    CAPTURE_BUFFER_KB) * 1024);
	pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_MICRO);
	if (o->immediate)
		pcap_set_immediate_mode(p, 1);
	if ((rc = pcap_activate(p)) < 0) {
		snprintf(err, errlen, "%s: %s", o->iface, pcap_geterr(p));
		pcap_close(p);
		return NULL;
	}
	if (rc > 0)	/* a warning: carry on, but say it */
		fprintf(stderr, "stripwatch: %s: %s\n", o->iface,
		    pcap_statustostr(rc));
	/*
	 * Non-blocking, and capture_next() waits in poll() itself: with
	 * TPACKET_V3 an idle interface never times out a read, and a sensor
	 * must commit, count and take policy answers on an idle link too.
	 */
	if (o->fanout != 0 && !join_fanout(p, o->fanout, err, errlen)) {
		pcap_close(p);
		return NULL;
	}
	if (pcap_setnonblock(p, 1, ebuf) != 0 ||
	    pcap_get_selectable_fd(p) < 0) {
		snprintf(err, errlen, "%s: cannot poll the capture: %s",
		    o->iface, ebuf[0] ? ebuf : "no selectable descriptor");
		pcap_close(p);
		return NULL;
	}
	return p;
}

struct capture *
capture_open(const struct capture_opts *o, char *err, size_t errlen)
{
	struct capture *c;
	unsigned stdin_used = 0;
	size_t i;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->opts = *o;
	if (o->iface != NULL) {
		if ((c->pcap = open_live(o, err, errlen)) == NULL ||
		    !prepare(c->pcap, o->iface, o->filter, err, errlen))
			goto fail;
		c->dlt = pcap_datalink(c->pcap);
		snprintf(c->source, sizeof(c->source), "%s", o->iface);
		return c;
	}
	if (o->nfiles == 0) {
		snprintf(err, errlen, "no input");
		goto fail;
	}
	if ((c->held = calloc(o->nfiles, sizeof(*c->held))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* Check every file now, so a typo in the tenth fails at once. */
	for (i = 0; i < o->nfiles; i++) {
		bool stream = strcmp(o->files[i], "-") == 0;
		struct stat st;
		pcap_t *p;
		bool ok;

		if (stream && stdin_used++ > 0) {
			snprintf(err, errlen, "-: standard input can be read "
			    "only once");
			goto fail;
		}
		if (!stream && stat(o->files[i], &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				snprintf(err, errlen, "%s: is a directory, not "
				    "a capture", o->files[i]);
				goto fail;
			}
			stream = !S_ISREG(st.st_mode);
		}
		/*
		 * A regular file is opened to be checked here and again to be
		 * read; anything else is read by the handle that checks it.
		 */
		if (stream) {
			if ((p = open_stream(o->files[i], err, errlen)) == NULL)
				goto fail;
			c->held[i] = p;
			if (!prepare(p, o->files[i], o->filter, err, errlen))
				goto fail;
			continue;
		}
		if ((p = open_file(o->files[i], err, errlen)) == NULL)
			goto fail;
		ok = prepare(p, o->files[i], o->filter, err, errlen);
		pcap_close(p);
		if (!ok)
			goto fail;
	}
	if (o->nfiles == 1)
		snprintf(c->source, sizeof(c->source), "%s", o->files[0]);
	else
		snprintf(c->source, sizeof(c->source), "%s + %zu more",
		    o->files[0], o->nfiles - 1);
	return c;
fail:
	capture_close(c);
	return NULL;
}

static void
count(struct capture *c, struct capture_frame *f, uint64_t ts_us,
    const uint8_t *data, uint32_t caplen, uint32_t len, uint32_t span)
{
	c->frame++;
	c->st.packets++;
	c->st.bytes += len;
	if (caplen < len)
		c->st.truncated++;
	f->ts_us = ts_us;
	f->frame = c->frame;
	f->source = c->cur_file;
	f->dlt = c->dlt;
	f->data = data;
	f->caplen = caplen;
	f->wirelen = len;
	f->span = span;
}

/*
 * A file read by pcapfile.c gave no record (result r, why in err): the
 * message gets the file's name and place, the file is closed.
 */
static void __attribute__((noinline))
plain_ended(struct capture *c, enum pcapfile_result r, char *err,
    size_t errlen)
{
	char why[128];

	if (r == PCAPFILE_DAMAGED) {
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: damaged after frame %llu: %s",
		    c->opts.files[c->cur_file], (unsigned long long)c->frame,
		    why);
		c->st.damaged++;
	}
	/*
	 * Closed on the next call: its last frame may still be in use.  If
	 * one already waits (it ended earlier in this call), this one gave
	 * no frame at all and goes now.
	 */
	if (c->pf_done == NULL)
		c->pf_done = c->pf;
	else
		pcapfile_close(c->pf);
	c->pf = NULL;
}

/*
 * The next record of a file read by pcapfile.c: true with *f filled, or
 * false at its end (err set when the file was damaged), the file closed.
 */
static inline bool
next_plain(struct capture *c, struct capture_frame *f, char *err,
    size_t errlen)
{
	struct pcapfile_rec *r = &c->rec;
	enum pcapfile_result pr = pcapfile_next(c->pf, r, err, errlen);

	if (pr == PCAPFILE_REC) {
		count(c, f, r->ts_us, r->data, r->caplen, r->len, r->span);
		return true;
	}
	plain_ended(c, pr, err, errlen);
	return false;
}

static enum capture_result next_other(struct capture *, struct capture_frame *,
		    char *, size_t);

enum capture_result
capture_next(struct capture *c, struct capture_frame *f, char *err,
    size_t errlen)
{
	err[0] = '\0';
	/* Most calls: the next record of a plain file, nothing to close. */
	if (c->pf != NULL && c->pf_done == NULL && !c->stop) {
		if (next_plain(c, f, err, errlen))
			return CAPTURE_FRAME;
		if (err[0] != '\0')
			return CAPTURE_AGAIN;
		/* It ended: its frames stay valid until the next call. */
	} else if (c->pf_done != NULL) {
		pcapfile_close(c->pf_done);
		c->pf_done = NULL;
	}
	return next_other(c, f, err, errlen);
}

/* capture_next() for the rest: files to open, libpcap, live. */
static enum capture_result __attribute__((noinline))
next_other(struct capture *c, struct capture_frame *f, char *err,
    size_t errlen)
{
	struct pcap_pkthdr *h;
	const char *name;
	const u_char *data;
	int rc;

	for (;;) {
		if (c->stop)
			return CAPTURE_END;
		if (c->pf != NULL) {
			if (next_plain(c, f, err, errlen))
				return CAPTURE_FRAME;
			if (err[0] != '\0')
				return CAPTURE_AGAIN;
			continue;
		}
		if (c->pcap == NULL) {
			if (c->opts.iface != NULL ||
			    c->next_file >= c->opts.nfiles)
				return CAPTURE_END;
			c->cur_file = (uint32_t)c->next_file;
			name = c->opts.files[c->next_file];
			/*
			 * A pipe's handle was checked and prepared at open.  A
			 * file was checked then too; it may have vanished since.
			 */
			c->pcap = c->held[c->next_file];
			c->held[c->next_file++] = NULL;
			if (c->pcap == NULL && ((c->pcap = open_file(name, err,
			    errlen)) == NULL || !prepare(c->pcap, name,
			    c->opts.filter, err, errlen))) {
				if (c->pcap != NULL)
					pcap_close(c->pcap);
				c->pcap = NULL;
				c->st.damaged++;
				return CAPTURE_AGAIN;
			}
			c->dlt = pcap_datalink(c->pcap);
			c->frame = 0;
			if ((c->pf = open_plain(c->pcap, c->opts.filter)) !=
			    NULL) {
				pcap_close(c->pcap);
				c->pcap = NULL;
				continue;
			}
		}
		rc = pcap_next_ex(c->pcap, &h, &data);
		if (rc == 1)
			break;
		if (rc == 0) {		/* live, nothing waiting */
			struct pollfd pfd;

			pfd.fd = pcap_get_selectable_fd(c->pcap);
			pfd.events = POLLIN;
			(void)poll(&pfd, 1, CAPTURE_TIMEOUT_MS);  /* EINTR: fine */
			return CAPTURE_AGAIN;
		}
		if (c->opts.iface != NULL) {
			if (rc == PCAP_ERROR_BREAK)
				return CAPTURE_END;
			snprintf(err, errlen, "%s: %s", c->opts.iface,
			    pcap_geterr(c->pcap));
			return CAPTURE_ERROR;
		}
		if (rc == PCAP_ERROR) {
			/* A lying record header or a file cut mid-packet. */
			snprintf(err, errlen, "%s: damaged after frame %llu: %s",
			    c->opts.files[c->cur_file],
			    (unsigned long long)c->frame, pcap_geterr(c->pcap));
			c->st.damaged++;
		}
		pcap_close(c->pcap);
		c->pcap = NULL;
		if (err[0] != '\0')
			return CAPTURE_AGAIN;
	}
	count(c, f, (uint64_t)h->ts.tv_sec * 1000000 +
	    (uint64_t)h->ts.tv_usec, data, h->caplen, h->len, 0);
	return CAPTURE_FRAME;
}

void
capture_stop(struct capture *c)
{
	c->stop = 1;
	if (c->pcap != NULL && c->opts.iface != NULL)
		pcap_breakloop(c->pcap);
}

void
capture_stats(struct capture *c, struct capture_stats *st)
{
	struct pcap_stat ps;

	if (c->opts.iface != NULL && c->pcap != NULL &&
	    pcap_stats(c->pcap, &ps) == 0) {
		c->st.drops = ps.ps_drop;
		c->st.ifdrops = ps.ps_ifdrop;
	}
	*st = c->st;
}

const char *
capture_source(const struct capture *c)
{
	return c->source;
}

void
capture_close(struct capture *c)
{
	if (c == NULL)
		return;
	if (c->pcap != NULL)
		pcap_close(c->pcap);
	pcapfile_close(c->pf);
	pcapfile_close(c->pf_done);
	for (size_t i = 0; c->held != NULL && i < c->opts.nfiles; i++)
		if (c->held[i] != NULL)
			pcap_close(c->held[i]);
	free(c->held);
	free(c);
}
