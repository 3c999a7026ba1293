/* test_mxprobe.c - the MX probe of `mtasts check` (common/mxprobe.c):
 * the SMTP reply parser table-driven (multi-line replies, STARTTLS among
 * the EHLO keywords, over-long lines, garbage), then whole probes against
 * a scripted peer on 127.0.0.1 (a forked child on an ephemeral port, a
 * GnuTLS server with a CA and certificates made here) for what a real
 * MTA does not do on request: garbage and over-long replies, data after
 * the STARTTLS reply, a peer that trickles bytes forever, silence.  The
 * peer checks that no MAIL, RCPT or DATA ever arrives.  Hermetic: the
 * loopback interface and one temporary CA file only. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "cunit_main.h"
#include "mxprobe.h"
#include "status.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define T2030 1893456000	/* 2030-01-01T00:00:00Z */

/* --- the reply parser ---------------------------------------------------- */

static void t_reply_table(void)
{
	static const struct {
		const char *label;
		const char *in;
		int rc;
		unsigned code, lines;
		int starttls;
		size_t used;
		const char *text;
	} cases[] = {
		{"one line", "220 ready\r\n", MT_OK, 220, 1, 0, 11, "ready"},
		{"code only", "220\r\n", MT_OK, 220, 1, 0, 5, ""},
		{"code and a space", "220 \r\n", MT_OK, 220, 1, 0, 6, ""},
		{"bare LF", "220 ready\n", MT_OK, 220, 1, 0, 10, "ready"},
		{"two lines", "220-a\r\n220 b\r\n", MT_OK, 220, 2, 0, 14, "a"},
		{"EHLO with STARTTLS", "250-mx.example\r\n250-PIPELINING\r\n"
		 "250-STARTTLS\r\n250 HELP\r\n", MT_OK, 250, 4, 1, 56,
		 "mx.example"},
		{"STARTTLS on the last line", "250-x\r\n250 STARTTLS\r\n",
		 MT_OK, 250, 2, 1, 21, "x"},
		{"STARTTLS in lower case",
		 "250-x\r\n250-starttls\r\n250 ok\r\n",
		 MT_OK, 250, 3, 1, 29, "x"},
		{"STARTTLS with a parameter", "250-x\r\n250-STARTTLS foo\r\n"
		 "250 ok\r\n", MT_OK, 250, 3, 1, 33, "x"},
		{"STARTTLS as the greeting is not a keyword",
		 "250 STARTTLS\r\n", MT_OK, 250, 1, 0, 14, "STARTTLS"},
		{"STARTTLSX is another keyword", "250-x\r\n250-STARTTLSX\r\n"
		 "250 ok\r\n", MT_OK, 250, 3, 0, 30, "x"},
		{"STARTTL is not it", "250-x\r\n250-STARTTL\r\n250 ok\r\n",
		 MT_OK, 250, 3, 0, 28, "x"},
		{"a second reply stays", "220 a\r\n250 extra\r\n", MT_OK, 220,
		 1, 0, 7, "a"},
		{"NUL and controls in the text", "220 a\0b\x1b" "c\r\n", MT_OK,
		 220, 1, 0, 11, "a?b?c"},
		{"quote and equals sanitised", "554 \"no\" x=y\r\n", MT_OK,
		 554, 1, 0, 14, "?no? x?y"},
		{"empty", "", MT_ETEMP, 0, 0, 0, 0, ""},
		{"no line end yet", "220 ready", MT_ETEMP, 0, 0, 0, 0, ""},
		{"CR, no LF yet", "220 ready\r", MT_ETEMP, 0, 0, 0, 0, ""},
		{"continuation, no end", "220-a\r\n", MT_ETEMP, 0, 0, 0, 0,
		 ""},
		{"continuation, then half", "220-a\r\n220 b", MT_ETEMP, 0, 0,
		 0, 0, ""},
		{"empty line", "\r\n", MT_EPARSE, 0, 0, 0, 0, ""},
		{"two digits", "22\r\n", MT_EPARSE, 0, 0, 0, 0, ""},
		{"letters", "abc\r\n", MT_EPARSE, 0, 0, 0, 0, ""},
		{"HTTP", "HTTP/1.1 400 Bad Request\r\n", MT_EPARSE, 0, 0, 0,
		 0, ""},
		{"first digit 6", "620 x\r\n", MT_EPARSE, 0, 0, 0, 0, ""},
		{"first digit 1", "120 x\r\n", MT_EPARSE, 0, 0, 0, 0, ""},
		{"second digit 6", "260 x\r\n", MT_EPARSE, 0, 0, 0, 0, ""},
		{"bad separator", "220x\r\n", MT_EPARSE, 0, 0, 0, 0, ""},
		{"codes differ", "220-a\r\n250 b\r\n", MT_EPARSE, 0, 0, 0, 0,
		 ""},
		{"garbage after a continuation", "250-a\r\nxyz\r\n", MT_EPARSE,
		 0, 0, 0, 0, ""},
		{"sign in the code", "2-0 x\r\n", MT_EPARSE, 0, 0, 0, 0, ""},
	};
	struct mxprobe_reply r;
	size_t i, used, len;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int rc;

		len = strlen(cases[i].in);
		if (strcmp(cases[i].label, "NUL and controls in the text") == 0)
			len = 11;
		rc = mxprobe_reply_parse(cases[i].in, len, &r, &used);
		if (rc != cases[i].rc)
			fprintf(stderr, "\n  case '%s': rc %d\n",
				cases[i].label, rc);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (rc != MT_OK || cases[i].rc != MT_OK)
			continue;
		if (r.code != cases[i].code || r.lines != cases[i].lines ||
		    r.starttls != cases[i].starttls ||
		    used != cases[i].used || strcmp(r.text, cases[i].text))
			fprintf(stderr, "\n  case '%s': code %u lines %u "
				"starttls %d used %zu text '%s'\n",
				cases[i].label, r.code, r.lines, r.starttls,
				used, r.text);
		CU_ASSERT_EQUAL(r.code, cases[i].code);
		CU_ASSERT_EQUAL(r.lines, cases[i].lines);
		CU_ASSERT_EQUAL(r.starttls, cases[i].starttls);
		CU_ASSERT_EQUAL(used, cases[i].used);
		CU_ASSERT_STRING_EQUAL(r.text, cases[i].text);
	}
}

/* Line and line-count caps (RFC 5321 §4.5.3.1.5/6), exactly at the edge. */
static void t_reply_limits(void)
{
	static char buf[MXPROBE_LINE_MAX * (MXPROBE_LINES_MAX + 2)];
	struct mxprobe_reply r;
	size_t used, n;
	unsigned i;

	/* 998 octets and CRLF: the longest line taken */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "250 ", 4);
	memcpy(buf + MXPROBE_LINE_MAX - 2, "\r\n", 2);
	CU_ASSERT_EQUAL(mxprobe_reply_parse(buf, MXPROBE_LINE_MAX, &r, &used),
			MT_OK);
	CU_ASSERT_EQUAL(used, MXPROBE_LINE_MAX);
	CU_ASSERT_EQUAL(strlen(r.text), sizeof(r.text) - 1);
	/* one more octet */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "250 ", 4);
	memcpy(buf + MXPROBE_LINE_MAX - 1, "\r\n", 2);
	CU_ASSERT_EQUAL(mxprobe_reply_parse(buf, MXPROBE_LINE_MAX + 1, &r,
					    &used), MT_ETOOBIG);
	/* with a bare LF the same */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "250 ", 4);
	buf[MXPROBE_LINE_MAX - 1] = '\n';
	CU_ASSERT_EQUAL(mxprobe_reply_parse(buf, MXPROBE_LINE_MAX, &r, &used),
			MT_ETOOBIG);
	/* a line not ended yet: 999 octets may still end well, 1000 not */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "250 ", 4);
	CU_ASSERT_EQUAL(mxprobe_reply_parse(buf, MXPROBE_LINE_MAX - 1, &r,
					    &used), MT_ETEMP);
	CU_ASSERT_EQUAL(mxprobe_reply_parse(buf, MXPROBE_LINE_MAX, &r, &used),
			MT_ETOOBIG);
	/* the same after a first line */
	memcpy(buf, "250-x\r\n250 ", 11);
	CU_ASSERT_EQUAL(mxprobe_reply_parse(buf, 7 + MXPROBE_LINE_MAX, &r,
					    &used), MT_ETOOBIG);
	/* MXPROBE_LINES_MAX lines, then one more */
	for (n = 0, i = 0; i < MXPROBE_LINES_MAX; i++) {
		memcpy(buf + n, i + 1 < MXPROBE_LINES_MAX ? "250-k\r\n" :
		       "250 k\r\n", 7);
		n += 7;
	}
	CU_ASSERT_EQUAL(mxprobe_reply_parse(buf, n, &r, &used), MT_OK);
	CU_ASSERT_EQUAL(r.lines, MXPROBE_LINES_MAX);
	buf[n - 4] = '-';
	memcpy(buf + n, "250 k\r\n", 7);
	CU_ASSERT_EQUAL(mxprobe_reply_parse(buf, n + 7, &r, &used),
			MT_ETOOBIG);
	/* bad arguments */
	CU_ASSERT_EQUAL(mxprobe_reply_parse(NULL, 3, &r, &used), MT_EINVAL);
	CU_ASSERT_EQUAL(mxprobe_reply_parse("220\r\n", 5, NULL, &used),
			MT_EINVAL);
	CU_ASSERT_EQUAL(mxprobe_reply_parse("220\r\n", 5, &r, NULL),
			MT_EINVAL);
	CU_ASSERT_EQUAL(mxprobe_reply_parse(NULL, 0, &r, &used), MT_ETEMP);
}

/* --- a scripted peer ----------------------------------------------------- */

static gnutls_x509_privkey_t cakey, leafkey;
static gnutls_x509_crt_t cacrt, leafcrt;
static char ca_path[64];

static int make_crt(gnutls_x509_crt_t *out, gnutls_x509_privkey_t k,
		    const char *cn, const char *san, int ca,
		    gnutls_x509_crt_t issuer, gnutls_x509_privkey_t ikey)
{
	static unsigned char serial = 1;
	gnutls_x509_crt_t crt = NULL;
	int err = gnutls_x509_crt_init(&crt);

	serial++;
	if (err == 0)
		err = gnutls_x509_crt_set_version(crt, 3);
	if (err == 0)
		err = gnutls_x509_crt_set_serial(crt, &serial, 1);
	if (err == 0)	/* 2025-01-01 .. 2035-01-01 */
		err = gnutls_x509_crt_set_activation_time(crt, 1735689600);
	if (err == 0)
		err = gnutls_x509_crt_set_expiration_time(crt, 2051222400);
	if (err == 0)
		err = gnutls_x509_crt_set_dn_by_oid(crt,
			GNUTLS_OID_X520_COMMON_NAME, 0, cn,
			(unsigned)strlen(cn));
	if (err == 0 && san != NULL)
		err = gnutls_x509_crt_set_subject_alt_name(crt,
			GNUTLS_SAN_DNSNAME, san, (unsigned)strlen(san),
			GNUTLS_FSAN_APPEND);
	if (err == 0)
		err = gnutls_x509_crt_set_basic_constraints(crt, ca, -1);
	if (err == 0 && ca)
		err = gnutls_x509_crt_set_key_usage(crt,
			GNUTLS_KEY_KEY_CERT_SIGN);
	if (err == 0 && !ca)
		err = gnutls_x509_crt_set_key_usage(crt,
			GNUTLS_KEY_DIGITAL_SIGNATURE);
	if (err == 0)
		err = gnutls_x509_crt_set_key(crt, k);
	if (err == 0)
		err = gnutls_x509_crt_sign2(crt, issuer ? issuer : crt,
					    ikey ? ikey : k, GNUTLS_DIG_SHA256,
					    0);
	if (err != 0)
		gnutls_x509_crt_deinit(crt);
	else
		*out = crt;
	return err;
}

static int newkey(gnutls_x509_privkey_t *k)
{
	int err = gnutls_x509_privkey_init(k);

	return err ? err : gnutls_x509_privkey_generate(*k, GNUTLS_PK_ECDSA,
		GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
}

static int suite_init(void)
{
	gnutls_datum_t pem = { NULL, 0 };
	FILE *f;
	int err;

	signal(SIGPIPE, SIG_IGN);	/* the scripted peer writes to closed
					 * connections on purpose */
	err = newkey(&cakey);
	if (err == 0)
		err = newkey(&leafkey);
	if (err == 0)
		err = make_crt(&cacrt, cakey, "Probe Test CA", NULL, 1, NULL,
			       NULL);
	if (err == 0)
		err = make_crt(&leafcrt, leafkey, "mx.example.test",
			       "mx.example.test", 0, cacrt, cakey);
	if (err == 0)
		err = gnutls_x509_crt_export2(cacrt, GNUTLS_X509_FMT_PEM, &pem);
	if (err != 0)
		return -1;
	snprintf(ca_path, sizeof(ca_path), "/tmp/mtasts-mxprobe-%d.pem",
		 (int)getpid());
	f = fopen(ca_path, "w");
	if (f == NULL)
		return -1;
	fwrite(pem.data, 1, pem.size, f);
	fclose(f);
	gnutls_free(pem.data);
	return 0;
}

static int suite_clean(void)
{
	unlink(ca_path);
	gnutls_x509_crt_deinit(leafcrt);
	gnutls_x509_crt_deinit(cacrt);
	gnutls_x509_privkey_deinit(leafkey);
	gnutls_x509_privkey_deinit(cakey);
	return 0;
}

enum peer_kind {
	PEER_SCRIPT,	/* banner, EHLO, STARTTLS replies as given */
	PEER_SILENT,	/* accepts and says nothing */
	PEER_CLOSE,	/* accepts and closes */
	PEER_TRICKLE,	/* "220 " and then one byte every 10 ms, no LF */
};

struct peer {
	enum peer_kind kind;
	const char *banner;	/* sent at once */
	const char *ehlo;	/* reply to EHLO (NULL: close instead) */
	const char *starttls;	/* reply to STARTTLS */
	int tls;		/* handshake after the STARTTLS reply */
	const char *priority;	/* server priority (NULL: NORMAL) */
};

/* Exit statuses of the peer. */
#define PEER_OK 0
#define PEER_GOT_MAIL 20	/* MAIL, RCPT or DATA arrived */
#define PEER_UNEXPECTED 21	/* a command out of the script */

struct conn {
	int fd;
	gnutls_session_t tls;
};

/* One line from the client (blocking, 5 s at most per read); 0 at EOF. */
static int peer_line(struct conn *c, char *out, size_t outsz)
{
	size_t n = 0;

	while (n + 1 < outsz) {
		char ch;
		ssize_t k = c->tls ? gnutls_record_recv(c->tls, &ch, 1) :
				     recv(c->fd, &ch, 1, 0);

		if (k <= 0)
			return 0;
		out[n++] = ch;
		if (ch == '\n')
			break;
	}
	out[n] = '\0';
	return 1;
}

static void peer_send(struct conn *c, const char *s)
{
	if (c->tls)
		(void)gnutls_record_send(c->tls, s, strlen(s));
	else
		(void)send(c->fd, s, strlen(s), MSG_NOSIGNAL);
}

static int forbidden(const char *l)
{
	return strncasecmp(l, "MAIL", 4) == 0 || strncasecmp(l, "RCPT", 4) == 0
	       || strncasecmp(l, "DATA", 4) == 0;
}

/* The SMTP dialogue after the banner; returns the exit status. */
static int peer_dialogue(struct conn *c, const struct peer *p)
{
	gnutls_certificate_credentials_t cred = NULL;
	char line[1100];
	int err;

	while (peer_line(c, line, sizeof(line))) {
		if (forbidden(line))
			return PEER_GOT_MAIL;
		if (strncasecmp(line, "QUIT", 4) == 0) {
			peer_send(c, "221 bye\r\n");
			return PEER_OK;
		}
		if (strncasecmp(line, "EHLO ", 5) == 0) {
			if (c->tls != NULL) {
				peer_send(c, "250-mx.example.test\r\n250 "
					  "SIZE\r\n");
				continue;
			}
			if (p->ehlo == NULL)
				return PEER_OK;
			peer_send(c, p->ehlo);
			continue;
		}
		if (strncasecmp(line, "STARTTLS", 8) != 0 || c->tls != NULL)
			return PEER_UNEXPECTED;
		peer_send(c, p->starttls);
		if (!p->tls)
			continue;
		if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
		    gnutls_certificate_set_x509_key(cred, &leafcrt, 1,
						    leafkey) < 0 ||
		    gnutls_init(&c->tls, GNUTLS_SERVER) < 0 ||
		    gnutls_priority_set_direct(c->tls, p->priority ?
			p->priority : "NORMAL", NULL) < 0 ||
		    gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE,
					   cred) < 0)
			return PEER_UNEXPECTED;
		gnutls_transport_set_int(c->tls, c->fd);
		do {
			err = gnutls_handshake(c->tls);
		} while (err < 0 && !gnutls_error_is_fatal(err));
		if (err < 0)
			return PEER_OK;	/* the client refused it */
	}
	return PEER_OK;
}

static void peer_run(int lfd, const struct peer *p)
{
	struct timeval tv = { 5, 0 };
	struct conn c = { -1, NULL };
	int status = PEER_OK, i;

	c.fd = accept(lfd, NULL, NULL);
	if (c.fd < 0)
		_exit(PEER_UNEXPECTED);
	setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	switch (p->kind) {
	case PEER_SILENT: {
		char b[64];

		/* until the client gives up (or 5 s) */
		while (recv(c.fd, b, sizeof(b), 0) > 0)
			;
		break;
	}
	case PEER_CLOSE:
		break;
	case PEER_TRICKLE:
		peer_send(&c, "220 ");
		for (i = 0; i < 500; i++) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };

			if (send(c.fd, "x", 1, MSG_NOSIGNAL) != 1)
				break;
			nanosleep(&ts, NULL);
		}
		break;
	case PEER_SCRIPT:
		peer_send(&c, p->banner);
		status = peer_dialogue(&c, p);
		break;
	}
	close(c.fd);
	_exit(status);
}

/* Probe host at a fresh peer playing p; the peer's exit status into
 * *peer_status. */
static int probe_peer(const struct peer *p, const char *host, int timeout_ms,
		      struct mxprobe_result *r, int *peer_status)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct mxprobe_opts o;
	struct mxprobe *mp = NULL;
	int lfd, st = -1, rc;
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 4) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0)
		return -100;
	pid = fork();
	if (pid < 0)
		return -101;
	if (pid == 0)
		peer_run(lfd, p);
	close(lfd);
	memset(&o, 0, sizeof(o));
	o.ca_file = ca_path;
	o.timeout_ms = timeout_ms;
	o.ehlo_name = "client.example.test";
	o.port = ntohs(sa.sin_port);
	rc = mxprobe_create(&mp, &o);
	if (rc == MT_OK)
		rc = mxprobe_run(mp, host, "127.0.0.1", r);
	mxprobe_destroy(mp);
	waitpid(pid, &st, 0);
	*peer_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return rc;
}

#define EHLO_TLS "250-mx.example.test\r\n250-PIPELINING\r\n250-starttls\r\n" \
		 "250 HELP\r\n"

static void t_probe_peers(void)
{
	static char longline[3000];
	static const struct {
		const char *label;
		struct peer p;
		const char *host;
		enum mxprobe_status status;
		enum mxprobe_step step;
		unsigned code;
		const char *detail;	/* a part of r.detail */
		int timeout_ms;		/* 0: 10 s (valgrind is slow) */
	} cases[] = {
		{"good: STARTTLS, TLS 1.3, EHLO again, QUIT",
		 { PEER_SCRIPT, "220 mx ESMTP\r\n", EHLO_TLS, "220 go\r\n", 1,
		   NULL }, "mx.example.test", MXPROBE_OK, MXPROBE_STEP_DONE,
		 0, "", 0},
		{"a multi-line banner",
		 { PEER_SCRIPT, "220-mx ESMTP\r\n220-more\r\n220 end\r\n",
		   EHLO_TLS, "220 go\r\n", 1, NULL }, "mx.example.test",
		 MXPROBE_OK, MXPROBE_STEP_DONE, 0, "", 0},
		{"TLS 1.2 only", { PEER_SCRIPT, "220 mx\r\n", EHLO_TLS,
		   "220 go\r\n", 1, "NORMAL:-VERS-ALL:+VERS-TLS1.2" },
		 "mx.example.test", MXPROBE_OK, MXPROBE_STEP_DONE, 0, "", 0},
		{"TLS 1.0 only", { PEER_SCRIPT, "220 mx\r\n", EHLO_TLS,
		   "220 go\r\n", 1, "NORMAL:-VERS-ALL:+VERS-TLS1.0" },
		 "mx.example.test", MXPROBE_TLS_VERSION,
		 MXPROBE_STEP_HANDSHAKE, 0, "", 0},
		{"no STARTTLS", { PEER_SCRIPT, "220 mx\r\n",
		   "250-mx\r\n250-SIZE 100\r\n250 HELP\r\n", NULL, 0, NULL },
		 "mx.example.test", MXPROBE_NO_STARTTLS, MXPROBE_STEP_EHLO,
		 0, "", 0},
		{"banner 554", { PEER_SCRIPT, "554 go away\r\n", NULL, NULL, 0,
		   NULL }, "mx.example.test", MXPROBE_SMTP,
		 MXPROBE_STEP_BANNER, 554, "go away", 0},
		{"EHLO refused", { PEER_SCRIPT, "220 mx\r\n",
		   "500 what\r\n", NULL, 0, NULL }, "mx.example.test",
		 MXPROBE_SMTP, MXPROBE_STEP_EHLO, 500, "", 0},
		{"STARTTLS refused", { PEER_SCRIPT, "220 mx\r\n", EHLO_TLS,
		   "454 TLS not available\r\n", 0, NULL }, "mx.example.test",
		 MXPROBE_SMTP, MXPROBE_STEP_STARTTLS, 454, "not available", 0},
		{"data after the STARTTLS reply", { PEER_SCRIPT, "220 mx\r\n",
		   EHLO_TLS, "220 go\r\n250 injected\r\n", 0, NULL },
		 "mx.example.test", MXPROBE_PROTOCOL, MXPROBE_STEP_STARTTLS,
		 0, "RFC 3207", 0},
		{"garbage banner", { PEER_SCRIPT, "HTTP/1.1 400 Bad\r\n", NULL,
		   NULL, 0, NULL }, "mx.example.test", MXPROBE_PROTOCOL,
		 MXPROBE_STEP_BANNER, 0, "HTTP/1.1", 0},
		{"over-long EHLO line", { PEER_SCRIPT, "220 mx\r\n", longline,
		   NULL, 0, NULL }, "mx.example.test", MXPROBE_PROTOCOL,
		 MXPROBE_STEP_EHLO, 0, "limits", 0},
		{"closed after EHLO", { PEER_SCRIPT, "220 mx\r\n", NULL, NULL,
		   0, NULL }, "mx.example.test", MXPROBE_PROTOCOL,
		 MXPROBE_STEP_EHLO, 0, "closed", 0},
		{"closed at once", { PEER_CLOSE, NULL, NULL, NULL, 0, NULL },
		 "mx.example.test", MXPROBE_PROTOCOL, MXPROBE_STEP_BANNER, 0,
		 "closed", 0},
		{"silent", { PEER_SILENT, NULL, NULL, NULL, 0, NULL },
		 "mx.example.test", MXPROBE_TIMEOUT, MXPROBE_STEP_BANNER, 0,
		 "banner", 400},
		{"trickling bytes do not stretch the deadline",
		 { PEER_TRICKLE, NULL, NULL, NULL, 0, NULL },
		 "mx.example.test", MXPROBE_TIMEOUT, MXPROBE_STEP_BANNER, 0,
		 "banner", 400},
	};
	struct mxprobe_result r;
	size_t i;

	memset(longline, 'a', sizeof(longline) - 3);
	memcpy(longline, "250-", 4);
	memcpy(longline + sizeof(longline) - 3, "\r\n", 3);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int st = -1, rc;

		rc = probe_peer(&cases[i].p, cases[i].host,
				cases[i].timeout_ms ? cases[i].timeout_ms :
				10000, &r, &st);
		if (rc != MT_OK || r.status != cases[i].status ||
		    r.step != cases[i].step || st != PEER_OK ||
		    !strstr(r.detail, cases[i].detail))
			fprintf(stderr, "\n  case '%s': rc %d status %s step "
				"%s code %u peer %d detail '%s'\n",
				cases[i].label, rc,
				mxprobe_status_str(r.status),
				mxprobe_step_str(r.step), r.smtp_code, st,
				r.detail);
		CU_ASSERT_EQUAL(rc, MT_OK);
		CU_ASSERT_EQUAL(r.status, cases[i].status);
		CU_ASSERT_EQUAL(r.step, cases[i].step);
		CU_ASSERT_EQUAL(r.smtp_code, cases[i].code);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.detail, cases[i].detail));
		/* no MAIL, RCPT, DATA; nothing out of the script */
		CU_ASSERT_EQUAL(st, PEER_OK);
		if (r.status == MXPROBE_OK) {
			CU_ASSERT_EQUAL(r.tls, 1);
			CU_ASSERT_EQUAL(r.cert_rc, MT_OK);
			CU_ASSERT_EQUAL(r.dnsid_match, 1);
			CU_ASSERT_EQUAL(r.chain.trusted, 1);
			CU_ASSERT_EQUAL(r.chain.not_after, 2051222400);
			CU_ASSERT(strncmp(r.protocol, "TLS1.", 5) == 0);
			CU_ASSERT(r.cipher[0] != '\0');
		}
	}
}

/* The certificate as the probe sees it: another MX name, and dates
 * against an injected clock. */
static int64_t late(void)
{
	return 2051222400 + 86400;	/* a day after notAfter */
}

static void t_probe_cert(void)
{
	struct peer good = { PEER_SCRIPT, "220 mx\r\n", EHLO_TLS, "220 go\r\n",
			     1, NULL };
	struct mxprobe_result r;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct mxprobe_opts o;
	struct mxprobe *mp = NULL;
	int st = -1, lfd, stw = -1;
	pid_t pid;

	/* another MX name: the handshake is fine, the DNS-ID is not */
	CU_ASSERT_EQUAL(probe_peer(&good, "mx2.example.test", 10000, &r, &st),
			MT_OK);
	CU_ASSERT_EQUAL(r.status, MXPROBE_OK);
	CU_ASSERT_EQUAL(r.dnsid_match, 0);
	CU_ASSERT_EQUAL(r.cn_only, 0);
	CU_ASSERT_EQUAL(r.chain.trusted, 1);
	CU_ASSERT_EQUAL(st, PEER_OK);

	/* the clock the chain is checked against is the caller's */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(lfd >= 0 &&
			bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
			listen(lfd, 4) == 0 &&
			getsockname(lfd, (struct sockaddr *)&sa, &sl) == 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0)
		peer_run(lfd, &good);
	close(lfd);
	memset(&o, 0, sizeof(o));
	o.ca_file = ca_path;
	o.timeout_ms = 10000;
	o.port = ntohs(sa.sin_port);
	o.now = late;
	CU_ASSERT_EQUAL(mxprobe_create(&mp, &o), MT_OK);
	CU_ASSERT_EQUAL(mxprobe_run(mp, "mx.example.test", "127.0.0.1", &r),
			MT_OK);
	waitpid(pid, &stw, 0);
	CU_ASSERT_EQUAL(r.status, MXPROBE_OK);
	CU_ASSERT_EQUAL(r.chain.expired, 1);
	CU_ASSERT_EQUAL(r.chain.trusted, 1);
	CU_ASSERT(WIFEXITED(stw) && WEXITSTATUS(stw) == PEER_OK);

	/* nothing listens: refused, at once */
	CU_ASSERT_EQUAL(mxprobe_run(mp, "mx.example.test", "127.0.0.1", &r),
			MT_OK);
	CU_ASSERT_EQUAL(r.status, MXPROBE_CONNECT);
	CU_ASSERT_EQUAL(r.step, MXPROBE_STEP_CONNECT);
	CU_ASSERT_EQUAL(r.err, ECONNREFUSED);
	/* not an address */
	CU_ASSERT_EQUAL(mxprobe_run(mp, "mx.example.test", "mx.example.test",
				    &r), MT_EINVAL);
	CU_ASSERT_EQUAL(mxprobe_run(mp, "mx.example.test", "", &r), MT_EINVAL);
	CU_ASSERT_EQUAL(mxprobe_run(NULL, "mx.example.test", "127.0.0.1", &r),
			MT_EINVAL);
	mxprobe_destroy(mp);
	mxprobe_destroy(NULL);

	/* a trust store that cannot be read is refused up front */
	o.ca_file = "/nonexistent/ca.pem";
	CU_ASSERT_EQUAL(mxprobe_create(&mp, &o), MT_EIO);
	CU_ASSERT_PTR_NULL(mp);
	o.ca_file = ca_path;
	o.ehlo_name = "not a name";
	CU_ASSERT_EQUAL(mxprobe_create(&mp, &o), MT_EINVAL);
	CU_ASSERT_PTR_NULL(mp);
}

static void t_names(void)
{
	CU_ASSERT_STRING_EQUAL(mxprobe_status_str(MXPROBE_TLS_VERSION),
			       "tls-version");
	CU_ASSERT_STRING_EQUAL(mxprobe_status_str((enum mxprobe_status)99),
			       "unknown");
	CU_ASSERT_STRING_EQUAL(mxprobe_step_str(MXPROBE_STEP_STARTTLS),
			       "STARTTLS");
	CU_ASSERT_STRING_EQUAL(mxprobe_step_str((enum mxprobe_step)99),
			       "unknown");
}

static CU_TestInfo tests[] = {
	{"reply parser", t_reply_table},
	{"reply limits", t_reply_limits},
	{"probes against scripted peers", t_probe_peers},
	{"the certificate as the probe sees it", t_probe_cert},
	{"names", t_names},
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	CU_pSuite s = CU_add_suite("mxprobe", suite_init, suite_clean);
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; tests[i].pName != NULL; i++)
		if (CU_add_test(s, tests[i].pName, tests[i].pTestFunc) == NULL)
			return -1;
	return 0;
}
