/*
 * store.h - the fleet's shared store: one Redis server (report_store),
 * through libhiredis, with connect and per-command timeouts.  Only the
 * `mtasts` command talks to it (fleet.h); the module's two halves never
 * link it: a delivery never waits on, or fails because of, the store.
 *
 * Every call returns MT_OK or a status; anything the server or the
 * connection did wrong is MT_ETEMP with the reason in store_error() (the
 * next run tries again).  After an I/O error the connection is dropped
 * and every later call fails at once.  Values are binary-safe byte
 * strings; what is read is untrusted (other hosts wrote it) and capped.
 * Not thread-safe: one store per thread.  Redis Cluster is not supported
 * (a transaction touches keys of several hash slots).
 */
#ifndef MTASTS_STORE_H
#define MTASTS_STORE_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"

struct store;

/* Connect to cfg->report_store within report_store_connect_timeout, then
 * AUTH (the password of report_store_password_file, else the URL's) and
 * SELECT the database.  MT_OK, MT_ECONFIG (the URL or the password file
 * is unusable), MT_ETEMP (no connection, refused, authentication failed),
 * MT_ENOMEM; err says which (never the password). */
int store_open(struct store **out, const struct config *cfg, char *err,
	       size_t errsz);
void store_close(struct store *s); /* accepts NULL */
/* The last failure, sanitised; "" when none. */
const char *store_error(const struct store *s);
/* Where the store is, for messages: "HOST:PORT/DB" or "unix:PATH/DB". */
const char *store_where(const struct store *s);

/* GET: MT_OK (value appended to out), MT_ENOTFOUND, MT_ETOOBIG (over
 * out's cap), MT_ETEMP. */
int store_get(struct store *s, const char *key, struct buf *out);
/* SET key val NX PX ms: MT_OK (set), MT_EEXIST (the key exists). */
int store_set_nx(struct store *s, const char *key, const char *val,
		 int64_t ttl_ms);
/* Delete key when its value is val (atomic, server side): MT_OK
 * whether or not it was. */
int store_del_if(struct store *s, const char *key, const char *val);
/* PTTL: milliseconds left, -1 no expiry, -2 no key. */
int store_pttl(struct store *s, const char *key, int64_t *ms);
/* HGET: MT_OK (appended to out), MT_ENOTFOUND, MT_ETOOBIG. */
int store_hget(struct store *s, const char *key, const char *field,
	       struct buf *out);
/* HGETALL: fn for each field (pointers valid during the call only; a
 * non-zero return stops with that status).  MT_OK when the hash is
 * missing too. */
typedef int store_pair_fn(void *ctx, const char *field, size_t flen,
			  const char *val, size_t vlen);
int store_hgetall(struct store *s, const char *key, store_pair_fn *fn,
		  void *ctx);

/* A transaction: MULTI, the commands, EXEC, in one round trip; every
 * command applied or none.  MT_OK when EXEC ran and no command failed. */
#define STORE_ARGS_MAX 8
struct store_cmd {
	int argc;
	const char *argv[STORE_ARGS_MAX];
	size_t len[STORE_ARGS_MAX]; /* 0: strlen(argv[i]) */
};
int store_tx(struct store *s, const struct store_cmd *cmds, size_t n);

#endif
