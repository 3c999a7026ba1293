/*
 * mxprobe.c - the MX probe of `mtasts check` (contract in mxprobe.h): a
 * small SMTP client that opens one session the way an enforcing MTA-STS
 * sender does and stops before any mail would be sent.
 *
 *   connect    TCP to port 25, non-blocking, bounded by the deadline
 *   banner     220 (RFC 5321 §4.3.1); anything else ends the probe
 *   EHLO       250; STARTTLS among the keywords (RFC 3207 §4)
 *   STARTTLS   220, and not one byte more before the handshake (RFC 3207
 *              §5: data that arrives with the 220 was sent in clear and
 *              must not be taken as part of the TLS session)
 *   handshake  GnuTLS, SNI = the MX host (RFC 8461 §4.2 requires SNI
 *              support), the priority string of the enforce transport
 *              (TLS 1.2 or 1.3); the certificate is then checked through
 *              tlsverify.c with the caller's clock
 *   EHLO       again over TLS (RFC 3207 §4.2), then QUIT
 * No MAIL, RCPT or DATA is ever sent.
 *
 * Everything the peer sends is hostile: replies go through
 * mxprobe_reply_parse() (pure, fuzzed) with caps on line length, line
 * count and reply size; text kept for messages is sanitised.  One
 * deadline bounds the whole session: each wait is a poll() for what is
 * left of it, and a peer trickling bytes cannot stretch it because the
 * deadline is checked before every read.
 *
 * Ownership: mxprobe_create() allocates the handle (mem_alloc) and its
 * GnuTLS credentials and trust list; mxprobe_destroy() frees them.  Each
 * mxprobe_run() closes its socket and session before it returns.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "clock.h"
#include "domain.h"
#include "log.h"
#include "mem.h"
#include "mxprobe.h"
#include "status.h"
#include "tlsverify.h"

/* The enforce transport's (exim-config/mtasts-transports.conf): GnuTLS's
 * NORMAL, TLS 1.3 and 1.2 only (RFC 8461 §4.2 "TLS version 1.2 or
 * higher"). */
#define PROBE_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define SMTP_PORT 25
/* QUIT is a courtesy: it gets at most this long. */
#define QUIT_MS 2000

struct mxprobe {
	gnutls_certificate_credentials_t cred;
	gnutls_x509_trust_list_t trust;
	int timeout_ms;
	unsigned port;
	int64_t (*now)(void);
	char ehlo[DOMAIN_BUFSZ];
};

struct sess {
	int fd;
	gnutls_session_t tls; /* NULL until STARTTLS */
	int64_t deadline;     /* clock_mono_ms() time */
	size_t len;	      /* bytes of buf not yet parsed */
	char buf[MXPROBE_REPLY_MAX];
};

enum io {
	IO_OK,
	IO_TIMEOUT,
	IO_CLOSED,
	IO_ERROR,
	IO_GARBAGE,
	IO_TOOBIG,
	IO_EXTRA, /* more bytes after the reply */
};

static const char *const status_names[] = {
	[MXPROBE_OK] = "ok",
	[MXPROBE_CONNECT] = "connect",
	[MXPROBE_TIMEOUT] = "timeout",
	[MXPROBE_SMTP] = "smtp",
	[MXPROBE_PROTOCOL] = "protocol",
	[MXPROBE_NO_STARTTLS] = "no-starttls",
	[MXPROBE_TLS_VERSION] = "tls-version",
	[MXPROBE_TLS] = "tls",
	[MXPROBE_LOCAL] = "local",
};

static const char *const step_names[] = {
	[MXPROBE_STEP_CONNECT] = "connect",
	[MXPROBE_STEP_BANNER] = "banner",
	[MXPROBE_STEP_EHLO] = "EHLO",
	[MXPROBE_STEP_STARTTLS] = "STARTTLS",
	[MXPROBE_STEP_HANDSHAKE] = "TLS handshake",
	[MXPROBE_STEP_TLS_EHLO] = "EHLO after STARTTLS",
	[MXPROBE_STEP_DONE] = "QUIT",
};

const char *mxprobe_status_str(enum mxprobe_status s)
{
	if ((unsigned)s >= sizeof(status_names) / sizeof(status_names[0]))
		return "unknown";
	return status_names[s];
}

const char *mxprobe_step_str(enum mxprobe_step s)
{
	if ((unsigned)s >= sizeof(step_names) / sizeof(step_names[0]))
		return "unknown";
	return step_names[s];
}

/* --- the reply parser (pure) ------------------------------------------- */

/* RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39 */
static int reply_code(const char *l, size_t n, unsigned *code)
{
	if (n < 3 || l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '5' ||
	    l[2] < '0' || l[2] > '9')
		return -1;
	*code = (unsigned)(l[0] - '0') * 100 + (unsigned)(l[1] - '0') * 10 +
		(unsigned)(l[2] - '0');
	return 0;
}

/* RFC 5321 §4.1.1.1: ehlo-line = ehlo-keyword *( SP ehlo-param ); keywords
 * compare without case. */
static int is_starttls(const char *t, size_t n)
{
	return n >= 8 && strncasecmp(t, "STARTTLS", 8) == 0 &&
	       (n == 8 || t[8] == ' ');
}

int mxprobe_reply_parse(const char *buf, size_t len, struct mxprobe_reply *r,
			size_t *used)
{
	size_t off = 0;

	if (r == NULL || used == NULL || (buf == NULL && len > 0))
		return MT_EINVAL;
	memset(r, 0, sizeof(*r));
	*used = 0;
	if (len == 0)
		return MT_ETEMP;
	for (;;) {
		const char *nl =
			off < len ? memchr(buf + off, '\n', len - off) : NULL;
		const char *l = buf + off;
		size_t end, n;
		unsigned code;
		char sep;

		/* no line end: can the line still end within the limit? */
		if (nl == NULL)
			return len - off > MXPROBE_LINE_MAX - 1 ? MT_ETOOBIG :
								  MT_ETEMP;
		end = (size_t)(nl - buf);
		n = end - off;
		if (n > 0 && buf[end - 1] == '\r')
			n--;
		if (n > MXPROBE_LINE_MAX - 2)
			return MT_ETOOBIG;
		if (reply_code(l, n, &code) != 0)
			return MT_EPARSE;
		sep = n > 3 ? l[3] : ' ';
		if (sep != ' ' && sep != '-')
			return MT_EPARSE;
		/* §4.2.1: every line of a multiline reply has the code */
		if (r->lines > 0 && code != r->code)
			return MT_EPARSE;
		if (r->lines == MXPROBE_LINES_MAX)
			return MT_ETOOBIG;
		if (r->lines == 0) {
			r->code = code;
			log_sanitise(r->text, sizeof(r->text),
				     l + (n > 4 ? 4 : n), n > 4 ? n - 4 : 0);
		} else if (n > 4 && is_starttls(l + 4, n - 4)) {
			r->starttls = 1;
		}
		r->lines++;
		off = end + 1;
		if (sep == ' ') {
			*used = off;
			return MT_OK;
		}
	}
}

/* --- I/O under the deadline -------------------------------------------- */

/* 1 ready, 0 deadline passed, -1 error */
static int wait_io(int fd, short ev, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = ev, .revents = 0 };
		int64_t left = deadline - clock_mono_ms();
		int n;

		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

static short tls_dir(gnutls_session_t tls)
{
	return gnutls_record_get_direction(tls) ? POLLOUT : POLLIN;
}

/* > 0 bytes, 0 closed, -1 error, -2 deadline */
static ssize_t read_some(struct sess *s, char *dst, size_t cap)
{
	for (;;) {
		ssize_t n;
		int w;

		if (clock_mono_ms() >= s->deadline)
			return -2;
		if (s->tls != NULL) {
			n = gnutls_record_recv(s->tls, dst, cap);
			if (n >= 0)
				return n;
			if (n == GNUTLS_E_PREMATURE_TERMINATION)
				return 0;
			if (n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED)
				return -1;
			w = wait_io(s->fd, tls_dir(s->tls), s->deadline);
		} else {
			n = recv(s->fd, dst, cap, 0);
			if (n >= 0)
				return n;
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				return -1;
			w = wait_io(s->fd, POLLIN, s->deadline);
		}
		if (w == 0)
			return -2;
		if (w < 0)
			return -1;
	}
}

static enum io write_all(struct sess *s, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k;
		int w;

		if (clock_mono_ms() >= s->deadline)
			return IO_TIMEOUT;
		if (s->tls != NULL) {
			k = gnutls_record_send(s->tls, p, n);
			if (k < 0 && k != GNUTLS_E_AGAIN &&
			    k != GNUTLS_E_INTERRUPTED)
				return IO_ERROR;
		} else {
			k = send(s->fd, p, n, MSG_NOSIGNAL);
			if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				return IO_ERROR;
		}
		if (k > 0) {
			p += k;
			n -= (size_t)k;
			continue;
		}
		w = wait_io(s->fd, s->tls != NULL ? tls_dir(s->tls) : POLLOUT,
			    s->deadline);
		if (w == 0)
			return IO_TIMEOUT;
		if (w < 0)
			return IO_ERROR;
	}
	return IO_OK;
}

/* One complete reply into *rep; the buffer must hold nothing else. */
static enum io read_reply(struct sess *s, struct mxprobe_reply *rep)
{
	for (;;) {
		size_t used;
		ssize_t n;
		int rc = mxprobe_reply_parse(s->buf, s->len, rep, &used);

		if (rc == MT_OK)
			return used == s->len ? IO_OK : IO_EXTRA;
		if (rc == MT_EPARSE)
			return IO_GARBAGE;
		if (rc != MT_ETEMP || s->len == sizeof(s->buf))
			return IO_TOOBIG;
		n = read_some(s, s->buf + s->len, sizeof(s->buf) - s->len);
		if (n == -2)
			return IO_TIMEOUT;
		if (n == 0)
			return IO_CLOSED;
		if (n < 0)
			return IO_ERROR;
		s->len += (size_t)n;
	}
}

/* Why a step ended, from what the I/O said. */
static void io_fail(struct sess *s, struct mxprobe_result *r,
		    enum mxprobe_step step, enum io x)
{
	char shown[64];

	r->step = step;
	r->status = MXPROBE_PROTOCOL;
	switch (x) {
	case IO_TIMEOUT:
		r->status = MXPROBE_TIMEOUT;
		snprintf(r->detail, sizeof(r->detail),
			 "no answer to the %s "
			 "in time",
			 step_names[step]);
		break;
	case IO_CLOSED:
		snprintf(r->detail, sizeof(r->detail),
			 "the server closed the "
			 "connection (%s)",
			 step_names[step]);
		break;
	case IO_ERROR:
		snprintf(r->detail, sizeof(r->detail), "%s (%s)",
			 s->tls != NULL ? "TLS read or write failed" :
					  strerror(errno),
			 step_names[step]);
		break;
	case IO_GARBAGE:
		log_sanitise(shown, sizeof(shown), s->buf,
			     s->len < 60 ? s->len : 60);
		snprintf(r->detail, sizeof(r->detail),
			 "not an SMTP reply "
			 "(%s): \"%s\"",
			 step_names[step], shown);
		break;
	case IO_TOOBIG:
		snprintf(r->detail, sizeof(r->detail),
			 "reply over the limits "
			 "(%s): a line over %d octets, more than %d lines or "
			 "%d bytes",
			 step_names[step], MXPROBE_LINE_MAX, MXPROBE_LINES_MAX,
			 MXPROBE_REPLY_MAX);
		break;
	case IO_EXTRA:
		if (step == MXPROBE_STEP_STARTTLS)
			snprintf(
				r->detail, sizeof(r->detail),
				"data after the "
				"STARTTLS reply, before the handshake (sent in "
				"clear: RFC 3207 §5)");
		else
			snprintf(r->detail, sizeof(r->detail),
				 "data after the "
				 "%s reply, before the next command",
				 step_names[step]);
		break;
	case IO_OK:
		break;
	}
}

/* Send cmd, read the reply; 0 when a reply came with code want, else the
 * failure is in *r. */
static int command(struct sess *s, struct mxprobe_result *r,
		   enum mxprobe_step step, const char *cmd,
		   struct mxprobe_reply *rep, unsigned want)
{
	enum io x = cmd != NULL ? write_all(s, cmd, strlen(cmd)) : IO_OK;

	if (x == IO_OK)
		x = read_reply(s, rep);
	if (x != IO_OK)
		io_fail(s, r, step, x); /* shows what is in the buffer */
	s->len = 0;
	if (x != IO_OK)
		return -1;
	if (rep->code != want) {
		r->step = step;
		r->status = MXPROBE_SMTP;
		r->smtp_code = rep->code;
		snprintf(r->reply, sizeof(r->reply), "%s", rep->text);
		snprintf(r->detail, sizeof(r->detail), "%s answered %u %s",
			 step_names[step], rep->code, rep->text);
		return -1;
	}
	return 0;
}

/* QUIT (RFC 5321 §4.1.1.10), briefly; what it answers does not count. */
static void quit(struct sess *s)
{
	struct mxprobe_reply rep;
	int64_t d = clock_mono_ms() + QUIT_MS;

	if (d < s->deadline)
		s->deadline = d;
	s->len = 0;
	if (write_all(s, "QUIT\r\n", 6) == IO_OK)
		(void)read_reply(s, &rep);
	if (s->tls != NULL)
		(void)gnutls_bye(s->tls, GNUTLS_SHUT_WR);
}

/* --- the steps ---------------------------------------------------------- */

static void do_connect(const struct mxprobe *p, struct sess *s,
		       const char *addr, struct mxprobe_result *r)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} u;
	socklen_t sl, el = sizeof(int);
	int soerr = 0, w;

	memset(&u, 0, sizeof(u));
	r->step = MXPROBE_STEP_CONNECT;
	if (inet_pton(AF_INET6, addr, &u.v6.sin6_addr) == 1) {
		u.v6.sin6_family = AF_INET6;
		u.v6.sin6_port = htons((uint16_t)p->port);
		sl = sizeof(u.v6);
	} else {
		(void)inet_pton(AF_INET, addr, &u.v4.sin_addr);
		u.v4.sin_family = AF_INET;
		u.v4.sin_port = htons((uint16_t)p->port);
		sl = sizeof(u.v4);
	}
	s->fd = socket(u.sa.sa_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 && errno == EAFNOSUPPORT) {
		/* no IPv6 on this host: the address cannot be reached from
		 * here, as with no route to it */
		r->status = MXPROBE_CONNECT;
		r->err = errno;
		snprintf(r->detail, sizeof(r->detail), "%s", strerror(errno));
		return;
	}
	if (s->fd < 0) {
		r->status = MXPROBE_LOCAL;
		snprintf(r->detail, sizeof(r->detail), "socket: %s",
			 strerror(errno));
		return;
	}
	r->status = MXPROBE_CONNECT;
	if (connect(s->fd, &u.sa, sl) != 0) {
		if (errno != EINPROGRESS) {
			r->err = errno;
			snprintf(r->detail, sizeof(r->detail), "%s",
				 strerror(errno));
			return;
		}
		w = wait_io(s->fd, POLLOUT, s->deadline);
		if (w == 0) {
			r->err = 0;
			snprintf(r->detail, sizeof(r->detail),
				 "no answer to "
				 "the TCP connect in time");
			return;
		}
		if (w < 0 ||
		    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &el) != 0)
			soerr = errno;
		if (soerr != 0) {
			r->err = soerr;
			snprintf(r->detail, sizeof(r->detail), "%s",
				 strerror(soerr));
			return;
		}
	}
	r->status = MXPROBE_OK;
}

/* The certificate, as a sender checks it.  MT_OK or MT_ENOMEM. */
static int check_cert(const struct mxprobe *p, struct sess *s, const char *host,
		      struct mxprobe_result *r)
{
	const gnutls_datum_t *peers = NULL;
	unsigned n = 0;
	int rc;

	if (gnutls_certificate_type_get(s->tls) == GNUTLS_CRT_X509)
		peers = gnutls_certificate_get_peers(s->tls, &n);
	if (peers == NULL || n == 0) {
		r->cert_rc = MT_ENOTFOUND;
		return MT_OK;
	}
	r->cert_rc =
		tlsverify_chain_check(p->trust, peers, n, p->now(), &r->chain);
	if (r->cert_rc == MT_ENOMEM)
		return MT_ENOMEM;
	if (r->cert_rc != MT_OK)
		return MT_OK;
	/* RFC 8461 §4.2: a DNS-ID matching the MX host, no CN fallback */
	rc = tlsverify_session_dnsid(s->tls, host);
	if (rc == MT_ENOMEM)
		return MT_ENOMEM;
	r->dnsid_match = rc == MT_OK;
	if (!r->dnsid_match)
		r->cn_only = tlsverify_cn_only_der(peers[0].data, peers[0].size,
						   host) == 1;
	return MT_OK;
}

/* The handshake and what it gives.  MT_OK (r says how it went) or
 * MT_ENOMEM. */
static int do_tls(const struct mxprobe *p, struct sess *s, const char *host,
		  struct mxprobe_result *r)
{
	const char *name = NULL;
	gnutls_protocol_t v;
	int err, w;

	r->step = MXPROBE_STEP_HANDSHAKE;
	r->status = MXPROBE_TLS;
	/* a peer that closes while we write is a finding, never a SIGPIPE
	 * (MSG_NOSIGNAL, as for the plain part) */
	err = gnutls_init(&s->tls,
			  GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (err == GNUTLS_E_MEMORY_ERROR)
		return MT_ENOMEM;
	if (err == 0)
		err = gnutls_priority_set_direct(s->tls, PROBE_PRIORITY, NULL);
	if (err == 0)
		err = gnutls_credentials_set(s->tls, GNUTLS_CRD_CERTIFICATE,
					     p->cred);
	/* SNI = the MX host (RFC 8461 §4.2, RFC 6066 §3) */
	if (err == 0)
		err = gnutls_server_name_set(s->tls, GNUTLS_NAME_DNS, host,
					     strlen(host));
	if (err < 0) {
		r->status = MXPROBE_LOCAL;
		snprintf(r->detail, sizeof(r->detail), "TLS set-up: %s",
			 gnutls_strerror(err));
		return err == GNUTLS_E_MEMORY_ERROR ? MT_ENOMEM : MT_OK;
	}
	gnutls_transport_set_int(s->tls, s->fd);
	for (;;) {
		if (clock_mono_ms() >= s->deadline) {
			r->status = MXPROBE_TIMEOUT;
			snprintf(r->detail, sizeof(r->detail),
				 "no answer to "
				 "the TLS handshake in time");
			return MT_OK;
		}
		err = gnutls_handshake(s->tls);
		if (err == 0)
			break;
		if (err == GNUTLS_E_AGAIN || err == GNUTLS_E_INTERRUPTED) {
			w = wait_io(s->fd, tls_dir(s->tls), s->deadline);
			if (w < 0) {
				snprintf(r->detail, sizeof(r->detail),
					 "poll: %s", strerror(errno));
				return MT_OK;
			}
			continue; /* w == 0: the deadline, above */
		}
		if (!gnutls_error_is_fatal(err))
			continue; /* a warning alert */
		if (err == GNUTLS_E_MEMORY_ERROR)
			return MT_ENOMEM;
		/* a server below TLS 1.2 answers with its own version (the
		 * client refuses it) or with a protocol_version alert */
		if (err == GNUTLS_E_UNSUPPORTED_VERSION_PACKET ||
		    (err == GNUTLS_E_FATAL_ALERT_RECEIVED &&
		     gnutls_alert_get(s->tls) == GNUTLS_A_PROTOCOL_VERSION))
			r->status = MXPROBE_TLS_VERSION;
		v = gnutls_protocol_get_version(s->tls);
		if (err == GNUTLS_E_FATAL_ALERT_RECEIVED)
			snprintf(r->detail, sizeof(r->detail), "%s: %s",
				 gnutls_strerror(err),
				 gnutls_alert_get_name(
					 gnutls_alert_get(s->tls)));
		else if (err == GNUTLS_E_UNSUPPORTED_VERSION_PACKET &&
			 (v == GNUTLS_SSL3 || v == GNUTLS_TLS1_0 ||
			  v == GNUTLS_TLS1_1))
			/* the version its ServerHello chose */
			snprintf(r->detail, sizeof(r->detail),
				 "the server "
				 "chose %s",
				 gnutls_protocol_get_name(v));
		else
			snprintf(r->detail, sizeof(r->detail), "%s",
				 gnutls_strerror(err));
		return MT_OK;
	}
	r->tls = 1;
	snprintf(r->protocol, sizeof(r->protocol), "%s",
		 gnutls_protocol_get_name(gnutls_protocol_get_version(s->tls)));
#if GNUTLS_VERSION_NUMBER >= 0x030703
	name = gnutls_ciphersuite_get(s->tls);
#endif
	if (name == NULL)
		name = gnutls_cipher_get_name(gnutls_cipher_get(s->tls));
	snprintf(r->cipher, sizeof(r->cipher), "%s", name ? name : "?");
	r->status = MXPROBE_OK;
	return check_cert(p, s, host, r);
}

int mxprobe_run(struct mxprobe *p, const char *host, const char *addr,
		struct mxprobe_result *r)
{
	struct sess *s = NULL;
	struct mxprobe_reply rep;
	struct in6_addr a6;
	char cmd[DOMAIN_BUFSZ + 8];
	int rc = MT_OK;

	if (r == NULL)
		return MT_EINVAL;
	memset(r, 0, sizeof(*r));
	r->status = MXPROBE_LOCAL;
	if (p == NULL || host == NULL || addr == NULL ||
	    (inet_pton(AF_INET6, addr, &a6) != 1 &&
	     inet_pton(AF_INET, addr, &a6) != 1)) {
		snprintf(r->detail, sizeof(r->detail), "not an address");
		return MT_EINVAL;
	}
	s = mem_alloc(sizeof(*s));
	if (s == NULL)
		return MT_ENOMEM;
	memset(s, 0, offsetof(struct sess, buf));
	s->fd = -1;
	s->deadline = clock_mono_ms() + p->timeout_ms;

	do_connect(p, s, addr, r);
	if (r->status != MXPROBE_OK)
		goto out;
	/* RFC 5321 §4.3.1: a 554 greeting is a refusal, 421 a busy server */
	if (command(s, r, MXPROBE_STEP_BANNER, NULL, &rep, 220) != 0)
		goto out_quit;
	snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", p->ehlo);
	if (command(s, r, MXPROBE_STEP_EHLO, cmd, &rep, 250) != 0)
		goto out_quit;
	if (!rep.starttls) {
		r->step = MXPROBE_STEP_EHLO;
		r->status = MXPROBE_NO_STARTTLS;
		snprintf(r->detail, sizeof(r->detail),
			 "STARTTLS is not "
			 "among the EHLO keywords");
		goto out_quit;
	}
	if (command(s, r, MXPROBE_STEP_STARTTLS, "STARTTLS\r\n", &rep, 220) !=
	    0)
		goto out_quit;
	rc = do_tls(p, s, host, r);
	if (rc != MT_OK || r->status != MXPROBE_OK)
		goto out;
	if (command(s, r, MXPROBE_STEP_TLS_EHLO, cmd, &rep, 250) != 0)
		goto out_quit;
	r->step = MXPROBE_STEP_DONE;
	r->status = MXPROBE_OK;
out_quit:
	/* nothing more after a reply that broke the protocol */
	if (r->status != MXPROBE_PROTOCOL && r->status != MXPROBE_TIMEOUT)
		quit(s);
out:
	if (s->tls != NULL)
		gnutls_deinit(s->tls);
	if (s->fd >= 0)
		close(s->fd);
	mem_free(s);
	return rc;
}

/* --- the handle --------------------------------------------------------- */

static int64_t default_now(void)
{
	return clock_now();
}

int mxprobe_create(struct mxprobe **out, const struct mxprobe_opts *opts)
{
	struct mxprobe *p;
	char hn[256];
	int rc;

	if (out == NULL)
		return MT_EINVAL;
	*out = NULL;
	p = mem_alloc(sizeof(*p));
	if (p == NULL)
		return MT_ENOMEM;
	memset(p, 0, sizeof(*p));
	p->timeout_ms = opts != NULL && opts->timeout_ms > 0 ?
				opts->timeout_ms :
				MXPROBE_DEFAULT_TIMEOUT_MS;
	p->port = opts != NULL && opts->port != 0 ? opts->port : SMTP_PORT;
	p->now = opts != NULL && opts->now != NULL ? opts->now : default_now;
	/* EHLO names this host (RFC 5321 §4.1.4); a name that is not a
	 * domain is not sent */
	if (opts != NULL && opts->ehlo_name != NULL) {
		if (domain_normalise(opts->ehlo_name, strlen(opts->ehlo_name),
				     p->ehlo) != MT_OK) {
			mem_free(p);
			return MT_EINVAL;
		}
	} else if (gethostname(hn, sizeof(hn)) != 0 ||
		   memchr(hn, '\0', sizeof(hn)) == NULL ||
		   domain_normalise(hn, strlen(hn), p->ehlo) != MT_OK) {
		snprintf(p->ehlo, sizeof(p->ehlo), "localhost");
	}
	rc = tlsverify_trust_create(&p->trust,
				    opts != NULL ? opts->ca_file : NULL);
	if (rc == MT_OK &&
	    gnutls_certificate_allocate_credentials(&p->cred) < 0)
		rc = MT_ENOMEM;
	if (rc != MT_OK) {
		mxprobe_destroy(p);
		return rc;
	}
	*out = p;
	return MT_OK;
}

void mxprobe_destroy(struct mxprobe *p)
{
	if (p == NULL)
		return;
	if (p->cred != NULL)
		gnutls_certificate_free_credentials(p->cred);
	tlsverify_trust_destroy(p->trust);
	mem_free(p);
}
