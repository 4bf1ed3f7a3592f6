/* SPDX-License-Identifier: Apache-2.0 */
/* What the NRI personality hands to the work it drives: the runtime's events, decoded into
 * plain views (no protobuf type leaks past nri/wire.c), and an adjustment to fill for a
 * container being created. Phase 1 logs them (log-handlers.c); phase 2 attaches pods and
 * writes names through lib/ops behind the same interface.
 *
 * Every string of a view is non-NULL (an absent field is ""), borrowed from the decoded
 * request and valid only during the call. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "base/util.h"
#include "os/log.h"

struct hg_nri_kv {
	const char *key;
	const char *value;
};

struct hg_nri_pod {
	const char *id;
	const char *name;
	const char *uid;
	const char *k8s_namespace;
	const char *runtime_handler;
	/* The path of the pod's network namespace (LinuxPodSandbox.namespaces, type
	 * "network"); "" for a pod in the host's network. */
	const char *netns;
	const struct hg_nri_kv *annotations;
	size_t n_annotations;
	const struct hg_nri_kv *labels;
	size_t n_labels;
	const char *const *ips;
	size_t n_ips;
	uint32_t pid;
};

struct hg_nri_mount {
	const char *destination;
	const char *type;
	const char *source;
	const char *const *options;
	size_t n_options;
};

struct hg_nri_container {
	const char *id;
	const char *pod_sandbox_id;
	const char *name;
	int state; /* NRI's ContainerState: 0 unknown, 1 created, 2 paused, 3 running, 4 stopped */
	const struct hg_nri_kv *annotations;
	size_t n_annotations;
	const struct hg_nri_kv *labels;
	size_t n_labels;
	const struct hg_nri_mount *mounts;
	size_t n_mounts;
	uint32_t pid;
};

/* The value of annotation key, or NULL. */
const char *hg_nri_annotation(const struct hg_nri_kv *kv, size_t n, const char *key);

/* What CreateContainer answers: owned by the adjustment, sent as NRI's ContainerAdjustment
 * (annotations 2, mounts 3, env 4, hooks 5). Empty (all zero) means "no change". */
enum hg_nri_hook_stage {
	HG_NRI_HOOK_CREATE_RUNTIME,
	HG_NRI_HOOK_POSTSTOP,
};

struct hg_nri_hook {
	enum hg_nri_hook_stage stage;
	char *path;
	strv_t args;
	strv_t env;
	int timeout_s; /* 0: none */
};

struct hg_nri_owned_mount {
	char *destination;
	char *type;
	char *source;
	strv_t options;
};

struct hg_nri_adjustment {
	strv_t annotations; /* key, value, key, value, ... */
	strv_t env;         /* key, value, ... */
	struct hg_nri_owned_mount *mounts;
	size_t n_mounts;
	struct hg_nri_hook *hooks;
	size_t n_hooks;
};

int hg_nri_adjust_annotation(struct hg_nri_adjustment *a, const char *key, const char *value, struct hg_error *err);
int hg_nri_adjust_env(struct hg_nri_adjustment *a, const char *key, const char *value, struct hg_error *err);
/* options: NULL-terminated, may be NULL. */
int hg_nri_adjust_mount(struct hg_nri_adjustment *a, const char *destination, const char *type, const char *source,
	const char *const *options, struct hg_error *err);
/* args and env: NULL-terminated, may be NULL (args[0] is the program, as in OCI). */
int hg_nri_adjust_hook(struct hg_nri_adjustment *a, enum hg_nri_hook_stage stage, const char *path,
	const char *const *args, const char *const *env, int timeout_s, struct hg_error *err);
bool hg_nri_adjustment_empty(const struct hg_nri_adjustment *a);
void hg_nri_adjustment_free(struct hg_nri_adjustment *a);

/* What the runtime said in Configure. */
struct hg_nri_runtime {
	const char *name;
	const char *version;
	const char *nri_version;
	const char *config; /* the plugin's configuration from the runtime (/etc/nri/conf.d), often "" */
	int64_t registration_timeout_ms;
	int64_t request_timeout_ms;
};

/* Per call: the answer must be on its way by deadline_ms (os/unixsock.h's clock), or the
 * runtime counts the plugin as failed and, for a pod or container event, closes it. */
struct hg_nri_call {
	int64_t deadline_ms;
	const struct hg_log *log;
};

/* Each returns 0, or -1 with err set. A failure is logged; what the runtime is told then
 * is the session's failure policy (session.h): by default the event is answered with
 * success and nothing adjusted (fail open). NULL members are skipped. */
struct hg_nri_handlers {
	void *ctx;
	int (*configure)(void *ctx, const struct hg_nri_call *call, const struct hg_nri_runtime *rt, struct hg_error *err);
	/* Once per (re)connection, with every pod and container the runtime has (the parts of a
	 * split Synchronize already joined): give them what they lack, collect records of pods
	 * that are gone. */
	int (*synchronize)(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pods, size_t n_pods,
		const struct hg_nri_container *containers, size_t n_containers, struct hg_error *err);
	int (*pod_start)(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod, struct hg_error *err);
	int (*pod_stop)(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod, struct hg_error *err);
	int (*pod_remove)(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod, struct hg_error *err);
	int (*container_create)(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod,
		const struct hg_nri_container *container, struct hg_nri_adjustment *adjust, struct hg_error *err);
	int (*container_stop)(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod,
		const struct hg_nri_container *container, struct hg_error *err);
	int (*container_remove)(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod,
		const struct hg_nri_container *container, struct hg_error *err);
	/* The runtime is shutting down (Shutdown): nothing to answer. */
	void (*shutdown)(void *ctx, const struct hg_nri_call *call);
};
