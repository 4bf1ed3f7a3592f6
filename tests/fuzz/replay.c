/* SPDX-License-Identifier: Apache-2.0 */
/* Runs a fuzzer's LLVMFuzzerTestOneInput over corpus files, so that the regular build and
 * CI replay every seed and every crash ever found, without libFuzzer. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The whole file in a buffer of exactly its size, as libFuzzer passes inputs: a read past
 * the end is caught by ASan, and no input is cut (the hosts harness takes over 1 MiB). */
static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st) < 0) {
		perror(path);
		if (f)
			fclose(f);
		return -1;
	}
	size_t size = (size_t) st.st_size;
	uint8_t *buf = malloc(size ? size : 1);
	size_t n = buf ? fread(buf, 1, size, f) : 0;
	fclose(f);
	if (!buf || n != size) {
		fprintf(stderr, "%s: cannot read it\n", path);
		free(buf);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int count = 0;
	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		if (!d) {
			if (run_file(argv[i]) < 0)
				return 1;
			count++;
			continue;
		}
		struct dirent *e;
		while ((e = readdir(d))) {
			char path[4096];
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (run_file(path) < 0)
				return 1;
			count++;
		}
		closedir(d);
	}
	printf("replayed %d inputs\n", count);
	return count > 0 ? 0 : 1;
}
