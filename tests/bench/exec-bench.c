/* SPDX-License-Identifier: Apache-2.0 */
/* exec-bench: time N runs of a program (fork + execve), or of a pair of programs.
 *
 *   exec-bench [-n N] [-w WARMUP] [-x] [-l LABEL] [-i FILE] [-e K=V]... CMD [ARG]...
 *              [::: [-i FILE] [-e K=V]... CMD_B [ARG]...]
 *
 *   -n N       measured runs (default 200)
 *   -w W       unmeasured warm-up runs first (default 5)
 *   -x         stop with exit 1 (and show the run's output) when a run exits non-zero
 *   -l LABEL   printed first on the result line (no spaces)
 *   -i FILE    stdin of every run (default /dev/null)
 *   -e K=V     the child's environment is exactly these variables (nothing inherited)
 *   -g MS      an unmeasured pause of MS milliseconds after every run: each run then meets
 *              a machine at rest (nftables: what an earlier run left for the kernel to
 *              finish is finished), as operations of a runtime seconds apart do
 *
 * CMD is an absolute or relative path (no PATH search). With ":::" each iteration runs
 * CMD, then CMD_B (e.g. a CNI ADD, then its DEL); CMD_B starts with CMD's stdin and
 * environment, its own -i replaces the stdin and its own -e K=V replaces or adds K.
 *
 * Per run: wall time (CLOCK_MONOTONIC, fork to reaped), CPU time (user + sys from wait4,
 * which includes the children the program itself reaped) and peak RSS (ru_maxrss).
 * Output, one line of key=value (times in ms, RSS in KiB):
 *   single: label=L n=N median_ms= min_ms= max_ms= p90_ms= cpu_median_ms= maxrss_kib=
 *   pair:   the same keys prefixed a_, b_ and sum_ (sum = A + B of the same iteration;
 *           sum_maxrss_kib is the larger of the two).
 * stdout and stderr of the runs go to a memory file, shown only when -x trips.
 *
 *   -r FILE    also append each iteration's samples to FILE (one line per iteration)
 *   exec-bench [-l LABEL] -s FILE   print the result line for all the samples in FILE
 *
 * -r and -s let a caller measure in rounds (a few iterations of every command in turn,
 * repeated) so that a change of machine load during a run touches every figure alike.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENV 64

struct cmd {
	char **argv;
	const char *in;
	char *env[MAX_ENV + 1];
	int n_env;
	int out; /* memfd: stdout + stderr of the last run */
};

struct sample {
	double wall, cpu; /* ms */
	long rss;	  /* KiB */
};

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "exec-bench: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static void set_env(struct cmd *c, char *kv)
{
	char *eq = strchr(kv, '=');
	if (!eq)
		die("-e wants K=V, got \"%s\"", kv);
	size_t klen = (size_t) (eq - kv) + 1;
	for (int i = 0; i < c->n_env; i++)
		if (strncmp(c->env[i], kv, klen) == 0) {
			c->env[i] = kv;
			return;
		}
	if (c->n_env == MAX_ENV)
		die("more than %s variables", "64");
	c->env[c->n_env++] = kv;
	c->env[c->n_env] = NULL;
}

/* Parses [-i FILE] [-e K=V]... CMD [ARG]... up to ":::" or the end; returns the next index. */
static int parse_cmd(struct cmd *c, int argc, char **argv, int i)
{
	for (; i < argc && argv[i][0] == '-'; i += 2) {
		if (i + 1 >= argc)
			die("%s needs a value", argv[i]);
		if (strcmp(argv[i], "-i") == 0)
			c->in = argv[i + 1];
		else if (strcmp(argv[i], "-e") == 0)
			set_env(c, argv[i + 1]);
		else
			die("unknown option %s", argv[i]);
	}
	if (i >= argc || strcmp(argv[i], ":::") == 0)
		die("%s", "no command given");
	c->argv = &argv[i];
	for (; i < argc; i++)
		if (strcmp(argv[i], ":::") == 0) {
			argv[i] = NULL;
			return i + 1;
		}
	return i;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static void show_output(const struct cmd *c)
{
	char buf[4096];
	ssize_t n;
	lseek(c->out, 0, SEEK_SET);
	while ((n = read(c->out, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t) n, stderr);
}

static void run(struct cmd *c, struct sample *s, int fail_on_error, int iteration)
{
	struct rusage ru;
	int status;
	if (ftruncate(c->out, 0) < 0 || lseek(c->out, 0, SEEK_SET) < 0)
		die("memfd: %s", strerror(errno));
	int in = open(c->in, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		die("cannot open %s", c->in);
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (dup2(in, 0) < 0 || dup2(c->out, 1) < 0 || dup2(c->out, 2) < 0)
			_exit(126);
		execve(c->argv[0], c->argv, c->env);
		dprintf(2, "exec-bench: cannot run %s: %s\n", c->argv[0], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4: %s", strerror(errno));
	double t1 = now_ms();
	close(in);
	s->wall = t1 - t0;
	s->cpu = (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		 (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	s->rss = ru.ru_maxrss;
	if (fail_on_error && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		fprintf(stderr, "exec-bench: %s run %d of %s: %s %d; its output:\n",
			iteration < 0 ? "warm-up" : "measured", iteration < 0 ? -iteration : iteration + 1, c->argv[0],
			WIFEXITED(status) ? "exit status" : "killed by signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		show_output(c);
		exit(1);
	}
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

/* v sorted by median() */
static double p90(const double *v, int n)
{
	int i = (int) (0.9 * (n - 1) + 0.5);
	return v[i];
}

static void report(const char *prefix, const struct sample *s, int n, double *tmp)
{
	long rss = 0;
	for (int i = 0; i < n; i++) {
		tmp[i] = s[i].cpu;
		if (s[i].rss > rss)
			rss = s[i].rss;
	}
	double cpu = median(tmp, n);
	for (int i = 0; i < n; i++)
		tmp[i] = s[i].wall;
	double med = median(tmp, n);
	printf(" %smedian_ms=%.3f %smin_ms=%.3f %smax_ms=%.3f %sp90_ms=%.3f %scpu_median_ms=%.3f %smaxrss_kib=%ld",
	       prefix, med, prefix, tmp[0], prefix, tmp[n - 1], prefix, p90(tmp, n), prefix, cpu, prefix, rss);
}

static void summary(const char *label, const struct sample *sa, const struct sample *sb, int n, int pair)
{
	struct sample *ss = calloc((size_t) n, sizeof(*ss));
	double *tmp = calloc((size_t) n, sizeof(*tmp));
	if (!ss || !tmp)
		die("%s", "out of memory");
	printf("label=%s n=%d", label, n);
	if (pair) {
		for (int k = 0; k < n; k++) {
			ss[k].wall = sa[k].wall + sb[k].wall;
			ss[k].cpu = sa[k].cpu + sb[k].cpu;
			ss[k].rss = sa[k].rss > sb[k].rss ? sa[k].rss : sb[k].rss;
		}
		report("a_", sa, n, tmp);
		report("b_", sb, n, tmp);
		report("sum_", ss, n, tmp);
	} else {
		report("", sa, n, tmp);
	}
	putchar('\n');
	free(ss);
	free(tmp);
}

/* -s FILE: the samples that -r appended (one line per iteration: "wall cpu rss" or, for
 * a pair, "wall cpu rss wall cpu rss"), summarised as if measured in one go. */
static int summarise(const char *label, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	int n = 0, cap = 0, pair = -1;
	struct sample *sa = NULL, *sb = NULL;
	if (!f)
		die("cannot open %s", path);
	while (fgets(line, sizeof(line), f)) {
		struct sample a, b;
		int got = sscanf(line, "%lf %lf %ld %lf %lf %ld", &a.wall, &a.cpu, &a.rss, &b.wall, &b.cpu, &b.rss);
		if (got != 3 && got != 6)
			die("bad sample line in %s", path);
		if (pair < 0)
			pair = got == 6;
		if (pair != (got == 6))
			die("%s mixes single and pair samples", path);
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			sa = realloc(sa, (size_t) cap * sizeof(*sa));
			sb = realloc(sb, (size_t) cap * sizeof(*sb));
			if (!sa || !sb)
				die("%s", "out of memory");
		}
		sa[n] = a;
		sb[n++] = b;
	}
	fclose(f);
	if (!n)
		die("no samples in %s", path);
	summary(label ? label : path, sa, sb, n, pair);
	return 0;
}

int main(int argc, char **argv)
{
	int n = 200, warmup = 5, fail_on_error = 0, gap_ms = 0, i = 1;
	const char *label = NULL, *raw = NULL, *stats = NULL;
	struct cmd a = {.in = "/dev/null"}, b;

	for (; i < argc && argv[i][0] == '-' && argv[i][1] && strchr("nwxlrsg", argv[i][1]) && !argv[i][2]; i++) {
		char o = argv[i][1];
		if (o == 'x') {
			fail_on_error = 1;
			continue;
		}
		if (++i >= argc)
			die("-%s needs a value", (char[]){o, 0});
		if (o == 'n')
			n = atoi(argv[i]);
		else if (o == 'w')
			warmup = atoi(argv[i]);
		else if (o == 'g')
			gap_ms = atoi(argv[i]);
		else if (o == 'r')
			raw = argv[i];
		else if (o == 's')
			stats = argv[i];
		else
			label = argv[i];
	}
	if (stats) {
		if (i < argc)
			die("%s", "-s takes no command");
		return summarise(label, stats);
	}
	if (n < 1 || warmup < 0 || gap_ms < 0)
		die("%s", "bad -n, -w or -g");
	const struct timespec gap = {gap_ms / 1000, (long) (gap_ms % 1000) * 1000000L};
	i = parse_cmd(&a, argc, argv, i);
	int pair = i < argc;
	if (pair) {
		b = a;
		i = parse_cmd(&b, argc, argv, i);
		if (i < argc)
			die("%s", "only two commands (one \":::\")");
	}
	/* Everything allocated now: the child's pre-exec memory counts in its ru_maxrss. */
	struct sample *sa = calloc((size_t) n, sizeof(*sa)), *sb = calloc((size_t) n, sizeof(*sb));
	FILE *rawf = raw ? fopen(raw, "a") : NULL;
	a.out = memfd_create("exec-bench-a", MFD_CLOEXEC);
	b.out = pair ? memfd_create("exec-bench-b", MFD_CLOEXEC) : -1;
	if (!sa || !sb || a.out < 0 || (pair && b.out < 0))
		die("%s", "out of memory");
	if (raw && !rawf)
		die("cannot open %s", raw);

	struct sample junk;
	for (int k = 0; k < warmup; k++) {
		run(&a, &junk, fail_on_error, -k - 1);
		if (pair)
			run(&b, &junk, fail_on_error, -k - 1);
	}
	for (int k = 0; k < n; k++) {
		if (gap_ms)
			nanosleep(&gap, NULL);
		run(&a, &sa[k], fail_on_error, k);
		if (gap_ms)
			nanosleep(&gap, NULL);
		if (pair)
			run(&b, &sb[k], fail_on_error, k);
	}
	if (rawf) {
		for (int k = 0; k < n; k++) {
			fprintf(rawf, "%.6f %.6f %ld", sa[k].wall, sa[k].cpu, sa[k].rss);
			if (pair)
				fprintf(rawf, " %.6f %.6f %ld", sb[k].wall, sb[k].cpu, sb[k].rss);
			fputc('\n', rawf);
		}
		if (fclose(rawf) != 0)
			die("cannot write %s", raw);
	}
	summary(label ? label : a.argv[0], sa, sb, n, pair);
	return 0;
}
