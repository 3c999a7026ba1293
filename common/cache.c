/*
 * cache.c - the shared-memory policy cache: one slot per domain in a file
 * every process of the MTA maps (shm.c owns the file; this file owns the
 * bytes).
 *
 * Design essay
 * ============
 *
 * Why.  Exim forks for every delivery.  A policy fetched in one process
 * must serve the next thousand, and must survive a restart: a policy lost
 * before its max_age is a window in which an attacker who strips the TXT
 * record downgrades mail to cleartext (RFC 8461 §10).  Lookups happen once
 * per recipient domain per delivery, so the hit path must cost well under
 * a microsecond and take no lock.
 *
 * Byte layout (all integers host-endian; the header records the byte order
 * and every size so a foreign or older file is rebuilt, never guessed at):
 *
 *   0        struct cache_hdr   (256 bytes; magic, version, layout
 *                               descriptor, hash key, statistics)
 *   256      nslots x struct cache_slot (512 bytes each)
 *   big_off  nbig x big block   (64-byte block header + 65536 data bytes)
 *
 * Offsets, never pointers: every address is base + an offset computed from
 * the validated descriptor.  The header, slot and block structs are
 * static_assert'ed to have exactly the sizes the descriptor records, with
 * no padding (explicit pad fields), so the layout is the same for every
 * compiler of this version.
 *
 * A slot holds the fixed fields of one domain (struct cache_slot), then in
 * its 384-byte data area the domain (cs_dlen bytes, no NUL) followed by
 * the mx blob when it fits.  A larger blob (a policy with hundreds of mx
 * lines, up to the 64 KiB body cap) goes to a big block, which the slot
 * names by index; the common case touches one slot only.
 *
 * Hashing.  SipHash-2-4 of the normalised domain with a 128-bit key drawn
 * from getrandom() when the file is created and stored in its header, so a
 * sender cannot choose domain names that collide (hash flooding).  Open
 * addressing, linear probing over at most CACHE_PROBE_MAX slots from the
 * home slot: the cost of a lookup is bounded whatever the load.  Slot
 * states: FREE (never used: ends a probe), TOMB (deleted or found corrupt:
 * probing continues), USED.  Invariant kept by writers: a domain lives in
 * the first usable slot of its window before any FREE slot.
 *
 * Readers: a sequence lock per slot, no lock at all.  cs_seq is even when
 * the slot is stable, odd while a writer is inside.  A reader loads the
 * sequence (acquire), copies the slot and any big block into private
 * memory, issues an acquire fence and loads the sequence again; a change,
 * or an odd value, means retry - at most CACHE_READ_TRIES times, because a
 * writer killed inside the slot leaves it odd for ever and an unbounded
 * spin there would hang every delivery.  The private copy is then checked
 * as untrusted input: a 64-bit checksum over the fields, domain and mx
 * blob; every length against its cap; kind and mode against their enums;
 * the big block index against nbig; the mx blob NUL-terminated and its
 * pattern count right.  Anything wrong is a miss, never a wrong policy.
 * The copy, not the mapping, is what the caller gets.
 *
 * Writers serialise with shm_lock(), an OFD lock a dead process cannot
 * keep, waited for at most CACHE_LOCK_MS.  A writer makes the slot odd
 * (store, release fence), writes, then publishes the new even sequence
 * with a release store.  A slot found odd by a writer (which holds the only
 * lock, so nobody else is inside) was left by a crashed writer: it is
 * rewritten or made TOMB, and its sequence moves on to even - the repair.
 * A big block is never rewritten while a slot names it: a new one is
 * taken, the slot switched, and only then the old one freed.  A reader
 * still copying the old block sees the slot's sequence change and retries.
 * Blocks leaked by a crash are reclaimed by a scan when none is free.
 *
 * LRU: readers store a coarse time (seconds, 32 bits) into cs_lru with a
 * relaxed atomic store, only when it changed, outside the checksum: racing
 * stores all write "now", any winner is right.  Eviction, within the probe
 * window of the new domain: an expired entry first, then the least
 * recently used, an unexpired enforce policy only when everything else in
 * the window is one too; entries whose fetch lease is live come last.
 *
 * Recovery and rebuild.  Any header mismatch (magic, version, byte order,
 * sizes, descriptor checksum, the file's real size) means the file is not
 * ours to interpret: it is rebuilt - a new file renamed over the old one
 * (shm.c) so nobody's mapping is truncated - and the event is logged at
 * error level as security-relevant (cached policies are lost).  Under the
 * old file's lock the old header is marked retired; every operation checks
 * that flag (one relaxed load) and re-attaches.  Whether the name really
 * points to a new file is decided by inode (shm_is_current), never by the
 * flag alone: a retired flag on the file the name still names is damage
 * and rebuilds it, and a rebuilder that finds the name already replaced
 * (another process won the race) just follows.  A handle notices fork()
 * (pthread_atfork bumps a generation) and the child re-opens the file: its
 * own descriptor, its own OFD lock, one fd per process.
 *
 * What it trusts: nothing in the mapping.  It trusts its caller to pass a
 * normalised domain (domain.h).
 */
#include "cache.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "policy.h"
#include "shm.h"
#include "status.h"

#define CACHE_MAGIC "MTSTSCH"	/* 8 bytes with the NUL */
#define CACHE_VERSION 1u
#define CACHE_ENDIAN 0x01020304u
#define CACHE_HDR_SIZE 256u
#define CACHE_SLOT_SIZE 512u
#define CACHE_SLOT_DATA 384u
#define CACHE_BIG_DATA 65536u
#define CACHE_BIG_HDR 64u
#define CACHE_BIG_SIZE (CACHE_BIG_DATA + CACHE_BIG_HDR)
#define CACHE_PROBE_MAX 64u
#define CACHE_READ_TRIES 4
#define CACHE_LOCK_MS 2000
#define CACHE_MIN_SLOTS 64u
#define CACHE_MAX_ATTACH 4

enum slot_state { SLOT_FREE = 0, SLOT_USED = 1, SLOT_TOMB = 2 };

struct cache_hdr {
	char ch_magic[8];
	uint32_t ch_version;
	uint32_t ch_endian;
	uint32_t ch_hdr_size;
	uint32_t ch_slot_size;
	uint32_t ch_slot_data;
	uint32_t ch_big_size;
	uint32_t ch_nslots;
	uint32_t ch_nbig;
	uint64_t ch_slots_off;
	uint64_t ch_big_off;
	uint64_t ch_file_size;
	uint64_t ch_key[2];
	int64_t ch_created;
	uint64_t ch_desc_sum;	/* checksum of everything above */
	/* Mutable below. */
	uint32_t ch_retired;	/* 1: replaced, re-attach */
	uint32_t ch_pad0;
	uint64_t ch_hits, ch_misses, ch_evictions, ch_corrupt;
	uint8_t ch_reserved[256 - 136];
};

struct cache_slot {
	uint32_t cs_seq;	/* seqlock: odd = being written */
	uint32_t cs_lru;	/* coarse last use, outside the checksum */
	uint64_t cs_sum;	/* checksum of cs_hash .. end of data used */
	uint64_t cs_hash;
	int64_t cs_fetched;
	int64_t cs_expires;
	int64_t cs_txt_checked;
	int64_t cs_retry_after;
	int64_t cs_lease_deadline;
	uint32_t cs_max_age;
	uint32_t cs_fail_count;
	int32_t cs_lease_pid;
	uint32_t cs_n_mx;
	uint32_t cs_mx_len;
	uint32_t cs_big;	/* 0 = mx inline, else big block index + 1 */
	uint16_t cs_dlen;
	uint8_t cs_state;
	uint8_t cs_kind;
	uint8_t cs_mode;
	uint8_t cs_idlen;
	uint8_t cs_pad[2];
	char cs_id[32];
	uint8_t cs_data[CACHE_SLOT_DATA];
};

struct cache_big {
	uint32_t cb_owner;	/* writers only: slot index + 1, 0 = free */
	uint8_t cb_pad[CACHE_BIG_HDR - 4];
};

#define SLOT_FIXED offsetof(struct cache_slot, cs_data)
#define SLOT_SUM_FROM offsetof(struct cache_slot, cs_hash)

_Static_assert(sizeof(struct cache_hdr) == CACHE_HDR_SIZE, "hdr size");
_Static_assert(offsetof(struct cache_hdr, ch_desc_sum) == 88, "hdr pad");
_Static_assert(offsetof(struct cache_hdr, ch_reserved) == 136, "hdr pad");
_Static_assert(sizeof(struct cache_slot) == CACHE_SLOT_SIZE, "slot size");
_Static_assert(SLOT_FIXED == 128, "slot padding");
_Static_assert(offsetof(struct cache_slot, cs_dlen) == 88, "slot pad");
_Static_assert(sizeof(struct cache_big) == CACHE_BIG_HDR, "big hdr");
_Static_assert(TXT_ID_MAX <= 32, "id field");
_Static_assert(DOMAIN_BUFSZ - 1 < CACHE_SLOT_DATA, "domain fits");

struct cache {
	char *path;
	size_t size_req;
	unsigned flags;		/* CACHE_OPEN_* */
	struct shm shm;
	struct cache_hdr *hdr;
	struct cache_slot *slots;
	unsigned char *bigs;
	uint32_t nslots, nbig;
	uint64_t key[2];
	unsigned gen;
	uint32_t hits, misses;	/* not yet added to the header */
	uint32_t lru_now;	/* coarse time for LRU stamps */
	uint32_t lru_ops;	/* lookups since lru_now was read */
};

static void stat_flush(struct cache *c);

static atomic_uint fork_gen;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
	atomic_fetch_add_explicit(&fork_gen, 1, memory_order_relaxed);
}

static void fork_register(void)
{
	(void)pthread_atfork(NULL, NULL, on_fork_child);
}

/* ---- hashing and checksums ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                        \
	do {                                                            \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                  \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                  \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
	} while (0)

static uint64_t load_le64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* SipHash-2-4 (Aumasson, Bernstein), keyed per file. */
static uint64_t sip_hash(const uint64_t key[2], const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t v0 = key[0] ^ 0x736f6d6570736575ull;
	uint64_t v1 = key[1] ^ 0x646f72616e646f6dull;
	uint64_t v2 = key[0] ^ 0x6c7967656e657261ull;
	uint64_t v3 = key[1] ^ 0x7465646279746573ull;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, left = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(p + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; j < left; j++)
		b |= (uint64_t)p[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Integrity checksum (not a MAC: the file is ours, the checksum catches
 * torn writes and stray bytes).  Two independent multiply lanes over
 * 16 bytes at a time, so the hot path is not one long dependency chain. */
struct sum {
	uint64_t a, b;
};

static void sum_update(struct sum *st, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t w1, w2, a = st->a, b = st->b;
	size_t i;

	for (i = 0; i + 16 <= len; i += 16) {
		memcpy(&w1, p + i, 8);
		memcpy(&w2, p + i + 8, 8);
		a = (a ^ w1) * 0x9e3779b97f4a7c15ull;
		b = (b ^ w2) * 0xc2b2ae3d27d4eb4full;
		a ^= a >> 29;
		b ^= b >> 31;
	}
	for (; i < len; i++)
		a = (a ^ p[i]) * 0x100000001b3ull;
	st->a = a;
	st->b = b;
}

static uint64_t sum_final(const struct sum *st, size_t total)
{
	uint64_t h = st->a ^ ROTL(st->b, 27) ^ total;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static uint64_t slot_sum(const struct cache_slot *s, size_t data_used,
			 const void *big, size_t big_len)
{
	struct sum st = { 0xcbf29ce484222325ull, 0x84222325cbf29ce4ull };

	sum_update(&st, (const unsigned char *)s + SLOT_SUM_FROM,
		   SLOT_FIXED - SLOT_SUM_FROM + data_used);
	if (big != NULL)
		sum_update(&st, big, big_len);
	return sum_final(&st, SLOT_FIXED + data_used + big_len);
}

static uint64_t desc_sum(const struct cache_hdr *h)
{
	struct sum st = { 0x84222325cbf29ce4ull, 0xcbf29ce484222325ull };

	sum_update(&st, h, offsetof(struct cache_hdr, ch_desc_sum));
	return sum_final(&st, offsetof(struct cache_hdr, ch_desc_sum));
}

/* Home slot of a hash: multiply-shift instead of a 64-bit division (the
 * division alone cost a fifth of a cached lookup). */
static uint32_t home(const struct cache *c, uint64_t h)
{
	return (uint32_t)(((h >> 32) * (uint64_t)c->nslots) >> 32);
}

/* ---- layout, creation, attach ---- */

struct layout {
	uint32_t nslots, nbig;
	uint64_t big_off, file_size;
};

static int layout_for(size_t size, struct layout *l)
{
	uint64_t s = size, nb, ns;

	if (s < (1u << 20))
		s = 1u << 20;
	nb = s / 16 / CACHE_BIG_SIZE;	/* 1/16 of the file for big blocks */
	if (nb < 2)
		nb = 2;
	if (nb > 4096)
		nb = 4096;
	if (s < CACHE_HDR_SIZE + nb * CACHE_BIG_SIZE +
		    (uint64_t)CACHE_MIN_SLOTS * CACHE_SLOT_SIZE)
		s = CACHE_HDR_SIZE + nb * CACHE_BIG_SIZE +
		    (uint64_t)CACHE_MIN_SLOTS * CACHE_SLOT_SIZE;
	ns = (s - CACHE_HDR_SIZE - nb * CACHE_BIG_SIZE) / CACHE_SLOT_SIZE;
	if (ns > UINT32_MAX / 2)
		return MT_ETOOBIG;
	l->nslots = (uint32_t)ns;
	l->nbig = (uint32_t)nb;
	l->big_off = CACHE_HDR_SIZE + ns * CACHE_SLOT_SIZE;
	l->file_size = l->big_off + nb * CACHE_BIG_SIZE;
	if (l->file_size > SIZE_MAX)
		return MT_ETOOBIG;
	return MT_OK;
}

static int init_file(unsigned char *base, size_t size, void *arg)
{
	const struct layout *l = arg;
	struct cache_hdr *h = (struct cache_hdr *)(void *)base;

	if (size != l->file_size)
		return MT_EINTERNAL;
	/* The file is fresh from ftruncate: all zero, every slot FREE. */
	memcpy(h->ch_magic, CACHE_MAGIC, sizeof(h->ch_magic));
	h->ch_version = CACHE_VERSION;
	h->ch_endian = CACHE_ENDIAN;
	h->ch_hdr_size = CACHE_HDR_SIZE;
	h->ch_slot_size = CACHE_SLOT_SIZE;
	h->ch_slot_data = CACHE_SLOT_DATA;
	h->ch_big_size = CACHE_BIG_SIZE;
	h->ch_nslots = l->nslots;
	h->ch_nbig = l->nbig;
	h->ch_slots_off = CACHE_HDR_SIZE;
	h->ch_big_off = l->big_off;
	h->ch_file_size = l->file_size;
	if (getrandom(h->ch_key, sizeof(h->ch_key), 0) !=
	    (ssize_t)sizeof(h->ch_key)) {
		/* Without entropy the hash is still well mixed, only
		 * predictable; probing is bounded either way. */
		h->ch_key[0] = (uint64_t)clock_now() * 0x9e3779b97f4a7c15ull;
		h->ch_key[1] = (uint64_t)getpid() ^ (uint64_t)clock_mono_ms();
	}
	h->ch_created = clock_now();
	h->ch_desc_sum = desc_sum(h);
	return MT_OK;
}

/* Which part of the descriptor is wrong, or NULL. */
static const char *hdr_mismatch(const struct cache_hdr *h, size_t size)
{
	uint64_t want;

	if (size < CACHE_HDR_SIZE)
		return "file shorter than the header";
	if (memcmp(h->ch_magic, CACHE_MAGIC, sizeof(h->ch_magic)) != 0)
		return "bad magic";
	if (h->ch_endian != CACHE_ENDIAN)
		return "foreign byte order";
	if (h->ch_version != CACHE_VERSION)
		return "format version";
	if (h->ch_desc_sum != desc_sum(h))
		return "header checksum";
	if (h->ch_hdr_size != CACHE_HDR_SIZE ||
	    h->ch_slot_size != CACHE_SLOT_SIZE ||
	    h->ch_slot_data != CACHE_SLOT_DATA ||
	    h->ch_big_size != CACHE_BIG_SIZE)
		return "layout descriptor";
	if (h->ch_nslots < CACHE_MIN_SLOTS || h->ch_nslots > UINT32_MAX / 2 ||
	    h->ch_nbig < 1 || h->ch_nbig > 4096 ||
	    h->ch_slots_off != CACHE_HDR_SIZE)
		return "layout descriptor";
	want = CACHE_HDR_SIZE + (uint64_t)h->ch_nslots * CACHE_SLOT_SIZE;
	if (h->ch_big_off != want)
		return "layout descriptor";
	want += (uint64_t)h->ch_nbig * CACHE_BIG_SIZE;
	if (h->ch_file_size != want)
		return "layout descriptor";
	if (want != size)
		return "file size differs from the header (truncated?)";
	return NULL;
}

static void detach(struct cache *c)
{
	shm_detach(&c->shm);
	c->hdr = NULL;
	c->slots = NULL;
	c->bigs = NULL;
}

/* Replace a file we cannot use; s is attached to it. */
static int rebuild(struct cache *c, const char *why)
{
	struct cache_hdr *old = (struct cache_hdr *)(void *)c->shm.base;
	struct layout l;
	int rc;

	rc = shm_lock(&c->shm, CACHE_LOCK_MS);
	if (rc != MT_OK)
		return rc;
	if (!shm_is_current(&c->shm, c->path)) {
		rc = MT_OK;	/* someone else already replaced it */
		goto out;
	}
	/* Security-relevant: every cached policy is lost, so a domain whose
	 * TXT record an attacker can hide is open to downgrade until its
	 * policy is fetched again (RFC 8461 §10). */
	log_msg(LOG_LVL_ERR,
		"cache: security: %s unusable (%s): rebuilding, cached "
		"policies are lost", c->path, why);
	rc = layout_for(c->size_req, &l);
	if (rc != MT_OK)
		goto out;
	rc = shm_create(c->path, (size_t)l.file_size, init_file, &l, 1);
	if (rc != MT_OK)
		goto out;
	if (c->shm.size >= CACHE_HDR_SIZE)
		atomic_store_explicit((_Atomic uint32_t *)&old->ch_retired, 1,
				      memory_order_release);
out:
	shm_unlock(&c->shm);
	return rc;
}

static int attach(struct cache *c)
{
	const char *why;
	struct layout l;
	int rc = MT_EIO;

	detach(c);
	c->hits = 0;	/* approximate: a child does not repeat its parent's */
	c->misses = 0;
	c->gen = atomic_load_explicit(&fork_gen, memory_order_relaxed);
	for (int i = 0; i < CACHE_MAX_ATTACH; i++) {
		rc = shm_attach(&c->shm, c->path);
		if (rc == MT_ENOTFOUND && (c->flags & CACHE_OPEN_NOCREATE))
			return rc;
		if (rc == MT_ECORRUPT && (c->flags & CACHE_OPEN_NOCREATE))
			return rc;
		if (rc == MT_ENOTFOUND) {
			rc = layout_for(c->size_req, &l);
			if (rc != MT_OK)
				return rc;
			rc = shm_create(c->path, (size_t)l.file_size,
					init_file, &l, 0);
			if (rc != MT_OK && rc != MT_EBUSY)
				return rc;
			continue;
		}
		if (rc == MT_ECORRUPT) {
			/* An empty file: nobody can have it mapped, nothing
			 * to lock; replace it. */
			log_msg(LOG_LVL_ERR,
				"cache: security: %s is empty: rebuilding",
				c->path);
			rc = layout_for(c->size_req, &l);
			if (rc == MT_OK)
				rc = shm_create(c->path, (size_t)l.file_size,
						init_file, &l, 1);
			if (rc != MT_OK)
				return rc;
			continue;
		}
		if (rc != MT_OK)
			return rc;
		c->hdr = (struct cache_hdr *)(void *)c->shm.base;
		why = hdr_mismatch(c->hdr, c->shm.size);
		if (why == NULL && !atomic_load_explicit(
				   (_Atomic uint32_t *)&c->hdr->ch_retired,
				   memory_order_acquire)) {
			c->nslots = c->hdr->ch_nslots;
			c->nbig = c->hdr->ch_nbig;
			c->key[0] = c->hdr->ch_key[0];
			c->key[1] = c->hdr->ch_key[1];
			c->slots = (struct cache_slot *)(void *)(c->shm.base +
							  CACHE_HDR_SIZE);
			c->bigs = c->shm.base + c->hdr->ch_big_off;
			return MT_OK;
		}
		if (why == NULL && !shm_is_current(&c->shm, c->path)) {
			detach(c);	/* retired: the name has a new file */
			continue;
		}
		if (why == NULL)	/* a stray retired flag */
			why = "retired flag set on the current file";
		if (c->flags & CACHE_OPEN_NOCREATE) {
			log_msg(LOG_LVL_ERR, "cache: %s unusable (%s)",
				c->path, why);
			detach(c);
			return MT_ECORRUPT;
		}
		rc = rebuild(c, why);
		detach(c);
		if (rc != MT_OK)
			return rc;
	}
	log_msg(LOG_LVL_ERR, "cache: %s: cannot attach", c->path);
	return MT_EIO;
}

/* Every entry point: re-attach after fork() or when the file was replaced. */
static int ready(struct cache *c)
{
	if (c == NULL)
		return MT_EINVAL;
	if (c->hdr == NULL ||
	    c->gen != atomic_load_explicit(&fork_gen, memory_order_relaxed) ||
	    atomic_load_explicit((_Atomic uint32_t *)&c->hdr->ch_retired,
				 memory_order_acquire))
		return attach(c);
	return MT_OK;
}

int cache_open(struct cache **out, const char *path, size_t size)
{
	return cache_open_flags(out, path, size, 0);
}

int cache_open_flags(struct cache **out, const char *path, size_t size,
		     unsigned flags)
{
	struct cache *c;
	int rc;

	*out = NULL;
	if (path == NULL || path[0] == '\0')
		return MT_EINVAL;
	(void)pthread_once(&fork_once, fork_register);
	c = mem_calloc(1, sizeof(*c));
	if (c == NULL)
		return MT_ENOMEM;
	c->shm.fd = -1;
	c->path = mem_strdup(path);
	if (c->path == NULL) {
		mem_free(c);
		return MT_ENOMEM;
	}
	c->size_req = size ? size : CACHE_DEFAULT_SIZE;
	c->flags = flags;
	rc = attach(c);
	if (rc != MT_OK) {
		cache_close(c);
		return rc;
	}
	*out = c;
	return MT_OK;
}

void cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	if (c->gen == atomic_load_explicit(&fork_gen, memory_order_relaxed))
		stat_flush(c);
	detach(c);
	mem_free(c->path);
	mem_free(c);
}

void cache_entry_clear(struct cache_entry *e)
{
	if (e == NULL)
		return;
	mem_free(e->mx);
	memset(e, 0, sizeof(*e));
}

/* ---- reading ---- */

static void stat_add_n(uint64_t *ctr, uint64_t n)
{
	atomic_fetch_add_explicit((_Atomic uint64_t *)ctr, n,
				  memory_order_relaxed);
}

static void stat_add(struct cache *c, uint64_t *ctr)
{
	(void)c;
	stat_add_n(ctr, 1);
}

/* Hit and miss counts are kept in the handle and added to the shared
 * header in bulk: an atomic add per lookup on one cache line shared by
 * every process would cost more than the lookup. */
#define STAT_FLUSH_EVERY 1024u

static void stat_flush(struct cache *c)
{
	if (c->hdr == NULL)
		return;
	if (c->hits)
		stat_add_n(&c->hdr->ch_hits, c->hits);
	if (c->misses)
		stat_add_n(&c->hdr->ch_misses, c->misses);
	c->hits = 0;
	c->misses = 0;
}

static uint32_t seq_load(const struct cache_slot *s, memory_order mo)
{
	return atomic_load_explicit((_Atomic uint32_t *)&s->cs_seq, mo);
}

/* Validate a private copy of a slot (fixed part).  */
static bool slot_fields_ok(const struct cache_slot *s, uint32_t nbig)
{
	if (s->cs_state != SLOT_USED)
		return false;
	if (s->cs_dlen == 0 || s->cs_dlen > DOMAIN_BUFSZ - 1 ||
	    s->cs_idlen > TXT_ID_MAX)
		return false;
	if (s->cs_kind > CACHE_NEGATIVE || s->cs_mode > POLICY_MODE_ENFORCE)
		return false;
	if (s->cs_mx_len > CACHE_BIG_DATA || s->cs_n_mx > s->cs_mx_len)
		return false;
	if (s->cs_big == 0) {
		if (s->cs_mx_len > CACHE_SLOT_DATA - s->cs_dlen)
			return false;
	} else if (s->cs_big > nbig) {
		return false;
	}
	return true;
}

static bool mx_blob_ok(const char *mx, uint32_t len, uint32_t n)
{
	uint32_t count = 0, off = 0;
	const char *nul;

	if (len == 0)
		return n == 0;
	if (mx[len - 1] != '\0')
		return false;
	while (off < len) {
		nul = memchr(mx + off, '\0', len - off);
		if (nul == NULL || nul == mx + off)
			return false;	/* unterminated or empty pattern */
		off = (uint32_t)(nul - mx) + 1;
		count++;
	}
	return count == n;
}

static void slot_to_entry(const struct cache_slot *s, struct cache_entry *e)
{
	memcpy(e->domain, s->cs_data, s->cs_dlen);
	e->domain[s->cs_dlen] = '\0';
	e->kind = s->cs_kind;
	e->mode = s->cs_mode;
	e->max_age = s->cs_max_age;
	e->fetched = s->cs_fetched;
	e->expires = s->cs_expires;
	e->txt_checked = s->cs_txt_checked;
	memcpy(e->id, s->cs_id, s->cs_idlen);
	e->id[s->cs_idlen] = '\0';
	e->fail_count = s->cs_fail_count;
	e->retry_after = s->cs_retry_after;
	e->lease_deadline = s->cs_lease_deadline;
	e->lease_pid = s->cs_lease_pid;
	e->n_mx = s->cs_n_mx;
	e->mx_len = s->cs_mx_len;
}

enum rd { RD_OK, RD_FREE, RD_OTHER, RD_BAD, RD_NOMEM };

/*
 * Read slot idx.  When want_hash matches and the slot is consistent, fill
 * *out (mx allocated; with want_domain, domain compared).  RD_FREE: the
 * slot is FREE (ends a probe).  RD_OTHER: another domain / tomb.  RD_BAD:
 * torn for CACHE_READ_TRIES attempts or failing validation.
 */
static enum rd read_slot(struct cache *c, uint32_t idx, uint64_t want_hash,
			 const char *want_domain, size_t want_dlen,
			 struct cache_entry *out)
{
	const struct cache_slot *m = &c->slots[idx];
	struct cache_slot s;
	char *mx = NULL;
	size_t used;

	for (int t = 0; t < CACHE_READ_TRIES; t++) {
		uint32_t s1 = seq_load(m, memory_order_acquire);

		if (s1 & 1)
			continue;
		memcpy(&s, m, SLOT_FIXED);
		atomic_thread_fence(memory_order_acquire);
		if (seq_load(m, memory_order_relaxed) != s1)
			continue;
		if (s.cs_state == SLOT_FREE)
			return RD_FREE;
		if (s.cs_state != SLOT_USED || s.cs_hash != want_hash)
			return RD_OTHER;
		if (!slot_fields_ok(&s, c->nbig))
			goto torn;	/* maybe a race: recheck below */
		used = s.cs_dlen + (s.cs_big ? 0 : s.cs_mx_len);
		memcpy(s.cs_data, m->cs_data, used);
		if (s.cs_mx_len) {
			mx = mem_alloc(s.cs_mx_len);
			if (mx == NULL)
				return RD_NOMEM;
			if (s.cs_big)
				memcpy(mx, c->bigs + (size_t)(s.cs_big - 1) *
					   CACHE_BIG_SIZE + CACHE_BIG_HDR,
				       s.cs_mx_len);
			else
				memcpy(mx, s.cs_data + s.cs_dlen,
				       s.cs_mx_len);
		}
		atomic_thread_fence(memory_order_acquire);
		if (seq_load(m, memory_order_relaxed) != s1) {
			mem_free(mx);
			mx = NULL;
			continue;
		}
		if (slot_sum(&s, used, s.cs_big ? mx : NULL,
			     s.cs_big ? s.cs_mx_len : 0) != s.cs_sum ||
		    !mx_blob_ok(mx, s.cs_mx_len, s.cs_n_mx)) {
			mem_free(mx);
			return RD_BAD;
		}
		if (want_domain != NULL &&
		    (s.cs_dlen != want_dlen ||
		     memcmp(s.cs_data, want_domain, want_dlen) != 0)) {
			mem_free(mx);
			return RD_OTHER;
		}
		slot_to_entry(&s, out);
		out->mx = mx;
		return RD_OK;
torn:
		atomic_thread_fence(memory_order_acquire);
		if (seq_load(m, memory_order_relaxed) == s1)
			return RD_BAD;
	}
	return RD_BAD;
}

static int check_domain(const char *domain, size_t *len)
{
	if (domain == NULL)
		return MT_EINVAL;
	*len = strnlen(domain, DOMAIN_BUFSZ);
	if (*len == 0 || *len >= DOMAIN_BUFSZ)
		return MT_EINVAL;
	return MT_OK;
}

int cache_get(struct cache *c, const char *domain, struct cache_entry *out)
{
	uint64_t h;
	size_t dlen;
	uint32_t idx;
	bool unreadable = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_domain(domain, &dlen)) != MT_OK)
		return rc;
	if ((rc = ready(c)) != MT_OK)
		return rc;
	h = sip_hash(c->key, domain, dlen);
	idx = home(c, h);
	for (uint32_t i = 0; i < CACHE_PROBE_MAX; i++) {
		switch (read_slot(c, idx, h, domain, dlen, out)) {
		case RD_OK: {
			uint32_t now;
			_Atomic uint32_t *lru =
				(_Atomic uint32_t *)&c->slots[idx].cs_lru;

			/* The stamp is coarse: the clock is read every 64
			 * hits, not on each (a tenth of a hit's cost). */
			if ((c->lru_ops++ & 63) == 0)
				c->lru_now = (uint32_t)clock_now();
			now = c->lru_now;
			if (atomic_load_explicit(lru, memory_order_relaxed) !=
			    now)
				atomic_store_explicit(lru, now,
						      memory_order_relaxed);
			if (++c->hits >= STAT_FLUSH_EVERY)
				stat_flush(c);
			return MT_OK;
		}
		case RD_NOMEM:
			return MT_ENOMEM;
		case RD_FREE:
			goto miss;
		case RD_BAD:
			stat_add(c, &c->hdr->ch_corrupt);
			unreadable = true;
			break;
		case RD_OTHER:
			break;
		}
		if (++idx == c->nslots)
			idx = 0;
	}
miss:
	if (++c->misses >= STAT_FLUSH_EVERY)
		stat_flush(c);
	/* A slot on the probe path could not be read (a crashed writer's,
	 * damaged bytes, or torn for every try): it may hold this domain's
	 * policy, so the answer is "cannot tell", not "not cached". */
	return unreadable ? MT_ECORRUPT : MT_ENOTFOUND;
}

/* ---- writing (lock held) ---- */

static struct cache_big *big_at(struct cache *c, uint32_t i)
{
	return (struct cache_big *)(void *)(c->bigs +
					    (size_t)i * CACHE_BIG_SIZE);
}

/* Writer-side validity of slot idx (the lock is held: nobody else writes;
 * an odd sequence is a crashed writer's). */
static bool slot_valid_locked(struct cache *c, uint32_t idx)
{
	const struct cache_slot *m = &c->slots[idx];
	size_t used;
	const void *big = NULL;

	if (seq_load(m, memory_order_relaxed) & 1)
		return false;
	if (!slot_fields_ok(m, c->nbig))
		return false;
	used = m->cs_dlen + (m->cs_big ? 0 : m->cs_mx_len);
	if (m->cs_big)
		big = c->bigs + (size_t)(m->cs_big - 1) * CACHE_BIG_SIZE +
		      CACHE_BIG_HDR;
	if (slot_sum(m, used, big, m->cs_big ? m->cs_mx_len : 0) != m->cs_sum)
		return false;
	return mx_blob_ok(m->cs_big ? big : (const void *)(m->cs_data +
							    m->cs_dlen),
			  m->cs_mx_len, m->cs_n_mx);
}

static void big_free(struct cache *c, uint32_t big, uint32_t idx)
{
	if (big == 0 || big > c->nbig)
		return;
	if (big_at(c, big - 1)->cb_owner == idx + 1)
		big_at(c, big - 1)->cb_owner = 0;
}

/* A free big block, reclaiming leaked ones (a crash between taking a block
 * and publishing the slot) when none is free.  UINT32_MAX: none. */
static uint32_t big_take(struct cache *c, uint32_t idx)
{
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < c->nbig; i++) {
			uint32_t o = big_at(c, i)->cb_owner;

			if (o == 0 || o > c->nslots) {
				big_at(c, i)->cb_owner = idx + 1;
				return i;
			}
		}
		if (pass == 1)
			break;
		/* Reclaim: a block is in use only when its owner slot is
		 * valid and names it. */
		for (uint32_t i = 0; i < c->nbig; i++) {
			uint32_t o = big_at(c, i)->cb_owner;

			if (o == 0)
				continue;
			if (o > c->nslots || !slot_valid_locked(c, o - 1) ||
			    c->slots[o - 1].cs_big != i + 1)
				big_at(c, i)->cb_owner = 0;
		}
	}
	return UINT32_MAX;
}

/*
 * Publish *n (fixed fields and data area already prepared, cs_sum
 * computed) into slot idx, with big data when n->cs_big.  Seqlock writer
 * side: odd, release fence, data, even with release.
 */
static void slot_write(struct cache *c, uint32_t idx,
		       const struct cache_slot *n, const void *big, size_t used)
{
	struct cache_slot *m = &c->slots[idx];
	_Atomic uint32_t *seq = (_Atomic uint32_t *)&m->cs_seq;
	uint32_t s = atomic_load_explicit(seq, memory_order_relaxed);

	if (!(s & 1)) {
		s++;
		atomic_store_explicit(seq, s, memory_order_relaxed);
	}
	/* else: a crashed writer left it odd; we are its repair. */
	atomic_thread_fence(memory_order_release);
	if (shm_test_mid_write != NULL)
		shm_test_mid_write();
	if (n->cs_big && big != NULL)
		memcpy(c->bigs + (size_t)(n->cs_big - 1) * CACHE_BIG_SIZE +
		       CACHE_BIG_HDR, big, n->cs_mx_len);
	memcpy((unsigned char *)m + offsetof(struct cache_slot, cs_sum),
	       (const unsigned char *)n + offsetof(struct cache_slot, cs_sum),
	       SLOT_FIXED - offsetof(struct cache_slot, cs_sum) + used);
	atomic_store_explicit((_Atomic uint32_t *)&m->cs_lru, n->cs_lru,
			      memory_order_relaxed);
	atomic_store_explicit(seq, s + 1, memory_order_release);
}

static void slot_clear(struct cache *c, uint32_t idx, uint8_t state)
{
	struct cache_slot n;
	uint32_t old_big = c->slots[idx].cs_big;

	memset(&n, 0, SLOT_FIXED);
	n.cs_state = state;
	n.cs_sum = slot_sum(&n, 0, NULL, 0);
	slot_write(c, idx, &n, NULL, 0);
	big_free(c, old_big, idx);
}

struct found {
	uint32_t at;		/* slot with the domain, UINT32_MAX none */
	uint32_t reuse;		/* first TOMB / broken slot, or FREE */
};

/* Writer-side probe (lock held).  Broken slots on the way are repaired
 * into TOMB (a crashed writer's odd slot, bytes that fail the checksum). */
static void probe_locked(struct cache *c, uint64_t h, const char *d,
			 size_t dlen, struct found *f)
{
	uint32_t idx = home(c, h);

	f->at = UINT32_MAX;
	f->reuse = UINT32_MAX;
	for (uint32_t i = 0; i < CACHE_PROBE_MAX; i++) {
		struct cache_slot *m = &c->slots[idx];

		if (!(seq_load(m, memory_order_relaxed) & 1) &&
		    m->cs_state == SLOT_FREE) {
			if (f->reuse == UINT32_MAX)
				f->reuse = idx;
			return;
		}
		if (!slot_valid_locked(c, idx)) {
			if (m->cs_state != SLOT_TOMB ||
			    (seq_load(m, memory_order_relaxed) & 1)) {
				stat_add(c, &c->hdr->ch_corrupt);
				slot_clear(c, idx, SLOT_TOMB);
			}
			if (f->reuse == UINT32_MAX)
				f->reuse = idx;
		} else if (m->cs_hash == h && m->cs_dlen == dlen &&
			   memcmp(m->cs_data, d, dlen) == 0) {
			f->at = idx;
			return;
		}
		if (++idx == c->nslots)
			idx = 0;
	}
}

static bool lease_live(const struct cache_slot *m, int64_t now)
{
	if (m->cs_lease_pid <= 0 || m->cs_lease_deadline <= now)
		return false;
	return kill(m->cs_lease_pid, 0) == 0 || errno == EPERM;
}

/* Eviction class: lower goes first. */
static int evict_class(const struct cache_slot *m, int64_t now)
{
	if (lease_live(m, now))
		return 3;
	if (m->cs_expires <= now && m->cs_kind != CACHE_EMPTY)
		return 0;
	if (m->cs_kind == CACHE_POLICY && m->cs_mode == POLICY_MODE_ENFORCE)
		return 2;
	return 1;
}

static uint32_t pick_victim(struct cache *c, uint64_t h, int64_t now)
{
	uint32_t idx = home(c, h), best = UINT32_MAX;
	int best_cls = 99;
	uint32_t best_lru = 0;
	int64_t best_exp = 0;

	for (uint32_t i = 0; i < CACHE_PROBE_MAX; i++) {
		const struct cache_slot *m = &c->slots[idx];
		int cls = evict_class(m, now);
		uint32_t lru = atomic_load_explicit(
			(_Atomic uint32_t *)&m->cs_lru, memory_order_relaxed);

		if (cls < best_cls ||
		    (cls == best_cls && cls == 0 && m->cs_expires < best_exp) ||
		    (cls == best_cls && cls != 0 && lru < best_lru)) {
			best = idx;
			best_cls = cls;
			best_lru = lru;
			best_exp = m->cs_expires;
		}
		if (++idx == c->nslots)
			idx = 0;
	}
	return best;
}

static int lock(struct cache *c)
{
	int rc = shm_lock(&c->shm, CACHE_LOCK_MS);

	if (rc == MT_EBUSY)
		log_msg(LOG_LVL_WARN, "cache: %s: writer lock busy for %d ms",
			c->path, CACHE_LOCK_MS);
	return rc;
}

/* Build slot n for domain d from e (answer part) and lease fields. */
static int build_slot(struct cache_slot *n, uint64_t h, const char *d,
		      size_t dlen, const struct cache_entry *e, size_t *used)
{
	size_t idlen = strnlen(e->id, sizeof(e->id));

	if (idlen > TXT_ID_MAX || e->kind > CACHE_NEGATIVE ||
	    e->mode > POLICY_MODE_ENFORCE)
		return MT_EINVAL;
	if (e->mx_len > CACHE_BIG_DATA)
		return MT_ETOOBIG;
	if ((e->mx_len && e->mx == NULL) ||
	    !mx_blob_ok(e->mx, e->mx_len, e->n_mx))
		return MT_EINVAL;
	memset(n, 0, sizeof(*n));
	n->cs_lru = (uint32_t)clock_now();
	n->cs_hash = h;
	n->cs_fetched = e->fetched;
	n->cs_expires = e->expires;
	n->cs_txt_checked = e->txt_checked;
	n->cs_retry_after = e->retry_after;
	n->cs_max_age = e->max_age;
	n->cs_fail_count = e->fail_count;
	n->cs_n_mx = e->n_mx;
	n->cs_mx_len = e->mx_len;
	n->cs_dlen = (uint16_t)dlen;
	n->cs_state = SLOT_USED;
	n->cs_kind = e->kind;
	n->cs_mode = e->mode;
	n->cs_idlen = (uint8_t)idlen;
	memcpy(n->cs_id, e->id, idlen);
	memcpy(n->cs_data, d, dlen);
	*used = dlen;
	if (e->mx_len <= CACHE_SLOT_DATA - dlen) {
		if (e->mx_len)
			memcpy(n->cs_data + dlen, e->mx, e->mx_len);
		*used += e->mx_len;
	}
	return MT_OK;
}

/* Store e into its slot (lock held).  keep_lease: take the lease fields
 * from the existing slot; otherwise from e. */
static int put_locked(struct cache *c, const struct cache_entry *e,
		      bool keep_lease)
{
	struct cache_slot n;
	struct found f;
	uint64_t h;
	size_t dlen, used;
	uint32_t idx, old_big = 0, big;
	int64_t now = clock_now();
	int rc;

	if ((rc = check_domain(e->domain, &dlen)) != MT_OK)
		return rc;
	h = sip_hash(c->key, e->domain, dlen);
	rc = build_slot(&n, h, e->domain, dlen, e, &used);
	if (rc != MT_OK)
		return rc;
	probe_locked(c, h, e->domain, dlen, &f);
	if (f.at != UINT32_MAX) {
		idx = f.at;
		old_big = c->slots[idx].cs_big;
		if (keep_lease) {
			n.cs_lease_pid = c->slots[idx].cs_lease_pid;
			n.cs_lease_deadline = c->slots[idx].cs_lease_deadline;
		}
	} else if (f.reuse != UINT32_MAX) {
		idx = f.reuse;
	} else {
		idx = pick_victim(c, h, now);
		if (idx == UINT32_MAX)
			return MT_EFULL;
		old_big = c->slots[idx].cs_big;
		stat_add(c, &c->hdr->ch_evictions);
	}
	if (!keep_lease) {
		n.cs_lease_pid = e->lease_pid;
		n.cs_lease_deadline = e->lease_deadline;
	}
	if (used == dlen && e->mx_len > 0) {	/* needs a big block */
		big = big_take(c, idx);
		if (big == UINT32_MAX) {
			log_msg(LOG_LVL_WARN,
				"cache: no big block free for %s (%u mx bytes)",
				e->domain, e->mx_len);
			return MT_EFULL;
		}
		n.cs_big = big + 1;
	}
	n.cs_sum = slot_sum(&n, used, n.cs_big ? e->mx : NULL,
			    n.cs_big ? e->mx_len : 0);
	slot_write(c, idx, &n, e->mx, used);
	if (old_big != n.cs_big)
		big_free(c, old_big, idx);
	return MT_OK;
}

int cache_put(struct cache *c, const struct cache_entry *e)
{
	int rc;

	if (e == NULL)
		return MT_EINVAL;
	if ((rc = ready(c)) != MT_OK)
		return rc;
	if ((rc = lock(c)) != MT_OK)
		return rc;
	rc = put_locked(c, e, true);
	shm_unlock(&c->shm);
	return rc;
}

/* Writer entry: validate the domain, attach, take the lock and find the
 * domain's slot.  On MT_OK the caller holds the lock. */
static int lock_and_find(struct cache *c, const char *domain, struct found *f)
{
	size_t dlen;
	int rc;

	if ((rc = check_domain(domain, &dlen)) != MT_OK)
		return rc;
	if ((rc = ready(c)) != MT_OK)
		return rc;
	if ((rc = lock(c)) != MT_OK)
		return rc;
	probe_locked(c, sip_hash(c->key, domain, dlen), domain, dlen, f);
	return MT_OK;
}

int cache_delete(struct cache *c, const char *domain)
{
	struct found f;
	int rc;

	if ((rc = lock_and_find(c, domain, &f)) != MT_OK)
		return rc;
	if (f.at == UINT32_MAX) {
		rc = MT_ENOTFOUND;
	} else {
		slot_clear(c, f.at, SLOT_TOMB);
		rc = MT_OK;
	}
	shm_unlock(&c->shm);
	return rc;
}

int cache_flush(struct cache *c)
{
	int rc;

	if ((rc = ready(c)) != MT_OK)
		return rc;
	if ((rc = lock(c)) != MT_OK)
		return rc;
	for (uint32_t i = 0; i < c->nslots; i++)
		if (c->slots[i].cs_state != SLOT_FREE ||
		    (seq_load(&c->slots[i], memory_order_relaxed) & 1))
			slot_clear(c, i, SLOT_FREE);
	for (uint32_t i = 0; i < c->nbig; i++)
		big_at(c, i)->cb_owner = 0;
	shm_unlock(&c->shm);
	log_msg(LOG_LVL_NOTICE, "cache: %s flushed", c->path);
	return MT_OK;
}

/* Copy of the slot's entry (lock held, slot valid). */
static int entry_locked(struct cache *c, uint32_t idx, struct cache_entry *e)
{
	const struct cache_slot *m = &c->slots[idx];

	memset(e, 0, sizeof(*e));
	slot_to_entry(m, e);
	if (m->cs_mx_len) {
		e->mx = mem_alloc(m->cs_mx_len);
		if (e->mx == NULL)
			return MT_ENOMEM;
		memcpy(e->mx, m->cs_big ? c->bigs + (size_t)(m->cs_big - 1) *
				  CACHE_BIG_SIZE + CACHE_BIG_HDR
					: m->cs_data + m->cs_dlen,
		       m->cs_mx_len);
	}
	return MT_OK;
}

int cache_lease(struct cache *c, const char *domain, int64_t now,
		int64_t deadline)
{
	struct cache_entry e;
	struct found f;
	int rc;

	if ((rc = lock_and_find(c, domain, &f)) != MT_OK)
		return rc;
	if (f.at != UINT32_MAX) {
		const struct cache_slot *m = &c->slots[f.at];

		if (m->cs_lease_pid != getpid() && lease_live(m, now)) {
			rc = MT_EBUSY;
			goto out;
		}
		rc = entry_locked(c, f.at, &e);
		if (rc != MT_OK)
			goto out_e;
	} else {
		memset(&e, 0, sizeof(e));
		memcpy(e.domain, domain, strlen(domain));	/* checked: fits */
		e.kind = CACHE_EMPTY;
	}
	e.lease_pid = getpid();
	e.lease_deadline = deadline;
	rc = put_locked(c, &e, false);
out_e:
	cache_entry_clear(&e);
out:
	shm_unlock(&c->shm);
	return rc;
}

int cache_unlease(struct cache *c, const char *domain)
{
	struct cache_entry e;
	struct found f;
	int rc;

	if ((rc = lock_and_find(c, domain, &f)) != MT_OK)
		return rc;
	if (f.at == UINT32_MAX) {
		rc = MT_ENOTFOUND;
		goto out;
	}
	if (c->slots[f.at].cs_lease_pid != getpid()) {
		rc = MT_OK;	/* not ours: leave it */
		goto out;
	}
	if (c->slots[f.at].cs_kind == CACHE_EMPTY &&
	    c->slots[f.at].cs_fail_count == 0 &&
	    c->slots[f.at].cs_retry_after == 0) {
		slot_clear(c, f.at, SLOT_TOMB);	/* nothing left to keep */
		goto out;
	}
	rc = entry_locked(c, f.at, &e);
	if (rc == MT_OK) {
		e.lease_pid = 0;
		e.lease_deadline = 0;
		rc = put_locked(c, &e, false);
	}
	cache_entry_clear(&e);
out:
	shm_unlock(&c->shm);
	return rc;
}

int cache_foreach(struct cache *c,
		  int (*fn)(const struct cache_entry *e, void *arg), void *arg)
{
	struct cache_entry e;
	int rc;

	if (fn == NULL)
		return MT_EINVAL;
	if ((rc = ready(c)) != MT_OK)
		return rc;
	for (uint32_t i = 0; i < c->nslots; i++) {
		const struct cache_slot *m = &c->slots[i];
		uint64_t h;

		/* Lock-free like cache_get: read the hash under the seqlock
		 * through read_slot, which validates everything. */
		h = atomic_load_explicit((_Atomic uint64_t *)&m->cs_hash,
					 memory_order_relaxed);
		memset(&e, 0, sizeof(e));
		switch (read_slot(c, i, h, NULL, 0, &e)) {
		case RD_OK:
			rc = fn(&e, arg);
			cache_entry_clear(&e);
			if (rc != 0)
				return MT_OK;
			break;
		case RD_NOMEM:
			return MT_ENOMEM;
		default:
			break;
		}
	}
	return MT_OK;
}

int cache_stats(struct cache *c, struct cache_stats *st)
{
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = ready(c)) != MT_OK)
		return rc;
	stat_flush(c);
	st->slots = c->nslots;
	st->file_size = c->shm.size;
	for (uint32_t i = 0; i < c->nslots; i++) {
		struct cache_slot s;
		uint32_t s1 = seq_load(&c->slots[i], memory_order_acquire);

		memcpy(&s, &c->slots[i], SLOT_FIXED);
		atomic_thread_fence(memory_order_acquire);
		if ((s1 & 1) ||
		    seq_load(&c->slots[i], memory_order_relaxed) != s1 ||
		    s.cs_state != SLOT_USED)
			continue;
		st->used++;
		if (s.cs_kind == CACHE_POLICY)
			st->policies++;
		else if (s.cs_kind == CACHE_NEGATIVE)
			st->negatives++;
	}
	st->hits = atomic_load_explicit((_Atomic uint64_t *)&c->hdr->ch_hits,
					memory_order_relaxed);
	st->misses = atomic_load_explicit(
		(_Atomic uint64_t *)&c->hdr->ch_misses, memory_order_relaxed);
	st->evictions = atomic_load_explicit(
		(_Atomic uint64_t *)&c->hdr->ch_evictions,
		memory_order_relaxed);
	st->corrupt_seen = atomic_load_explicit(
		(_Atomic uint64_t *)&c->hdr->ch_corrupt, memory_order_relaxed);
	return MT_OK;
}
