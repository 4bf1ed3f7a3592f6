/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include <stdbool.h>
#include <signal.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/signalfd.h>
#include <jansson.h>
#include "cli/install-cmd.h"
#include "cli/cli.h"
#include "ops/install.h"
#include "base/conflist.h"
#include "base/config.h"
#include "os/nft.h"
#include "base/util.h"
#include "os/fs.h"
#include "nri/nri.h"

struct options {
	const char *conf_dir;
	const char *bin_dir;
	const char *plugin_config; /* JSON text, or @FILE */
	const char *nri_dir, *nri_index;
	bool watch, check, force, nri, uninstall_on_exit;
};

static void say(void *ctx, const char *msg)
{
	fprintf(stderr, "host-gateway: %s\n", msg);
}

static const struct hg_log sink = {.fn = say};

static const char install_usage[] =
	"Usage: host-gateway install [--cni-conf-dir DIR] [--cni-bin-dir DIR] [--plugin-config JSON|@FILE]\n"
	"                            [--watch [--uninstall-on-exit] | --check]\n"
	"       host-gateway install --nri [--nri-plugin-dir DIR] [--nri-index NN] [--check]\n"
	"  Copies this binary to the CNI bin folder and appends the plugin entry to the\n"
	"  configuration runtimes load: the first *.conf, *.conflist or *.json by name in the\n"
	"  CNI configuration folder; a single-plugin .conf becomes a .conflist. An entry of type\n"
	"  host-gateway already there is replaced. Nothing is written when the entry or the\n"
	"  file is refused.\n"
	"  Exit status: 0 ok, 1 failure (with --check: not in place), 2 usage.\n"
	"\n"
	"Options:\n"
	"  --cni-conf-dir DIR     the CNI configuration folder (default " HG_DEFAULT_CNI_CONF_DIR ")\n"
	"  --cni-bin-dir DIR      the CNI plugin folder (default " HG_DEFAULT_CNI_BIN_DIR ")\n"
	"  --plugin-config JSON|@FILE\n"
	"                         the entry to chain, or the file holding it (default\n"
	"                         " HG_DEFAULT_ENTRY ")\n"
	"  --watch                keep the entry there when the file is rewritten (kindnetd) until\n"
	"                         SIGTERM or SIGINT (exit 0), or exit 1 when another writer keeps\n"
	"                         replacing it with a different host-gateway entry\n"
	"  --uninstall-on-exit    with --watch: at SIGTERM or SIGINT, when no other install --watch\n"
	"                         of the folder runs, uninstall (the entry goes; the binary too\n"
	"                         unless attachments need it): a DaemonSet deleted leaves the node\n"
	"                         as it was, one updated with maxSurge keeps the entry\n"
	"  --check                exit 0 when the binary and the entry are in place, 1 otherwise\n"
	"                         (a readiness probe)\n"
	"  --nri                  instead: copy this binary to the NRI plugin folder as NN-host-gateway,\n"
	"                         which containerd and CRI-O start when they start (restart the\n"
	"                         runtime, or run `host-gateway nri` to connect now); no CNI file\n"
	"  --nri-plugin-dir DIR   the NRI plugin folder (default " HG_DEFAULT_NRI_PLUGIN_DIR ")\n"
	"  --nri-index NN         the plugin's index, two digits (default " HG_NRI_DEFAULT_INDEX ")\n"
	"  -h, --help             show this help\n";

static const char uninstall_usage[] =
	"Usage: host-gateway uninstall [--cni-conf-dir DIR] [--cni-bin-dir DIR] [--plugin-config JSON|@FILE]\n"
	"                              [--force]\n"
	"       host-gateway uninstall --nri [--nri-plugin-dir DIR] [--nri-index NN]\n"
	"  Removes the host-gateway entries from the configuration runtimes load, then the\n"
	"  binary, unless attachment records remain in the stateDir (their DEL needs it) or a\n"
	"  Debian package owns it.\n"
	"  Exit status: 0 ok, 1 failure, 2 usage.\n"
	"\n"
	"Options:\n"
	"  --cni-conf-dir DIR     the CNI configuration folder (default " HG_DEFAULT_CNI_CONF_DIR ")\n"
	"  --cni-bin-dir DIR      the CNI plugin folder (default " HG_DEFAULT_CNI_BIN_DIR ")\n"
	"  --plugin-config JSON|@FILE\n"
	"                         the entry that was installed, or the file holding it: its\n"
	"                         stateDir is where the records are (default: the removed entry's)\n"
	"  --force                remove the binary despite records (never a packaged file)\n"
	"  --nri                  instead: remove NN-host-gateway from the NRI plugin folder\n"
	"  --nri-plugin-dir DIR   the NRI plugin folder (default " HG_DEFAULT_NRI_PLUGIN_DIR ")\n"
	"  --nri-index NN         the index it was installed with (default " HG_NRI_DEFAULT_INDEX ")\n"
	"  -h, --help             show this help\n";

enum {
	OPT_CONF_DIR = 0x100,
	OPT_BIN_DIR,
	OPT_PLUGIN_CONFIG,
	OPT_WATCH,
	OPT_CHECK,
	OPT_FORCE,
	OPT_NRI,
	OPT_NRI_DIR,
	OPT_NRI_INDEX,
	OPT_UNINSTALL_ON_EXIT
};

static const struct option install_options[] = {
	{"cni-conf-dir", required_argument, NULL, OPT_CONF_DIR},
	{"cni-bin-dir", required_argument, NULL, OPT_BIN_DIR},
	{"plugin-config", required_argument, NULL, OPT_PLUGIN_CONFIG},
	{"watch", no_argument, NULL, OPT_WATCH},
	{"uninstall-on-exit", no_argument, NULL, OPT_UNINSTALL_ON_EXIT},
	{"check", no_argument, NULL, OPT_CHECK},
	{"nri", no_argument, NULL, OPT_NRI},
	{"nri-plugin-dir", required_argument, NULL, OPT_NRI_DIR},
	{"nri-index", required_argument, NULL, OPT_NRI_INDEX},
	{"help", no_argument, NULL, 'h'},
	{},
};

static const struct option uninstall_options[] = {
	{"cni-conf-dir", required_argument, NULL, OPT_CONF_DIR},
	{"cni-bin-dir", required_argument, NULL, OPT_BIN_DIR},
	{"plugin-config", required_argument, NULL, OPT_PLUGIN_CONFIG},
	{"force", no_argument, NULL, OPT_FORCE},
	{"nri", no_argument, NULL, OPT_NRI},
	{"nri-plugin-dir", required_argument, NULL, OPT_NRI_DIR},
	{"nri-index", required_argument, NULL, OPT_NRI_INDEX},
	{"help", no_argument, NULL, 'h'},
	{},
};

/* The options of install or uninstall: 0 to go on, else the exit status (--help: 0 with
 * *done set; a usage error: 2). */
static int parse(const char *cmd, int argc, char **argv, struct options *o, bool *done)
{
	bool install = strcmp(cmd, "install") == 0;
	const struct option *options = install ? install_options : uninstall_options;
	int c;

	*o = (struct options){.conf_dir = HG_DEFAULT_CNI_CONF_DIR,
			      .bin_dir = HG_DEFAULT_CNI_BIN_DIR,
			      .nri_dir = HG_DEFAULT_NRI_PLUGIN_DIR,
			      .nri_index = HG_NRI_DEFAULT_INDEX};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			*done = true;
			return hg_usage_print(install ? install_usage : uninstall_usage);
		case OPT_CONF_DIR:
			o->conf_dir = optarg;
			break;
		case OPT_BIN_DIR:
			o->bin_dir = optarg;
			break;
		case OPT_PLUGIN_CONFIG:
			o->plugin_config = optarg;
			break;
		case OPT_WATCH:
			o->watch = true;
			break;
		case OPT_UNINSTALL_ON_EXIT:
			o->uninstall_on_exit = true;
			break;
		case OPT_CHECK:
			o->check = true;
			break;
		case OPT_FORCE:
			o->force = true;
			break;
		case OPT_NRI:
			o->nri = true;
			break;
		case OPT_NRI_DIR:
			o->nri_dir = optarg;
			break;
		case OPT_NRI_INDEX:
			o->nri_index = optarg;
			break;
		default:
			return hg_usage_bad_option(cmd, options, c, argv);
		}
	}
	if (optind < argc)
		return hg_usage_extra_operand(cmd, argc, argv);
	if (o->watch && o->check)
		return hg_usage_error(cmd, "--watch and --check exclude each other");
	if (o->uninstall_on_exit && !o->watch)
		return hg_usage_error(cmd, "--uninstall-on-exit needs --watch");
	if (!o->conf_dir[0] || !o->bin_dir[0] || !o->nri_dir[0])
		return hg_usage_error(cmd, "empty folder name");
	if (!hg_nri_valid_index(o->nri_index))
		return hg_usage_error(cmd, "--nri-index takes two digits");
	if (o->nri && (o->watch || o->force || o->plugin_config))
		return hg_usage_error(cmd, "--nri installs no CNI entry: --watch, --force and --plugin-config do not apply");
	return 0;
}

static int fail(const struct hg_error *e);

/* The NRI plugin file: NN-host-gateway, the name NRI parses as index and plugin name. */
static void nri_file_name(const struct options *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s-" HG_NRI_DEFAULT_NAME, o->nri_index);
}

static int install_nri(const struct options *o)
{
	struct hg_error e = {0};
	char name[64];
	nri_file_name(o, name, sizeof(name));
	_cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		fprintf(stderr, "host-gateway: open /proc/self/exe: %s\n", strerror(errno));
		return 1;
	}
	if (o->check) {
		if (hg_install_binary_check_as(self, o->nri_dir, name, &e) < 0) {
			fprintf(stderr, "host-gateway: not ready: %s\n", e.msg);
			return 1;
		}
		fprintf(stderr, "host-gateway: ready: %s/%s is this binary\n", o->nri_dir, name);
		return 0;
	}
	hg_install_sweep(o->nri_dir, &sink);
	int r = hg_install_binary_as(self, o->nri_dir, name, HG_DPKG_INFO_DIR, &sink, &e);
	if (r < 0 || hg_install_libs(o->nri_dir, &sink, &e) < 0)
		return fail(&e);
	if (r > 0)
		say(NULL, "the runtime starts it when it starts: restart containerd or CRI-O, or run "
			  "`host-gateway nri` (its systemd unit or DaemonSet) to connect now");
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

static int uninstall_cni(const struct options *o);

/* The watch, once the binary is in place; watchers is the lock of hg_install_watchers_join
 * (-1: a plain --watch that could not take it). */
static int watch_main(const struct options *o, json_t *entry, int sfd, int watchers)
{
	struct hg_error e = {0};
	say(NULL, o->uninstall_on_exit ? "watching the network configuration; SIGTERM or SIGINT ends this, and "
					 "the last watcher to stop uninstalls"
				       : "watching the network configuration; SIGTERM or SIGINT ends this, the entry stays");
	if (hg_install_watch(o->conf_dir, entry, sfd, &sink, &e) < 0)
		return fail(&e);
	if (!o->uninstall_on_exit) {
		say(NULL, "stopped; the entry stays in place");
		return 0;
	}
	int cur = hg_install_watchers_last(watchers, o->conf_dir);
	if (cur < 0) {
		say(NULL, "stopped; another install --watch of the folder runs: the entry stays in place");
		return 0;
	}
	say(NULL, "stopped, the last watcher of the folder: uninstalling");
	int r = uninstall_cni(o);
	hg_install_watchers_done(watchers, cur, o->conf_dir);
	return r;
}

/* A watcher joins the others before it installs anything: one that starts while the last
 * one uninstalls waits for it, then installs. A plain --watch goes on without the lock when
 * it cannot take it (it used to need none); --uninstall-on-exit cannot. -1: go on; else the
 * exit status. */
static int watch_join(const struct options *o, int sfd, int *watchers)
{
	struct hg_error e = {0};
	*watchers = hg_install_watchers_join(o->conf_dir, sfd, &e);
	if (*watchers == HG_WATCHERS_STOPPED) {
		say(NULL, "stopped before watching; nothing changed");
		return 0;
	}
	if (*watchers >= 0)
		return -1;
	if (o->uninstall_on_exit)
		return fail(&e);
	fprintf(stderr, "host-gateway: %s; watching without it (other watchers cannot count this one)\n", e.msg);
	return -1;
}

int hg_install_main(int argc, char **argv)
{
	struct options o;
	struct hg_error e = {0};
	_cleanup_free_ char *primary = NULL;
	_cleanup_close_ int sfd = -1;

	bool done = false;
	int r = parse("install", argc, argv, &o, &done);
	if (r || done)
		return r;
	/* Before any work, so that a SIGTERM during it still ends in a clean exit 0. */
	if (o.watch && (sfd = stop_fd()) < 0) {
		fprintf(stderr, "host-gateway: signalfd: %s\n", strerror(errno));
		return 1;
	}
	if (o.nri)
		return install_nri(&o);
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
	_cleanup_close_ int watchers = -1;
	if (o.watch && (r = watch_join(&o, sfd, &watchers)) >= 0)
		return r;
	sweep(&o);
	/* The binary first: a conflist naming a plugin that is not there fails every pod. */
	if (hg_install_binary(self, o.bin_dir, HG_DPKG_INFO_DIR, &sink, &e) < 0 ||
	    hg_install_libs(o.bin_dir, &sink, &e) < 0 || note_state_dir(o.bin_dir, entry, &e) < 0)
		return fail(&e);
	if (o.watch)
		return watch_main(&o, entry, sfd, watchers);
	r = hg_install_chain(o.conf_dir, entry, &primary, &sink, &e);
	if (r < 0)
		return fail(&e);
	if (r == 0)
		fprintf(stderr, "host-gateway: %s already has the entry\n", primary);
	return 0;
}

/* uninstall of the CNI entry and the binary (uninstall, and install --watch
 * --uninstall-on-exit when it stops as the last watcher). */
static int uninstall_cni(const struct options *o)
{
	struct hg_error e = {0};
	_cleanup_free_ char *entry_state_dir = NULL;
	_cleanup_config_ struct hg_config c;
	json_auto_t *given = NULL;

	/* First: c is released on every return below. */
	if (hg_config_init(&c) < 0) {
		fprintf(stderr, "host-gateway: out of memory\n");
		return 1;
	}
	if (o->plugin_config) {
		struct hg_error why = {0};
		if (!(given = load_entry(o->plugin_config)))
			return 1;
		if (hg_config_load_locations(&c, given, &why) > 0) {
			fprintf(stderr, "host-gateway: the plugin configuration: %s\n", why.msg);
			return 1;
		}
	}
	sweep(o);
	/* The entry first, the binary after: a conflist naming a missing plugin fails every pod. */
	if (hg_uninstall_chain(o->conf_dir, &entry_state_dir, &sink, &e) < 0) {
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
	if (entry_state_dir && asprintf(&bin, "%s/host-gateway", o->bin_dir) > 0 && access(bin, F_OK) == 0 &&
	    hg_install_note_state_dir(o->bin_dir, entry_state_dir, &e) < 0)
		return fail(&e);
	if (hg_uninstall_binary(o->bin_dir, state_dir, o->force, HG_DPKG_INFO_DIR, &sink, &e) < 0)
		return fail(&e);
	return 0;
}

int hg_uninstall_main(int argc, char **argv)
{
	struct options o;
	struct hg_error e = {0};
	bool done = false;

	int r = parse("uninstall", argc, argv, &o, &done);
	if (r || done)
		return r;
	if (o.nri) {
		char name[64];
		nri_file_name(&o, name, sizeof(name));
		hg_install_sweep(o.nri_dir, &sink);
		return hg_uninstall_binary_as(o.nri_dir, name, HG_DPKG_INFO_DIR, &sink, &e) < 0 ? fail(&e) : 0;
	}
	return uninstall_cni(&o);
}
