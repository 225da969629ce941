#include "sigint.h"

#include <signal.h>
#include <string.h>

#include "core/error.h"

static volatile sig_atomic_t caught;
static struct sigaction old_int, old_term;
static int depth;

static void on_signal(int sig)
{
    if (caught) {               /* second signal: let it kill the process */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    caught = sig;
}

int amt_sigint_install(void)
{
    if (depth++ > 0) return AMT_OK;
    caught = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;   /* reads and writes in progress continue */
    if (sigaction(SIGINT, &sa, &old_int) != 0) { depth--; return amt_error(AMT_EINTERNAL, "sigaction(SIGINT) failed"); }
    if (sigaction(SIGTERM, &sa, &old_term) != 0) {
        sigaction(SIGINT, &old_int, NULL);
        depth--;
        return amt_error(AMT_EINTERNAL, "sigaction(SIGTERM) failed");
    }
    return AMT_OK;
}

void amt_sigint_restore(void)
{
    if (depth <= 0 || --depth > 0) return;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
}

int amt_sigint_caught(void) { return (int)caught; }

void amt_sigint_clear(void) { caught = 0; }
