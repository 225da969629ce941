/* core/amt.h: the core in one include. */
#ifndef AMT_CORE_H
#define AMT_CORE_H

#include "arena.h"
#include "checkpoint.h"
#include "config.h"
#include "error.h"
#include "graph.h"
#include "ops.h"
#include "optim.h"
#include "param.h"
#include "rng.h"
#include "tensor.h"
#include "threads.h"

#endif
