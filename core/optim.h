/* core/optim.h: optimizers over an amt_params store, learning-rate schedules, gradient
 * clipping. Update formulas are exactly PyTorch's (torch.optim.SGD / Adam / AdamW):
 *
 *   SGD:   g = grad + wd p;  buf = momentum buf + g (buf = g on the first step);
 *          g = nesterov ? g + momentum buf : buf;  p -= lr g
 *   Adam:  g = grad + wd p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *          p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *   AdamW: p *= 1 - lr wd, then Adam without the wd term.
 *
 * The optimizer owns its state buffers, allocated once by amt_optim_new: a step allocates
 * nothing. Non-trainable parameters (t.grad == NULL) are skipped and get no state.
 * Usage: build graph; loop { zero_grad; forward; backward; [amt_clip_grad_norm]; amt_optim_step }. */
#ifndef AMT_OPTIM_H
#define AMT_OPTIM_H

#include <stdint.h>

#include "param.h"

typedef enum { AMT_OPTIM_SGD = 0, AMT_OPTIM_ADAM = 1, AMT_OPTIM_ADAMW = 2 } amt_optim_kind;
typedef enum { AMT_SCHED_CONSTANT = 0, AMT_SCHED_STEP = 1, AMT_SCHED_COSINE = 2 } amt_sched_kind;

typedef struct amt_optim_config {
    amt_optim_kind kind;
    double lr;            /* base learning rate */
    double momentum;      /* SGD (0 = plain SGD, no state) */
    int nesterov;         /* SGD with momentum > 0 */
    double beta1, beta2, eps;  /* Adam, AdamW */
    double weight_decay;  /* SGD/Adam: L2 added to the gradient; AdamW: decoupled */
    /* schedule: lr at step s (0-based count of steps already taken):
     *   constant: lr
     *   step:     lr * gamma^floor(s / step_size)
     *   cosine:   s < warmup: lr * (s + 1) / warmup;
     *             else min_lr + (lr - min_lr) (1 + cos(pi * min(1, (s - warmup) / (total - warmup)))) / 2 */
    amt_sched_kind sched;
    int step_size;        /* step schedule: steps between decays (> 0) */
    double gamma;         /* step schedule: decay factor */
    int warmup_steps;     /* cosine: linear warm-up length (0 = none) */
    int total_steps;      /* cosine: step at which lr reaches min_lr (> warmup_steps) */
    double min_lr;        /* cosine: final lr */
    double clip_norm;     /* for the training loop: amt_clip_grad_norm(ps, clip_norm) before
                             each step; 0 = no clipping. amt_optim_step does not clip. */
} amt_optim_config;

/* PyTorch defaults for kind: lr 1e-3, momentum 0, betas (0.9, 0.999), eps 1e-8, weight
 * decay 0 (AdamW: 1e-2), constant schedule, gamma 0.1, step_size 1000. */
void amt_optim_config_default(amt_optim_config *c, amt_optim_kind kind);
/* Reads an optimizer section of an INI config (core/config.h) over the defaults:
 *   optimizer = sgd|adam|adamw (default adam), lr, momentum, nesterov, beta1, beta2, eps,
 *   weight_decay, schedule = constant|step|cosine, step_size, gamma, warmup_steps,
 *   total_steps, min_lr, clip_norm
 * Each key is validated (range) with a "file:line: section.key: problem" error, and the
 * whole is checked as amt_optim_new would (then the message names the section). */
struct amt_config;
int amt_optim_config_read(struct amt_config *c, const char *section, amt_optim_config *out);
/* "sgd", "adam", "adamw" / "constant", "step", "cosine" (for configs and checkpoints). */
const char *amt_optim_kind_name(amt_optim_kind k);
const char *amt_sched_kind_name(amt_sched_kind k);
/* Learning rate the schedule gives at step s (pure function of c and s). */
double amt_sched_lr(const amt_optim_config *c, int64_t s);

/* One state buffer: name "<param>/m", "<param>/v" (Adam/AdamW) or "<param>/momentum"
 * (SGD), a tensor shaped like the parameter (data owned by the optimizer). */
typedef struct amt_optim_state {
    char name[AMT_PARAM_NAME_MAX + 16];
    amt_tensor t;
    amt_param *param;
} amt_optim_state;

typedef struct amt_optim {
    amt_optim_config cfg;
    amt_params *ps;       /* not owned; must outlive the optimizer, no params added after */
    int64_t step;         /* steps taken (the t of Adam's bias correction is step + 1) */
    amt_optim_state *state;
    int n_state;
    float **slot;         /* 2 per parameter of ps: slot[2i] = momentum or m, slot[2i+1] = v (or NULL) */
} amt_optim;

/* New optimizer over ps (every trainable parameter), state zeroed; NULL with error set on a
 * bad configuration (message names the bad field) or out of memory. */
amt_optim *amt_optim_new(amt_params *ps, const amt_optim_config *c);
void amt_optim_free(amt_optim *o);
/* The learning rate the next amt_optim_step will use. */
double amt_optim_lr(const amt_optim *o);
/* Applies one update from the parameters' gradients at amt_optim_lr(o), then step++.
 * Allocates nothing. Returns AMT_OK. */
int amt_optim_step(amt_optim *o);
/* Sets every state buffer to zero and step to 0. */
void amt_optim_reset(amt_optim *o);

/* State access for checkpoints: number of buffers, and buffer i (0 <= i < n). */
int amt_optim_n_state(const amt_optim *o);
amt_optim_state *amt_optim_state_at(amt_optim *o, int i);
/* The buffer called name ("<param>/<state>") or NULL. */
amt_optim_state *amt_optim_find_state(amt_optim *o, const char *name);

/* Clips gradients as torch.nn.utils.clip_grad_norm_: total = L2 norm over all trainable
 * gradients (double accumulation, parameter order); when total > max_norm every gradient is
 * scaled by max_norm / (total + 1e-6). Returns total (before clipping). max_norm <= 0 only
 * measures. Allocates nothing. */
double amt_clip_grad_norm(amt_params *ps, double max_norm);

#endif
