/* SPDX-License-Identifier: Apache-2.0 */
/* The stateDirs note: the state folders other than the default that entries of ours
 * named, kept beside the binary for uninstall. */
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include "ops/install.h"
#include "ops/install-int.h"
#include "base/config.h"
#include "base/util.h"
#include "os/fs.h"

/* The state directories other than the default that entries of ours named, one a line in
 * BIN/host-gateway.state-dirs: uninstall must find the records of every one of them, also
 * after the entry that named one is gone. */
#define STATE_DIRS_FILE HG_BINARY_NAME ".state-dirs"

int hg_install_state_dirs(const char *bin_dir, char ***dirs, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	struct stat st;
	size_t len;
	*dirs = calloc(1, sizeof(char *));
	if (!*dirs || asprintf(&path, "%s/" STATE_DIRS_FILE, bin_dir) < 0)
		return hg_error_oom(err);
	if (access(path, F_OK) < 0)
		return 0;
	if (hg_install_read(path, &st, &text, &len, err) < 0)
		return -1;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (line[0] == '/' && !strv_contains(*dirs, line) && strv_push(dirs, line) < 0)
			return hg_error_oom(err);
	return 0;
}

int hg_install_note_state_dir(const char *bin_dir, const char *state_dir, struct hg_error *err)
{
	_cleanup_strv_ char **dirs = NULL;
	struct stat like = {.st_mode = 0644};
	if (!state_dir || strcmp(state_dir, HG_DEFAULT_STATE_DIR) == 0)
		return 0;
	if (hg_install_state_dirs(bin_dir, &dirs, err) < 0)
		return -1;
	if (strv_contains(dirs, state_dir))
		return 0;
	if (strv_push(&dirs, state_dir) < 0)
		return hg_error_oom(err);
	_cleanup_free_ char *text = NULL;
	size_t n = 0;
	for (size_t i = 0; dirs[i]; i++)
		n += strlen(dirs[i]) + 1;
	if (!(text = calloc(n + 1, 1)))
		return hg_error_oom(err);
	for (size_t i = 0; dirs[i]; i++) {
		strcat(text, dirs[i]);
		strcat(text, "\n");
	}
	like.st_uid = geteuid();
	like.st_gid = getegid();
	return hg_install_write(bin_dir, STATE_DIRS_FILE, text, &like, NULL, false, err);
}


void hg_install_forget_state_dirs(const char *bin_dir)
{
	_cleanup_free_ char *notes = NULL;
	if (asprintf(&notes, "%s/" STATE_DIRS_FILE, bin_dir) > 0)
		unlink(notes);
}
