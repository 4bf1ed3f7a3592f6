/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "os/unixsock.h"
#include "nri/conn.h"
#include "nri/attach-handlers.h"
#include "nri/nri.h"

/* Reconnection: 1 s, doubling, at most 30 s; back to 1 s after a working session. */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	stop_requested = 1;
}

bool hg_nri_valid_name(const char *s)
{
	if (!s[0] || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr("-_.+", *s)))
			return false;
	return true;
}

bool hg_nri_valid_index(const char *s)
{
	return strlen(s) == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9';
}

/* Sleeps ms or until a stop signal. */
static void pause_ms(int64_t ms)
{
	int64_t until = hg_monotonic_ms() + ms;
	while (!stop_requested) {
		int64_t left = until - hg_monotonic_ms();
		if (left <= 0)
			break;
		if (left > 200)
			left = 200;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = left * 1000000};
		nanosleep(&ts, NULL);
	}
}

static int serve_all(const struct hg_nri_options *o, const struct hg_log *logp, struct hg_nri_attach_ctx *ctx);

int hg_nri_run(const struct hg_nri_options *o, const struct hg_log *logp)
{
	struct hg_log log = *logp;
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct hg_nri_attach_ctx ctx;
	struct hg_error cerr = {0};
	if (hg_nri_attach_init(&ctx, o->config, &log, &cerr) < 0) {
		/* Without a valid file there is no failure policy to read: say it loudly. */
		hg_logf(&log, "%s", cerr.msg);
		hg_nri_attach_free(&ctx);
		return 1;
	}
	int ret = serve_all(o, &log, &ctx);
	hg_nri_attach_free(&ctx);
	return ret;
}

static int serve_all(const struct hg_nri_options *o, const struct hg_log *logp, struct hg_nri_attach_ctx *ctx)
{
	const char *name = o->name, *idx = o->idx;
	struct hg_log log = *logp;
	struct hg_nri_session_config cfg = {.name = name, .idx = idx};
	cfg.fail_closed = ctx->base.failure_policy == HG_FAIL_FAIL;
	struct hg_nri_handlers handlers;
	hg_nri_attach_handlers(&handlers, ctx);
	struct hg_nri_conn_result res;

	if (o->launched_fd >= 0) {
		struct hg_error err;
		int fd = o->launched_fd;
		if (hg_unix_adopt(fd, &err) < 0) {
			hg_logf(&log, "%s=%d: not a connected stream socket", HG_NRI_ENV_SOCKET, fd);
			return 1;
		}
		hg_logf(&log, "started by the runtime as %s-%s on fd %d", idx, name, fd);
		hg_nri_serve((int) fd, &cfg, &handlers, &log, &stop_requested, &res);
		close((int) fd);
		if (res.end == HG_NRI_CONN_FAILED) {
			hg_logf(&log, "connection failed: %s", res.err.msg);
			return 1;
		}
		hg_logf(&log, "%s", res.end == HG_NRI_CONN_STOPPED ? "stopped" : "the runtime closed the connection");
		return 0;
	}

	int64_t backoff = BACKOFF_FIRST_MS;
	while (!stop_requested) {
		struct hg_error err;
		int fd = -1;
		if (hg_unix_connect(o->socket_path, &fd, &err) < 0) {
			hg_logf(&log, "cannot connect: %s; retrying in %lld ms", err.msg, (long long) backoff);
		} else {
			hg_logf(&log, "connected to %s, registering as %s-%s", o->socket_path, idx, name);
			hg_nri_serve(fd, &cfg, &handlers, &log, &stop_requested, &res);
			close(fd);
			if (res.end == HG_NRI_CONN_STOPPED)
				break;
			if (res.configured)
				backoff = BACKOFF_FIRST_MS;
			if (res.end == HG_NRI_CONN_FAILED)
				hg_logf(&log, "connection failed: %s; reconnecting in %lld ms", res.err.msg, (long long) backoff);
			else
				hg_logf(&log, "the runtime closed the connection; reconnecting in %lld ms", (long long) backoff);
		}
		pause_ms(backoff);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	hg_logf(&log, "stopped");
	return 0;
}
