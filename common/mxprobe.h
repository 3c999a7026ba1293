/*
 * mxprobe.h - the MX probe of `mtasts check`: one bounded SMTP session to
 * one address of one MX host, opened the way an enforcing MTA-STS sender
 * opens it (RFC 8461 §4.2, RFC 3207): TCP to port 25, the banner, EHLO,
 * STARTTLS when offered, the TLS handshake (SNI = the MX host, TLS 1.2 or
 * later, the priority string of the enforce transport), EHLO again, QUIT.
 * No MAIL command is ever sent.
 *
 * The probe reports facts (struct mxprobe_result): how far the session
 * got, the protocol and cipher, and the certificate checked as a sender
 * checks it (tlsverify.h: the chain against the sender's trust store with
 * the dates apart, the MX host against DNS-IDs only).  What the facts mean
 * for a domain's policy is the caller's business.
 *
 * Part of the network half (common_lib): never linked into the module's
 * decision path.  A handle is per thread; mxprobe_run() is bounded by
 * opts->timeout_ms whatever the peer does.
 */
#ifndef MTASTS_MXPROBE_H
#define MTASTS_MXPROBE_H
#include <stddef.h>
#include <stdint.h>

#include "tlsverify.h"

/* RFC 5321 §4.5.3.1.5 caps a reply line at 512 octets; lines are taken up
 * to the text line limit (§4.5.3.1.6, 1000 with CRLF) and refused beyond. */
#define MXPROBE_LINE_MAX 1000
#define MXPROBE_LINES_MAX 100	/* lines of one reply (EHLO: about 15) */
#define MXPROBE_REPLY_MAX 16384 /* bytes of one reply */
#define MXPROBE_DEFAULT_TIMEOUT_MS 20000

/* One SMTP reply (RFC 5321 §4.2). */
struct mxprobe_reply {
	unsigned code; /* 200..599, the same on every line */
	unsigned lines;
	/* a line after the first is the EHLO keyword STARTTLS (RFC 3207 §4) */
	int starttls;
	char text[128]; /* the first line's text, sanitised */
};

/* Parse the one complete reply that buf[0..len) starts with.  Lines end
 * in CRLF (a bare LF is taken too).  MT_OK: *r filled, *used = its bytes
 * with the last line end; MT_ETEMP: no complete reply yet (read more);
 * MT_EPARSE: not an SMTP reply (no code, codes differ between lines, a
 * code out of range, a bad separator); MT_ETOOBIG: a line over
 * MXPROBE_LINE_MAX, more than MXPROBE_LINES_MAX lines.  Pure: what the
 * peer sends is hostile, every byte is bounds-checked. */
int mxprobe_reply_parse(const char *buf, size_t len, struct mxprobe_reply *r,
			size_t *used);

enum mxprobe_status {
	MXPROBE_OK = 0, /* TLS up and EHLO answered over it */
	/* TCP connect refused, unreachable, or no answer (step CONNECT, err
	 * says which) */
	MXPROBE_CONNECT,
	MXPROBE_TIMEOUT, /* connected, then the deadline passed */
	/* a reply the step cannot go on with: a banner other than 220, EHLO
	 * or STARTTLS refused (smtp_code, reply) */
	MXPROBE_SMTP,
	/* not SMTP: garbage, an over-long line, the connection closed, data
	 * after a reply (after STARTTLS: RFC 3207 §5 injection) */
	MXPROBE_PROTOCOL,
	MXPROBE_NO_STARTTLS, /* the EHLO reply does not offer STARTTLS */
	MXPROBE_TLS_VERSION, /* no TLS 1.2 or later (RFC 8461 §4.2) */
	MXPROBE_TLS,	     /* the handshake failed otherwise */
	MXPROBE_LOCAL,	     /* a local failure: socket, memory */
};

enum mxprobe_step {
	MXPROBE_STEP_CONNECT = 0,
	MXPROBE_STEP_BANNER,
	MXPROBE_STEP_EHLO,
	MXPROBE_STEP_STARTTLS,
	MXPROBE_STEP_HANDSHAKE,
	MXPROBE_STEP_TLS_EHLO, /* EHLO over TLS (RFC 3207 §4.2) */
	MXPROBE_STEP_DONE,
};

struct mxprobe_opts {
	const char *ca_file; /* NULL = the system bundle */
	/* the whole session of one address; <= 0: MXPROBE_DEFAULT_TIMEOUT_MS */
	int timeout_ms;
	const char *ehlo_name; /* NULL = this host's name */
	unsigned port;	       /* 0 = 25 */
	/* the clock certificates are checked against; NULL = clock_now() */
	int64_t (*now)(void);
};

struct mxprobe_result {
	enum mxprobe_status status;
	enum mxprobe_step step; /* where it ended (DONE when OK) */
	/* errno of a connect failure (EAFNOSUPPORT: no IPv6 here), 0 = a
	 * connect that timed out */
	int err;
	unsigned smtp_code; /* MXPROBE_SMTP: the reply's code */
	char reply[128];    /* ... and its text, sanitised */
	char detail[200];   /* what went wrong, sanitised */
	/* From the handshake on (tls set), even when a later step failed. */
	int tls;	   /* the handshake completed */
	char protocol[16]; /* "TLS1.3" */
	char cipher[64];   /* "TLS_AES_256_GCM_SHA384" */
	/* MT_OK: chain filled; MT_ENOTFOUND: no certificate; MT_EPARSE:
	 * unreadable */
	int cert_rc;
	struct tlsverify_chain chain;
	int dnsid_match; /* a DNS-ID names the MX host */
	/* no DNS-ID does, but the subject CN would for a client with the CN
	 * fallback */
	int cn_only;
};

struct mxprobe;

/* The trust store (tlsverify_trust_create()) is loaded once here.
 * MT_OK, MT_EIO (trust store unreadable or empty), MT_ENOMEM. */
int mxprobe_create(struct mxprobe **out, const struct mxprobe_opts *opts);
void mxprobe_destroy(struct mxprobe *p); /* accepts NULL */

/* Probe host (normalised MX name: SNI and the DNS-ID check) at addr (an
 * IPv4 or IPv6 address in text form).  MT_OK with *r filled whatever the
 * peer did; MT_EINVAL (bad argument, r->detail says), MT_ENOMEM. */
int mxprobe_run(struct mxprobe *p, const char *host, const char *addr,
		struct mxprobe_result *r);

const char *mxprobe_status_str(enum mxprobe_status s);
/* "connect", "banner", "EHLO", "STARTTLS", "TLS handshake", ... */
const char *mxprobe_step_str(enum mxprobe_step s);

#endif
