/* opscost: what the operations features cost per request in CPU, without
 * the noise of a whole HTTP run on a shared machine -- the core calls a
 * request makes (todo_metrics_request, one rate-limit take), in shared
 * memory as Apache's children have it, by 1 and by 2 processes at once
 * (the 2 cores: the counters' cache lines then move between them).
 * Built and run by bench/ops.sh; prints "name procs ns-per-call". */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include "todo_metrics.h"
#include "todo_ratelimit.h"

#define CALLS 2000000
#define USERS 200

static double cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ns per call of `what` in each of procs processes at once; the mean. */
static double run(int what, int procs, todo_ratelimit_t *rl,
                  const todo_ratelimit_conf_t *c, char **users)
{
    int fds[2], i;
    double sum = 0;

    if (pipe(fds)) {
        exit(1);
    }
    for (i = 0; i < procs; i++) {
        if (fork() == 0) {
            double t0 = cpu_ns(), ns;
            todo_ratelimit_result_t res;
            apr_uint32_t pid = (apr_uint32_t)getpid(); /* as the glue's */
            int n;

            for (n = 0; n < CALLS; n++) {
                if (what == 0) {
                    todo_metrics_request(TODO_OP_GET, "GET", 200, 1500);
                }
                else {
                    todo_ratelimit_take(rl, c, "/api", users[n % USERS],
                                        apr_time_now(), pid, &res);
                }
            }
            ns = (cpu_ns() - t0) / CALLS;
            _exit(write(fds[1], &ns, sizeof(ns)) == sizeof(ns) ? 0 : 1);
        }
    }
    for (i = 0; i < procs; i++) {
        double ns = 0;

        wait(NULL);
        if (read(fds[0], &ns, sizeof(ns)) == sizeof(ns)) {
            sum += ns;
        }
    }
    close(fds[0]);
    close(fds[1]);
    return sum / procs;
}

int main(void)
{
    apr_pool_t *p;
    apr_shm_t *ms, *rs;
    todo_ratelimit_conf_t c;
    todo_ratelimit_t *rl;
    char *users[USERS];
    int i, procs;

    apr_initialize();
    apr_pool_create(&p, NULL);
    if (apr_shm_create(&ms, todo_metrics_size(64), NULL, p)
        || apr_shm_create(&rs, todo_ratelimit_size(65536), NULL, p)) {
        fprintf(stderr, "opscost: no shared memory\n");
        return 1;
    }
    todo_metrics_set_current(todo_metrics_init(
        apr_shm_baseaddr_get(ms), apr_shm_size_get(ms), 64, apr_time_now()));
    rl = todo_ratelimit_init(apr_shm_baseaddr_get(rs), apr_shm_size_get(rs),
                             65536, 42, apr_time_now());
    todo_ratelimit_conf(&c, 1000000, 1, 100000);
    for (i = 0; i < USERS; i++) {
        users[i] = apr_psprintf(p, "%d", 100001 + i);
    }
    for (procs = 1; procs <= 2; procs++) {
        printf("metrics %d %.1f\n", procs, run(0, procs, rl, &c, users));
        printf("ratelimit %d %.1f\n", procs, run(1, procs, rl, &c, users));
    }
    return 0;
}
