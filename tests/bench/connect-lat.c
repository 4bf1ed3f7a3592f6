/* SPDX-License-Identifier: Apache-2.0 */
/* TCP connect latency for tests/bench/datapath.sh (a benchmark helper, not a test).
 *
 *   connect-lat serve ADDR:PORT [ADDR:PORT]...
 *       accepts on every address, writes one byte to each connection and closes it;
 *       runs until killed.
 *   connect-lat client [-n N] [-w W] ADDR:PORT
 *       W unmeasured connections (default 5), then N measured ones (default 300), one
 *       after the other; prints one line per measured connection: the microseconds from
 *       the start of connect() until the server's byte has been read (IPv4 only).
 *
 * The time covers the handshake and the first byte back, i.e. everything a relay on the
 * way adds to a new connection (a socat fork, a second connection, NAT lookups); the
 * socket is created before the clock starts and closed after it stops.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LISTEN 8

static void die(const char *what) {
	perror(what);
	exit(1);
}

static void parse(const char *s, struct sockaddr_in *sa) {
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;
	if (!colon || (size_t)(colon - s) >= sizeof host) {
		fprintf(stderr, "connect-lat: bad address %s (ADDR:PORT)\n", s);
		exit(2);
	}
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, &end, 10);
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)port);
	if (*end || port <= 0 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		fprintf(stderr, "connect-lat: bad address %s (ADDR:PORT)\n", s);
		exit(2);
	}
}

static _Noreturn void serve(int argc, char **argv) {
	struct pollfd pfd[MAX_LISTEN];
	int n = 0, one = 1;
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < argc && n < MAX_LISTEN; i++, n++) {
		struct sockaddr_in sa;
		parse(argv[i], &sa);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("socket");
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
			die("setsockopt");
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
			die(argv[i]);
		if (listen(fd, 512) < 0)
			die("listen");
		pfd[n].fd = fd;
		pfd[n].events = POLLIN;
	}
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		for (int i = 0; i < n; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			int c = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			(void)setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			if (write(c, "x", 1) < 0) {
				/* the client went away: nothing to report */
			}
			close(c);
		}
	}
}

static double now_us(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int client(int argc, char **argv) {
	long n = 300, w = 5;
	int opt;
	struct sockaddr_in sa;
	while ((opt = getopt(argc, argv, "n:w:")) != -1) {
		switch (opt) {
		case 'n': n = strtol(optarg, NULL, 10); break;
		case 'w': w = strtol(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (optind != argc - 1 || n <= 0 || w < 0) {
		fprintf(stderr, "usage: connect-lat client [-n N] [-w W] ADDR:PORT\n");
		return 2;
	}
	parse(argv[optind], &sa);
	for (long i = 0; i < w + n; i++) {
		char b;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("socket");
		double t0 = now_us();
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
			die("connect");
		ssize_t r;
		do
			r = read(fd, &b, 1);
		while (r < 0 && errno == EINTR);
		double t1 = now_us();
		if (r != 1) {
			fprintf(stderr, "connect-lat: connection %ld: no byte from the server\n", i);
			return 1;
		}
		close(fd);
		if (i >= w)
			printf("%.1f\n", t1 - t0);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
	if (argc >= 3 && strcmp(argv[1], "serve") == 0)
		serve(argc - 2, argv + 2);
	if (argc >= 3 && strcmp(argv[1], "client") == 0)
		return client(argc - 1, argv + 1);
	fprintf(stderr, "usage: connect-lat serve ADDR:PORT... | client [-n N] [-w W] ADDR:PORT\n");
	return 2;
}
