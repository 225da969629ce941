#include "param.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "error.h"

void amt_params_init(amt_params *ps) { ps->p = NULL; ps->n = ps->cap = 0; }

static float *alloc_floats(size_t n)
{
    void *mem = NULL;
    if (posix_memalign(&mem, AMT_ALIGN, (n ? n : 1) * sizeof(float)) != 0) return NULL;
    memset(mem, 0, (n ? n : 1) * sizeof(float));
    return mem;
}

int amt_params_set_optional(amt_params *ps, const char *name)
{
    amt_param *p = amt_params_find(ps, name);
    if (!p) return amt_error(AMT_EINVAL, "no parameter '%s' to mark optional", name ? name : "");
    p->optional = 1;
    return AMT_OK;
}

amt_tensor *amt_params_add(amt_params *ps, const char *name, int ndim, const int *shape, int trainable)
{
    if (!name || !*name || strlen(name) >= AMT_PARAM_NAME_MAX) {
        amt_error(AMT_EINVAL, "parameter name '%s' empty or longer than %d", name ? name : "", AMT_PARAM_NAME_MAX - 1);
        return NULL;
    }
    if (amt_params_find(ps, name)) { amt_error(AMT_EINVAL, "parameter '%s' defined twice", name); return NULL; }
    if (ps->n == ps->cap) {
        int cap = ps->cap ? 2 * ps->cap : 16;
        amt_param **np = realloc(ps->p, (size_t)cap * sizeof *np);
        if (!np) { amt_error(AMT_ENOMEM, "out of memory adding parameter '%s'", name); return NULL; }
        ps->p = np;
        ps->cap = cap;
    }
    amt_param *p = calloc(1, sizeof *p);
    if (!p) { amt_error(AMT_ENOMEM, "out of memory adding parameter '%s'", name); return NULL; }
    strcpy(p->name, name);
    if (amt_tensor_set_shape(&p->t, ndim, shape) != AMT_OK) {
        amt_error(AMT_EINVAL, "parameter '%s': %s", name, amt_errmsg());
        free(p);
        return NULL;
    }
    p->trainable = trainable;
    p->t.name = p->name;
    p->t.requires_grad = trainable;
    p->t.data = alloc_floats(p->t.size);
    p->t.grad = trainable ? alloc_floats(p->t.size) : NULL;
    if (!p->t.data || (trainable && !p->t.grad)) {
        free(p->t.data);
        free(p->t.grad);
        free(p);
        amt_error(AMT_ENOMEM, "out of memory for parameter '%s'", name);
        return NULL;
    }
    ps->p[ps->n++] = p;
    return &p->t;
}

amt_param *amt_params_find(const amt_params *ps, const char *name)
{
    for (int i = 0; i < ps->n; i++)
        if (strcmp(ps->p[i]->name, name) == 0) return ps->p[i];
    return NULL;
}

void amt_params_zero_grad(amt_params *ps)
{
    for (int i = 0; i < ps->n; i++)
        if (ps->p[i]->t.grad) memset(ps->p[i]->t.grad, 0, ps->p[i]->t.size * sizeof(float));
}

size_t amt_params_count(const amt_params *ps, int all)
{
    size_t n = 0;
    for (int i = 0; i < ps->n; i++)
        if (all || ps->p[i]->trainable) n += ps->p[i]->t.size;
    return n;
}

void amt_params_free(amt_params *ps)
{
    for (int i = 0; i < ps->n; i++) {
        free(ps->p[i]->t.data);
        free(ps->p[i]->t.grad);
        free(ps->p[i]);
    }
    free(ps->p);
    amt_params_init(ps);
}
