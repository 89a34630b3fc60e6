/* Sampling workload (tests/test_samples.py) with known hot functions: hot_outer calls hot_inner (about 3/4 of
 * the user time) and warm (about 1/4); a kernel phase of getppid() follows.
 * usage: hot ITERATIONS SYSCALLS */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

volatile unsigned long sink;

__attribute__((noinline)) void hot_inner(long n)
{
	for (long i = 0; i < n; i++)
		sink += i * i;
}

__attribute__((noinline)) void warm(long n)
{
	for (long i = 0; i < n; i++)
		sink ^= i;
}

__attribute__((noinline)) void hot_outer(long n)
{
	hot_inner(3 * n);
	warm(n);
}

int main(int argc, char **argv)
{
	long it = argc > 1 ? atol(argv[1]) : 100;
	long sc = argc > 2 ? atol(argv[2]) : 0;

	for (long i = 0; i < it; i++)
		hot_outer(1000000);
	for (long i = 0; i < sc; i++)
		syscall(SYS_getppid);
	return 0;
}
