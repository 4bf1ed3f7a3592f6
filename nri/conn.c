/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>
#include "os/unixsock.h"
#include "nri/conn.h"

/* How long a read waits before looking at the stop flag and the registration deadline. */
#define CONN_TICK_MS 250
#define CONN_READ_CHUNK (64u << 10)

/* Sends what the session queued, within the runtime's request timeout: a runtime that
 * takes nothing for that long is gone or hostile. */
static int flush(int fd, struct hg_nri_session *s, struct hg_error *err)
{
	if (s->out.len == 0)
		return 0;
	if (hg_fd_write_all(fd, s->out.data, s->out.len, hg_monotonic_ms() + s->request_timeout_ms, err) < 0)
		return -1;
	hg_bytes_consume(&s->out, s->out.len);
	hg_bytes_shrink(&s->out);
	return 0;
}

void hg_nri_serve(int fd, const struct hg_nri_session_config *cfg, const struct hg_nri_handlers *handlers,
	const struct hg_log *log, volatile sig_atomic_t *stop, struct hg_nri_conn_result *res)
{
	static uint8_t buf[CONN_READ_CHUNK];
	struct hg_nri_session s;
	memset(res, 0, sizeof(*res));
	res->end = HG_NRI_CONN_FAILED;
	if (hg_nri_session_start(&s, cfg, handlers, log, hg_monotonic_ms(), &res->err) < 0 ||
		flush(fd, &s, &res->err) < 0)
		goto out;
	int64_t configure_by = hg_monotonic_ms() + s.registration_timeout_ms;
	for (;;) {
		if (*stop) {
			res->end = HG_NRI_CONN_STOPPED;
			break;
		}
		/* NRI drops a plugin that does not register in time; we drop a runtime that
		 * does not configure us in time, rather than wait on a dead connection. */
		if (!s.configured && hg_monotonic_ms() > configure_by) {
			hg_error_set(&res->err, HG_CNI_TRY_AGAIN, "not configured by the runtime within %lld ms",
				(long long) s.registration_timeout_ms);
			break;
		}
		ssize_t n = hg_fd_read_some(fd, buf, sizeof(buf), hg_monotonic_ms() + CONN_TICK_MS, &res->err);
		if (n == -ETIMEDOUT)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			res->end = HG_NRI_CONN_CLOSED;
			break;
		}
		if (hg_nri_session_feed(&s, buf, (size_t) n, hg_monotonic_ms(), &res->err) < 0) {
			/* What was answered before the failure still goes out: best effort. */
			struct hg_error ignored;
			flush(fd, &s, &ignored);
			break;
		}
		if (flush(fd, &s, &res->err) < 0)
			break;
	}
out:
	res->configured = s.configured;
	if (s.ignored > 5 || s.refused > 5)
		hg_logf(log, "this connection: %llu messages ignored, %llu requests refused", (unsigned long long) s.ignored,
			(unsigned long long) s.refused);
	hg_nri_session_free(&s);
}
