/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the files of the install operation (install*.c), not by anyone else: the temp
 * names of its writes, its reader and writer of configuration files, and the pieces one
 * concern hands another (uninstalling the binary removes the libraries and the note). */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>
#include <jansson.h>
#include "base/error.h"
#include "os/log.h"

#define HG_BINARY_NAME "host-gateway"

/* A temp name of ours in dir (TMP_PREFIX PIDNS "-" PID "." random ".tmp", install.c):
 * -1 when out of memory. hg_install_sweep recognises exactly these. */
int hg_install_tmp_name(const char *dir, char **path);
/* A configuration file, never through a symlink (refused: not ours to rewrite), bounded. */
int hg_install_read(const char *path, struct stat *st, char **text, size_t *len, struct hg_error *err);
/* text into dir/name through a temp file, with mode and owner of *like. With expect_path,
 * the rename happens only if that file is still *like. noreplace: dir/name must not exist. */
int hg_install_write(const char *dir, const char *name, const char *text, const struct stat *like,
		     const char *expect_path, bool noreplace, struct hg_error *err);

/* hg_install_chain_flags' flags: CHAIN_DRY checks everything and writes nothing (1: it
 * would write); CHAIN_KEEP_OTHER returns CHAIN_OTHER instead of replacing a different entry
 * of ours. *replaced (optional): the write replaced a different host-gateway entry. */
#define CHAIN_DRY 1u
#define CHAIN_KEEP_OTHER 2u
#define CHAIN_OTHER (-2)
int hg_install_chain_flags(const char *conf_dir, json_t *entry, unsigned flags, char **primary, bool *replaced,
			   const struct hg_log *log, struct hg_error *err);

/* The stateDirs noted in BIN/host-gateway.state-dirs (install-state-dirs.c), and the note
 * removed. */
int hg_install_state_dirs(const char *bin_dir, char ***dirs, struct hg_error *err);
void hg_install_forget_state_dirs(const char *bin_dir);
/* The library set install copied (install-libs.c), removed. */
void hg_install_remove_libs(const char *bin_dir, const struct hg_log *log);
