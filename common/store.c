/*
 * store.c - the fleet's Redis server through libhiredis (blocking
 * context, connect and command timeouts).
 *
 * What it trusts: the configuration (URL, password file).  What it does
 * not: every reply (type checked before use, sizes capped by the caller's
 * buffer), and the server's error text (sanitised before it reaches a
 * message).  The password never reaches a message, a log line or argv.
 * Ownership: a store is freed by store_close(); replies never leave this
 * file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <hiredis/hiredis.h>

#include "log.h"
#include "mem.h"
#include "status.h"
#include "store.h"

struct store {
	redisContext *c;
	char where[CONFIG_PATH_MAX + 32];
	char err[CONFIG_PATH_MAX + 32 + 256];
};

/* Compare-and-delete: a claim is released by its owner only. */
static const char DEL_IF[] =
	"if redis.call('get', KEYS[1]) == ARGV[1] then "
	"return redis.call('del', KEYS[1]) else return 0 end";

static void set_err(struct store *s, const char *what, const char *why)
{
	char clean[200];

	/* hiredis says strerror(EAGAIN) when a read or write timed out */
	if (strcmp(why, strerror(EAGAIN)) == 0)
		why = "no answer within report_store_timeout";
	log_sanitise(clean, sizeof(clean), why, strlen(why));
	snprintf(s->err, sizeof(s->err), "%s: %s: %s", s->where, what, clean);
}

const char *store_error(const struct store *s)
{
	return s != NULL ? s->err : "";
}

const char *store_where(const struct store *s)
{
	return s->where;
}

static struct timeval tv_ms(int64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

/* The first line of the password file. */
static int read_password(const char *path, char *out, size_t outsz, char *err,
			 size_t errsz)
{
	char line[512];
	FILE *f;
	size_t n;
	int rc = MT_ECONFIG;

	f = fopen(path, "re");
	if (f == NULL) {
		snprintf(err, errsz, "report_store_password_file %s: %s", path,
			 strerror(errno));
		return MT_ECONFIG;
	}
	if (fgets(line, sizeof(line), f) != NULL) {
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (n > 0 && n < outsz) {
			memcpy(out, line, n + 1);
			rc = MT_OK;
		}
	}
	fclose(f);
	explicit_bzero(line, sizeof(line));
	if (rc != MT_OK)
		snprintf(err, errsz,
			 "report_store_password_file %s: no "
			 "password on its first line (or over %zu bytes)",
			 path, outsz - 1);
	return rc;
}

static void drop(struct store *s);

/* One command, its reply checked for a server error.  NULL on failure
 * (s->err set); the reply is freeReplyObject()ed by the caller. */
static redisReply *command(struct store *s, const char *what, int argc,
			   const char **argv, const size_t *lens)
{
	redisReply *r;

	if (s->c == NULL) {
		if (s->err[0] == '\0')
			snprintf(s->err, sizeof(s->err), "%s: not connected",
				 s->where);
		return NULL;
	}
	r = redisCommandArgv(s->c, argc, argv, lens);
	if (r == NULL) {
		/* the context is unusable after an I/O error */
		set_err(s, what,
			s->c->errstr[0] ? s->c->errstr : "connection lost");
		drop(s);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		set_err(s, what, r->str != NULL ? r->str : "error");
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static int auth(struct store *s, const struct config_store_url *u,
		const char *password)
{
	const char *argv[3] = { "AUTH", u->user, password };
	size_t lens[3] = { 4, strlen(u->user), strlen(password) };
	redisReply *r;

	/* AUTH [USER] PASSWORD: an ACL user (Redis 6) or the default */
	if (u->user[0] != '\0')
		r = command(s, "AUTH", 3, argv, lens);
	else {
		argv[1] = password;
		lens[1] = lens[2];
		r = command(s, "AUTH", 2, argv, lens);
	}
	if (r == NULL)
		return MT_ETEMP;
	freeReplyObject(r);
	return MT_OK;
}

static int select_db(struct store *s, unsigned db)
{
	char n[16];
	const char *argv[2] = { "SELECT", n };
	redisReply *r;

	snprintf(n, sizeof(n), "%u", db);
	r = command(s, "SELECT", 2, argv, NULL);
	if (r == NULL)
		return MT_ETEMP;
	freeReplyObject(r);
	return MT_OK;
}

int store_open(struct store **out, const struct config *cfg, char *err,
	       size_t errsz)
{
	struct config_store_url u;
	struct store *s = NULL;
	char password[256] = "";
	struct timeval ctv = tv_ms(cfg->report_store_connect_timeout_ms);
	int rc = MT_OK;

	*out = NULL;
	err[0] = '\0';
	if (config_store_parse(cfg->report_store, &u) != MT_OK) {
		snprintf(err, errsz, "report_store is not a Redis URL");
		rc = MT_ECONFIG;
		goto out;
	}
	if (cfg->report_store_password_file[0] != '\0') {
		rc = read_password(cfg->report_store_password_file, password,
				   sizeof(password), err, errsz);
		if (rc != MT_OK)
			goto out;
	} else {
		snprintf(password, sizeof(password), "%s", u.password);
	}
	s = mem_calloc(1, sizeof(*s));
	if (s == NULL) {
		rc = MT_ENOMEM;
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	if (u.path[0] != '\0') {
		snprintf(s->where, sizeof(s->where), "unix:%s/%u", u.path,
			 u.db);
		s->c = redisConnectUnixWithTimeout(u.path, ctv);
	} else {
		snprintf(s->where, sizeof(s->where),
			 strchr(u.host, ':') ? "[%s]:%u/%u" : "%s:%u/%u",
			 u.host, u.port, u.db);
		s->c = redisConnectWithTimeout(u.host, (int)u.port, ctv);
	}
	if (s->c == NULL || s->c->err) {
		set_err(s, "connect",
			s->c != NULL ? s->c->errstr : "out of memory");
		rc = MT_ETEMP;
		goto out;
	}
	if (redisSetTimeout(s->c, tv_ms(cfg->report_store_timeout_ms)) !=
	    REDIS_OK) {
		set_err(s, "timeout", s->c->errstr);
		rc = MT_ETEMP;
		goto out;
	}
	if (password[0] != '\0')
		rc = auth(s, &u, password);
	if (rc == MT_OK && u.db != 0)
		rc = select_db(s, u.db);
out:
	explicit_bzero(password, sizeof(password));
	explicit_bzero(&u, sizeof(u));
	if (rc != MT_OK) {
		if (s != NULL && err[0] == '\0')
			snprintf(err, errsz, "%s", s->err);
		store_close(s);
		return rc;
	}
	*out = s;
	return MT_OK;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->c != NULL)
		redisFree(s->c);
	mem_free(s);
}

/* A string reply into out: MT_OK, MT_ENOTFOUND (nil), MT_ETOOBIG. */
static int take_string(struct store *s, const char *what, redisReply *r,
		       struct buf *out)
{
	int rc;

	if (r->type == REDIS_REPLY_NIL)
		return MT_ENOTFOUND;
	if (r->type != REDIS_REPLY_STRING) {
		set_err(s, what, "unexpected reply type");
		return MT_ETEMP;
	}
	rc = buf_add(out, r->str, r->len);
	if (rc == MT_ETOOBIG)
		set_err(s, what, "value over the size limit");
	return rc;
}

int store_get(struct store *s, const char *key, struct buf *out)
{
	const char *argv[2] = { "GET", key };
	redisReply *r = command(s, "GET", 2, argv, NULL);
	int rc;

	if (r == NULL)
		return MT_ETEMP;
	rc = take_string(s, "GET", r, out);
	freeReplyObject(r);
	return rc;
}

int store_hget(struct store *s, const char *key, const char *field,
	       struct buf *out)
{
	const char *argv[3] = { "HGET", key, field };
	redisReply *r = command(s, "HGET", 3, argv, NULL);
	int rc;

	if (r == NULL)
		return MT_ETEMP;
	rc = take_string(s, "HGET", r, out);
	freeReplyObject(r);
	return rc;
}

int store_set_nx(struct store *s, const char *key, const char *val,
		 int64_t ttl_ms)
{
	char ms[32];
	const char *argv[6] = { "SET", key, val, "NX", "PX", ms };
	redisReply *r;
	int rc;

	snprintf(ms, sizeof(ms), "%lld", (long long)ttl_ms);
	r = command(s, "SET", 6, argv, NULL);
	if (r == NULL)
		return MT_ETEMP;
	/* +OK when set, nil when the key exists */
	rc = r->type == REDIS_REPLY_STATUS ? MT_OK :
	     r->type == REDIS_REPLY_NIL	   ? MT_EEXIST :
					     MT_ETEMP;
	if (rc == MT_ETEMP)
		set_err(s, "SET", "unexpected reply type");
	freeReplyObject(r);
	return rc;
}

int store_del_if(struct store *s, const char *key, const char *val)
{
	const char *argv[5] = { "EVAL", DEL_IF, "1", key, val };
	redisReply *r = command(s, "EVAL", 5, argv, NULL);

	if (r == NULL)
		return MT_ETEMP;
	freeReplyObject(r);
	return MT_OK;
}

int store_pttl(struct store *s, const char *key, int64_t *ms)
{
	const char *argv[2] = { "PTTL", key };
	redisReply *r = command(s, "PTTL", 2, argv, NULL);
	int rc = MT_OK;

	if (r == NULL)
		return MT_ETEMP;
	if (r->type == REDIS_REPLY_INTEGER) {
		*ms = r->integer;
	} else {
		set_err(s, "PTTL", "unexpected reply type");
		rc = MT_ETEMP;
	}
	freeReplyObject(r);
	return rc;
}

int store_hgetall(struct store *s, const char *key, store_pair_fn *fn,
		  void *ctx)
{
	const char *argv[2] = { "HGETALL", key };
	redisReply *r = command(s, "HGETALL", 2, argv, NULL);
	int rc = MT_OK;

	if (r == NULL)
		return MT_ETEMP;
	if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0) {
		set_err(s, "HGETALL", "unexpected reply type");
		rc = MT_ETEMP;
	}
	for (size_t i = 0; rc == MT_OK && i < r->elements; i += 2) {
		const redisReply *f = r->element[i], *v = r->element[i + 1];

		if (f->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING) {
			set_err(s, "HGETALL", "unexpected element type");
			rc = MT_ETEMP;
			break;
		}
		rc = fn(ctx, f->str, f->len, v->str, v->len);
	}
	freeReplyObject(r);
	return rc;
}

/* Send MULTI, the commands and EXEC at once, then read n + 2 replies. */
static int tx_send(struct store *s, const struct store_cmd *cmds, size_t n)
{
	const char *multi[1] = { "MULTI" }, *exec[1] = { "EXEC" };
	size_t lens[STORE_ARGS_MAX];
	int ok;

	ok = redisAppendCommandArgv(s->c, 1, multi, NULL) == REDIS_OK;
	for (size_t i = 0; ok && i < n; i++) {
		for (int a = 0; a < cmds[i].argc; a++)
			lens[a] = cmds[i].len[a] ? cmds[i].len[a] :
						   strlen(cmds[i].argv[a]);
		ok = cmds[i].argc > 0 && cmds[i].argc <= STORE_ARGS_MAX &&
		     redisAppendCommandArgv(s->c, cmds[i].argc,
					    (const char **)cmds[i].argv,
					    lens) == REDIS_OK;
	}
	if (ok)
		ok = redisAppendCommandArgv(s->c, 1, exec, NULL) == REDIS_OK;
	if (!ok) {
		set_err(s, "MULTI",
			s->c->errstr[0] ? s->c->errstr :
					  "cannot queue the command");
		return MT_ETEMP;
	}
	return MT_OK;
}

static void drop(struct store *s)
{
	redisFree(s->c);
	s->c = NULL;
}

/* Reply i of a transaction of n commands: +OK to MULTI, +QUEUED to each
 * command, EXEC's array of n replies with no error among them. */
static int tx_check(struct store *s, const redisReply *r, size_t i, size_t n)
{
	if (r->type == REDIS_REPLY_ERROR) {
		/* a command refused while queued: EXEC aborts them all */
		set_err(s, i == n + 1 ? "EXEC" : "MULTI",
			r->str != NULL ? r->str : "error");
		return MT_ETEMP;
	}
	if (i < n + 1)
		return MT_OK;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
		set_err(s, "EXEC", "transaction not applied");
		return MT_ETEMP;
	}
	for (size_t k = 0; k < r->elements; k++)
		if (r->element[k]->type == REDIS_REPLY_ERROR) {
			set_err(s, "EXEC", r->element[k]->str);
			return MT_ETEMP;
		}
	return MT_OK;
}

int store_tx(struct store *s, const struct store_cmd *cmds, size_t n)
{
	redisReply *r = NULL;
	int rc;

	if (s->c == NULL) {
		if (s->err[0] == '\0')
			snprintf(s->err, sizeof(s->err), "%s: not connected",
				 s->where);
		return MT_ETEMP;
	}
	rc = tx_send(s, cmds, n);
	if (rc != MT_OK) {
		drop(s); /* part of it may be queued */
		return rc;
	}
	/* every reply is read, so the connection stays in step */
	for (size_t i = 0; i < n + 2; i++) {
		if (redisGetReply(s->c, (void **)&r) != REDIS_OK || r == NULL) {
			set_err(s, "EXEC",
				s->c->errstr[0] ? s->c->errstr :
						  "connection lost");
			drop(s);
			return MT_ETEMP;
		}
		if (rc == MT_OK)
			rc = tx_check(s, r, i, n);
		freeReplyObject(r);
		r = NULL;
	}
	return rc;
}
