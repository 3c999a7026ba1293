/*
 * dns.c - DNS lookups through libunbound: TXT (CNAMEs followed, strings
 * joined), MX, TLSA, each with its DNSSEC state, and final (NXDOMAIN,
 * NODATA) kept apart from temporary failures (SERVFAIL, timeout, bogus).
 *
 * One ub_ctx per struct dns and per process.  libunbound resolves in a
 * background thread (ub_ctx_async(ctx, 1)); the caller waits on ub_fd()
 * with poll() until its own deadline, then cancels (ub_resolve() alone has
 * no bound: a dead forwarder keeps it retrying for many seconds, and a
 * delivery must not wait that long).  The thread is created with every
 * signal blocked so that the host MTA's signals (SIGALRM timeouts,
 * SIGCHLD) keep reaching its own thread.
 *
 * Fork: a child inherits a context whose thread did not survive the fork,
 * and whose pipes the parent's thread still reads.  The child therefore
 * never touches it: on the first call in a new process the inherited
 * context is abandoned (not deleted: ub_ctx_delete would talk to the
 * parent's thread) and a fresh one is made.
 *
 * Resolver: by default the forwarders of /etc/resolv.conf (or
 * opts->resolv_conf), with no trust anchor unless opts->trust_anchor is
 * given: answers are then DNS_SEC_INSECURE.  opts->recursive resolves from
 * the root with the root trust anchor (opts->trust_anchor or Debian's
 * /usr/share/dns/root.key), so DNSSEC states are real.
 *
 * Trust: answers are remote data.  libunbound hands over each RR's rdata
 * uncompressed; every length in it is checked before use.
 *
 * Addresses: dns_addr() asks AAAA and A at once under one deadline (the
 * policy fetch hands them to libcurl, so that no lookup of the policy host
 * goes through the system resolver, whose time libcurl cannot bound).
 *
 * Ownership: dns_txt() fills caller-owned struct dns_txt whose strings are
 * mem_alloc'ed and released by dns_txt_clear(); dns_mx(), dns_tlsa() and
 * dns_addr() fill fixed-size caller structs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include <unbound.h>

#include "clock.h"
#include "config.h"
#include "dns.h"
#include "domain.h"
#include "log.h"
#include "mem.h"
#include "status.h"
#include "str.h"

#define DNS_DEFAULT_TIMEOUT_MS 5000
#define DNS_ROOT_KEY "/usr/share/dns/root.key"

/* RFC 8305 §3 "Resolution Delay": once one address family has answered,
 * the other is waited for this long at most. */
#define DNS_GRACE_MS 50
#define DNS_QUERIES_MAX 2

#define RR_TYPE_A 1
#define RR_TYPE_MX 15
#define RR_TYPE_TXT 16
#define RR_TYPE_AAAA 28
#define RR_TYPE_TLSA 52
#define RR_CLASS_IN 1
#define RCODE_NOERROR 0
#define RCODE_NXDOMAIN 3

struct dns {
	struct ub_ctx *ctx; /* NULL until the first lookup */
	pid_t pid;	    /* process that made ctx */
	char *resolv_conf;
	char *trust_anchor;
	int recursive;
	int timeout_ms;
};

/* One outstanding query: filled by the libunbound callback. */
struct dns_query {
	int done;
	int err;
	struct ub_result *res;
};

static const char *const status_names[] = {
	[DNS_ANSWER] = "answer",
	[DNS_NXDOMAIN] = "nxdomain",
	[DNS_NODATA] = "nodata",
	[DNS_TEMPFAIL] = "tempfail",
};

static const char *const sec_names[] = {
	[DNS_SEC_INSECURE] = "insecure",
	[DNS_SEC_SECURE] = "secure",
	[DNS_SEC_BOGUS] = "bogus",
};

const char *dns_status_str(enum dns_status s)
{
	if ((unsigned)s < ARRAY_SIZE(status_names))
		return status_names[s];
	return "unknown";
}

const char *dns_sec_str(enum dns_sec s)
{
	if ((unsigned)s < ARRAY_SIZE(sec_names))
		return sec_names[s];
	return "unknown";
}

static void ctx_abandon_or_delete(struct dns *d)
{
	if (d->ctx != NULL && d->pid == getpid())
		ub_ctx_delete(d->ctx);
	/* else: inherited across fork(): see the file comment */
	d->ctx = NULL;
}

static int ctx_make(struct dns *d)
{
	struct ub_ctx *ctx;
	const char *ta;
	int err;

	ctx = ub_ctx_create();
	if (ctx == NULL)
		return MT_ENOMEM;
	/* libunbound would print to stderr, which inside an MTA may be
	 * anything: failures are logged here, through log.h. */
	ub_ctx_debugout(ctx, NULL);
	err = ub_ctx_async(ctx, 1);
	if (err == 0 && d->recursive) {
		/* RFC 8461 §2: MTA-STS needs no DNSSEC, but DANE and the
		 * TLSA lookups do; recursion validates from the root. */
		ta = d->trust_anchor ? d->trust_anchor : DNS_ROOT_KEY;
		err = ub_ctx_add_ta_file(ctx, ta);
		/* Finalise now so that a bad trust anchor shows here, not
		 * at the first lookup; invalid. is a static zone already
		 * (RFC 6761 §6.4), re-adding it changes nothing. */
		if (err == 0)
			err = ub_ctx_zone_add(ctx, "invalid.", "static");
	} else if (err == 0) {
		err = ub_ctx_resolvconf(ctx, d->resolv_conf);
		/* The forwarders are the administrator's choice: a local
		 * resolver on 127.0.0.1 must be usable. */
		if (err == 0)
			err = ub_ctx_set_option(
				ctx, "do-not-query-localhost:", "no");
		if (err == 0 && d->trust_anchor)
			err = ub_ctx_add_ta_file(ctx, d->trust_anchor);
		/* Forwarding, the upstream resolver has the last word, as it
		 * has for the MTA's own lookups: libunbound must not answer
		 * names a site may really use (RFC 6761 test., RFC 8375
		 * home.arpa.) from its built-in NXDOMAIN zones.  Last:
		 * removing a zone finalises the configuration, so errors
		 * (unreadable trust anchor) show here. */
		if (err == 0)
			err = ub_ctx_zone_remove(ctx, "test.");
		if (err == 0)
			err = ub_ctx_zone_remove(ctx, "home.arpa.");
	}
	if (err != 0) {
		log_msg(LOG_LVL_ERR, "event=dns-setup error=\"%s\" resolver=%s",
			ub_strerror(err),
			d->recursive   ? "recursive" :
			d->resolv_conf ? d->resolv_conf :
					 "/etc/resolv.conf");
		ub_ctx_delete(ctx);
		return err == UB_NOMEM ? MT_ENOMEM : MT_ECONFIG;
	}
	d->ctx = ctx;
	d->pid = getpid();
	return MT_OK;
}

int dns_create(struct dns **out, const struct dns_opts *opts)
{
	struct dns *d;
	int rc = MT_ENOMEM;

	*out = NULL;
	d = mem_calloc(1, sizeof(*d));
	if (d == NULL)
		return MT_ENOMEM;
	if (opts != NULL) {
		if (opts->resolv_conf != NULL &&
		    (d->resolv_conf = mem_strdup(opts->resolv_conf)) == NULL)
			goto out;
		if (opts->trust_anchor != NULL &&
		    (d->trust_anchor = mem_strdup(opts->trust_anchor)) == NULL)
			goto out;
		d->recursive = opts->recursive;
		d->timeout_ms = opts->timeout_ms;
	}
	if (d->timeout_ms <= 0)
		d->timeout_ms = DNS_DEFAULT_TIMEOUT_MS;
	/* Made now so that a bad resolver configuration shows at once. */
	rc = ctx_make(d);
out:
	if (rc != MT_OK) {
		dns_destroy(d);
		return rc;
	}
	*out = d;
	return MT_OK;
}

void dns_destroy(struct dns *d)
{
	if (d == NULL)
		return;
	ctx_abandon_or_delete(d);
	mem_free(d->resolv_conf);
	mem_free(d->trust_anchor);
	mem_free(d);
}

/* A query name: 1..253 octets of letters, digits, '-', '_' and '.'. */
static int name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > DOMAIN_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return 0;
	}
	return 1;
}

static void log_error(const char *name, int type, int err)
{
	log_msg(LOG_LVL_WARN, "event=dns-error name=%s type=%d error=\"%s\"",
		name, type, ub_strerror(err));
}

static void query_done(void *arg, int err, struct ub_result *res)
{
	struct dns_query *q = arg;

	q->done = 1;
	q->err = err;
	q->res = res;
}

/* Start the query with every signal blocked, so that the resolver thread
 * libunbound creates on the first query inherits an all-blocked mask. */
static int start_query(struct ub_ctx *ctx, const char *name, int type,
		       struct dns_query *q, int *id)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = ub_resolve_async(ctx, name, type, RR_CLASS_IN, q, query_done, id);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

/* The status of a finished query's answer. */
static enum dns_status status_of(const struct ub_result *r)
{
	if (r->bogus)
		return DNS_TEMPFAIL; /* a forged answer is no answer */
	if (r->rcode == RCODE_NXDOMAIN)
		return DNS_NXDOMAIN;
	if (r->rcode != RCODE_NOERROR)
		return DNS_TEMPFAIL; /* SERVFAIL, REFUSED, ... */
	return r->havedata ? DNS_ANSWER : DNS_NODATA;
}

/* Ask name for each of types[0..n) at once and wait for the answers until
 * timeout_ms has passed; what has not answered by then is cancelled.
 * With `grace`, the first answer that carries records shortens the wait
 * for the others to DNS_GRACE_MS (RFC 8305 §3: a client does not wait long
 * for the second address family once it has addresses).  On MT_OK each
 * q[i] says whether its query finished (done, err, res: the caller
 * ub_resolve_free()s res).  MT_ENOMEM, MT_EINVAL, MT_ECONFIG otherwise,
 * with nothing left to free. */
static int run_queries(struct dns *d, const char *name, const int *types,
		       struct dns_query *q, size_t n, int timeout_ms, int grace)
{
	struct pollfd pfd;
	int64_t deadline, left;
	int id[DNS_QUERIES_MAX];
	size_t i, started = 0, done;
	int err = 0, rc;

	if (n == 0 || n > DNS_QUERIES_MAX)
		return MT_EINVAL;
	memset(q, 0, n * sizeof(*q));
	if (!name_ok(name))
		return MT_EINVAL;
	if (d->ctx == NULL || d->pid != getpid()) {
		ctx_abandon_or_delete(d);
		rc = ctx_make(d);
		if (rc != MT_OK)
			return rc;
	}
	for (started = 0; started < n; started++) {
		err = start_query(d->ctx, name, types[started], &q[started],
				  &id[started]);
		if (err != 0)
			break;
	}
	if (err != 0) {
		log_error(name, types[started], err);
		for (i = 0; i < started; i++)
			if (!q[i].done)
				ub_cancel(d->ctx, id[i]);
		for (i = 0; i < started; i++)
			ub_resolve_free(q[i].res);
		memset(q, 0, n * sizeof(*q));
		/* a query that cannot start is a lookup that failed */
		return err == UB_NOMEM ? MT_ENOMEM : MT_OK;
	}
	deadline = clock_mono_ms() + timeout_ms;
	err = 0;
	for (;;) {
		for (i = 0, done = 0; i < n; i++) {
			if (!q[i].done)
				continue;
			done++;
			/* RFC 8305 §3: records of one family are enough
			 * to go on with after a short wait for the other */
			if (grace && q[i].err == 0 && q[i].res != NULL &&
			    status_of(q[i].res) == DNS_ANSWER &&
			    deadline > clock_mono_ms() + DNS_GRACE_MS)
				deadline = clock_mono_ms() + DNS_GRACE_MS;
		}
		if (done == n || err != 0)
			break;
		left = deadline - clock_mono_ms();
		if (left <= 0)
			break;
		pfd.fd = ub_fd(d->ctx);
		pfd.events = POLLIN;
		pfd.revents = 0;
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno != EINTR)
			err = UB_PIPE;
		else if (rc > 0)
			err = ub_process(d->ctx);
	}
	for (i = 0; i < n; i++) {
		if (q[i].done)
			continue;
		/* Deadline or a broken pipe: the query still points at q on
		 * the caller's stack, so it must be cancelled; the callback
		 * is then never called and libunbound frees what it holds. */
		ub_cancel(d->ctx, id[i]);
		if (err != 0)
			log_error(name, types[i], err);
		else
			log_msg(LOG_LVL_INFO,
				"event=dns-timeout name=%s "
				"type=%d timeout_ms=%d",
				name, types[i], timeout_ms);
	}
	return MT_OK;
}

/* A finished (or not) query into *res and *st: MT_OK (*res set, the caller
 * ub_resolve_free()s it, or *st DNS_TEMPFAIL), or MT_ENOMEM. */
static int query_result(const char *name, int type, struct dns_query *q,
			struct ub_result **res, enum dns_status *st)
{
	*res = NULL;
	*st = DNS_TEMPFAIL;
	if (!q->done)
		return MT_OK;
	if (q->err != 0) {
		ub_resolve_free(q->res);
		q->res = NULL;
		log_error(name, type, q->err);
		return q->err == UB_NOMEM ? MT_ENOMEM : MT_OK;
	}
	if (q->res == NULL)
		return MT_OK;
	*res = q->res;
	q->res = NULL;
	*st = status_of(*res);
	return MT_OK;
}

/* Resolve name/type within the deadline.  On MT_OK either *res is set
 * (caller ub_resolve_free()s it) or *st is DNS_TEMPFAIL.  Returns MT_OK,
 * MT_ENOMEM, MT_EINVAL, MT_ECONFIG. */
static int resolve(struct dns *d, const char *name, int type,
		   struct ub_result **res, enum dns_status *st)
{
	struct dns_query q;
	int rc;

	*res = NULL;
	*st = DNS_TEMPFAIL;
	rc = run_queries(d, name, &type, &q, 1, d->timeout_ms, 0);
	if (rc != MT_OK)
		return rc;
	return query_result(name, type, &q, res, st);
}

static enum dns_sec sec_of(const struct ub_result *r)
{
	if (r == NULL)
		return DNS_SEC_INSECURE;
	if (r->bogus)
		return DNS_SEC_BOGUS;
	return r->secure ? DNS_SEC_SECURE : DNS_SEC_INSECURE;
}

/* RFC 1035 §3.3.14, RFC 8461 §3.1: the character-strings of one record
 * are concatenated with nothing between them. */
long dns_txt_rdata_join(const unsigned char *rd, size_t rdlen, char *out)
{
	size_t off = 0, o = 0, l;

	while (off < rdlen) {
		l = rd[off++];
		if (l > rdlen - off)
			return -1;
		if (l > DNS_TXT_MAX - o) {
			/* what fits, so the cut record is well defined */
			memcpy(out + o, rd + off, DNS_TXT_MAX - o);
			out[DNS_TXT_MAX] = '\0';
			return -2;
		}
		memcpy(out + o, rd + off, l);
		o += l;
		off += l;
	}
	out[o] = '\0';
	return (long)o;
}

void dns_txt_clear(struct dns_txt *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < DNS_MAX_RECORDS; i++) {
		mem_free(t->rec[i]);
		t->rec[i] = NULL;
		t->len[i] = 0;
	}
	t->n = 0;
}

static int txt_add(struct dns_txt *out, const char *s, size_t len)
{
	char *c = mem_strndup(s, len);

	if (c == NULL)
		return MT_ENOMEM;
	out->rec[out->n] = c;
	out->len[out->n] = len;
	out->n++;
	return MT_OK;
}

/* Does joined record rd start with a version tag ("v=")? */
static int txt_versioned(const unsigned char *rd, size_t rdlen)
{
	return rdlen >= 3 && rd[0] >= 2 && rd[1] == 'v' && rd[2] == '=';
}

/* resolve() for one record set: its status (DNS_TEMPFAIL on an error) and
 * DNSSEC state into the answer's fields. */
static int lookup(struct dns *d, const char *name, int type,
		  struct ub_result **r, enum dns_status *st, enum dns_sec *sec)
{
	int rc = resolve(d, name, type, r, st);

	if (rc == MT_OK)
		*sec = sec_of(*r);
	else
		*st = DNS_TEMPFAIL;
	return rc;
}

int dns_txt_from_rdata(char *const *data, const int *len, struct dns_txt *out)
{
	char *tmp;
	size_t seen = 0;
	long jl;
	int rc = MT_OK, i, pass;

	tmp = mem_alloc(DNS_TXT_MAX + 1);
	if (tmp == NULL)
		return MT_ENOMEM;
	/* Two passes: version-tagged records ("v=...") first, so that a
	 * record set over DNS_MAX_RECORDS cannot push a second v=STSv1
	 * record out and make the first look unique (RFC 8461 §3.1). */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; data[i] != NULL; i++) {
			const unsigned char *rd =
				(const unsigned char *)data[i];
			size_t rdlen = len[i] > 0 ? (size_t)len[i] : 0;

			if (txt_versioned(rd, rdlen) != (pass == 0))
				continue;
			seen++;
			if (out->n == DNS_MAX_RECORDS)
				continue;
			jl = dns_txt_rdata_join(rd, rdlen, tmp);
			if (jl == -1)
				continue; /* malformed: not a record */
			if (jl == -2) {
				/* Over the cap: kept, so that it still counts,
				 * but cut and ended by a NUL byte, which no
				 * record grammar accepts. */
				tmp[DNS_TXT_MAX - 1] = '\0';
				jl = DNS_TXT_MAX;
			}
			rc = txt_add(out, tmp, (size_t)jl);
			if (rc != MT_OK)
				goto out;
		}
	}
	if (seen > out->n)
		log_msg(LOG_LVL_WARN,
			"event=dns-txt-truncated records=%zu "
			"kept=%zu",
			seen, out->n);
out:
	if (rc != MT_OK)
		dns_txt_clear(out);
	mem_free(tmp);
	return rc;
}

int dns_txt(struct dns *d, const char *name, struct dns_txt *out)
{
	struct ub_result *r = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->status = DNS_TEMPFAIL;
	if (d == NULL || name == NULL)
		return MT_EINVAL;
	rc = lookup(d, name, RR_TYPE_TXT, &r, &out->status, &out->sec);
	if (rc != MT_OK || out->status != DNS_ANSWER)
		goto out;
	rc = dns_txt_from_rdata(r->data, r->len, out);
	if (rc == MT_OK && out->n == 0)
		out->status = DNS_NODATA;
out:
	ub_resolve_free(r);
	return rc;
}

int dns_wire_name(const unsigned char *rd, size_t len, char *out)
{
	size_t off = 0, o = 0, l;

	for (;;) {
		if (off >= len)
			return -1;
		l = rd[off++];
		if (l == 0)
			break;
		if (l > 63 || l > len - off)
			return -1; /* also catches compression */
		if (o != 0) {
			if (o + 1 > DOMAIN_MAX)
				return -1;
			out[o++] = '.';
		}
		if (l > DOMAIN_MAX - o)
			return -1;
		memcpy(out + o, rd + off, l);
		o += l;
		off += l;
	}
	out[o] = '\0';
	return 0;
}

int dns_mx_rdata(const unsigned char *rd, size_t len, uint16_t *pref,
		 char *host)
{
	char raw[DOMAIN_BUFSZ];

	/* RFC 1035 §3.3.9: PREFERENCE (16 bits), EXCHANGE (a name) */
	if (len < 3 || dns_wire_name(rd + 2, len - 2, raw) != 0)
		return MT_EPARSE;
	*pref = (uint16_t)(rd[0] << 8 | rd[1]);
	/* RFC 7505: "MX 0 ." says the domain takes no mail; kept as an
	 * empty host so callers can tell. */
	if (raw[0] == '\0') {
		host[0] = '\0';
		return MT_OK;
	}
	/* not a host name: unusable */
	return domain_normalise(raw, strlen(raw), host) == MT_OK ? MT_OK :
								   MT_EPARSE;
}

int dns_mx(struct dns *d, const char *name, struct dns_mx *out)
{
	struct ub_result *r = NULL;
	int rc, i;

	memset(out, 0, sizeof(*out));
	out->status = DNS_TEMPFAIL;
	if (d == NULL || name == NULL)
		return MT_EINVAL;
	rc = lookup(d, name, RR_TYPE_MX, &r, &out->status, &out->sec);
	if (rc != MT_OK || out->status != DNS_ANSWER)
		goto out;
	for (i = 0; r->data[i] != NULL && out->n < DNS_MAX_RECORDS; i++) {
		const unsigned char *rd = (const unsigned char *)r->data[i];
		size_t rdlen = r->len[i] > 0 ? (size_t)r->len[i] : 0;

		if (dns_mx_rdata(rd, rdlen, &out->pref[out->n],
				 out->host[out->n]) == MT_OK)
			out->n++;
	}
	if (out->n == 0)
		out->status = DNS_NODATA;
out:
	ub_resolve_free(r);
	return rc;
}

int dns_tlsa(struct dns *d, const char *host, unsigned port,
	     struct dns_tlsa *out)
{
	struct ub_result *r = NULL;
	char name[DOMAIN_BUFSZ + 16];
	int rc, i;

	memset(out, 0, sizeof(*out));
	out->status = DNS_TEMPFAIL;
	if (d == NULL || host == NULL || port > 65535)
		return MT_EINVAL;
	/* RFC 6698 §3: _port._tcp.host */
	if ((size_t)snprintf(name, sizeof(name), "_%u._tcp.%s", port, host) >
	    DOMAIN_MAX)
		return MT_EINVAL;
	rc = lookup(d, name, RR_TYPE_TLSA, &r, &out->status, &out->sec);
	if (rc != MT_OK)
		goto out;
	if (out->status == DNS_ANSWER)
		for (i = 0; r->data[i] != NULL; i++)
			out->n++;
out:
	ub_resolve_free(r);
	return rc;
}

/* RFC 1035 §3.4.1 (A: 4 octets), RFC 3596 §2.2 (AAAA: 16 octets). */
static void addr_add(struct dns_addr *out, int family,
		     const struct ub_result *r)
{
	size_t want = family == AF_INET ? 4 : 16;
	int i;

	for (i = 0; r->data[i] != NULL && out->n < DNS_MAX_RECORDS; i++) {
		if (r->len[i] < 0 || (size_t)r->len[i] != want)
			continue; /* malformed: not an address */
		if (inet_ntop(family, r->data[i], out->addr[out->n],
			      sizeof(out->addr[out->n])) == NULL)
			continue;
		out->family[out->n] = family;
		out->n++;
	}
}

int dns_addr(struct dns *d, const char *name, int timeout_ms,
	     struct dns_addr *out)
{
	/* AAAA first: the order getaddrinfo() gives by default (RFC 6724);
	 * the client tries both families (RFC 8305). */
	static const int types[2] = { RR_TYPE_AAAA, RR_TYPE_A };
	static const int families[2] = { AF_INET6, AF_INET };
	struct dns_query q[2];
	struct ub_result *r[2] = { NULL, NULL };
	enum dns_status st[2];
	enum dns_sec sec = DNS_SEC_SECURE;
	int rc, i, answered = 0;

	memset(out, 0, sizeof(*out));
	out->status = DNS_TEMPFAIL;
	if (d == NULL || name == NULL)
		return MT_EINVAL;
	if (timeout_ms <= 0 || timeout_ms > d->timeout_ms)
		timeout_ms = d->timeout_ms;
	rc = run_queries(d, name, types, q, 2, timeout_ms, 1);
	if (rc != MT_OK)
		return rc;
	for (i = 0; i < 2; i++) {
		int r2 = query_result(name, types[i], &q[i], &r[i], &st[i]);

		if (r2 != MT_OK)
			rc = r2;
	}
	if (rc != MT_OK)
		goto out;
	for (i = 0; i < 2; i++) {
		if (r[i] == NULL)
			continue;
		answered++;
		if (sec_of(r[i]) == DNS_SEC_BOGUS)
			sec = DNS_SEC_BOGUS;
		else if (sec_of(r[i]) == DNS_SEC_INSECURE &&
			 sec != DNS_SEC_BOGUS)
			sec = DNS_SEC_INSECURE;
		if (st[i] == DNS_ANSWER)
			addr_add(out, families[i], r[i]);
	}
	out->sec = answered ? sec : DNS_SEC_INSECURE;
	if (out->n > 0)
		out->status = DNS_ANSWER;
	else if (st[0] == DNS_NXDOMAIN || st[1] == DNS_NXDOMAIN)
		out->status = DNS_NXDOMAIN; /* the name does not exist */
	else if (st[0] == DNS_NODATA && st[1] == DNS_NODATA)
		out->status = DNS_NODATA;
	else
		out->status = DNS_TEMPFAIL; /* timeout, SERVFAIL, ... */
out:
	ub_resolve_free(r[0]);
	ub_resolve_free(r[1]);
	return rc;
}

void dns_opts_from_config(struct dns_opts *o, const struct config *cfg)
{
	memset(o, 0, sizeof(*o));
	if (strcmp(cfg->resolver, "recursive") == 0)
		o->recursive = 1;
	else if (cfg->resolver[0] != '\0')
		o->resolv_conf = cfg->resolver;
	if (cfg->trust_anchor[0] != '\0')
		o->trust_anchor = cfg->trust_anchor;
	o->timeout_ms = (int)cfg->dns_timeout_ms;
}
