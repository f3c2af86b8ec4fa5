/* The buffered draws of prand.h: in range, evenly spread, and a forked child
 * does not repeat its parent's draws. */
#include <sys/wait.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prand.h"
#include "t.h"

int main(void);

#define DRAWS	60000

static void
spread(uint32_t n)
{
	unsigned count[7] = { 0 };
	double expect = (double)DRAWS / n, chi2 = 0;
	uint32_t i, x, bad = 0;

	for (i = 0; i < DRAWS; i++) {
		if ((x = prand_uniform(n)) >= n)
			bad++;
		else
			count[x]++;
	}
	T_CHECK(bad == 0, "prand_uniform(%u) drew %u values out of range", n,
	    bad);
	for (i = 0; i < n; i++)
		chi2 += (count[i] - expect) * (count[i] - expect) / expect;
	/* far beyond the 0.9999 quantile for up to 6 degrees of freedom (27.9) */
	T_CHECK(chi2 < 40, "prand_uniform(%u) is uneven: chi2 %.1f", n, chi2);
}

/* The next PRAND_BUF / 8 draws of a child and of its parent. */
static void
fork_differs(void)
{
	uint64_t mine[PRAND_BUF / 8], theirs[PRAND_BUF / 8];
	int fds[2], st, same = 0;
	size_t i;
	pid_t pid;

	(void)prand_u64();	/* the parent's buffer is filled when it forks */
	T_CHECK(pipe(fds) == 0, "pipe");
	if ((pid = fork()) == 0) {
		for (i = 0; i < PRAND_BUF / 8; i++)
			theirs[i] = prand_u64();
		_exit(write(fds[1], theirs, sizeof(theirs)) ==
		    (ssize_t)sizeof(theirs) ? 0 : 1);
	}
	T_CHECK(pid > 0, "fork");
	for (i = 0; i < PRAND_BUF / 8; i++)
		mine[i] = prand_u64();
	T_CHECK(read(fds[0], theirs, sizeof(theirs)) == (ssize_t)sizeof(theirs),
	    "the child's draws");
	T_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0, "the child");
	for (i = 0; i < PRAND_BUF / 8; i++)
		same += mine[i] == theirs[i];
	T_CHECK(same == 0, "a forked child repeated %d of its parent's draws",
	    same);
	close(fds[0]);
	close(fds[1]);
}

int
main(void)
{
	uint32_t n;

	T_CHECK(prand_uniform(0) == 0 && prand_uniform(1) == 0,
	    "prand_uniform of 0 or 1 is not 0");
	for (n = 2; n <= 7; n++)
		spread(n);
	fork_differs();
	return t_finish();
}
