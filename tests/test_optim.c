/* tests/test_optim.c: SGD (momentum, Nesterov), Adam, AdamW against torch.optim goldens
 * (tests/golden/make_golden_optim.py), gradient clipping against clip_grad_norm_, the
 * learning-rate schedules against their closed forms, state naming, bad configs.
 * (Zero allocations per optimizer step is proven in tests/test_alloc.c, which wraps malloc.) */
#include <stdlib.h>

#include "core/amt.h"
#include "core/config.h"
#include "core/optim.h"
#include "tests/golden.h"
#include "tests/test.h"

#define GOLDEN "tests/golden/optim.txt"
#define STEPS 5

typedef struct { amt_params ps; amt_tensor *w, *b, *frozen; float *w0, *b0, *gw, *gb; } fixture;

static int fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    amt_params_init(&f->ps);
    int sw[2] = {3, 4}, sb[1] = {4};
    f->w = amt_params_add(&f->ps, "fc/weight", 2, sw, 1);
    f->frozen = amt_params_add(&f->ps, "bn/running_mean", 1, sb, 0);
    f->b = amt_params_add(&f->ps, "fc/bias", 1, sb, 1);
    f->w0 = golden_get(GOLDEN, "w0", NULL, NULL, NULL);
    f->b0 = golden_get(GOLDEN, "b0", NULL, NULL, NULL);
    f->gw = golden_get(GOLDEN, "gw", NULL, NULL, NULL);
    f->gb = golden_get(GOLDEN, "gb", NULL, NULL, NULL);
    if (!f->w || !f->b || !f->frozen || !f->w0 || !f->b0 || !f->gw || !f->gb) return 0;
    memcpy(f->w->data, f->w0, 12 * sizeof(float));
    memcpy(f->b->data, f->b0, 4 * sizeof(float));
    for (int i = 0; i < 4; i++) f->frozen->data[i] = 0.5f + (float)i;
    return 1;
}

static void fixture_free(fixture *f)
{
    free(f->w0); free(f->b0); free(f->gw); free(f->gb);
    amt_params_free(&f->ps);
}

/* runs STEPS steps of cfg and compares each step's parameters with the golden "<tag>_w<s>" */
static void run_case(const char *tag, const amt_optim_config *cfg, double tol)
{
    fixture f;
    if (!fixture_init(&f)) { fixture_free(&f); CHECK(0); return; }
    amt_optim *o = amt_optim_new(&f.ps, cfg);
    REQUIRE(o);
    double worst = 0;
    for (int s = 0; s < STEPS; s++) {
        memcpy(f.w->grad, f.gw + 12 * s, 12 * sizeof(float));
        memcpy(f.b->grad, f.gb + 4 * s, 4 * sizeof(float));
        CHECK_OK(amt_optim_step(o));
        char nw[64], nb[64];
        snprintf(nw, sizeof nw, "%s_w%d", tag, s);
        snprintf(nb, sizeof nb, "%s_b%d", tag, s);
        float *ew = golden_get(GOLDEN, nw, NULL, NULL, NULL), *eb = golden_get(GOLDEN, nb, NULL, NULL, NULL);
        REQUIRE(ew && eb);
        double rw = golden_max_rel(f.w->data, ew, 12, 1e-3), rb = golden_max_rel(f.b->data, eb, 4, 1e-3);
        if (rw > worst) worst = rw;
        if (rb > worst) worst = rb;
        free(ew); free(eb);
    }
    CHECK_MSG(worst <= tol, "%s: max relative error %.3g > %.3g", tag, worst, tol);
    CHECK(o->step == STEPS);
    /* the non-trainable parameter is untouched and has no state */
    for (int i = 0; i < 4; i++) CHECK(f.frozen->data[i] == 0.5f + (float)i);
    for (int i = 0; i < amt_optim_n_state(o); i++) CHECK(strncmp(amt_optim_state_at(o, i)->name, "bn/", 3) != 0);
    amt_optim_free(o);
    fixture_free(&f);
}

static void test_sgd_momentum_golden(void)
{
    amt_optim_config c;
    amt_optim_config_default(&c, AMT_OPTIM_SGD);
    c.lr = 0.1; c.momentum = 0.9; c.weight_decay = 0.01;
    run_case("sgd", &c, 1e-5);
}

static void test_sgd_nesterov_golden(void)
{
    amt_optim_config c;
    amt_optim_config_default(&c, AMT_OPTIM_SGD);
    c.lr = 0.05; c.momentum = 0.8; c.nesterov = 1;
    run_case("nesterov", &c, 1e-5);
}

static void test_adam_golden(void)
{
    amt_optim_config c;
    amt_optim_config_default(&c, AMT_OPTIM_ADAM);
    c.lr = 0.01; c.weight_decay = 0.01;
    run_case("adam", &c, 1e-5);
}

static void test_adamw_golden(void)
{
    amt_optim_config c;
    amt_optim_config_default(&c, AMT_OPTIM_ADAMW);
    c.lr = 0.01; c.beta1 = 0.8; c.beta2 = 0.99; c.eps = 1e-6; c.weight_decay = 0.1;
    run_case("adamw", &c, 1e-5);
}

static void test_state_names(void)
{
    fixture f;
    if (!fixture_init(&f)) { fixture_free(&f); CHECK(0); return; }
    amt_optim_config c;
    amt_optim_config_default(&c, AMT_OPTIM_ADAM);
    amt_optim *o = amt_optim_new(&f.ps, &c);
    REQUIRE(o);
    CHECK(amt_optim_n_state(o) == 4);
    amt_optim_state *m = amt_optim_find_state(o, "fc/weight/m"), *v = amt_optim_find_state(o, "fc/bias/v");
    REQUIRE(m && v);
    CHECK(m->t.ndim == 2 && m->t.shape[0] == 3 && m->t.shape[1] == 4 && m->t.size == 12);
    CHECK(v->t.size == 4 && v->param == amt_params_find(&f.ps, "fc/bias"));
    CHECK(amt_optim_find_state(o, "bn/running_mean/m") == NULL);
    amt_optim_free(o);

    amt_optim_config_default(&c, AMT_OPTIM_SGD);
    c.momentum = 0.5;
    o = amt_optim_new(&f.ps, &c);
    REQUIRE(o);
    CHECK(amt_optim_n_state(o) == 2);
    CHECK(amt_optim_find_state(o, "fc/weight/momentum") != NULL);
    amt_optim_free(o);
    c.momentum = 0;   /* plain SGD keeps no state */
    o = amt_optim_new(&f.ps, &c);
    REQUIRE(o);
    CHECK(amt_optim_n_state(o) == 0);
    amt_optim_free(o);
    fixture_free(&f);
}

static void test_clip_golden(void)
{
    const char *tags[2] = {"clip_lo", "clip_hi"};
    const double max_norm[2] = {1.0, 100.0};
    for (int k = 0; k < 2; k++) {
        fixture f;
        if (!fixture_init(&f)) { fixture_free(&f); CHECK(0); return; }
        memcpy(f.w->grad, f.gw, 12 * sizeof(float));
        memcpy(f.b->grad, f.gb, 4 * sizeof(float));
        double n = amt_clip_grad_norm(&f.ps, max_norm[k]);
        char name[64];
        snprintf(name, sizeof name, "%s_norm", tags[k]);
        float *en = golden_get(GOLDEN, name, NULL, NULL, NULL);
        snprintf(name, sizeof name, "%s_gw", tags[k]);
        float *ew = golden_get(GOLDEN, name, NULL, NULL, NULL);
        snprintf(name, sizeof name, "%s_gb", tags[k]);
        float *eb = golden_get(GOLDEN, name, NULL, NULL, NULL);
        REQUIRE(en && ew && eb);
        CHECK_NEAR(n, en[0], 1e-6 * en[0]);
        CHECK(golden_max_rel(f.w->grad, ew, 12, 1e-3) < 1e-6);
        CHECK(golden_max_rel(f.b->grad, eb, 4, 1e-3) < 1e-6);
        free(en); free(ew); free(eb);
        fixture_free(&f);
    }
    /* after clipping to 1, the norm is 1 (up to the 1e-6 of the formula); max_norm 0 only measures */
    fixture f;
    if (!fixture_init(&f)) { fixture_free(&f); CHECK(0); return; }
    memcpy(f.w->grad, f.gw, 12 * sizeof(float));
    memcpy(f.b->grad, f.gb, 4 * sizeof(float));
    double n0 = amt_clip_grad_norm(&f.ps, 0);
    CHECK(amt_clip_grad_norm(&f.ps, 0) == n0);
    amt_clip_grad_norm(&f.ps, 1.0);
    CHECK_NEAR(amt_clip_grad_norm(&f.ps, 0), 1.0, 1e-5);
    fixture_free(&f);
}

static void test_schedules(void)
{
    amt_optim_config c;
    amt_optim_config_default(&c, AMT_OPTIM_ADAM);
    c.lr = 0.1;
    for (int s = 0; s < 1000; s += 97) CHECK(amt_sched_lr(&c, s) == 0.1);

    c.sched = AMT_SCHED_STEP; c.step_size = 10; c.gamma = 0.5;
    CHECK_NEAR(amt_sched_lr(&c, 0), 0.1, 1e-15);
    CHECK_NEAR(amt_sched_lr(&c, 9), 0.1, 1e-15);
    CHECK_NEAR(amt_sched_lr(&c, 10), 0.05, 1e-15);
    CHECK_NEAR(amt_sched_lr(&c, 29), 0.025, 1e-15);
    CHECK_NEAR(amt_sched_lr(&c, 30), 0.0125, 1e-15);

    c.sched = AMT_SCHED_COSINE; c.warmup_steps = 10; c.total_steps = 110; c.min_lr = 0.001;
    CHECK_NEAR(amt_sched_lr(&c, 0), 0.01, 1e-15);    /* (0 + 1) / 10 of lr */
    CHECK_NEAR(amt_sched_lr(&c, 4), 0.05, 1e-15);
    CHECK_NEAR(amt_sched_lr(&c, 9), 0.1, 1e-15);
    CHECK_NEAR(amt_sched_lr(&c, 10), 0.1, 1e-15);    /* cosine starts at lr */
    CHECK_NEAR(amt_sched_lr(&c, 60), 0.001 + 0.099 * 0.5, 1e-12);   /* halfway */
    CHECK_NEAR(amt_sched_lr(&c, 35), 0.001 + 0.099 * 0.5 * (1 + cos(M_PI * 0.25)), 1e-12);
    CHECK_NEAR(amt_sched_lr(&c, 110), 0.001, 1e-15);
    CHECK_NEAR(amt_sched_lr(&c, 5000), 0.001, 1e-15);
    c.warmup_steps = 0;
    CHECK_NEAR(amt_sched_lr(&c, 0), 0.1, 1e-15);

    /* the optimizer follows its schedule and counts steps */
    amt_params ps;
    amt_params_init(&ps);
    int one = 1;
    amt_tensor *p = amt_params_add(&ps, "p", 1, &one, 1);
    REQUIRE(p);
    amt_optim_config_default(&c, AMT_OPTIM_SGD);
    c.lr = 1.0; c.sched = AMT_SCHED_STEP; c.step_size = 2; c.gamma = 0.1;
    amt_optim *o = amt_optim_new(&ps, &c);
    REQUIRE(o);
    const double expect_p[4] = {-1.0, -2.0, -2.1, -2.2};
    for (int s = 0; s < 4; s++) {
        p->grad[0] = 1.0f;
        CHECK(o->step == s);
        CHECK_OK(amt_optim_step(o));
        CHECK_NEAR(p->data[0], expect_p[s], 1e-6);
    }
    CHECK_NEAR(amt_optim_lr(o), 0.01, 1e-15);
    amt_optim_reset(o);
    CHECK(o->step == 0 && amt_optim_lr(o) == 1.0);
    amt_optim_free(o);
    amt_params_free(&ps);
}

static void test_bad_configs(void)
{
    amt_params ps;
    amt_params_init(&ps);
    amt_optim_config c;
    amt_optim_config_default(&c, AMT_OPTIM_SGD);
    c.momentum = 1.5;
    CHECK(amt_optim_new(&ps, &c) == NULL);
    CHECK(strstr(amt_errmsg(), "momentum") != NULL);
    amt_optim_config_default(&c, AMT_OPTIM_ADAM);
    c.beta2 = 1.0;
    CHECK(amt_optim_new(&ps, &c) == NULL);
    CHECK(strstr(amt_errmsg(), "beta2") != NULL);
    amt_optim_config_default(&c, AMT_OPTIM_ADAMW);
    c.lr = -1;
    CHECK(amt_optim_new(&ps, &c) == NULL);
    CHECK(strstr(amt_errmsg(), "lr") != NULL);
    amt_optim_config_default(&c, AMT_OPTIM_ADAM);
    c.sched = AMT_SCHED_COSINE; c.warmup_steps = 100; c.total_steps = 50;
    CHECK(amt_optim_new(&ps, &c) == NULL);
    CHECK(strstr(amt_errmsg(), "total_steps") != NULL);
    amt_optim_config_default(&c, AMT_OPTIM_ADAM);
    c.sched = AMT_SCHED_STEP; c.step_size = 0;
    CHECK(amt_optim_new(&ps, &c) == NULL);
    CHECK(strstr(amt_errmsg(), "step_size") != NULL);
    CHECK(strcmp(amt_optim_kind_name(AMT_OPTIM_ADAMW), "adamw") == 0);
    CHECK(strcmp(amt_sched_kind_name(AMT_SCHED_COSINE), "cosine") == 0);
    amt_params_free(&ps);
}

static void test_config_read(void)
{
    amt_config *c = amt_config_from_string("[optim]\noptimizer = sgd\nlr = 0.05\nmomentum = 0.9\nnesterov = yes\n"
                                           "schedule = cosine\nwarmup_steps = 10\ntotal_steps = 1000\nmin_lr = 1e-5\nclip_norm = 5\n",
                                           "t.ini");
    REQUIRE(c);
    amt_optim_config o;
    CHECK_OK(amt_optim_config_read(c, "optim", &o));
    CHECK(o.kind == AMT_OPTIM_SGD && o.lr == 0.05 && o.momentum == 0.9 && o.nesterov == 1);
    CHECK(o.sched == AMT_SCHED_COSINE && o.warmup_steps == 10 && o.total_steps == 1000 && o.min_lr == 1e-5 && o.clip_norm == 5);
    CHECK_OK(amt_config_check_unused(c));
    amt_config_free(c);

    c = amt_config_from_string("[optim]\noptimizer = adagrad\n", "t.ini");
    REQUIRE(c);
    CHECK(amt_optim_config_read(c, "optim", &o) == AMT_ECONFIG);
    CHECK(strstr(amt_errmsg(), "t.ini:2: optim.optimizer: 'adagrad' is not one of: sgd, adam, adamw") != NULL);
    amt_config_free(c);
    c = amt_config_from_string("[optim]\nschedule = cosine\nwarmup_steps = 10\ntotal_steps = 5\n", "t.ini");
    REQUIRE(c);
    CHECK(amt_optim_config_read(c, "optim", &o) == AMT_ECONFIG);
    CHECK(strstr(amt_errmsg(), "t.ini: [optim]: optimizer: cosine total_steps 5 must exceed warmup_steps 10") != NULL);
    amt_config_free(c);
    c = amt_config_from_string("[optim]\nlr = -1\n", "t.ini");
    REQUIRE(c);
    CHECK(amt_optim_config_read(c, "optim", &o) == AMT_ECONFIG);
    CHECK(strstr(amt_errmsg(), "t.ini:2: optim.lr: -1 outside [0, 10]") != NULL);
    amt_config_free(c);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    RUN(test_sgd_momentum_golden);
    RUN(test_sgd_nesterov_golden);
    RUN(test_adam_golden);
    RUN(test_adamw_golden);
    RUN(test_state_names);
    RUN(test_clip_golden);
    RUN(test_schedules);
    RUN(test_bad_configs);
    RUN(test_config_read);
    return TEST_DONE();
}
