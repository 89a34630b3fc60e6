/* Syscall storm at a fixed rate: RATE getppid() calls per second for SECONDS
 * (RATE 0 = as fast as possible), then prints the exact count made.
 * usage: storm RATE SECONDS [COUNT_FILE]  (the count also goes to COUNT_FILE:
 * perf's record scripts send the traced command's stderr to /dev/null) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long rate = argc > 1 ? atol(argv[1]) : 0;
	double secs = argc > 2 ? atof(argv[2]) : 1.0, start = now(), t;
	long made = 0;

	while ((t = now() - start) < secs) {
		long due = rate ? (long)(t * rate) + 1 : made + 1000;
		while (made < due) {
			syscall(SYS_getppid);
			made++;
		}
		if (rate) {
			struct timespec ts = { 0, 200000 };
			nanosleep(&ts, NULL);
		}
	}
	fprintf(stderr, "made %ld\n", made);
	if (argc > 3) {
		FILE *f = fopen(argv[3], "w");
		if (f) {
			fprintf(f, "made %ld\n", made);
			fclose(f);
		}
	}
	return 0;
}
