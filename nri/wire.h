/* SPDX-License-Identifier: Apache-2.0 */
/* Between NRI's protobuf messages (nri.proto, protobuf-c) and the views of handlers.h. */
#pragma once

#include "nri/handlers.h"
#include "nri/nri.pb-c.h"

/* A view and the arrays it needed; release with hg_nri_*_view_release. */
struct hg_nri_pod_view {
	struct hg_nri_pod pod;
	struct hg_nri_kv *kv;
};

struct hg_nri_container_view {
	struct hg_nri_container container;
	struct hg_nri_kv *kv;
	struct hg_nri_mount *mounts;
};

/* pb may be NULL (a request without the object): an empty view. -1 (err) without memory. */
int hg_nri_pod_view(const Hgnri__PodSandbox *pb, struct hg_nri_pod_view *v, struct hg_error *err);
void hg_nri_pod_view_release(struct hg_nri_pod_view *v);
int hg_nri_container_view(const Hgnri__Container *pb, struct hg_nri_container_view *v, struct hg_error *err);
void hg_nri_container_view_release(struct hg_nri_container_view *v);

/* Packs a as NRI's CreateContainerResponse into a malloc'ed buffer (*out, *len). */
int hg_nri_pack_create_response(const struct hg_nri_adjustment *a, uint8_t **out, size_t *len, struct hg_error *err);
