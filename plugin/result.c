/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include "plugin/result.h"

/* 0.3.x/0.4.0/1.x results share the shape we read: ips[] of {address, gateway, interface},
 * where interface indexes interfaces[] of {name, sandbox}. An ip without "interface" is
 * taken as the container's (plugins before 0.3.0-era conventions omit it). */
int hg_result_container_net(json_t *result, const char *ifname, struct hg_container_net *out, struct hg_error *err)
{
	json_t *ips = json_object_get(result, "ips");
	json_t *ifaces = json_object_get(result, "interfaces");
	size_t i;
	json_t *ip;

	memset(out, 0, sizeof(*out));
	if (ips && !json_is_array(ips))
		return hg_error_set(err, HG_CNI_DECODE, "prevResult: \"ips\" is not an array");
	json_array_foreach (ips, i, ip) {
		json_t *idx = json_object_get(ip, "interface");
		struct hg_ip addr, gw;
		if (idx) {
			json_t *iface = json_array_get(ifaces, (size_t) json_integer_value(idx));
			const char *name = json_string_value(json_object_get(iface, "name"));
			const char *sandbox = json_string_value(json_object_get(iface, "sandbox"));
			if (!json_is_integer(idx) || !iface)
				return hg_error_set(err, HG_CNI_DECODE, "prevResult: ips[%zu].interface is out of range", i);
			if (!name || strcmp(name, ifname) != 0 || !sandbox || !sandbox[0])
				continue;
		}
		if (hg_ip_parse(json_string_value(json_object_get(ip, "address")), true, &addr) < 0)
			return hg_error_set(err, HG_CNI_DECODE, "prevResult: ips[%zu].address is not an address/prefix", i);
		if (out->n_addrs < HG_MAX_CONTAINER_ADDRS)
			out->addrs[out->n_addrs++] = addr;
		json_t *g = json_object_get(ip, "gateway");
		if (!g || json_is_null(g)) /* Go's CNI types write null for "none" */
			continue;
		if (hg_ip_parse(json_string_value(g), false, &gw) < 0)
			return hg_error_set(err, HG_CNI_DECODE, "prevResult: ips[%zu].gateway is not an address", i);
		int slot = hg_family_slot(gw.family);
		if (gw.family == addr.family && !out->gateways[slot].family)
			out->gateways[slot] = gw;
	}
	return 0;
}
