/* core/ops.h: every op of the core, one header per op family in core/ops/. */
#ifndef AMT_OPS_H
#define AMT_OPS_H

#include "ops/batchnorm.h"
#include "ops/conv2d.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "ops/lstm.h"
#include "ops/mask.h"
#include "ops/matmul.h"
#include "ops/pool.h"
#include "ops/reduce.h"
#include "ops/shape.h"

#endif
