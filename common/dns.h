/*
 * dns.h - DNS lookups through libunbound: TXT (CNAMEs followed), MX, TLSA,
 * addresses (A and AAAA), each with the DNSSEC state and final vs
 * temporary failure kept apart.
 *
 * One context per process; after fork() the first call re-creates it.
 * Resolver: /etc/resolv.conf by default (forwarding: the upstream answers
 * every name, test. included; DNSSEC states only with opts->trust_anchor),
 * full recursion with the root trust anchor when configured.  Lookups are
 * bounded by opts->timeout_ms (default 5000).  A context caches answers
 * for their TTL: repeated lookups in one process may not reach the server.
 */
#ifndef MTASTS_DNS_H
#define MTASTS_DNS_H
#include <stddef.h>
#include <stdint.h>

enum dns_status {
	DNS_ANSWER = 0,	  /* records present */
	DNS_NXDOMAIN = 1, /* final: name does not exist */
	DNS_NODATA = 2,	  /* final: name exists, no record of the type */
	DNS_TEMPFAIL = 3, /* SERVFAIL, timeout, bogus: try again later */
};

enum dns_sec { DNS_SEC_INSECURE = 0, DNS_SEC_SECURE = 1, DNS_SEC_BOGUS = 2 };

#define DNS_MAX_RECORDS 32
#define DNS_TXT_MAX 4096 /* one TXT RR's strings, joined */

struct dns_txt {
	enum dns_status status;
	enum dns_sec sec;
	size_t n;
	char *rec[DNS_MAX_RECORDS]; /* joined strings, NUL-terminated */
	size_t len[DNS_MAX_RECORDS];
};

struct dns_mx {
	enum dns_status status;
	enum dns_sec sec;
	size_t n;
	uint16_t pref[DNS_MAX_RECORDS];
	char host[DNS_MAX_RECORDS][254]; /* normalised; "" = null MX */
};

struct dns_tlsa {
	enum dns_status status;
	enum dns_sec sec;
	size_t n; /* number of TLSA records */
};

/* Addresses of one name (A and AAAA), text form as inet_ntop() writes it. */
#define DNS_ADDRSTRLEN 46 /* INET6_ADDRSTRLEN */
struct dns_addr {
	enum dns_status status; /* ANSWER when n > 0 */
	enum dns_sec sec;
	size_t n;
	int family[DNS_MAX_RECORDS]; /* AF_INET6, AF_INET */
	char addr[DNS_MAX_RECORDS][DNS_ADDRSTRLEN];
};

struct dns;
struct config;

struct dns_opts {
	const char *resolv_conf;  /* NULL = /etc/resolv.conf */
	int recursive;		  /* full recursion + trust anchor */
	const char *trust_anchor; /* NULL = unbound's default root key */
	int timeout_ms;
};

/* The resolver the configuration names (`resolver`, `dns_timeout`).  o's
 * strings point into cfg: cfg must outlive o. */
void dns_opts_from_config(struct dns_opts *o, const struct config *cfg);

int dns_create(struct dns **out, const struct dns_opts *opts);
void dns_destroy(struct dns *d); /* accepts NULL */

/* Each returns MT_OK with out->status set (including NXDOMAIN/NODATA/
 * TEMPFAIL), or MT_ENOMEM / MT_EINTERNAL.  name is normalised. */
int dns_txt(struct dns *d, const char *name, struct dns_txt *out);
void dns_txt_clear(struct dns_txt *t);
int dns_mx(struct dns *d, const char *name, struct dns_mx *out);
int dns_tlsa(struct dns *d, const char *host, unsigned port,
	     struct dns_tlsa *out);
/* AAAA and A of name, asked at once and bounded by one deadline: timeout_ms,
 * or the context's timeout when that is shorter or timeout_ms <= 0.  Once
 * one family has answered with addresses the other gets at most 50 ms more
 * (RFC 8305 §3).  AAAA addresses first.  status: ANSWER (n > 0), NXDOMAIN,
 * NODATA (both families), TEMPFAIL (a timeout or failure and no address).
 * Same return values as dns_txt(). */
int dns_addr(struct dns *d, const char *name, int timeout_ms,
	     struct dns_addr *out);

/* Pure helpers over rdata as libunbound hands it over (uncompressed, no
 * RDLENGTH), exposed for unit tests and fuzzing. */
/* Join the character-strings of one TXT rdata into out (DNS_TXT_MAX + 1
 * bytes, NUL-terminated).  Returns the joined length, -1 when malformed,
 * -2 when longer than DNS_TXT_MAX (out then holds its first DNS_TXT_MAX
 * bytes). */
long dns_txt_rdata_join(const unsigned char *rd, size_t len, char *out);
/* Fill out's records (out->n, rec, len; status/sec untouched; out zeroed
 * or dns_txt_clear()ed before) from a
 * NULL-terminated rdata array.  Records starting "v=" are taken first;
 * at most DNS_MAX_RECORDS; malformed rdata skipped; a record over
 * DNS_TXT_MAX is kept cut to DNS_TXT_MAX bytes ending in a NUL byte (it
 * still counts, and never parses).  MT_OK or MT_ENOMEM (out emptied). */
int dns_txt_from_rdata(char *const *data, const int *len, struct dns_txt *out);
/* Uncompressed wire-format name into dotted text (DOMAIN_BUFSZ bytes); the
 * root gives "".  0, or -1 when malformed or over 253 octets. */
int dns_wire_name(const unsigned char *rd, size_t len, char *out);
/* MX rdata into *pref and host (254 bytes, normalised; "" for the RFC 7505
 * null MX).  MT_OK or MT_EPARSE. */
int dns_mx_rdata(const unsigned char *rd, size_t len, uint16_t *pref,
		 char *host);

const char *dns_status_str(enum dns_status s);
const char *dns_sec_str(enum dns_sec s);

#endif
