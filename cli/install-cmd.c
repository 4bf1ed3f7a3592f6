#include <stdio.h>
#include <string.h>
#include <stdbool.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/signalfd.h>
#include <jansson.h>
#include "cli/install-cmd.h"
#include "ops/install.h"
#include "base/conflist.h"
#include "base/config.h"
#include "os/nft.h"
#include "base/util.h"
#include "os/fs.h"

struct options {
	const char *conf_dir;
	const char *bin_dir;
	const char *plugin_config; /* JSON text, or @FILE */
	bool watch, check, force;
};

static void say(void *ctx, const char *msg)
{
	fprintf(stderr, "host-gateway: %s\n", msg);
}

static const struct hg_log sink = {.fn = say};

/* --NAME VALUE or --NAME=VALUE at argv[*i]; 1 when it was NAME, -1 when its value is missing. */
static int value_opt(const char *name, int argc, char **argv, int *i, const char **out)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*out = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*out = argv[++*i];
	return 1;
}

static int parse(const char *cmd, int argc, char **argv, struct options *o)
{
	*o = (struct options){.conf_dir = HG_DEFAULT_CNI_CONF_DIR, .bin_dir = HG_DEFAULT_CNI_BIN_DIR};
	bool install = strcmp(cmd, "install") == 0;
	for (int i = 2; i < argc; i++) {
		int r;
		if ((r = value_opt("--cni-conf-dir", argc, argv, &i, &o->conf_dir)) ||
		    (r = value_opt("--cni-bin-dir", argc, argv, &i, &o->bin_dir)) ||
		    (r = value_opt("--plugin-config", argc, argv, &i, &o->plugin_config))) {
			if (r < 0) {
				fprintf(stderr, "host-gateway %s: %s needs a value\n", cmd, argv[i]);
				return -1;
			}
		} else if (install && strcmp(argv[i], "--watch") == 0)
			o->watch = true;
		else if (install && strcmp(argv[i], "--check") == 0)
			o->check = true;
		else if (!install && strcmp(argv[i], "--force") == 0)
			o->force = true;
		else {
			fprintf(stderr, "host-gateway %s: unknown argument \"%s\" (see --help)\n", cmd, argv[i]);
			return -1;
		}
	}
	if (o->watch && o->check) {
		fprintf(stderr, "host-gateway %s: --watch and --check exclude each other\n", cmd);
		return -1;
	}
	if (!o->conf_dir[0] || !o->bin_dir[0]) {
		fprintf(stderr, "host-gateway %s: empty folder name\n", cmd);
		return -1;
	}
	return 0;
}

/* The entry from --plugin-config (JSON text or @FILE), or the default one. @FILE is read
 * as any file we do not control (util.h): a FIFO or a device is refused rather than read,
 * and so is a file larger than the configuration file the entry must fit into. A symlink
 * is followed: a ConfigMap volume's files are symlinks. */
static json_t *load_entry(const char *arg)
{
	json_error_t jerr;
	json_t *j;
	if (arg && arg[0] == '@') {
		_cleanup_free_ char *text = NULL;
		struct hg_error e = {0};
		size_t len;
		if (hg_read_file(arg + 1, HG_CONFLIST_MAX_SIZE, HG_READ_FOLLOW, NULL, &text, &len, &e) < 0) {
			fprintf(stderr, "host-gateway: --plugin-config %s: %s\n", arg, e.msg);
			return NULL;
		}
		j = json_loadb(text, len, 0, &jerr);
	} else {
		j = json_loads(arg ? arg : HG_DEFAULT_ENTRY, 0, &jerr);
	}
	if (!j)
		fprintf(stderr, "host-gateway: --plugin-config%s%s is not valid JSON: line %d column %d: %s\n",
			arg && arg[0] == '@' ? " " : "", arg && arg[0] == '@' ? arg + 1 : "", jerr.line, jerr.column,
			jerr.text);
	return j;
}

static int fail(const struct hg_error *e)
{
	fprintf(stderr, "host-gateway: %s\n", e->msg);
	return 1;
}

static int check_main(const struct options *o, json_t *entry, int self_fd)
{
	struct hg_error e = {0};
	_cleanup_free_ char *primary = NULL;
	/* One line either way: what a readiness probe's output is read for. */
	if (hg_install_binary_check(self_fd, o->bin_dir, &e) < 0 ||
	    hg_install_chain_check(o->conf_dir, entry, &primary, &e) < 0) {
		fprintf(stderr, "host-gateway: not ready: %s\n", e.msg);
		return 1;
	}
	fprintf(stderr, "host-gateway: ready: %s/host-gateway is this binary, %s has the entry\n", o->bin_dir,
		primary);
	return 0;
}

/* SIGTERM and SIGINT as a descriptor the watch loop polls: it then returns, and the entry
 * stays (a rolling update of a DaemonSet must not drop it between two pods). */
static int stop_fd(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* What a killed install or uninstall left: its temp files in the folders we write. */
static void sweep(const struct options *o)
{
	_cleanup_free_ char *libs = NULL;
	hg_install_sweep(o->conf_dir, &sink);
	hg_install_sweep(o->bin_dir, &sink);
	if (asprintf(&libs, "%s/" HG_NFT_LIB_DIR, o->bin_dir) > 0)
		hg_install_sweep(libs, &sink);
}

/* The entry's stateDir, when not the default, is noted beside the binary (install.h). */
static int note_state_dir(const char *bin_dir, json_t *entry, struct hg_error *e)
{
	_cleanup_config_ struct hg_config c;
	struct hg_error why = {0};
	if (hg_config_init(&c) < 0)
		return hg_error_oom(e);
	hg_config_load_locations(&c, entry, &why);
	return hg_install_note_state_dir(bin_dir, c.state_dir, e);
}

int hg_install_main(int argc, char **argv)
{
	struct options o;
	struct hg_error e = {0};
	_cleanup_free_ char *primary = NULL;
	_cleanup_close_ int sfd = -1;

	if (parse("install", argc, argv, &o) < 0)
		return 2;
	/* Before any work, so that a SIGTERM during it still ends in a clean exit 0. */
	if (o.watch && (sfd = stop_fd()) < 0) {
		fprintf(stderr, "host-gateway: signalfd: %s\n", strerror(errno));
		return 1;
	}
	json_auto_t *entry = load_entry(o.plugin_config);
	if (!entry)
		return 1;
	if (hg_conflist_check_entry(entry, &e) < 0)
		return fail(&e);
	_cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		fprintf(stderr, "host-gateway: open /proc/self/exe: %s\n", strerror(errno));
		return 1;
	}
	if (o.check)
		return check_main(&o, entry, self);
	/* Everything that can refuse is asked before anything is written: the nftables library
	 * (every ADD would fail on this node without it), then the file the entry goes into
	 * (a refused file must not leave a binary behind). --watch waits for a file that
	 * cannot be chained yet, with the binary in place. */
	if (hg_install_check_nft(entry, &e) < 0)
		return fail(&e);
	if (!o.watch && hg_install_chain_dry(o.conf_dir, entry, &e) < 0)
		return fail(&e);
	sweep(&o);
	/* The binary first: a conflist naming a plugin that is not there fails every pod. */
	if (hg_install_binary(self, o.bin_dir, HG_DPKG_INFO_DIR, &sink, &e) < 0 ||
	    hg_install_libs(o.bin_dir, &sink, &e) < 0 || note_state_dir(o.bin_dir, entry, &e) < 0)
		return fail(&e);
	if (o.watch) {
		say(NULL, "watching the network configuration; SIGTERM or SIGINT ends this, the entry stays");
		if (hg_install_watch(o.conf_dir, entry, sfd, &sink, &e) < 0)
			return fail(&e);
		say(NULL, "stopped; the entry stays in place");
		return 0;
	}
	int r = hg_install_chain(o.conf_dir, entry, &primary, &sink, &e);
	if (r < 0)
		return fail(&e);
	if (r == 0)
		fprintf(stderr, "host-gateway: %s already has the entry\n", primary);
	return 0;
}

int hg_uninstall_main(int argc, char **argv)
{
	struct options o;
	struct hg_error e = {0};
	_cleanup_free_ char *entry_state_dir = NULL;
	_cleanup_config_ struct hg_config c;
	json_auto_t *given = NULL;

	if (hg_config_init(&c) < 0) {
		fprintf(stderr, "host-gateway: out of memory\n");
		return 1;
	}
	if (parse("uninstall", argc, argv, &o) < 0)
		return 2;
	if (o.plugin_config) {
		struct hg_error why = {0};
		if (!(given = load_entry(o.plugin_config)))
			return 1;
		if (hg_config_load_locations(&c, given, &why) > 0) {
			fprintf(stderr, "host-gateway: the plugin configuration: %s\n", why.msg);
			return 1;
		}
	}
	sweep(&o);
	/* The entry first, the binary after: a conflist naming a missing plugin fails every pod. */
	if (hg_uninstall_chain(o.conf_dir, &entry_state_dir, &sink, &e) < 0) {
		fprintf(stderr, "host-gateway: %s (the binary is kept)\n", e.msg);
		return 1;
	}
	/* Where the records are: the --plugin-config's stateDir, else the removed entry's. */
	const char *state_dir = given && json_object_get(given, "stateDir") ? c.state_dir
				: entry_state_dir			    ? entry_state_dir
									    : c.state_dir;
	/* Noted before the binary's fate is decided: a second uninstall, the entry gone, must
	 * still find the records of a stateDir only that entry named. */
	_cleanup_free_ char *bin = NULL;
	if (entry_state_dir && asprintf(&bin, "%s/host-gateway", o.bin_dir) > 0 && access(bin, F_OK) == 0 &&
	    hg_install_note_state_dir(o.bin_dir, entry_state_dir, &e) < 0)
		return fail(&e);
	if (hg_uninstall_binary(o.bin_dir, state_dir, o.force, HG_DPKG_INFO_DIR, &sink, &e) < 0)
		return fail(&e);
	return 0;
}
