/*
 * The platform layer's child processes (port.h, drv_run): posix_spawn with pipes, a deadline,
 * and the whole process group killed when it passes, so a hung signer leaves nothing behind.
 */
#include "port.h"

#include <stdlib.h>
#include <string.h>

#ifdef _WIN32

int drv_run(const char *const *argv, const char *const *env_add, const unsigned char *input,
            size_t input_len, unsigned timeout_seconds, size_t max_out, unsigned char **out,
            size_t *out_len, drv_run_result *res, const char *where, drvsign_diag *diag)
{
    (void)env_add, (void)input, (void)input_len, (void)timeout_seconds, (void)max_out;
    *out = NULL;
    *out_len = 0;
    memset(res, 0, sizeof *res);
    drv_error(diag, where,
              "cannot run '%s': external signer commands are not supported on "
              "Windows yet",
              argv[0]);
    return -1;
}

#else

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* A signal that asks drvsign to stop while a child runs: the child's process group is ours to
 * stop first, so nothing is left running; then the signal takes its course. */
static volatile sig_atomic_t stop_signal;
static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define STOP_SIGNALS (sizeof stop_signals / sizeof stop_signals[0])

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fl >= 0 &&
                   fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0
               ? 0
               : -1;
}

/* environ without the names env_add sets, then env_add. */
static char **child_environment(const char *const *env_add)
{
    size_t n = 0, k = 0, extra = 0;
    char **envp;
    while (environ[n] != NULL)
        n++;
    while (env_add[extra] != NULL)
        extra++;
    envp = calloc(n + extra + 1, sizeof *envp);
    if (envp == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int replaced = 0;
        for (size_t j = 0; j < extra && !replaced; j++) {
            size_t name_len = strcspn(env_add[j], "=");
            replaced = strncmp(environ[i], env_add[j], name_len + 1) == 0;
        }
        if (!replaced)
            envp[k++] = environ[i];
    }
    for (size_t j = 0; j < extra; j++)
        envp[k++] = (char *)env_add[j];
    return envp;
}

int drv_run(const char *const *argv, const char *const *env_add, const unsigned char *input,
            size_t input_len, unsigned timeout_seconds, size_t max_out, unsigned char **out,
            size_t *out_len, drv_run_result *res, const char *where, drvsign_diag *diag)
{
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t none, defaults;
    struct sigaction ignore_pipe, old_pipe, on_stop, old_stop[STOP_SIGNALS];
    char **envp = NULL;
    unsigned char *buf = NULL;
    size_t got = 0, sent = 0;
    long long deadline = now_ms() + (long long)timeout_seconds * 1000;
    pid_t pid = -1;
    int status = 0, err, rc = -1, have_actions = 0, have_attr = 0, waited = 0;

    *out = NULL;
    *out_len = 0;
    memset(res, 0, sizeof *res);
    buf = malloc(max_out + 1);
    envp = child_environment(env_add);
    if (buf == NULL || envp == NULL || pipe(in_pipe) != 0 || pipe(out_pipe) != 0 ||
        set_flags(in_pipe[1]) != 0 || set_flags(out_pipe[0]) != 0 ||
        fcntl(in_pipe[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(out_pipe[1], F_SETFD, FD_CLOEXEC) != 0) {
        drv_error(diag, where, "cannot run '%s': %s", argv[0], strerror(errno));
        goto done;
    }
    if (posix_spawn_file_actions_init(&actions) != 0 || (have_actions = 1, 0) ||
        posix_spawnattr_init(&attr) != 0 || (have_attr = 1, 0)) {
        drv_error(diag, where, "cannot run '%s': out of memory", argv[0]);
        goto done;
    }
    /* stdin and stdout are the pipes (dup2 clears close-on-exec), stderr stays ours */
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    if (posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0) != 0 ||
        posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1) != 0 ||
        /* its own process group, so a timeout can stop whatever it started */
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF) != 0 ||
        posix_spawnattr_setpgroup(&attr, 0) != 0 || posix_spawnattr_setsigmask(&attr, &none) != 0 ||
        posix_spawnattr_setsigdefault(&attr, &defaults) != 0) {
        drv_error(diag, where, "cannot run '%s': cannot set up its process", argv[0]);
        goto done;
    }
    err = posix_spawnp(&pid, argv[0], &actions, &attr, (char *const *)argv, envp);
    if (err != 0) {
        pid = -1;
        drv_error(diag, where, "cannot run '%s': %s", argv[0], strerror(err));
        goto done;
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    in_pipe[0] = out_pipe[1] = -1;

    /* a signer that exits without reading its input must not kill us with SIGPIPE */
    memset(&ignore_pipe, 0, sizeof ignore_pipe);
    ignore_pipe.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore_pipe, &old_pipe);
    memset(&on_stop, 0, sizeof on_stop);
    on_stop.sa_handler = on_stop_signal; /* no SA_RESTART: poll returns at once */
    sigemptyset(&on_stop.sa_mask);
    stop_signal = 0;
    for (size_t i = 0; i < STOP_SIGNALS; i++) {
        /* an ignored signal (nohup) stays ignored */
        if (sigaction(stop_signals[i], NULL, &old_stop[i]) == 0 &&
            old_stop[i].sa_handler != SIG_IGN)
            sigaction(stop_signals[i], &on_stop, NULL);
    }
    if (input_len == 0) {
        close(in_pipe[1]);
        in_pipe[1] = -1;
    }
    while (out_pipe[0] >= 0) {
        struct pollfd fds[2];
        nfds_t nfds = 0;
        long long left = deadline - now_ms();
        int ready;
        if (stop_signal)
            break;
        if (left <= 0) {
            res->timed_out = 1;
            break;
        }
        fds[nfds].fd = out_pipe[0];
        fds[nfds++].events = POLLIN;
        if (in_pipe[1] >= 0) {
            fds[nfds].fd = in_pipe[1];
            fds[nfds++].events = POLLOUT;
        }
        ready = poll(fds, nfds, left > 1000 ? 1000 : (int)left);
        if (ready < 0 && errno != EINTR)
            break;
        if (ready <= 0)
            continue;
        if (nfds > 1 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t n = write(in_pipe[1], input + sent, input_len - sent);
            if (n > 0)
                sent += (size_t)n;
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                sent = input_len; /* it stopped reading: what it got is what it gets */
            if (sent == input_len) {
                close(in_pipe[1]);
                in_pipe[1] = -1;
            }
        }
        if (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) {
            ssize_t n = read(out_pipe[0], buf + got, max_out + 1 - got);
            if (n > 0) {
                got += (size_t)n;
                if (got > max_out) {
                    res->too_much = 1;
                    break;
                }
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(out_pipe[0]);
                out_pipe[0] = -1;
            }
        }
    }
    /* stdout is closed: wait for the exit, still within the deadline */
    while (!res->timed_out && !res->too_much && !stop_signal) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            waited = 1;
            break;
        }
        if (w < 0 && errno != EINTR)
            break;
        if (now_ms() >= deadline) {
            res->timed_out = 1;
            break;
        }
        {
            struct timespec ts = {0, 10 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    if (!waited) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    } else if (WIFEXITED(status) || WIFSIGNALED(status)) {
        /* whatever it left running in its group goes with it */
        kill(-pid, SIGKILL);
    }
    sigaction(SIGPIPE, &old_pipe, NULL);
    for (size_t i = 0; i < STOP_SIGNALS; i++)
        if (old_stop[i].sa_handler != SIG_IGN)
            sigaction(stop_signals[i], &old_stop[i], NULL);
    if (stop_signal) {
        /* the child is gone; now the signal does what it would have done */
        res->interrupted = (int)stop_signal;
        raise((int)stop_signal);
    }
    if (WIFEXITED(status)) {
        res->exited = 1;
        res->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status))
        res->signal = WTERMSIG(status);
    *out = buf;
    *out_len = got > max_out ? max_out : got;
    buf = NULL;
    rc = 0;
done:
    if (have_actions)
        posix_spawn_file_actions_destroy(&actions);
    if (have_attr)
        posix_spawnattr_destroy(&attr);
    for (int i = 0; i < 2; i++) {
        if (in_pipe[i] >= 0)
            close(in_pipe[i]);
        if (out_pipe[i] >= 0)
            close(out_pipe[i]);
    }
    free(envp);
    free(buf);
    return rc;
}

#endif
