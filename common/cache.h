/*
 * cache.h - the shared-memory policy cache (contract; the design essay,
 * byte layout and lock invariants open cache.c / shm.c).
 *
 * One file-backed MAP_SHARED mapping shared by every process of the host
 * MTA.  Readers take no lock unless they meet a write in progress; writers
 * serialise with a lock a crashed process cannot keep, and every write goes
 * through a one-record journal, so a writer killed at any point loses
 * nothing.  Everything read from the mapping is untrusted.  A handle is per
 * process; after fork() the child's first call re-attaches (the handle
 * notices the pid change).  Not thread-safe: one handle per thread.
 *
 * The write operations say what they mean, and each one re-reads the entry
 * under the writer lock and changes only what it owns: a confirmation, a
 * lease or a back-off never rewrites the policy's data, and never replaces
 * a policy another process stored meanwhile.  A negative answer is never
 * written over an unexpired policy.
 */
#ifndef MTASTS_CACHE_H
#define MTASTS_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain.h"
#include "txt.h"

enum cache_kind {
	CACHE_EMPTY = 0,    /* only lease / back-off state, no answer */
	CACHE_POLICY = 1,   /* a valid policy */
	CACHE_NEGATIVE = 2, /* "no policy" answer, until expires */
	/* this domain's entry was damaged and could not be recovered:
	 * whatever it held is unknown (may have been an enforce policy)
	 * until a policy is fetched again or expires passes */
	CACHE_LOST = 3,
};

/* The longest a lost entry can matter: the max_age cap (RFC 8461 §3.2). */
#define CACHE_LOST_TTL 31557600

struct cache_entry {
	char domain[DOMAIN_BUFSZ]; /* normalised */
	uint8_t kind;		   /* enum cache_kind */
	uint8_t mode;		   /* enum policy_mode (CACHE_POLICY) */
	uint32_t max_age;
	int64_t fetched; /* when the policy was fetched */
	/* policy: fetched + max_age; negative: end of the negative TTL */
	int64_t expires;
	int64_t txt_checked;	 /* last time the TXT id was confirmed */
	char id[TXT_ID_MAX + 1]; /* TXT id of the cached policy */
	uint32_t fail_count;	 /* consecutive failed refreshes */
	int64_t retry_after;	 /* back-off: no fetch before this */
	/* TXT id whose fetch failed last ("" = a DNS failure) */
	char fail_id[TXT_ID_MAX + 1];
	int64_t lease_deadline; /* fetch lease (0 = none) */
	int32_t lease_pid;
	uint32_t n_mx;
	uint32_t mx_len;
	char *mx; /* blob as in policy.h; owned by the entry */
};

struct cache_stats {
	uint64_t slots, used, policies, negatives, lost, damaged;
	uint64_t file_size, chunks, chunks_used;
	uint64_t hits, misses, evictions, corrupt_seen; /* approximate */
	uint64_t torn_reads;   /* reads that met a write in progress */
	uint64_t locked_reads; /* ... and waited for it under the lock */
	uint64_t grows;	       /* approximate */
};

struct cache;

#define CACHE_DEFAULT_SIZE (64u << 20)	     /* bytes, initial */
#define CACHE_DEFAULT_MAX_SIZE (1024u << 20) /* bytes, growth limit */

struct cache_opts {
	/* initial file size (0 = default); an existing file keeps its own */
	size_t size;
	/* the file grows (by rebuild) up to this (0 = default; below size =
	 * no growth) */
	size_t max_size;
	unsigned flags; /* CACHE_OPEN_* */
};
/* A missing file is MT_ENOTFOUND and nothing is created or rebuilt
 * (inspection commands). */
#define CACHE_OPEN_NOCREATE 0x1

/* Open (creating 0600 when missing) the cache file at path.  Refuses a
 * symlink, a file not owned by the caller's euid, or one writable by group
 * or others (MT_EPERM, logged).  A header that cannot be interpreted
 * rebuilds the file (logged as a security event); a truncated file is
 * rebuilt with every entry that is still readable.
 * MT_OK / MT_EPERM / MT_EIO / MT_ENOMEM / MT_ENOTFOUND / MT_ECORRUPT. */
int cache_open_opts(struct cache **out, const char *path,
		    const struct cache_opts *opts);
int cache_open(struct cache **out, const char *path, size_t size);
int cache_open_flags(struct cache **out, const char *path, size_t size,
		     unsigned flags);
void cache_close(struct cache *c); /* accepts NULL */

/* Copy the entry for the normalised domain into *out (release with
 * cache_entry_clear).  MT_OK, MT_ENOTFOUND, MT_ECORRUPT (not found, but a
 * slot where it could be is damaged: it may hide this domain's entry;
 * never a value that failed validation), MT_EBUSY (a write in progress
 * could not be waited out: cannot tell now), MT_ENOMEM, MT_EIO (cannot
 * re-attach after fork).  A write in progress is waited for (bounded),
 * never taken for damage. */
int cache_get(struct cache *c, const char *domain, struct cache_entry *out);
void cache_entry_clear(struct cache_entry *e);

/* Store an answer: a fetched policy (kind CACHE_POLICY, any mode) or "no
 * policy" (CACHE_NEGATIVE), with the bookkeeping fields given in e
 * (txt_checked, fail_count, retry_after, fail_id).  Lease fields of an
 * existing entry are kept.  Refused with MT_EEXIST, the stored entry kept:
 *  - a policy over a policy fetched later (another process was faster);
 *  - a negative answer over an unexpired policy or an unexpired lost entry
 *    (RFC 8461 §10: DNS is what an attacker controls first).
 * A policy replaces a damaged or lost entry of the same domain.  When the
 * table or the data area is full the file grows up to max_size; an
 * unexpired enforce policy is never evicted for another domain.
 * MT_OK, MT_EEXIST, MT_ETOOBIG (mx blob over 64 KiB), MT_EFULL (at the
 * size limit with nothing evictable), MT_EINVAL, MT_EIO, MT_EBUSY (writer
 * lock not obtained in time). */
int cache_put(struct cache *c, const struct cache_entry *e);

/* The TXT id was confirmed at now: when the entry is a policy with this
 * id, set txt_checked = now and clear the back-off (fixed fields only).
 * MT_OK, MT_ENOTFOUND (no policy), MT_EEXIST (the cached policy has
 * another id now: someone stored a newer one), MT_EBUSY, MT_EIO. */
int cache_confirm(struct cache *c, const char *domain, const char *id,
		  int64_t now);

/* A refresh failed at now: fail_count + 1, retry_after = now + the
 * back-off for the new count (doubling from backoff_min to backoff_max),
 * fail_id = id ("" for a DNS failure).  Whatever answer the entry holds
 * stays; a missing entry becomes CACHE_EMPTY with the back-off.  The new
 * count is stored in *fails (may be NULL).  A damaged entry of this
 * domain becomes CACHE_LOST first.  MT_OK, MT_EBUSY, MT_EFULL, MT_EIO. */
int cache_note_failure(struct cache *c, const char *domain, const char *id,
		       int64_t now, int64_t backoff_min, int64_t backoff_max,
		       uint32_t *fails);

int cache_delete(struct cache *c, const char *domain);
int cache_flush(struct cache *c);

/* Fetch lease: MT_OK when this process now holds it (deadline = absolute
 * time), MT_EBUSY when another live process holds an unexpired lease. */
int cache_lease(struct cache *c, const char *domain, int64_t now,
		int64_t deadline);
int cache_unlease(struct cache *c, const char *domain);

/* Calls fn for a copy of every valid entry; stops when fn returns != 0. */
int cache_foreach(struct cache *c,
		  int (*fn)(const struct cache_entry *e, void *arg), void *arg);
/* Calls fn for every damaged slot: domain is the name it belonged to when
 * that can be told, else NULL. */
int cache_foreach_damaged(struct cache *c,
			  int (*fn)(uint32_t slot, const char *domain,
				    void *arg),
			  void *arg);
int cache_stats(struct cache *c, struct cache_stats *st);

/* For tests that damage the file on purpose: where the slot holding
 * domain is (file offsets of the slot and of some of its fields).
 * MT_OK or MT_ENOTFOUND. */
struct cache_where {
	uint64_t slot_off; /* start of the slot */
	uint32_t state_off, hash_off, kind_off, data_off, fixed_sum_off;
	uint64_t ext_off; /* start of its data extent, 0 = inline */
};
int cache_test_where(struct cache *c, const char *domain,
		     struct cache_where *w);

/* Test hook: called by writers, lock held, after an entry was read and
 * before it is written (NULL = none). */
extern void (*cache_test_before_write)(const char *domain);
/* Test hook: called by writers while the journal record is half written
 * (NULL = none).  Tests SIGKILL themselves there. */
extern void (*cache_test_mid_journal)(void);

#endif
