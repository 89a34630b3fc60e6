/* Ground-truth workload: exactly N getppid(), M read() and F failing openat().
 * Built static so that no dynamic loader adds reads or opens of its own.
 * usage: workload N M F [sleep_ms] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0, m = argc > 2 ? atol(argv[2]) : 0;
	long f = argc > 3 ? atol(argv[3]) : 0, ms = argc > 4 ? atol(argv[4]) : 0;
	char c;
	int fd = -1;

	if (ms) {
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	if (m)
		fd = (int)syscall(SYS_openat, AT_FDCWD, "/dev/zero", O_RDONLY);
	for (long i = 0; i < m; i++)
		syscall(SYS_read, fd, &c, 1);
	for (long i = 0; i < f; i++)
		syscall(SYS_openat, AT_FDCWD, "/nonexistent/scripthost", O_RDONLY);
	return 0;
}
