/* SPDX-License-Identifier: Apache-2.0 */
/* hosts-merge-bench: time hg_hosts_merge on a 1 MiB /etc/hosts, in-process.
 *
 *   hosts-merge-bench [-n N] [-w WARMUP] [-l LABEL]
 *
 *   -n N       measured merges (default 50)
 *   -w W       unmeasured merges first (default 3)
 *   -l LABEL   printed first on the result line (no spaces)
 *
 * The file is the largest the plugin accepts (HG_HOSTS_MAX_SIZE) and made of short names,
 * "10.0.x.y a0 a1 ... a99" lines, with one line that maps one of our names: the case where
 * matching the user's names against ours costs the most. The entries are the default
 * configuration's (three names, an IPv4 and an IPv6 host address).
 *
 * Per merge: wall time (CLOCK_MONOTONIC) and CPU time (CLOCK_PROCESS_CPUTIME_ID); peak RSS
 * of the process at the end. One line of key=value, the keys of exec-bench's single
 * figure (times in ms, RSS in KiB):
 *   label=L n=N median_ms= min_ms= max_ms= p90_ms= cpu_median_ms= maxrss_kib=
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "os/hosts.h"

#define MAPPED_LINE "10.9.9.9 a1 HOST.containers.internal # the user's own\n"
#define WANT_BLOCK "10.0.2.2\thost.docker.internal gateway.docker.internal\n" \
		   "fd00::1\thost.docker.internal gateway.docker.internal"

/* Short-name lines up to HG_HOSTS_MAX_SIZE, MAPPED_LINE about halfway. */
static char *make_file(size_t *len)
{
	char *text = malloc(HG_HOSTS_MAX_SIZE + 1);
	size_t n = 0;
	if (!text)
		return NULL;
	for (unsigned i = 0; n + 600 < HG_HOSTS_MAX_SIZE; i++) {
		n += sprintf(text + n, "10.0.%u.%u", i / 250 % 250, i % 250 + 1);
		for (unsigned j = 0; j < 100; j++)
			n += sprintf(text + n, " a%u", j);
		text[n++] = '\n';
		if (i == 1000)
			n += sprintf(text + n, "%s", MAPPED_LINE);
	}
	text[n] = '\0';
	*len = n;
	return text;
}

static double now_ms(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One merge; false when its result is not the expected one (the figure would be void). */
static bool merge_once(const char *text, size_t len, const struct hg_hosts_entry *entries, double *wall,
		       double *cpu)
{
	char *out = NULL, *block = NULL;
	size_t out_len;
	double w0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
	static char *const drop[] = {"kind+9f86d081884c7d659a2feaa0c55ad015+eth0", NULL};
	int r = hg_hosts_merge(text, len, drop, entries, 2, &out, &out_len, &block);
	*wall = now_ms(CLOCK_MONOTONIC) - w0;
	*cpu = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
	bool ok = r == 0 && out_len > len && memcmp(out, text, len) == 0 && strcmp(block, WANT_BLOCK) == 0;
	free(out);
	free(block);
	return ok;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t) n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	static char *const names[] = {"host.docker.internal", "host.containers.internal", "gateway.docker.internal",
				      NULL};
	struct hg_hosts_entry entries[2] = {{.names = names}, {.names = names}};
	const char *label = "hosts_merge_1MiB";
	int n = 50, warmup = 3, opt;

	while ((opt = getopt(argc, argv, "n:w:l:")) != -1) {
		if (opt == 'n')
			n = atoi(optarg);
		else if (opt == 'w')
			warmup = atoi(optarg);
		else if (opt == 'l')
			label = optarg;
		else
			return 2;
	}
	if (n < 1 || warmup < 0) {
		fprintf(stderr, "hosts-merge-bench: -n must be at least 1, -w at least 0\n");
		return 2;
	}
	size_t len;
	char *text = make_file(&len);
	double *wall = calloc(n, sizeof(*wall)), *cpu = calloc(n, sizeof(*cpu));
	if (!text || !wall || !cpu || hg_ip_parse("10.0.2.2", false, &entries[0].ip) < 0 ||
	    hg_ip_parse("fd00::1", false, &entries[1].ip) < 0) {
		fprintf(stderr, "hosts-merge-bench: setup failed\n");
		return 1;
	}
	for (int i = 0; i < warmup + n; i++) {
		int k = i < warmup ? 0 : i - warmup; /* a warm-up's sample is overwritten */
		if (!merge_once(text, len, entries, &wall[k], &cpu[k])) {
			fprintf(stderr, "hosts-merge-bench: the merge did not give the expected text\n");
			return 1;
		}
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu_med = median(cpu, n), med = median(wall, n);
	printf("label=%s n=%d median_ms=%.3f min_ms=%.3f max_ms=%.3f p90_ms=%.3f cpu_median_ms=%.3f maxrss_kib=%ld "
	       "size_bytes=%zu\n",
	       label, n, med, wall[0], wall[n - 1], wall[(int) (0.9 * (n - 1) + 0.5)], cpu_med, ru.ru_maxrss, len);
	free(wall);
	free(cpu);
	free(text);
	return 0;
}
