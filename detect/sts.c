/*
 * sts.c - a session judged against a recipient domain's MTA-STS policy
 * (RFC 8461 4, 5; result types of RFC 8460 4.3).
 *
 * Only what the wire proves is judged: mail in clear is a delivery
 * without TLS; a chain seen in clear is checked; a chain hidden by TLS
 * 1.3 or resumption leaves the certificate question open, never "passed".
 */
#include <stdio.h>
#include <string.h>

#include "detect/detect.h"

const char *
detect_sts(const struct detect_summary *sum, const struct sts_policy *pol,
    bool check_mx, char *detail, size_t detlen)
{
	detail[0] = '\0';
	if (pol->mode == STS_MODE_NONE) {
		snprintf(detail, detlen, "mode none");
		return NULL;
	}
	/* STS-134..136: mail went in clear, whatever the reason. */
	if (sum->mail_in_clear) {
		snprintf(detail, detlen, "mail in clear%s",
		    sum->starttls_offered ? " although STARTTLS was offered" :
		    ": STARTTLS not offered");
		return "starttls-not-supported";
	}
	if (!sum->tls) {
		snprintf(detail, detlen, "no TLS and no mail");
		return NULL;
	}
	/* STS-142: an MX outside the policy's list, TLS or not. */
	if (check_mx && sum->sni[0] != '\0' && !sts_mx_match(pol, sum->sni)) {
		snprintf(detail, detlen, "MX %s matches no mx of the policy",
		    sum->sni);
		return "validation-failure";
	}
	if (!sum->cert_seen) {
		snprintf(detail, detlen, "certificate %s",
		    sum->cert_status != NULL ? sum->cert_status :
		    "not observable");
		return NULL;
	}
	if (sum->client_refused && sum->cert_problems != 0) {
		/* STS-139: the sender turned the chain down itself. */
		snprintf(detail, detlen, "certificate %s, refused by the client",
		    sum->cert_problem_text);
		return NULL;
	}
	snprintf(detail, detlen, "certificate %s", sum->cert_problem_text);
	if (sum->cert_problems & CERT_EXPIRED)
		return "certificate-expired";		/* STS-123 */
	if (sum->cert_problems & (CERT_UNTRUSTED | CERT_UNDECODABLE))
		return "certificate-not-trusted";	/* STS-125 */
	if (sum->cert_problems & CERT_NAME_MISMATCH)
		return "certificate-host-mismatch";	/* STS-120..122 */
	if (sum->cert_problems & CERT_NOT_YET_VALID)
		return "validation-failure";		/* STS-124 */
	snprintf(detail, detlen, "certificate ok");
	return NULL;
}
