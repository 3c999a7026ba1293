/*
 * mtasts.h - the public C API of the mtasts module (MTA-STS, RFC 8461;
 * TLS-RPT result recording, RFC 8460).
 *
 * A host MTA dlopen()s mtasts.so (RTLD_NOW works: the module needs no
 * symbol of its host), opens a handle from a configuration file and asks,
 * for each (recipient domain, candidate MX host), what it must do:
 *
 *   none         deliver as today (opportunistic TLS)
 *   require-tls  STARTTLS, TLS >= 1.2, SNI = MX name, a chain to a trusted
 *                root and a certificate matching the MX name; else defer
 *   refuse-mx    do not use this MX; no MX left -> temporary failure
 *   report-only  deliver as today, report what would have failed
 *   dane         DANE applies to this MX: leave it to DANE (RFC 8461 §2)
 *
 * A failure that leaves an enforced policy unusable is a status
 * (MTASTS_EPOLICY), never a "none" verdict: the host must defer the mail.
 *
 * Threads: a handle belongs to one thread at a time; open one handle per
 * thread.  The module keeps no global mutable state of its own except the
 * process-wide libcurl initialisation (curl_global_init), done by the first
 * mtasts_open() and never undone, and the log level/facility that the last
 * mtasts_open() set: open the first handle before starting threads.
 *
 * Logging: syslog(3) lines tagged "mtasts:", with the configured facility;
 * the module never calls openlog(), so the host's ident is untouched.
 *
 * Fork: a handle opened before fork() stays usable in the child, which
 * re-attaches the shared policy cache lazily on its first call (this is
 * how Exim uses it: opened once, used by every forked delivery).  Each
 * process closes its own copy.
 *
 * Status codes: MTASTS_OK (0) or a named negative value, never renumbered.
 */
#ifndef MTASTS_H
#define MTASTS_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MTASTS_VERSION_MAJOR 0
#define MTASTS_VERSION_MINOR 1
#define MTASTS_VERSION_PATCH 0
/* Bumped on any incompatible change of the functions or structs below. */
#define MTASTS_ABI_VERSION 1

#if defined(__GNUC__)
#define MTASTS_API __attribute__((visibility("default")))
#else
#define MTASTS_API
#endif

enum mtasts_status {
	MTASTS_OK = 0,
	MTASTS_ENOMEM = -1,  /* an allocation failed */
	MTASTS_EINVAL = -2,  /* bad argument */
	MTASTS_EPARSE = -3,  /* not a valid domain / host name */
	MTASTS_ETOOBIG = -4, /* output over the caller's buffer */
	MTASTS_EIO = -5,     /* file or system call failed */
	MTASTS_ETEMP = -6,   /* temporary failure */
	MTASTS_ENOTFOUND = -7,
	MTASTS_ECORRUPT = -8,
	MTASTS_EPERM = -9, /* file owner or mode refused (cache) */
	MTASTS_EBUSY = -10,
	MTASTS_ETIMEOUT = -11,
	MTASTS_EINTERNAL = -12,
	MTASTS_ECONFIG = -13, /* configuration file error */
	MTASTS_EFULL = -14,
	MTASTS_EFETCH = -15,
	/* an enforced policy cannot be applied: defer, never send in clear */
	MTASTS_EPOLICY = -16,
	MTASTS_EEXIST = -17,  /* internal: a newer cache entry was kept */
	MTASTS_ENOTSUP = -18, /* internal: not in this module */
};

enum mtasts_verdict {
	MTASTS_VERDICT_NONE = 0,
	MTASTS_VERDICT_REQUIRE_TLS = 1,
	MTASTS_VERDICT_REFUSE_MX = 2,
	MTASTS_VERDICT_REPORT_ONLY = 3,
	MTASTS_VERDICT_DANE = 4,
};

enum mtasts_mode {
	MTASTS_MODE_NONE = 0,
	MTASTS_MODE_TESTING = 1,
	MTASTS_MODE_ENFORCE = 2,
};

/* Filled by mtasts_decide(); owned by the caller, no pointers inside. */
struct mtasts_decision {
	enum mtasts_verdict verdict;
	enum mtasts_mode mode;
	int have_policy;    /* 1 when a policy is in force */
	char policy_id[33]; /* TXT id, "" without policy */
	char matched[256];  /* the mx pattern matched, or "" */
	long long expires;  /* policy expiry (Unix time), or 0 */
	/* "mx-match", "mx-mismatch", "testing", "no-policy", ...: closed
	 * list */
	char reason[64];
	char source[16]; /* "cache", "fetch", "override", ... */
	int reserved[8]; /* zero; room for later fields */
};

/* The policy in force for a domain (mtasts_policy()). */
struct mtasts_policy {
	int have_policy;
	enum mtasts_mode mode;
	char policy_id[33];
	long long expires;
	unsigned n_mx; /* patterns in the mx buffer */
	char source[16];
	char reason[64];
	int reserved[8];
};

struct mtasts;

/* Open a handle.  config_path NULL = built-in defaults.  MTASTS_OK,
 * MTASTS_ECONFIG / MTASTS_EIO (config), MTASTS_ENOMEM, MTASTS_EPERM (cache
 * file owner/mode). */
MTASTS_API int mtasts_open(struct mtasts **h, const char *config_path);
/* NULL is fine. */
MTASTS_API void mtasts_close(struct mtasts *h);

/* The verdict for delivering mail for domain through host mx.
 * MTASTS_OK with *d filled; MTASTS_EPOLICY (defer the mail);
 * MTASTS_EPARSE (domain or mx not a valid name); MTASTS_EINVAL.  On any
 * error (d not NULL) *d reads refuse-mx under enforce, never "none", so a
 * host that forgets the status still does not send in clear. */
MTASTS_API int mtasts_decide(struct mtasts *h, const char *domain,
			     const char *mx, struct mtasts_decision *d);

/* The policy in force for domain, with its mx patterns written to mx as
 * consecutive NUL-terminated strings followed by one more NUL ("a\0b\0\0").
 * mx may be NULL when mxsz is 0 (patterns not wanted).  MTASTS_OK,
 * MTASTS_EPOLICY, MTASTS_EPARSE, MTASTS_ETOOBIG (mx too small: *p is
 * filled, mx is not), MTASTS_EINVAL.  On the other errors (p not NULL) *p
 * reads mode enforce with no pattern and mx holds "" (fail closed). */
MTASTS_API int mtasts_policy(struct mtasts *h, const char *domain,
			     struct mtasts_policy *p, char *mx, size_t mxsz);

/* Record the outcome of one TLS session for TLS-RPT (RFC 8460): domain is
 * the policy (recipient) domain, mx the MX host name, ip its address (may be
 * NULL), success 1 or 0, result_type one of the RFC 8460 §4.3 words
 * ("starttls-not-supported", "certificate-host-mismatch",
 * "certificate-expired", "certificate-not-trusted", "validation-failure",
 * ...) when success is 0 (ignored otherwise).  One line is appended to a
 * per-day file under the configured report_dir.  The result never needs to
 * affect delivery: a failure to record is only a status.  MTASTS_OK,
 * MTASTS_EINVAL (unknown result type, bad name), MTASTS_EIO. */
MTASTS_API int mtasts_report_result(struct mtasts *h, const char *domain,
				    const char *mx, const char *ip, int success,
				    const char *result_type);

/* Never NULL. */
MTASTS_API const char *mtasts_strerror(int status);
MTASTS_API const char *mtasts_verdict_str(enum mtasts_verdict v);
MTASTS_API const char *mtasts_mode_str(enum mtasts_mode m);
/* "MAJOR.MINOR.PATCH" of the loaded module. */
MTASTS_API const char *mtasts_version(void);
/* MTASTS_ABI_VERSION of the loaded module. */
MTASTS_API int mtasts_abi_version(void);

#ifdef __cplusplus
}
#endif
#endif
