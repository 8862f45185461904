/* nncl/nncl.h: the whole public API. */
#ifndef NNCL_NNCL_H
#define NNCL_NNCL_H
#include "nncl/status.h"
#include "nncl/context.h"
#include "nncl/tensor.h"
#include "nncl/selftest.h"
#include "nncl/graph.h"
#include "nncl/onnx.h"
#include "nncl/bench.h"
#include "nncl/profile.h"
#include "nncl/train.h"
#include "nncl/dist.h"
#endif
