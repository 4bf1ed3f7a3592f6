/* SPDX-License-Identifier: Apache-2.0 */
/* One connection to the runtime, from RegisterPlugin to its end, over a socket. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include "nri/session.h"

enum hg_nri_conn_end {
	HG_NRI_CONN_CLOSED,   /* the runtime closed it (after a Shutdown, or gone) */
	HG_NRI_CONN_FAILED,   /* a protocol or I/O failure, or the runtime never configured us */
	HG_NRI_CONN_STOPPED,  /* *stop was set (SIGTERM) */
};

struct hg_nri_conn_result {
	enum hg_nri_conn_end end;
	bool configured; /* the runtime configured us: it was a working session */
	struct hg_error err;  /* why, for HG_NRI_CONN_FAILED */
};

/* Serves fd (connected, non-blocking; not closed here) until it ends. */
void hg_nri_serve(int fd, const struct hg_nri_session_config *cfg, const struct hg_nri_handlers *handlers,
	const struct hg_log *log, volatile sig_atomic_t *stop, struct hg_nri_conn_result *res);
