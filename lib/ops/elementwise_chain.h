/* elementwise_chain.h: the limits and operand coding of nncl.ElementwiseChain nodes, shared by the
   op (elementwise_chain.c) and the pass that makes them (lib/graph/pass_fuse_elementwise.c). */
#ifndef NNCL_ELEMENTWISE_CHAIN_H
#define NNCL_ELEMENTWISE_CHAIN_H

#include "../../kernels/common/dims_layout.h"

/* Most steps one kernel evaluates (kernels/elementwise_chain.cl spells out STEP1..STEP16). */
#define CHAIN_MAX_STEPS 16
/* An operand code k < CHAIN_STEP_BASE reads input k; CHAIN_STEP_BASE + j reads step j. */
#define CHAIN_STEP_BASE 100

#endif
