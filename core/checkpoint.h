/* core/checkpoint.h: HDF5 checkpoints (libhdf5), readable by any h5py user:
 *
 *   /params/<layer>/<name>   one dataset per parameter, shaped like the tensor, float32
 *                            (trainable ones as IEEE float16 with AMT_CKPT_FLOAT16: h5py
 *                            reads numpy float16; non-trainable state such as batch-norm
 *                            statistics and decoding thresholds stays float32, exact)
 *   /optim/<param>/<state>   optimizer state buffers ("m", "v", "momentum"), float32;
 *                            /optim has attributes kind ("adam"...) and step (int64)
 *   / attributes             format_version (int32), model (string), config (string, the
 *                            full INI text), step, epoch (int64), rng (4 x uint64)
 *
 * String attributes are fixed-length UTF-8 (h5py gives bytes: f.attrs['config'].decode()).
 * The file starts with a 512-byte HDF5 user block (HDF5 and h5py skip it) holding
 * "AMT-CHECKPOINT", the file size and a CRC-32 of the rest: a truncated or corrupted file
 * is rejected before HDF5 parses it. Datasets also carry HDF5 Fletcher-32 checksums.
 * Saving writes "PATH.tmp", fsyncs it and renames it over PATH: a crash or a failure
 * mid-write leaves the previous checkpoint intact. Loading checks the format version, the
 * model kind, and every parameter's name and shape (missing, extra or mis-shaped datasets
 * are errors naming the file and the first mismatch; a parameter marked optional,
 * amt_params_set_optional, may be missing and then keeps its value) before changing anything: a failed
 * load leaves the parameters and optimizer untouched. No function here prints; HDF5's own
 * error printing is switched off. libhdf5 (Debian's serial build) is not thread-safe: call
 * these from one thread at a time. */
#ifndef AMT_CHECKPOINT_H
#define AMT_CHECKPOINT_H

#include <stdint.h>

#include "optim.h"
#include "param.h"
#include "rng.h"

#define AMT_CKPT_FORMAT_VERSION 1
#define AMT_CKPT_FLOAT16 1     /* save flag: trainable parameters as float16 (shipped models) */
#define AMT_CKPT_MODEL_MAX 64

typedef struct amt_ckpt_info {
    int format_version;            /* set by load/read_info; save always writes the current one */
    char model[AMT_CKPT_MODEL_MAX];/* model kind, e.g. "separator" */
    char *config;                  /* save: INI text to store (NULL = ""); load: malloc'd copy */
    int64_t step, epoch;
    amt_rng rng;
} amt_ckpt_info;

/* Saves ps (all parameters, trainable or not), opt's state when opt != NULL, and info
 * (required: model kind non-empty) to path, atomically. flags: AMT_CKPT_FLOAT16 or 0.
 * AMT_EIO (message naming the file) when it cannot be written; the old file then survives. */
int amt_checkpoint_save(const char *path, const amt_params *ps, const amt_optim *opt, const amt_ckpt_info *info, int flags);

/* Loads path into the existing parameters ps (built by the model first), and into opt
 * (state buffers, kind and step) when opt != NULL. model: the expected kind, or NULL to
 * accept any. info (may be NULL) receives the attributes; free its config with
 * amt_ckpt_info_free. Errors: AMT_EIO (missing/unreadable), AMT_EFORMAT (not HDF5,
 * truncated, corrupted, wrong version or model, missing/extra dataset, wrong shape). */
int amt_checkpoint_load(const char *path, const char *model, amt_params *ps, amt_optim *opt, amt_ckpt_info *info);

/* Reads only the attributes (e.g. the config, to build the model before loading). */
int amt_checkpoint_read_info(const char *path, amt_ckpt_info *info);
/* Frees info->config. */
void amt_ckpt_info_free(amt_ckpt_info *info);

/* One item of amt_checkpoint_inspect: a dataset ("/params/fc/weight"), or an attribute
 * ("/@step", "/optim@kind"). Strings are valid during the callback only. */
typedef struct amt_ckpt_item {
    int is_attr;
    const char *name;
    const char *dtype;   /* "float32", "float16", "float64", "int32", "int64", "uint64", "string", "other" */
    int ndim;            /* 0 for scalars */
    int64_t shape[8];
    const char *text;    /* string attributes: the value; else NULL */
    double value;        /* numeric scalar attributes: the value */
} amt_ckpt_item;

/* Calls fn for every attribute and dataset of path (read-only), in name order. */
int amt_checkpoint_inspect(const char *path, void (*fn)(void *ctx, const amt_ckpt_item *item), void *ctx);

/* IEEE half conversions (round to nearest even), as the float16 storage uses. */
uint16_t amt_f32_to_f16(float f);
float amt_f16_to_f32(uint16_t h);

#endif
