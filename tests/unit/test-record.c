/* SPDX-License-Identifier: Apache-2.0 */
/* record.c: the typed record round-trips, reads the version-1 files the previous release
 * wrote, refuses damaged ones, matches namespaces by device, inode and cookie, and its
 * by-netns index finds, ignores and retires as it should. The hosts registry round-trips
 * with the identity of its file, and names.c tells a registry of another file, and owners
 * alive, dead or expired. */
#include "test-helpers.h"
#include <time.h>
#include <sys/stat.h>
#include "ops/record.h"
#include "ops/membership.h"
#include "ops/registry.h"
#include "ops/names.h"
#include "ops/state.h"
#include "base/util.h"

static int setup(void **state)
{
	*state = tmpdir_make();
	return 0;
}

static int teardown(void **state)
{
	tmpdir_remove(*state);
	return 0;
}

static void ip(const char *s, struct hg_ip *out)
{
	assert_int_equal(hg_ip_parse(s, true, out), 0);
}

static void fill(struct hg_record *r)
{
	char *names[] = {"host.docker.internal", "gateway.docker.internal", NULL};
	char *elements[] = {"\"br0\" . 10.0.0.2 . 10.0.0.1 . tcp . 5432 comment \"k\" : 5432", NULL};
	hg_record_init(r);
	r->kind = HG_RECORD_CNI;
	r->network = strdup("net");
	r->container_id = strdup("c1");
	r->ifname = strdup("eth0");
	r->key = strdup("net+c1+eth0");
	r->state_dir = strdup("/run/host-gateway");
	r->netns.path = strdup("/var/run/netns/x");
	r->netns.dev = 4;
	r->netns.ino = 4026532801;
	r->netns.cookie = 77;
	ip("10.0.0.1", &r->routes[0].dst);
	r->routes[0].ifindex = 2;
	ip("169.254.1.2", &r->routes[1].dst);
	ip("10.0.0.1", &r->routes[1].via);
	r->routes[1].ifindex = 2;
	r->n_routes = 2;
	r->container_table = true;
	r->route_localnet = true;
	strcpy(r->localnet_iface, "eth0");
	strcpy(r->localnet_old, "0");
	ip("169.254.1.2", &r->aliases[0]);
	r->n_aliases = 1;
	r->host_loopback = true;
	strcpy(r->loopback_iface, "br0");
	r->loopback_elements = strv_copy(elements);
	ip("10.0.0.2/24", &r->container_ips[0]);
	r->n_container_ips = 1;
	ip("10.0.0.1", &r->host_ips.ip[0]);
	ip("169.254.1.2", &r->targets.ip[0]);
	assert_int_equal(hg_record_add_entry(r, &r->targets.ip[0], names), 0);
	assert_int_equal(hg_target_for_pid(getpid(), &r->hosts, &(struct hg_error){0}), -1); /* our own mntns */
	assert_int_equal(hg_target_in_root("/proc/7/root", "/etc/hosts", &r->hosts), 0);
	r->hosts.pid = 7;
	r->hosts.pid_start = 12345;
	r->hosts.mntns = 4026531840;
	r->has_hosts = true;
	r->hosts_block = strdup("169.254.1.2\thost.docker.internal gateway.docker.internal");
	r->hosts_dev = 45;
	r->hosts_ino = 10083298;
}

static void test_round_trip(void **state)
{
	char *path = path_join(*state, "r.json");
	struct hg_record a, b;
	struct hg_error err = {0};
	bool found = false;
	fill(&a);
	assert_int_equal(hg_record_save(path, &a, &err), 0);
	assert_int_equal(hg_record_load(path, &b, &found, &err), 0);
	assert_true(found);
	assert_int_equal(b.version, HG_RECORD_VERSION);
	assert_string_equal(b.network, "net");
	assert_string_equal(b.key, "net+c1+eth0");
	assert_int_equal(b.netns.ino, 4026532801);
	assert_int_equal(b.netns.cookie, 77);
	assert_int_equal(b.n_routes, 2);
	assert_true(hg_ip_equal(&b.routes[1].via, &a.routes[1].via));
	assert_int_equal(b.routes[0].via.family, 0);
	assert_true(b.container_table && b.route_localnet && b.host_loopback && b.has_hosts);
	assert_string_equal(b.localnet_old, "0");
	assert_int_equal(b.n_aliases, 1);
	assert_string_equal(b.loopback_elements[0], a.loopback_elements[0]);
	assert_null(b.loopback_elements[1]);
	assert_int_equal(b.n_container_ips, 1);
	assert_int_equal(b.container_ips[0].prefix, 24);
	assert_true(hg_ip_equal(&b.targets.ip[0], &a.targets.ip[0]));
	assert_int_equal(b.n_entries, 1);
	assert_string_equal(b.entries[0].names[1], "gateway.docker.internal");
	assert_int_equal(b.hosts.pid, 7);
	assert_int_equal(b.hosts.pid_start, 12345);
	assert_string_equal(b.hosts.root, "/proc/7/root");
	assert_string_equal(b.hosts_block, a.hosts_block);
	assert_int_equal(b.hosts_dev, 45);
	assert_int_equal(b.hosts_ino, 10083298);
	/* Saving what was loaded gives the same bytes. */
	char *first = file_read(path, NULL);
	assert_int_equal(hg_record_save(path, &b, &err), 0);
	char *second = file_read(path, NULL);
	assert_string_equal(first, second);
	free(first);
	free(second);
	hg_record_free(&a);
	hg_record_free(&b);
	free(path);
}

/* The kind as stored: each kind and back; anything else (records before the key) is CNI. */
static void test_kinds(void **state)
{
	static const enum hg_record_kind kinds[] = {HG_RECORD_CNI, HG_RECORD_HOOK, HG_RECORD_NRI};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		assert_int_equal(hg_record_kind_parse(hg_record_kind_name(kinds[i])), kinds[i]);
	assert_string_equal(hg_record_kind_name(HG_RECORD_NRI), "nri");
	assert_int_equal(hg_record_kind_parse(NULL), HG_RECORD_CNI);
	assert_int_equal(hg_record_kind_parse("NRI"), HG_RECORD_CNI);
	assert_string_equal(hg_record_kind_name((enum hg_record_kind) 99), "cni");

	char *path = path_join(*state, "nri.json");
	struct hg_record a, b;
	struct hg_error err = {0};
	bool found = false;
	fill(&a);
	a.kind = HG_RECORD_NRI;
	assert_int_equal(hg_record_save(path, &a, &err), 0);
	assert_int_equal(hg_record_load(path, &b, &found, &err), 0);
	assert_true(found);
	assert_int_equal(b.kind, HG_RECORD_NRI);
	hg_record_free(&a);
	hg_record_free(&b);
	free(path);
}

/* A record as the previous release (version 1) wrote it: keys with '/', no cookie. */
static void test_reads_version_1(void **state)
{
	char *path = path_join(*state, "v1.json");
	struct hg_record r;
	struct hg_error err = {0};
	bool found;
	file_write_str(path, "{\n \"containerID\": \"c1\",\n \"containerIPs\": [\"10.250.30.2/24\"],\n"
			     " \"entries\": [{\"ip\": \"10.250.30.1\", \"names\": [\"host.docker.internal\"]}],\n"
			     " \"hostIPs\": [\"10.250.30.1\"],\n"
			     " \"hosts\": {\"block\": \"10.250.30.1\\thost.docker.internal\", \"file\": \"/tmp/h\"},\n"
			     " \"ifname\": \"eth0\", \"key\": \"net/c1/eth0\", \"kind\": \"cni\", \"network\": \"net\",\n"
			     " \"netns\": {\"dev\": 4, \"ino\": 4026532801, \"path\": \"/var/run/netns/x\"},\n"
			     " \"routes\": [], \"stateDir\": \"/run/host-gateway\", \"targets\": [\"10.250.30.1\"],\n"
			     " \"version\": 1\n}\n");
	assert_int_equal(hg_record_load(path, &r, &found, &err), 0);
	assert_true(found);
	assert_int_equal(r.version, 1);
	assert_string_equal(r.key, "net/c1/eth0");
	assert_int_equal(r.netns.cookie, 0);
	assert_string_equal(r.hosts.file, "/tmp/h");
	assert_int_equal(r.n_entries, 1);
	hg_record_free(&r);
	free(path);
}

static void test_missing_and_damaged(void **state)
{
	struct hg_record r;
	struct hg_error err = {0};
	bool found = true;
	char *path = path_join(*state, "missing.json");
	assert_int_equal(hg_record_load(path, &r, &found, &err), 0);
	assert_false(found);
	free(path);
	static const char *const damaged[] = {
		"{\"version\":1,",
		"[]",
		"{\"version\":3,\"kind\":\"cni\",\"containerID\":\"c\",\"key\":\"k\",\"stateDir\":\"/s\",\"netns\":{\"dev\":1,\"ino\":2}}",
		"{\"version\":2,\"kind\":\"cni\",\"containerID\":\"c\",\"key\":\"k\",\"stateDir\":\"/s\",\"netns\":{\"dev\":\"1\",\"ino\":2}}",
		"{\"version\":2,\"kind\":\"cni\",\"containerID\":\"c\",\"key\":\"k\",\"stateDir\":\"/s\",\"netns\":{\"dev\":1,\"ino\":2},"
		"\"routes\":[{\"dst\":\"nope\",\"ifindex\":1}]}",
		"{\"version\":2,\"kind\":\"cni\",\"containerID\":\"c\",\"key\":\"k\",\"stateDir\":\"/s\",\"netns\":{\"dev\":1,\"ino\":2},"
		"\"routeLocalnet\":{\"iface\":\"an-interface-name-far-too-long\",\"old\":\"0\"}}",
		"{\"version\":2,\"kind\":\"cni\",\"key\":\"k\",\"stateDir\":\"/s\",\"netns\":{\"dev\":1,\"ino\":2}}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(damaged); i++) {
		path = path_join(*state, "damaged.json");
		file_write_str(path, damaged[i]);
		assert_int_equal(hg_record_load(path, &r, &found, &err), -1);
		assert_int_equal(err.code, HG_CNI_STATE);
		assert_contains(err.msg, path);
		free(path);
	}
}

static void save_indexed(const char *root, const char *network, const char *cid, dev_t dev, ino_t ino)
{
	struct hg_record r;
	struct hg_error err = {0};
	char *path = NULL;
	hg_record_init(&r);
	r.container_id = strdup(cid);
	r.key = strdup("k");
	r.state_dir = strdup(root);
	r.netns.dev = dev;
	r.netns.ino = ino;
	assert_int_equal(hg_state_cni_path(root, network, cid, "eth0", &path), 0);
	assert_int_equal(hg_record_save(path, &r, &err), 0);
	assert_int_equal(hg_record_index(root, path, &r, &err), 0);
	hg_record_free(&r);
	free(path);
}

static void test_index(void **state)
{
	const char *root = *state;
	struct hg_record r;
	struct hg_error err = {0};
	struct hg_netns_id id = {.dev = 4, .ino = 4026532801};
	assert_int_equal(hg_record_find_by_netns(root, &id, &r, &err), 0);
	save_indexed(root, "net-a", "c1", 4, 4026532700);
	save_indexed(root, "net-b", "c2", 4, 4026532801);
	char *damaged = path_join(root, "cni/net-a/broken+eth0.json");
	file_write_str(damaged, "not json");
	free(damaged);
	assert_int_equal(hg_record_find_by_netns(root, &id, &r, &err), 1);
	assert_string_equal(r.container_id, "c2");
	hg_record_free(&r);
	struct hg_netns_id other_dev = {.dev = 5, .ino = 4026532801}, zero = {0};
	assert_int_equal(hg_record_find_by_netns(root, &other_dev, &r, &err), 0);
	assert_int_equal(hg_record_find_by_netns(root, &zero, &r, &err), 0);

	/* Rewritten for another namespace (an inode reused): the old link is no match. */
	save_indexed(root, "net-b", "c2", 4, 4026532999);
	assert_int_equal(hg_record_find_by_netns(root, &id, &r, &err), 0);

	/* Retire removes only a link that points at the given record. */
	char *c1 = NULL, *c2 = NULL, *link = path_join(root, "by-netns/4-4026532999");
	assert_int_equal(hg_state_cni_path(root, "net-a", "c1", "eth0", &c1), 0);
	assert_int_equal(hg_state_cni_path(root, "net-b", "c2", "eth0", &c2), 0);
	struct hg_record probe;
	hg_record_init(&probe);
	probe.netns.dev = 4;
	probe.netns.ino = 4026532999;
	assert_int_equal(hg_record_retire(root, c1, &probe, &err), 0);
	assert_int_equal(access(link, F_OK), 0);
	assert_int_equal(hg_record_retire(root, c2, &probe, &err), 0);
	assert_int_equal(access(link, F_OK), -1);
	assert_int_equal(access(c2, F_OK), -1);
	free(c1);
	free(c2);
	free(link);
}

static void test_matches_netns(void **state)
{
	struct hg_record r;
	hg_record_init(&r);
	r.netns.dev = 4;
	r.netns.ino = 77;
	r.netns.cookie = 1001;
	struct hg_netns_id same = {.dev = 4, .ino = 77, .cookie = 1001};
	struct hg_netns_id reused = {.dev = 4, .ino = 77, .cookie = 2002};
	struct hg_netns_id unknown_cookie = {.dev = 4, .ino = 77};
	struct hg_netns_id other = {.dev = 4, .ino = 78, .cookie = 1001};
	assert_true(hg_record_matches_netns(&r, &same));
	assert_false(hg_record_matches_netns(&r, &reused));
	assert_true(hg_record_matches_netns(&r, &unknown_cookie));
	assert_false(hg_record_matches_netns(&r, &other));
}

static void test_membership(void **state)
{
	char *path = path_join(*state, "m.json");
	struct hg_membership m = {.container_id = "c1", .netns_record = "/s/hook/netns/4-5.json", .pid = 42,
				  .pid_start = 999};
	struct hg_membership got;
	struct hg_error err = {0};
	bool found;
	assert_int_equal(hg_membership_save(path, &m, &err), 0);
	assert_int_equal(hg_membership_load(path, &got, &found, &err), 0);
	assert_true(found);
	assert_string_equal(got.container_id, "c1");
	assert_string_equal(got.netns_record, m.netns_record);
	assert_int_equal(got.pid, 42);
	assert_int_equal(got.pid_start, 999);
	hg_membership_free(&got);
	/* Version 1: no process. */
	file_write_str(path, "{\"version\":1,\"containerID\":\"c2\",\"netnsRecord\":\"/x.json\"}");
	assert_int_equal(hg_membership_load(path, &got, &found, &err), 0);
	assert_int_equal(got.pid, 0);
	hg_membership_free(&got);
	file_write_str(path, "{\"version\":1,\"containerID\":\"c2\"}");
	assert_int_equal(hg_membership_load(path, &got, &found, &err), -1);
	free(path);
}

static void registry_put(struct hg_hosts_registry *g, const char *key, pid_t pid, unsigned long long start,
			 long long since)
{
	char *names[] = {"host.docker.internal", NULL};
	char *const *lists[] = {names};
	struct hg_ip a;
	ip("10.0.0.1", &a);
	assert_int_equal(hg_registry_put(g, key, pid, start, since, &a, lists, 1), 0);
}

static void test_registry(void **state)
{
	char *path = path_join(*state, "r.json");
	struct hg_hosts_registry g = {0}, got;
	struct hg_hosts_target t;
	struct hg_file_id id = {.dev = 65024, .ino = 285, .has_generation = true, .generation = 4000000000u,
				.has_birth = true, .birth_sec = 1796414178, .birth_nsec = 654007592};
	struct hg_error err = {0};
	assert_int_equal(hg_target_in_root("/b/rootfs", "/etc/hosts", &t), 0);
	registry_put(&g, "=hook+a+-", 0, 0, 1700000000);
	registry_put(&g, "=hook+b+-", 42, 999, 1700000001);
	assert_int_equal(hg_registry_set_file(&g, &t, &id), 0);
	hg_target_free(&t);
	assert_int_equal(hg_registry_save(path, &g, &err), 0);
	assert_int_equal(hg_registry_load(path, &got, &err), 0);
	assert_int_equal(got.version, HG_REGISTRY_VERSION);
	assert_true(got.has_identity);
	assert_int_equal(got.identity.dev, id.dev);
	assert_int_equal(got.identity.ino, id.ino);
	assert_true(got.identity.has_generation);
	assert_int_equal(got.identity.generation, id.generation);
	assert_true(got.identity.has_birth);
	assert_int_equal(got.identity.birth_sec, id.birth_sec);
	assert_int_equal(got.identity.birth_nsec, id.birth_nsec);
	assert_null(got.target.file);
	assert_string_equal(got.target.root, "/b/rootfs");
	assert_string_equal(got.target.path, "/etc/hosts");
	assert_int_equal(got.n, 2);
	assert_string_equal(got.owners[0].key, "=hook+a+-");
	assert_int_equal(got.owners[0].pid, 0);
	assert_int_equal(got.owners[0].since, 1700000000);
	assert_int_equal(got.owners[1].pid, 42);
	assert_int_equal(got.owners[1].pid_start, 999);
	assert_int_equal(got.owners[1].since, 1700000001);
	hg_registry_free(&got);
	/* Without a generation or a birth time, none is invented. */
	g.identity.has_generation = g.identity.has_birth = false;
	assert_int_equal(hg_registry_save(path, &g, &err), 0);
	assert_int_equal(hg_registry_load(path, &got, &err), 0);
	assert_false(got.identity.has_generation);
	assert_false(got.identity.has_birth);
	hg_registry_free(&got);
	hg_registry_free(&g);
	/* Version 2 (the previous release): read, without an identity. */
	file_write_str(path, "{\"version\":2,\"file\":\"/pod/etc-hosts\",\"owners\":[{\"key\":\"k\",\"pid\":7,"
			     "\"pidStart\":8,\"entries\":[{\"ip\":\"10.0.0.1\",\"names\":[\"a\"]}]}]}");
	assert_int_equal(hg_registry_load(path, &got, &err), 0);
	assert_false(got.has_identity);
	assert_string_equal(got.target.file, "/pod/etc-hosts");
	assert_int_equal(got.n, 1);
	assert_int_equal(got.owners[0].since, 0);
	hg_registry_free(&got);
	/* Damaged identities and unknown versions are refused. */
	file_write_str(path, "{\"version\":3,\"identity\":{\"dev\":1},\"target\":{\"file\":\"/f\"},\"owners\":[]}");
	assert_int_equal(hg_registry_load(path, &got, &err), -1);
	file_write_str(path, "{\"version\":3,\"identity\":{\"dev\":1,\"ino\":2},\"owners\":[]}");
	assert_int_equal(hg_registry_load(path, &got, &err), -1);
	file_write_str(path, "{\"version\":4,\"owners\":[]}");
	assert_int_equal(hg_registry_load(path, &got, &err), -1);
	free(path);
}

static void test_file_identity(void **state)
{
	char *path = path_join(*state, "f");
	struct hg_file_id a, b;
	struct stat st;
	file_write_str(path, "x");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(hg_file_identify(fd, &a), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(a.dev, st.st_dev);
	assert_int_equal(a.ino, st.st_ino);
	close(fd);
	b = a;
	/* One file, whatever the filesystem offers beyond its inode. */
	assert_int_equal(hg_file_id_compare(&a, &b), a.has_generation || a.has_birth ? 1 : -1);
	/* Another generation, or another birth time: another file. */
	a.has_generation = b.has_generation = true;
	a.generation = 1;
	b.generation = 2;
	assert_int_equal(hg_file_id_compare(&a, &b), 0);
	b.generation = 1;
	assert_int_equal(hg_file_id_compare(&a, &b), 1);
	a.has_birth = b.has_birth = true;
	a.birth_sec = b.birth_sec = 100;
	a.birth_nsec = 1;
	b.birth_nsec = 2;
	assert_int_equal(hg_file_id_compare(&a, &b), 0);
	/* Known on one side only: not evidence either way. */
	b.has_birth = false;
	assert_int_equal(hg_file_id_compare(&a, &b), 1);
	b.has_generation = false;
	assert_int_equal(hg_file_id_compare(&a, &b), -1);
	b.ino++;
	assert_int_equal(hg_file_id_compare(&a, &b), 0);
	free(path);
}

static void test_registry_matches(void **state)
{
	struct hg_hosts_registry g = {0};
	struct hg_hosts_target a, b;
	struct hg_file_id id = {.dev = 1, .ino = 2, .has_generation = true, .generation = 7}, now = id;
	assert_int_equal(hg_target_file("/pods/a/etc-hosts", &a), 0);
	assert_int_equal(hg_target_in_root("/proc/9/root", "/etc/hosts", &b), 0);
	b.pid = 9;
	/* A registry of the previous release cannot show which file it was made for. */
	assert_false(hg_names_registry_matches(&g, &id, &a));
	assert_int_equal(hg_registry_set_file(&g, &a, &id), 0);
	assert_true(hg_names_registry_matches(&g, &now, &a));
	/* The same file reached by another path. */
	assert_true(hg_names_registry_matches(&g, &now, &b));
	/* The inode number of a file that is gone. */
	now.generation = 8;
	assert_false(hg_names_registry_matches(&g, &now, &a));
	/* Neither generation nor birth time: the path decides. */
	g.identity.has_generation = now.has_generation = false;
	assert_true(hg_names_registry_matches(&g, &now, &a));
	assert_false(hg_names_registry_matches(&g, &now, &b));
	hg_target_free(&a);
	hg_target_free(&b);
	hg_registry_free(&g);
}

static void test_owner_state(void **state)
{
	struct hg_hosts_registry g = {0};
	unsigned long long start;
	long long now = (long long) time(NULL);
	assert_int_equal(hg_pid_start_time(getpid(), &start), 0);
	registry_put(&g, "alive", getpid(), start, 0);
	registry_put(&g, "recycled", getpid(), start + 1, now);
	registry_put(&g, "unknown-young", 0, 0, now - HG_OWNER_UNKNOWN_TTL);
	registry_put(&g, "unknown-old", 0, 0, now - HG_OWNER_UNKNOWN_TTL - 1);
	registry_put(&g, "unknown-version-2", 0, 0, 0);
	registry_put(&g, "clock-set-back", 0, 0, now + 3600);
	assert_int_equal(hg_names_owner_state(&g.owners[0], now), HG_OWNER_ALIVE);
	assert_int_equal(hg_names_owner_state(&g.owners[1], now), HG_OWNER_DEAD);
	assert_int_equal(hg_names_owner_state(&g.owners[2], now), HG_OWNER_ALIVE);
	assert_int_equal(hg_names_owner_state(&g.owners[3], now), HG_OWNER_EXPIRED);
	assert_int_equal(hg_names_owner_state(&g.owners[4], now), HG_OWNER_EXPIRED);
	assert_int_equal(hg_names_owner_state(&g.owners[5], now), HG_OWNER_ALIVE);
	hg_registry_free(&g);
}

/* DEL of an attachment whose file is out of reach (ctr's DEL after the process is gone):
 * its owner leaves the registry of that device and inode, and the last one takes it. */
static void test_forget(void **state)
{
	struct hg_hosts_registry g = {0}, got;
	struct hg_hosts_target t;
	struct hg_file_id id = {.dev = 1, .ino = 2};
	struct hg_error err = {0};
	char *dir = path_join(*state, "hosts"), *path = path_join(dir, "1-2.json");
	const char *saved = hg_hosts_lock_dir;
	hg_hosts_lock_dir = *state;
	assert_int_equal(hg_target_file("/f", &t), 0);
	registry_put(&g, "a", 0, 0, 1);
	registry_put(&g, "b", 0, 0, 1);
	assert_int_equal(hg_registry_set_file(&g, &t, &id), 0);
	assert_int_equal(hg_registry_save(path, &g, &err), 0);
	assert_int_equal(hg_names_forget(*state, "a", 1, 2, &err), 0);
	assert_int_equal(hg_registry_load(path, &got, &err), 0);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.owners[0].key, "b");
	hg_registry_free(&got);
	assert_int_equal(hg_names_forget(*state, "nobody", 1, 2, &err), 0);
	assert_int_equal(hg_names_forget(*state, "b", 1, 2, &err), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(hg_names_forget(*state, "b", 1, 2, &err), 0); /* no registry at all */
	hg_hosts_lock_dir = saved;
	hg_target_free(&t);
	hg_registry_free(&g);
	free(path);
	free(dir);
}

/* Out of memory at every allocation jansson makes: save and load fail cleanly (no crash,
 * no double free, no leak under ASan) and succeed once memory is there. */
static long allocs_left;

static void *failing_malloc(size_t n)
{
	if (allocs_left-- <= 0)
		return NULL;
	return malloc(n);
}

static void test_out_of_memory(void **state)
{
	char *path = path_join(*state, "oom.json");
	struct hg_record a, b;
	struct hg_error err = {0};
	bool found, saved = false, loaded = false;
	fill(&a);
	for (long limit = 0; limit < 2000 && !saved; limit++) {
		allocs_left = limit;
		json_set_alloc_funcs(failing_malloc, free);
		saved = hg_record_save(path, &a, &err) == 0;
		json_set_alloc_funcs(malloc, free);
	}
	assert_true(saved);
	for (long limit = 0; limit < 2000 && !loaded; limit++) {
		allocs_left = limit;
		json_set_alloc_funcs(failing_malloc, free);
		int r = hg_record_load(path, &b, &found, &err);
		json_set_alloc_funcs(malloc, free);
		if (r == 0) {
			loaded = true;
			assert_true(found);
			assert_string_equal(b.key, a.key);
			hg_record_free(&b);
		}
	}
	assert_true(loaded);
	hg_record_free(&a);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reads_version_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index, setup, teardown),
		cmocka_unit_test(test_matches_netns),
		cmocka_unit_test_setup_teardown(test_membership, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_identity, setup, teardown),
		cmocka_unit_test(test_registry_matches),
		cmocka_unit_test(test_owner_state),
		cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
