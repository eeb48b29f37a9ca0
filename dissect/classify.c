/*
 * classify.c - protocol classification of flows with nDPI 4.2.
 */
#include <stdlib.h>
#include <string.h>

#include <ndpi/ndpi_api.h>

#include "config.h"
#include "classify.h"

struct classify {
	struct ndpi_detection_module_struct *nd;
};

/*
 * What nDPI looks for on the flows it sees when not every flow is named:
 * only flows already judged SMTP by what they say reach it, and these are
 * the names such a flow can honestly get (mail over TLS, the other mail
 * protocols, FTP, whose replies look the same).  nDPI runs every enabled
 * dissector on every packet, so this list is most of its cost.
 */
static const uint16_t mail_protocols[] = {
	NDPI_PROTOCOL_MAIL_SMTP, NDPI_PROTOCOL_MAIL_SMTPS,
	NDPI_PROTOCOL_MAIL_POP, NDPI_PROTOCOL_MAIL_POPS,
	NDPI_PROTOCOL_MAIL_IMAP, NDPI_PROTOCOL_MAIL_IMAPS,
	NDPI_PROTOCOL_FTP_CONTROL, NDPI_PROTOCOL_TLS,
};

struct classify *
classify_new(bool every_protocol)
{
	struct classify *c;
	NDPI_PROTOCOL_BITMASK on;
	size_t i;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->nd = ndpi_init_detection_module(ndpi_no_prefs)) == NULL) {
		free(c);
		return NULL;
	}
	if (every_protocol)
		NDPI_BITMASK_SET_ALL(on);
	else {
		NDPI_BITMASK_RESET(on);
		for (i = 0; i < sizeof(mail_protocols) /
		    sizeof(mail_protocols[0]); i++)
			NDPI_ADD_PROTOCOL_TO_BITMASK(on, mail_protocols[i]);
	}
	ndpi_set_protocol_detection_bitmask2(c->nd, &on);
	ndpi_finalize_initialization(c->nd);
	return c;
}

void
classify_free(struct classify *c)
{
	if (c == NULL)
		return;
	ndpi_exit_detection_module(c->nd);
	free(c);
}

static void
keep(struct classify_state *st, ndpi_protocol pr)
{
	st->master = pr.master_protocol;
	st->app = pr.app_protocol;
}

static void
release(struct classify_state *st)
{
	if (st->nf != NULL) {
		ndpi_free_flow(st->nf);
		st->nf = NULL;
	}
	st->done = true;
}

void
classify_packet(struct classify *c, struct classify_state *st,
    const struct packet *p)
{
	ndpi_protocol pr;

	if (st->done || c == NULL)
		return;
	if (st->nf == NULL &&
	    (st->nf = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT)) == NULL) {
		st->done = true;	/* no memory: stays unknown */
		return;
	}
	if (st->pkts == 0)
		memset(st->nf, 0, SIZEOF_FLOW_STRUCT);
	pr = ndpi_detection_process_packet(c->nd, st->nf, p->l3,
	    p->l3_len > 0xffff ? 0xffff : (unsigned short)p->l3_len,
	    p->ts_us / 1000);
	st->pkts++;
	if (pr.app_protocol != NDPI_PROTOCOL_UNKNOWN ||
	    pr.master_protocol != NDPI_PROTOCOL_UNKNOWN) {
		keep(st, pr);
		release(st);
	} else if (st->pkts >= CLASSIFY_PKTS_MAX)
		classify_finish(c, st);
}

void
classify_finish(struct classify *c, struct classify_state *st)
{
	uint8_t guessed = 0;

	if (st->done)
		return;
	if (st->nf != NULL && c != NULL && st->pkts > 0)
		keep(st, ndpi_detection_giveup(c->nd, st->nf, 1, &guessed));
	release(st);
}

const char *
classify_name(struct classify *c, const struct classify_state *st,
    char *buf, size_t len)
{
	ndpi_protocol pr;

	memset(&pr, 0, sizeof(pr));
	pr.master_protocol = st->master;
	pr.app_protocol = st->app;
	if (c == NULL || len == 0)
		return "Unknown";
	return ndpi_protocol2name(c->nd, pr, buf, (u_int)len);
}

bool
classify_is_smtp(const struct classify_state *st)
{
	return st->master == NDPI_PROTOCOL_MAIL_SMTP ||
	    st->app == NDPI_PROTOCOL_MAIL_SMTP ||
	    st->master == NDPI_PROTOCOL_MAIL_SMTPS ||
	    st->app == NDPI_PROTOCOL_MAIL_SMTPS;
}
