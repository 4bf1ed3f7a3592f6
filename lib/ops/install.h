/* SPDX-License-Identifier: Apache-2.0 */
/* Installing host-gateway on a node: the binary into the CNI bin folder, our entry into the
 * network configuration runtimes load (the first file of the CNI configuration folder), and
 * keeping it there while something else (kindnetd) rewrites that file. The pure JSON edit
 * is lib/base/conflist.c's; the file work is split by concern: install.c the entry in the
 * configuration (and the temp files of every write), install-binary.c the binary,
 * install-libs.c the libnftables set, install-state-dirs.c the stateDirs note,
 * install-watch.c the watch loop. Actions are reported through the front's log sink, one
 * line each. */
#pragma once

#include <stdbool.h>
#include <jansson.h>
#include "base/error.h"
#include "os/log.h"
#include "os/dpkg.h" /* HG_DPKG_INFO_DIR, for the callers of hg_install_binary */

#define HG_DEFAULT_CNI_CONF_DIR "/etc/cni/net.d"
#define HG_DEFAULT_CNI_BIN_DIR "/opt/cni/bin"

/* Copies the executable open at self_fd to bin_dir/host-gateway (temp file, fsync, rename,
 * mode 0755) unless that file is already the same inode or the same bytes. A file there
 * that a Debian package owns is never replaced. 1 when written, 0 when already in place. */
int hg_install_binary(int self_fd, const char *bin_dir, const char *dpkg_info_dir, const struct hg_log *log,
		      struct hg_error *err);

/* 0 when bin_dir/host-gateway is the executable open at self_fd (same inode or bytes). */
int hg_install_binary_check(int self_fd, const char *bin_dir, struct hg_error *err);

/* The same under another file name: the NRI plugin folder's IDX-host-gateway, which the
 * runtime starts as a pre-registered plugin when it starts. */
#define HG_DEFAULT_NRI_PLUGIN_DIR "/opt/nri/plugins"
int hg_install_binary_as(int self_fd, const char *bin_dir, const char *name, const char *dpkg_info_dir,
			 const struct hg_log *log, struct hg_error *err);
int hg_install_binary_check_as(int self_fd, const char *bin_dir, const char *name, struct hg_error *err);
/* Removes bin_dir/name (a regular file no Debian package owns): 1 removed, 0 kept or
 * absent (said through log). No record needs it: the NRI plugin's records are undone by
 * `gc` (any personality) once their pods' namespaces are gone. */
int hg_uninstall_binary_as(const char *bin_dir, const char *name, const char *dpkg_info_dir, const struct hg_log *log,
			   struct hg_error *err);

/* Puts entry into the primary configuration of conf_dir (see lib/base/conflist.h): 1 when a file
 * was written, 0 when it already held the entry. *primary (optional) gets the file's path. */
int hg_install_chain(const char *conf_dir, json_t *entry, char **primary, const struct hg_log *log,
		     struct hg_error *err);

/* What hg_install_chain would do now, writing nothing: 1 it would write, 0 the entry is in
 * place, -1 it would refuse (err says why, as hg_install_chain would). install checks this
 * before it writes anything, the binary included. */
int hg_install_chain_dry(const char *conf_dir, json_t *entry, struct hg_error *err);

/* 0 when the primary configuration holds exactly our entry; -1 with why otherwise. */
int hg_install_chain_check(const char *conf_dir, json_t *entry, char **primary, struct hg_error *err);

/* Removes our entry from the primary configuration. *state_dir (optional) gets the
 * stateDir of the entry removed (NULL when there was none, or it had no stateDir). */
int hg_uninstall_chain(const char *conf_dir, char **state_dir, const struct hg_log *log, struct hg_error *err);

/* Removes bin_dir/host-gateway when it is a regular file no Debian package owns and no
 * record remains under state_dir (or force). 1 removed, 0 kept (said why through log),
 * -1 on error (and when force cannot be honoured). */
int hg_uninstall_binary(const char *bin_dir, const char *state_dir, bool force, const char *dpkg_info_dir,
			const struct hg_log *log, struct hg_error *err);

/* The nftables keys entry uses (virtualIPs without hostAlias, localhostPorts,
 * hostLoopbackPorts) need libnftables.so.1: -1 naming the keys and the library when this
 * machine cannot load it, 0 otherwise. */
int hg_install_check_nft(json_t *entry, struct hg_error *err);

/* The watchers of a folder (install-watchers.c). join: a descriptor holding a shared lock
 * on conf_dir/.host-gateway-watch.lock (conf_dir made when missing), taken before the binary
 * is installed; while the last watcher uninstalls it waits (bounded), and returns
 * HG_WATCHERS_STOPPED when stop_fd becomes readable meanwhile; -1 with err otherwise. */
#define HG_WATCHERS_STOPPED (-2)
int hg_install_watchers_join(const char *conf_dir, int stop_fd, struct hg_error *err);

/* last: a descriptor >= 0 when no other watcher of conf_dir holds the lock (fd's own file,
 * and the one at the folder's path now, held exclusively until watchers_done), -1 when
 * another one runs. done: after the uninstall, removes the lock file and releases it. */
int hg_install_watchers_last(int fd, const char *conf_dir);
void hg_install_watchers_done(int fd, int cur, const char *conf_dir);

/* Keeps the entry in conf_dir until stop_fd becomes readable: chains now, then again after
 * every change of a configuration file (inotify, bursts folded for DEBOUNCE_MS, a full
 * re-scan after a queue overflow). conf_dir is followed where it resolves: its parent is
 * watched for the name too, so that a symlink swapped or replaced by a folder (mv -T) is
 * watched at its new target. A primary that cannot be chained (invalid, none yet) is
 * reported once and waited for. Returns 0 when stopped, -1 when watching is impossible
 * or someone else keeps putting a different host-gateway entry there (a second watcher
 * with another configuration): its FIGHT_REPLACEMENTS-th replacement within
 * FIGHT_WINDOW_MS is not made, and err says so. */
int hg_install_watch(const char *conf_dir, json_t *entry, int stop_fd, const struct hg_log *log,
		     struct hg_error *err);
/* Removes the temp files a killed install or uninstall of this PID namespace left in dir
 * (TMP_PREFIX names whose writer is gone; regular files only), saying so through log;
 * returns how many. */
int hg_install_sweep(const char *dir, const struct hg_log *log);

/* Copies the library set beside this binary (host-gateway.lib/, the DaemonSet's image has
 * one) next to bin_dir's binary, so that the nftables modes work on a node without
 * libnftables. 0 when there is none here, 1 when copied. */
int hg_install_libs(const char *bin_dir, const struct hg_log *log, struct hg_error *err);
/* Notes a stateDir other than the default in BIN/host-gateway.state-dirs, so that
 * uninstall finds its attachment records also after the entry naming it is gone. */
int hg_install_note_state_dir(const char *bin_dir, const char *state_dir, struct hg_error *err);
