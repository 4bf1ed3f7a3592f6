/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "nri/log-handlers.h"

/* Long enough for Kubernetes' usual annotations; the rest is cut with "...". */
#define LINE_MAX_LEN 3000

struct line {
	char buf[LINE_MAX_LEN];
	size_t len;
};

static void add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct line *l, const char *fmt, ...)
{
	if (l->len >= sizeof(l->buf) - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	l->len += (size_t) n;
	if (l->len >= sizeof(l->buf) - 1) {
		l->len = sizeof(l->buf) - 1;
		memcpy(l->buf + sizeof(l->buf) - 4, "...", 4);
	}
}

static void add_kv(struct line *l, const char *what, const struct hg_nri_kv *kv, size_t n)
{
	add(l, " %s={", what);
	for (size_t i = 0; i < n; i++)
		add(l, "%s%s=%s", i ? ", " : "", kv[i].key, kv[i].value);
	add(l, "}");
}

static void add_pod(struct line *l, const struct hg_nri_pod *pod)
{
	add(l, "id=%s name=%s/%s uid=%s netns=%s ips=", pod->id, pod->k8s_namespace, pod->name, pod->uid,
		pod->netns[0] ? pod->netns : "(host)");
	for (size_t i = 0; i < pod->n_ips; i++)
		add(l, "%s%s", i ? "," : "", pod->ips[i]);
	add_kv(l, "annotations", pod->annotations, pod->n_annotations);
}

static void emit(const struct hg_log *log, struct line *l)
{
	/* Text from the runtime (annotations are the user's) goes to a log read by people and
	 * tools: one line, valid UTF-8. */
	for (size_t i = 0; i < l->len; i++)
		if (l->buf[i] == '\n' || l->buf[i] == '\r')
			l->buf[i] = ' ';
	hg_utf8_sanitize(l->buf);
	hg_logf(log, "%s", l->buf);
}

static int on_configure(void *ctx, const struct hg_nri_call *call, const struct hg_nri_runtime *rt, struct hg_error *err)
{
	struct hg_nri_log_ctx *c = ctx;
	struct line l = {0};
	add(&l, "configured by %s %s (NRI %s): request timeout %lld ms, registration timeout %lld ms, "
		"host-gateway config %s, runtime's plugin config %zu bytes",
		rt->name, rt->version, rt->nri_version[0] ? rt->nri_version : "unknown", (long long) rt->request_timeout_ms,
		(long long) rt->registration_timeout_ms, c->config_path, strlen(rt->config));
	emit(c->log, &l);
	return 0;
}

static int on_synchronize(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pods, size_t n_pods,
	const struct hg_nri_container *ctrs, size_t n_ctrs, struct hg_error *err)
{
	struct hg_nri_log_ctx *c = ctx;
	hg_logf(c->log, "synchronize: %zu pod%s, %zu container%s", n_pods, n_pods == 1 ? "" : "s", n_ctrs,
		n_ctrs == 1 ? "" : "s");
	for (size_t i = 0; i < n_pods; i++) {
		struct line l = {0};
		add(&l, "synchronize: pod ");
		add_pod(&l, &pods[i]);
		emit(c->log, &l);
	}
	for (size_t i = 0; i < n_ctrs; i++) {
		struct line l = {0};
		add(&l, "synchronize: container id=%s pod=%s name=%s state=%d", ctrs[i].id, ctrs[i].pod_sandbox_id,
			ctrs[i].name, ctrs[i].state);
		emit(c->log, &l);
	}
	return 0;
}

static int log_pod(const struct hg_log *log, const char *what, const struct hg_nri_pod *pod)
{
	struct line l = {0};
	add(&l, "%s: ", what);
	add_pod(&l, pod);
	emit(log, &l);
	return 0;
}

static int on_pod_start(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod, struct hg_error *err)
{
	return log_pod(((struct hg_nri_log_ctx *) ctx)->log, "pod start", pod);
}

static int on_pod_stop(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod, struct hg_error *err)
{
	return log_pod(((struct hg_nri_log_ctx *) ctx)->log, "pod stop", pod);
}

static int on_pod_remove(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod, struct hg_error *err)
{
	return log_pod(((struct hg_nri_log_ctx *) ctx)->log, "pod removal", pod);
}

static int on_container_create(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod,
	const struct hg_nri_container *ctr, struct hg_nri_adjustment *adjust, struct hg_error *err)
{
	struct hg_nri_log_ctx *c = ctx;
	struct line l = {0};
	const char *hosts = NULL;
	for (size_t i = 0; i < ctr->n_mounts; i++)
		if (strcmp(ctr->mounts[i].destination, "/etc/hosts") == 0)
			hosts = ctr->mounts[i].source;
	add(&l, "container create: id=%s pod=%s name=%s etc-hosts=%s", ctr->id, pod->id, ctr->name,
		hosts ? hosts : "(none)");
	add_kv(&l, "annotations", ctr->annotations, ctr->n_annotations);
	emit(c->log, &l);
	return 0;
}

static int log_container(const struct hg_log *log, const char *what, const struct hg_nri_pod *pod,
	const struct hg_nri_container *ctr)
{
	struct line l = {0};
	add(&l, "%s: id=%s pod=%s name=%s", what, ctr->id, pod->id, ctr->name);
	emit(log, &l);
	return 0;
}

static int on_container_stop(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod,
	const struct hg_nri_container *ctr, struct hg_error *err)
{
	return log_container(((struct hg_nri_log_ctx *) ctx)->log, "container stop", pod, ctr);
}

static int on_container_remove(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod,
	const struct hg_nri_container *ctr, struct hg_error *err)
{
	return log_container(((struct hg_nri_log_ctx *) ctx)->log, "container removal", pod, ctr);
}

static void on_shutdown(void *ctx, const struct hg_nri_call *call)
{
	hg_logf(((struct hg_nri_log_ctx *) ctx)->log, "the runtime is shutting down");
}

void hg_nri_log_handlers(struct hg_nri_handlers *h, struct hg_nri_log_ctx *ctx)
{
	*h = (struct hg_nri_handlers){
		.ctx = ctx,
		.configure = on_configure,
		.synchronize = on_synchronize,
		.pod_start = on_pod_start,
		.pod_stop = on_pod_stop,
		.pod_remove = on_pod_remove,
		.container_create = on_container_create,
		.container_stop = on_container_stop,
		.container_remove = on_container_remove,
		.shutdown = on_shutdown,
	};
}
