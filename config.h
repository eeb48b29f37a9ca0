/*
 * config.h - every limit stripwatch enforces, with its unit and its reason.
 *
 * Things you may reasonably want to change.  Each cap, when hit, is counted
 * and reported in the run summary and in the `runs` table; nothing is
 * dropped silently.  Stages take these as defaults through their *_limits
 * structs, so tests can shrink them without recompiling.
 */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

/* Flow table. */
#define FLOW_MAX		(512 * 1024)	/* flows held at once; oldest evicted beyond */
#define FLOW_IDLE_US		(600ULL * 1000000)	/* idle open flow expires, pcap time */
#define FLOW_CLOSED_US		(10ULL * 1000000)	/* linger after FIN/RST for late ACKs, retransmits */
#define FLOW_PRE_PKTS		3		/* payload-less packets kept for nDPI */
#define FLOW_PRE_L3_MAX		128		/* bytes of each (IP + TCP headers) */
#define FLOW_EXPIRE_BATCH	64		/* flows expired per packet at most (bounds latency) */
#define FLOW_SLAB_ITEMS		256		/* flows (stream states) allocated at a time */

/* TCP reassembly, per direction. */
#define REASM_OOO_SEGS_MAX	128		/* out-of-order segments buffered */
#define REASM_OOO_BYTES_MAX	(256 * 1024)	/* out-of-order bytes buffered */
#define REASM_STALL_US		(3ULL * 1000000)	/* acknowledged hole waited for, pcap time */
#define REASM_HIST_BYTES	2048		/* delivered bytes kept to check retransmits */
#define REASM_MEM_MAX		(512ULL * 1024 * 1024)	/* out-of-order bytes, all flows */
#define REASM_HIST_MEM_MAX	(256ULL * 1024 * 1024)	/* retransmit-check history, all flows;
							   past it new streams go unchecked */

/* Classification. */
#define CLASSIFY_PKTS_MAX	32		/* packets shown to nDPI before giving up */

/* SMTP dissection (RFC 5321, 3207, 2920, 3030). */
#define SMTP_LINE_MAX		4096		/* bytes per line kept; longer lines discarded to LF */
#define SMTP_PENDING_MAX	64		/* pipelined commands awaiting replies */
#define SMTP_CAPS_MAX		48		/* EHLO keywords kept per reply */
#define SMTP_KEYWORD_MAX	32		/* bytes per EHLO keyword kept */
#define SMTP_RCPT_DOMAINS_MAX	16		/* recipient domains kept per session */
#define SMTP_DOMAIN_MAX		128		/* bytes per domain kept */
#define SMTP_TEXT_MAX		256		/* bytes of banner/EHLO name kept */

/* TLS dissection (RFC 5246, 8446, 6066). */
#define TLS_RECORD_MAX		(16384 + 2048)	/* record body, bytes (RFC 5246 6.2.3) */
#define TLS_HS_MAX		(128 * 1024)	/* handshake message kept, bytes; a longer
						   Certificate is cut, a longer hello stops
						   the direction */
#define TLS_CERTS_MAX		16		/* certificates reported per chain */
#define TLS_VERSIONS_MAX	16		/* supported_versions kept, GREASE removed */
#define TLS_SNI_MAX		255		/* server_name bytes reported; more is cut */

/* Decoding. */
#define DECODE_VLAN_MAX		4		/* stacked 802.1Q/802.1ad tags followed */
#define DECODE_IP6_EXT_MAX	8		/* IPv6 extension headers followed */

/* Store. */
#define STORE_BATCH_ROWS	2000		/* rows per transaction */
#define STORE_CERT_MEMO		64		/* certificates whose row id is remembered */

/* Live capture defaults. */
#define CAPTURE_SNAPLEN		262144		/* bytes per packet */
#define CAPTURE_BUFFER_KB	(64 * 1024)	/* kernel ring, KiB */
#define CAPTURE_TIMEOUT_MS	100		/* read timeout, so signals are seen */
#define CAPTURE_FILE_BUF	(1 << 20)	/* reading a file: each of
						   pcapfile.c's two buffers,
						   libpcap's stdio buffer */

#endif
