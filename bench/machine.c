// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * machine: what this machine charges any process for the three things the agent's loop cannot
 * do without, so that make bench can say how much of the agent's CPU is the machine's and how
 * much its own code's. Run pinned like the agent (bench/run.sh). Prints, on one line:
 *
 *   - the CPU time of one sleep and its wake: nanosleep() for the busy turn's 40 ms, N times
 *     (a turn of the loop sleeps once, in nanosleep() while records come at a storm's rate);
 *   - the CPU time of one page fault: the first touch of a page of fresh anonymous memory (the
 *     heap growing by what a storm leaves behind: its sleepers);
 *   - the CPU time of writing BYTES to a file in DIR in the outputs' 64 KiB batches
 *     (EW_SINK_BATCH_BYTES), per BYTES: the page cache's share of 1,000 records, back to back;
 *   - the same bytes written as the agent writes them: in TURNS turns, each after the busy
 *     turn's 40 ms sleep. On a VM the kernel's write path is cold after any sleep (its caches
 *     taken meanwhile, by the host if nothing else), and the agent writes once or twice a turn:
 *     the difference between the two is what the sleeps cost the writing, not the bytes.
 *
 *   machine BYTES DIR TURNS
 *
 * TURNS is the agent's turns per 1,000 records (bench/run.sh counts them), BYTES its bytes.
 * Output: "<us per wake> <us per fault> <ms per BYTES, back to back> <ms per BYTES, in turns>".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define WAKES	    50
#define SLEEP_NS    40000000L /* agent/pace.h: the busy turn */
#define FAULT_BYTES (32UL << 20)
#define BATCH	    (64 * 1024) /* output/output.h: EW_SINK_BATCH_BYTES */
#define WRITES	    8

/* This process's CPU time, user and kernel: what schedstat counts for the agent. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double wake_us(void)
{
	struct timespec ts = {.tv_nsec = SLEEP_NS};
	uint64_t t0 = cpu_ns();

	for (int i = 0; i < WAKES; i++)
		nanosleep(&ts, NULL);
	return (double)(cpu_ns() - t0) / WAKES / 1e3;
}

static double fault_us(void)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile char *p =
		mmap(NULL, FAULT_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t t0;
	size_t n = FAULT_BYTES / (size_t)page;

	if (p == MAP_FAILED)
		return -1;
	/* Not huge pages: the agent's heap is not advised to THP. */
	madvise((void *)p, FAULT_BYTES, MADV_NOHUGEPAGE);
	t0 = cpu_ns();
	for (size_t i = 0; i < n; i++)
		p[i * (size_t)page] = 1;
	t0 = cpu_ns() - t0;
	munmap((void *)p, FAULT_BYTES);
	return (double)t0 / (double)n / 1e3;
}

/*
 * The CPU of writing bytes in 64 KiB batches, per bytes, WRITES times over: back to back when
 * turns is 0, else in turns of bytes / turns, each after a sleep of the busy turn (not timed).
 */
static double write_ms(size_t bytes, const char *dir, double turns)
{
	struct timespec gap = {.tv_nsec = SLEEP_NS};
	size_t per_turn = turns >= 1 ? (size_t)((double)bytes / turns) : bytes;
	char path[4096], *buf = malloc(BATCH);
	uint64_t t = 0;
	int fd;

	if (!buf)
		return -1;
	if (snprintf(path, sizeof(path), "%s/machine-write.XXXXXX", dir) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		free(buf);
		return -1;
	}
	memset(buf, 'x', BATCH);
	fd = mkstemp(path);
	if (fd < 0) {
		free(buf);
		return -1;
	}
	if (!per_turn) /* more turns than bytes: a byte a turn */
		per_turn = 1;
	/* Appended like the agent's stdout file; the first pass's blocks allocated too. */
	for (int k = 0; k < WRITES; k++) {
		for (size_t done = 0; done < bytes;) {
			size_t turn_end = bytes - done < per_turn ? bytes : done + per_turn;
			uint64_t t0;

			if (turns > 0)
				nanosleep(&gap, NULL);
			t0 = cpu_ns();
			while (done < turn_end) {
				size_t n = turn_end - done < BATCH ? turn_end - done : BATCH;
				ssize_t w = write(fd, buf, n);

				if (w <= 0) {
					if (!w)
						errno = EIO;
					close(fd);
					unlink(path);
					free(buf);
					return -1;
				}
				done += (size_t)w;
			}
			t += cpu_ns() - t0;
		}
	}
	close(fd);
	unlink(path);
	free(buf);
	return (double)t / WRITES / 1e6;
}

int main(int argc, char **argv)
{
	double w, f, o, ot, turns;
	char *end;
	unsigned long bytes;

	if (argc != 4) {
		fprintf(stderr, "usage: machine BYTES DIR TURNS\n");
		return 2;
	}
	errno = 0;
	bytes = strtoul(argv[1], &end, 10);
	if (errno || *end || !bytes) {
		fprintf(stderr, "machine: BYTES: not a positive number: %s\n", argv[1]);
		return 2;
	}
	errno = 0;
	turns = strtod(argv[3], &end);
	if (errno || *end || !(turns >= 1)) {
		fprintf(stderr, "machine: TURNS: not a number of 1 or more: %s\n", argv[3]);
		return 2;
	}
	w = wake_us();
	f = fault_us();
	if (f < 0) {
		fprintf(stderr, "machine: cannot map %lu MiB to fault in: %s\n", FAULT_BYTES >> 20,
			strerror(errno));
		return 1;
	}
	o = write_ms(bytes, argv[2], 0);
	ot = o < 0 ? o : write_ms(bytes, argv[2], turns);
	if (o < 0 || ot < 0) {
		fprintf(stderr, "machine: cannot write %lu bytes to a file in %s: %s\n", bytes,
			argv[2], strerror(errno));
		return 1;
	}
	printf("%.1f %.2f %.3f %.3f\n", w, f, o, ot);
	return 0;
}
