/* train/sigint.h: Ctrl-C handling for long runs. SIGINT and SIGTERM only set a flag
 * (async-signal-safe); the training loop polls it between steps, finishes the step,
 * writes a clean checkpoint and returns. A second signal while the flag is already set
 * falls back to the default action (the process dies), so a stuck run can still be
 * killed with a second Ctrl-C. The exit status of a run stopped this way is
 * 128 + signal (130 for SIGINT, 143 for SIGTERM), the shell convention. */
#ifndef AMT_TRAIN_SIGINT_H
#define AMT_TRAIN_SIGINT_H

/* Installs the handlers for SIGINT and SIGTERM (saving the previous ones) and clears the
 * flag. Nested calls are counted; only the outermost install/restore touch the handlers.
 * AMT_OK, or AMT_EINTERNAL when sigaction fails. */
int amt_sigint_install(void);
/* Restores the handlers saved by the matching outermost amt_sigint_install. */
void amt_sigint_restore(void);
/* The signal number caught since the last install/clear (SIGINT or SIGTERM), or 0. */
int amt_sigint_caught(void);
/* Clears the flag. */
void amt_sigint_clear(void);

#endif
