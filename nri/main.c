#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "hg-build-config.h"
#include "os/unixsock.h"
#include "nri/conn.h"
#include "nri/log-handlers.h"
#include "nri/nri.h"

/* containerd/nri's conventions (pkg/api/plugin.go). */
#define NRI_DEFAULT_SOCKET "/var/run/nri/nri.sock"
#define NRI_ENV_SOCKET "NRI_PLUGIN_SOCKET"
#define NRI_ENV_NAME "NRI_PLUGIN_NAME"
#define NRI_ENV_IDX "NRI_PLUGIN_IDX"
#define DEFAULT_NAME "host-gateway"
/* The order among plugins: host-gateway adjusts nothing another plugin would adjust, so
 * the middle of the range leaves room on both sides. */
#define DEFAULT_INDEX "50"
/* Reconnection: 1 s, doubling, at most 30 s; back to 1 s after a working session. */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000

static const char usage[] =
	"Usage: host-gateway nri [--socket PATH] [--config PATH] [--name NAME] [--index NN]\n"
	"\n"
	"Runs as an NRI plugin: connects to the runtime's NRI socket (default " NRI_DEFAULT_SOCKET "),\n"
	"registers as NN-NAME (default " DEFAULT_INDEX "-" DEFAULT_NAME "), and follows pods and containers;\n"
	"reconnects with a backoff when the runtime goes away, until SIGTERM or SIGINT (exit 0).\n"
	"Started by the runtime from its plugin folder (/opt/nri/plugins/NN-NAME), it uses the\n"
	"socket it was given (" NRI_ENV_SOCKET ") and exits when the runtime closes it.\n"
	"  --config PATH  host-gateway's configuration (default " HG_DEFAULT_CONFIG ")\n"
	"Logs go to stderr. Exit status: 0 stopped or closed by the runtime, 1 failure, 2 usage.\n";

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	stop_requested = 1;
}

static void log_to_stderr(void *ctx, const char *msg)
{
	fprintf(stderr, "host-gateway nri: %s\n", msg);
}

bool hg_nri_launched_by_runtime(void)
{
	const char *fd = getenv(NRI_ENV_SOCKET);
	return fd && fd[0];
}

static bool valid_name(const char *s)
{
	if (!s[0] || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr("-_.+", *s)))
			return false;
	return true;
}

static bool valid_index(const char *s)
{
	return strlen(s) == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9';
}

/* Sleeps ms or until a stop signal. */
static void pause_ms(int64_t ms)
{
	int64_t until = hg_monotonic_ms() + ms;
	while (!stop_requested) {
		int64_t left = until - hg_monotonic_ms();
		if (left <= 0)
			break;
		if (left > 200)
			left = 200;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = left * 1000000};
		nanosleep(&ts, NULL);
	}
}

static const char *option_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	if (strcmp(argv[*i], name) == 0 && *i + 1 < argc)
		return argv[++*i];
	if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	return NULL;
}

int hg_nri_main(int argc, char **argv)
{
	const char *socket_path = NRI_DEFAULT_SOCKET, *config = HG_DEFAULT_CONFIG;
	const char *name = DEFAULT_NAME, *idx = DEFAULT_INDEX;
	struct hg_log log = {.fn = log_to_stderr};
	bool launched = hg_nri_launched_by_runtime();
	/* Launched by the runtime there are no arguments; by hand, argv[1] is "nri". */
	int first = (argc >= 2 && strcmp(argv[1], "nri") == 0) ? 2 : 1;
	for (int i = first; i < argc; i++) {
		const char *v;
		if ((v = option_value(argc, argv, &i, "--socket")))
			socket_path = v;
		else if ((v = option_value(argc, argv, &i, "--config")))
			config = v;
		else if ((v = option_value(argc, argv, &i, "--name")))
			name = v;
		else if ((v = option_value(argc, argv, &i, "--index")))
			idx = v;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		} else {
			fprintf(stderr, "host-gateway nri: unknown argument \"%s\"\n%s", argv[i], usage);
			return 2;
		}
	}
	/* The runtime's word on who we are wins: it is the name of our file in its folder. */
	if (launched) {
		const char *env_name = getenv(NRI_ENV_NAME), *env_idx = getenv(NRI_ENV_IDX);
		if (env_name && env_name[0])
			name = env_name;
		if (env_idx && env_idx[0])
			idx = env_idx;
	}
	if (!valid_name(name)) {
		fprintf(stderr, "host-gateway nri: invalid plugin name \"%s\" (letters, digits, - _ . +)\n", name);
		return 2;
	}
	if (!valid_index(idx)) {
		fprintf(stderr, "host-gateway nri: invalid plugin index \"%s\" (two digits)\n", idx);
		return 2;
	}

	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct hg_nri_session_config cfg = {.name = name, .idx = idx};
	struct hg_nri_log_ctx ctx = {.log = &log, .config_path = config};
	struct hg_nri_handlers handlers;
	hg_nri_log_handlers(&handlers, &ctx);
	struct hg_nri_conn_result res;

	if (launched) {
		struct hg_error err;
		char *end;
		errno = 0;
		long fd = strtol(getenv(NRI_ENV_SOCKET), &end, 10);
		if (errno || *end || fd < 0 || fd > 65535 || hg_unix_adopt((int) fd, &err) < 0) {
			fprintf(stderr, "host-gateway nri: %s=%s: not a connected stream socket\n", NRI_ENV_SOCKET,
				getenv(NRI_ENV_SOCKET));
			return 1;
		}
		hg_logf(&log, "started by the runtime as %s-%s on fd %ld", idx, name, fd);
		hg_nri_serve((int) fd, &cfg, &handlers, &log, &stop_requested, &res);
		close((int) fd);
		if (res.end == HG_NRI_CONN_FAILED) {
			hg_logf(&log, "connection failed: %s", res.err.msg);
			return 1;
		}
		hg_logf(&log, "%s", res.end == HG_NRI_CONN_STOPPED ? "stopped" : "the runtime closed the connection");
		return 0;
	}

	int64_t backoff = BACKOFF_FIRST_MS;
	while (!stop_requested) {
		struct hg_error err;
		int fd = -1;
		if (hg_unix_connect(socket_path, &fd, &err) < 0) {
			hg_logf(&log, "cannot connect: %s; retrying in %lld ms", err.msg, (long long) backoff);
		} else {
			hg_logf(&log, "connected to %s, registering as %s-%s", socket_path, idx, name);
			hg_nri_serve(fd, &cfg, &handlers, &log, &stop_requested, &res);
			close(fd);
			if (res.end == HG_NRI_CONN_STOPPED)
				break;
			if (res.configured)
				backoff = BACKOFF_FIRST_MS;
			if (res.end == HG_NRI_CONN_FAILED)
				hg_logf(&log, "connection failed: %s; reconnecting in %lld ms", res.err.msg, (long long) backoff);
			else
				hg_logf(&log, "the runtime closed the connection; reconnecting in %lld ms", (long long) backoff);
		}
		pause_ms(backoff);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	hg_logf(&log, "stopped");
	return 0;
}
