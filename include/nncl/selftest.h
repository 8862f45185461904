/* nncl/selftest.h: builds and runs a few kernels on a context's device and checks the results. */
#ifndef NNCL_SELFTEST_H
#define NNCL_SELFTEST_H

#include "nncl/context.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nncl_selftest_check {
  char name[64];
  int passed;
  double max_abs_error;
  double seconds; /* wall time including any program build */
  char detail[256];
} nncl_selftest_check;

#define NNCL_SELFTEST_MAX 8

typedef struct nncl_selftest_report {
  int count;
  int passed;
  nncl_selftest_check checks[NNCL_SELFTEST_MAX];
} nncl_selftest_report;

/* Runs every check; returns NNCL_OK when the checks could run (see report->passed for the verdict)
   or the error that stopped them. */
NNCL_API nncl_status nncl_selftest(nncl_context *ctx, nncl_selftest_report *report);

#ifdef __cplusplus
}
#endif
#endif
