/* The library never prints: where a step fails without failing the operation (DEL is best
 * effort), it hands a message to the front's sink, which decides where it goes. */
#pragma once

struct hg_log {
	void (*fn)(void *ctx, const char *msg);
	void *ctx;
};

void hg_logf(const struct hg_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
