/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>
#include "nri/wire.h"

static const char *str(const char *s)
{
	return s ? s : "";
}

const char *hg_nri_annotation(const struct hg_nri_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}

/* protobuf-c generates one entry type per map field, all of the same shape. */
#define COPY_MAP(dst, entries, n)                                       \
	do {                                                                \
		for (size_t i_ = 0; i_ < (n); i_++) {                           \
			(dst)[i_].key = str((entries)[i_] ? (entries)[i_]->key : NULL);   \
			(dst)[i_].value = str((entries)[i_] ? (entries)[i_]->value : NULL); \
		}                                                               \
	} while (0)

int hg_nri_pod_view(const Hgnri__PodSandbox *pb, struct hg_nri_pod_view *v, struct hg_error *err)
{
	static const char *const no_ips[] = {NULL};
	memset(v, 0, sizeof(*v));
	struct hg_nri_pod *p = &v->pod;
	p->id = p->name = p->uid = p->k8s_namespace = p->runtime_handler = p->netns = "";
	p->ips = no_ips;
	if (!pb)
		return 0;
	p->id = str(pb->id);
	p->name = str(pb->name);
	p->uid = str(pb->uid);
	p->k8s_namespace = str(pb->namespace_);
	p->runtime_handler = str(pb->runtime_handler);
	p->pid = pb->pid;
	p->ips = (const char *const *) pb->ips;
	p->n_ips = pb->n_ips;
	if (!p->ips)
		p->ips = no_ips, p->n_ips = 0;
	if (pb->linux_pod)
		for (size_t i = 0; i < pb->linux_pod->n_namespaces; i++) {
			const Hgnri__LinuxNamespace *ns = pb->linux_pod->namespaces[i];
			if (ns && ns->type && strcmp(ns->type, "network") == 0)
				p->netns = str(ns->path);
		}
	size_t n = pb->n_annotations + pb->n_labels;
	if (n) {
		v->kv = calloc(n, sizeof(*v->kv));
		if (!v->kv)
			return hg_error_errno(err, HG_CNI_IO, ENOMEM, "pod view");
		COPY_MAP(v->kv, pb->annotations, pb->n_annotations);
		COPY_MAP(v->kv + pb->n_annotations, pb->labels, pb->n_labels);
	}
	p->annotations = v->kv;
	p->n_annotations = pb->n_annotations;
	p->labels = v->kv ? v->kv + pb->n_annotations : NULL;
	p->n_labels = pb->n_labels;
	return 0;
}

void hg_nri_pod_view_release(struct hg_nri_pod_view *v)
{
	free(v->kv);
	v->kv = NULL;
}

int hg_nri_container_view(const Hgnri__Container *pb, struct hg_nri_container_view *v, struct hg_error *err)
{
	memset(v, 0, sizeof(*v));
	struct hg_nri_container *c = &v->container;
	c->id = c->pod_sandbox_id = c->name = "";
	if (!pb)
		return 0;
	c->id = str(pb->id);
	c->pod_sandbox_id = str(pb->pod_sandbox_id);
	c->name = str(pb->name);
	c->state = pb->state;
	c->pid = pb->pid;
	size_t n = pb->n_annotations + pb->n_labels;
	if (n) {
		v->kv = calloc(n, sizeof(*v->kv));
		if (!v->kv)
			return hg_error_errno(err, HG_CNI_IO, ENOMEM, "container view");
		COPY_MAP(v->kv, pb->annotations, pb->n_annotations);
		COPY_MAP(v->kv + pb->n_annotations, pb->labels, pb->n_labels);
	}
	c->annotations = v->kv;
	c->n_annotations = pb->n_annotations;
	c->labels = v->kv ? v->kv + pb->n_annotations : NULL;
	c->n_labels = pb->n_labels;
	if (pb->n_mounts) {
		v->mounts = calloc(pb->n_mounts, sizeof(*v->mounts));
		if (!v->mounts) {
			hg_nri_container_view_release(v);
			return hg_error_errno(err, HG_CNI_IO, ENOMEM, "container view");
		}
		for (size_t i = 0; i < pb->n_mounts; i++) {
			const Hgnri__Mount *m = pb->mounts[i];
			static const char *const none[] = {NULL};
			v->mounts[i].destination = str(m ? m->destination : NULL);
			v->mounts[i].type = str(m ? m->type : NULL);
			v->mounts[i].source = str(m ? m->source : NULL);
			v->mounts[i].options = m && m->options ? (const char *const *) m->options : none;
			v->mounts[i].n_options = m && m->options ? m->n_options : 0;
		}
	}
	c->mounts = v->mounts;
	c->n_mounts = pb->n_mounts;
	return 0;
}

void hg_nri_container_view_release(struct hg_nri_container_view *v)
{
	free(v->kv);
	free(v->mounts);
	v->kv = NULL;
	v->mounts = NULL;
}

/* ---- the adjustment ---- */

static int push2(strv_t *v, const char *a, const char *b, struct hg_error *err)
{
	if (strv_push(v, a) < 0)
		return hg_error_errno(err, HG_CNI_IO, ENOMEM, "adjustment");
	if (strv_push(v, b) < 0) {
		/* Keep pairs whole: drop the key just added. */
		size_t n = strv_len(*v);
		free((*v)[n - 1]);
		(*v)[n - 1] = NULL;
		return hg_error_errno(err, HG_CNI_IO, ENOMEM, "adjustment");
	}
	return 0;
}

int hg_nri_adjust_annotation(struct hg_nri_adjustment *a, const char *key, const char *value, struct hg_error *err)
{
	return push2(&a->annotations, key, value, err);
}

int hg_nri_adjust_env(struct hg_nri_adjustment *a, const char *key, const char *value, struct hg_error *err)
{
	return push2(&a->env, key, value, err);
}

int hg_nri_adjust_mount(struct hg_nri_adjustment *a, const char *destination, const char *type, const char *source,
	const char *const *options, struct hg_error *err)
{
	struct hg_nri_owned_mount m = {.destination = strdup(destination), .type = strdup(type), .source = strdup(source)};
	if (options)
		m.options = strv_copy((char *const *) options);
	struct hg_nri_owned_mount *grown = NULL;
	if (m.destination && m.type && m.source && (!options || m.options))
		grown = realloc(a->mounts, (a->n_mounts + 1) * sizeof(*grown));
	if (!grown) {
		free(m.destination);
		free(m.type);
		free(m.source);
		strv_free(m.options);
		return hg_error_errno(err, HG_CNI_IO, ENOMEM, "adjustment");
	}
	a->mounts = grown;
	a->mounts[a->n_mounts++] = m;
	return 0;
}

int hg_nri_adjust_hook(struct hg_nri_adjustment *a, enum hg_nri_hook_stage stage, const char *path,
	const char *const *args, const char *const *env, int timeout_s, struct hg_error *err)
{
	struct hg_nri_hook h = {.stage = stage, .path = strdup(path), .timeout_s = timeout_s};
	if (args)
		h.args = strv_copy((char *const *) args);
	if (env)
		h.env = strv_copy((char *const *) env);
	struct hg_nri_hook *grown = NULL;
	if (h.path && (!args || h.args) && (!env || h.env))
		grown = realloc(a->hooks, (a->n_hooks + 1) * sizeof(*grown));
	if (!grown) {
		free(h.path);
		strv_free(h.args);
		strv_free(h.env);
		return hg_error_errno(err, HG_CNI_IO, ENOMEM, "adjustment");
	}
	a->hooks = grown;
	a->hooks[a->n_hooks++] = h;
	return 0;
}

bool hg_nri_adjustment_empty(const struct hg_nri_adjustment *a)
{
	return strv_len(a->annotations) == 0 && strv_len(a->env) == 0 && a->n_mounts == 0 && a->n_hooks == 0;
}

void hg_nri_adjustment_free(struct hg_nri_adjustment *a)
{
	strv_free(a->annotations);
	strv_free(a->env);
	for (size_t i = 0; i < a->n_mounts; i++) {
		free(a->mounts[i].destination);
		free(a->mounts[i].type);
		free(a->mounts[i].source);
		strv_free(a->mounts[i].options);
	}
	free(a->mounts);
	for (size_t i = 0; i < a->n_hooks; i++) {
		free(a->hooks[i].path);
		strv_free(a->hooks[i].args);
		strv_free(a->hooks[i].env);
	}
	free(a->hooks);
	memset(a, 0, sizeof(*a));
}

/* The protobuf-c messages below borrow every string from a: nothing of theirs is freed
 * but the pointer arrays, which live on the heap only for the packing. */
struct pack_arena {
	void *blocks[64];
	size_t n;
	bool failed;
};

static void *arena_alloc(struct pack_arena *ar, size_t n, size_t size)
{
	if (n == 0)
		return NULL;
	if (ar->n == ARRAY_SIZE(ar->blocks)) {
		ar->failed = true;
		return NULL;
	}
	void *p = calloc(n, size);
	if (!p)
		ar->failed = true;
	else
		ar->blocks[ar->n++] = p;
	return p;
}

static void arena_free(struct pack_arena *ar)
{
	for (size_t i = 0; i < ar->n; i++)
		free(ar->blocks[i]);
}

int hg_nri_pack_create_response(const struct hg_nri_adjustment *a, uint8_t **out, size_t *len, struct hg_error *err)
{
	struct pack_arena ar = {0};
	Hgnri__CreateContainerResponse rsp = HGNRI__CREATE_CONTAINER_RESPONSE__INIT;
	Hgnri__ContainerAdjustment adj = HGNRI__CONTAINER_ADJUSTMENT__INIT;
	Hgnri__Hooks hooks = HGNRI__HOOKS__INIT;
	int ret = -1;

	if (!hg_nri_adjustment_empty(a)) {
		rsp.adjust = &adj;
		size_t na = strv_len(a->annotations) / 2, ne = strv_len(a->env) / 2;
		Hgnri__ContainerAdjustment__AnnotationsEntry *ann = arena_alloc(&ar, na, sizeof(*ann));
		adj.annotations = arena_alloc(&ar, na, sizeof(*adj.annotations));
		for (size_t i = 0; ann && adj.annotations && i < na; i++) {
			hgnri__container_adjustment__annotations_entry__init(&ann[i]);
			ann[i].key = a->annotations[2 * i];
			ann[i].value = a->annotations[2 * i + 1];
			adj.annotations[i] = &ann[i];
		}
		adj.n_annotations = na;
		Hgnri__KeyValue *env = arena_alloc(&ar, ne, sizeof(*env));
		adj.env = arena_alloc(&ar, ne, sizeof(*adj.env));
		for (size_t i = 0; env && adj.env && i < ne; i++) {
			hgnri__key_value__init(&env[i]);
			env[i].key = a->env[2 * i];
			env[i].value = a->env[2 * i + 1];
			adj.env[i] = &env[i];
		}
		adj.n_env = ne;
		Hgnri__Mount *mounts = arena_alloc(&ar, a->n_mounts, sizeof(*mounts));
		adj.mounts = arena_alloc(&ar, a->n_mounts, sizeof(*adj.mounts));
		for (size_t i = 0; mounts && adj.mounts && i < a->n_mounts; i++) {
			hgnri__mount__init(&mounts[i]);
			mounts[i].destination = a->mounts[i].destination;
			mounts[i].type = a->mounts[i].type;
			mounts[i].source = a->mounts[i].source;
			mounts[i].options = a->mounts[i].options;
			mounts[i].n_options = strv_len(a->mounts[i].options);
			adj.mounts[i] = &mounts[i];
		}
		adj.n_mounts = a->n_mounts;
		if (a->n_hooks) {
			Hgnri__Hook *h = arena_alloc(&ar, a->n_hooks, sizeof(*h));
			Hgnri__OptionalInt *timeouts = arena_alloc(&ar, a->n_hooks, sizeof(*timeouts));
			hooks.create_runtime = arena_alloc(&ar, a->n_hooks, sizeof(*hooks.create_runtime));
			hooks.poststop = arena_alloc(&ar, a->n_hooks, sizeof(*hooks.poststop));
			for (size_t i = 0; h && timeouts && hooks.create_runtime && hooks.poststop && i < a->n_hooks; i++) {
				const struct hg_nri_hook *src = &a->hooks[i];
				hgnri__hook__init(&h[i]);
				h[i].path = src->path;
				h[i].args = src->args;
				h[i].n_args = strv_len(src->args);
				h[i].env = src->env;
				h[i].n_env = strv_len(src->env);
				if (src->timeout_s > 0) {
					hgnri__optional_int__init(&timeouts[i]);
					timeouts[i].value = src->timeout_s;
					h[i].timeout = &timeouts[i];
				}
				if (src->stage == HG_NRI_HOOK_CREATE_RUNTIME)
					hooks.create_runtime[hooks.n_create_runtime++] = &h[i];
				else
					hooks.poststop[hooks.n_poststop++] = &h[i];
			}
			adj.hooks = &hooks;
		}
	}
	if (ar.failed) {
		hg_error_errno(err, HG_CNI_IO, ENOMEM, "packing the adjustment");
		goto out;
	}
	*len = hgnri__create_container_response__get_packed_size(&rsp);
	*out = malloc(*len ? *len : 1);
	if (!*out) {
		hg_error_errno(err, HG_CNI_IO, ENOMEM, "packing the adjustment");
		goto out;
	}
	hgnri__create_container_response__pack(&rsp, *out);
	ret = 0;
out:
	arena_free(&ar);
	return ret;
}
