#include "registry.h"

#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/error.h"
#include "train/kinds.h"

#define MAX_KINDS 32

/* To add a model kind: include its header and list its amt_model_kind here. */
static const amt_model_kind *const KINDS[] = {
    &amt_transcriber_kind,
    &amt_separator_kind,
    &amt_classifier_kind,
    NULL,
};

const amt_model_kind *const *amt_model_kinds(void) { return KINDS; }

const amt_model_kind *amt_model_kind_find(const amt_model_kind *const *kinds, const char *name)
{
    if (!kinds) kinds = KINDS;
    for (int i = 0; kinds[i] && name; i++)
        if (!strcmp(kinds[i]->name, name)) return kinds[i];
    return NULL;
}

int amt_model_kind_read(amt_config *c, const amt_model_kind *const *kinds, const amt_model_kind **out)
{
    if (!kinds) kinds = KINDS;
    const char *names[MAX_KINDS + 2];
    int n = 0;
    for (; kinds[n] && n < MAX_KINDS; n++) names[n] = kinds[n]->name;
    if (n == 0) names[n++] = "(none built in)";   /* so the message still lists something */
    names[n] = NULL;
    int idx, rc = amt_config_get_enum(c, "model", "kind", names, -1, &idx);
    if (rc) return rc;
    if (!kinds[0]) return amt_error(AMT_ECONFIG, "%s: model.kind: no model kinds are built in", amt_config_path(c));
    *out = kinds[idx];
    return AMT_OK;
}

int amt_train_with_kind(amt_config *c, const amt_model_kind *k, const amt_train_opts *opts, amt_train_result *r)
{
    amt_train_config tc;
    amt_optim_config oc;
    int rc;
    if ((rc = amt_train_config_read(c, &tc)) || (rc = amt_optim_config_read(c, "optim", &oc))) return rc;
    amt_train_model m;
    memset(&m, 0, sizeof m);
    if ((rc = k->create(c, &tc, &m))) return rc;
    if ((rc = amt_config_check_unused(c))) { k->destroy(&m); return rc; }
    if (tc.steps_per_epoch == 0 && m.steps_per_epoch <= 0) {
        k->destroy(&m);
        return amt_error(AMT_ECONFIG, "%s: train.steps_per_epoch: missing required key (model kind '%s' has no default)",
                         amt_config_path(c), k->name);
    }
    char *text = amt_config_text(c);
    if (!text) { k->destroy(&m); return amt_error(AMT_ENOMEM, "out of memory"); }
    amt_train_opts o = *opts;
    o.model_kind = k->name;
    o.config_text = text;
    rc = amt_train_run(&m, &tc, &oc, &o, r);
    free(text);
    k->destroy(&m);
    return rc;
}
