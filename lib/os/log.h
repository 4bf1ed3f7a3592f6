/* SPDX-License-Identifier: Apache-2.0 */
/* The library never prints: where a step fails without failing the operation (DEL is best
 * effort), it hands a message to the front's sink, which decides where it goes. */
#pragma once

struct hg_log {
	void (*fn)(void *ctx, const char *msg);
	void *ctx;
};

void hg_logf(const struct hg_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands line to outer (the front's sink) and appends it to log_file when one is configured:
 * what both personalities do with every diagnostic. */
void hg_log_emit(const struct hg_log *outer, const char *log_file, const char *line);
