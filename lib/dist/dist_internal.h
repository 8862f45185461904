/* dist_internal.h: the MPI side of nncl_dist, shared by dist_mpi.c (the job, deadlines,
   broadcasts) and grad_sync.c (the bucketed gradient all-reduce). Only lib/dist includes mpi.h. */
#ifndef NNCL_DIST_INTERNAL_H
#define NNCL_DIST_INTERNAL_H

#include <mpi.h>

#include "nncl/dist.h"
#include "runtime.h"

struct grad_sync; /* grad_sync.c */

struct nncl_dist {
  nncl_context *ctx;
  MPI_Comm comm; /* a duplicate of MPI_COMM_WORLD with errors returned, not fatal */
  int rank, size;
  int own_init; /* create called MPI_Init, destroy finalises */
  int failed;   /* a collective failed or timed out: MPI cannot finalise cleanly */
  double timeout_s;
  double weight; /* this rank's gradient weight: shard count / global batch (nncl_dist_shard) */
  int64_t step;  /* gradient exchanges so far */
  /* the next exchange follows a new plan on some rank (the first step, or a new global batch
     size, which changes shard sizes): kernels compile, for a different time on each rank, so it
     gets a longer deadline. The same on every rank: all see the same global batch sizes. */
  int replanned;
  int64_t last_n;      /* global batch of the last shard */
  nncl_dist_stats cur; /* the step under way */
  nncl_dist_stats last;
  struct grad_sync *sync;
};

/* Waits for the n requests until each completes or the deadline passes (timeout_s, times
   `grace`), counting the time as waiting when `waiting`, else as communication. On a failure or
   timeout: NNCL_ERR_COMM naming this rank, `what`, and the ranks that did not answer a probe;
   marks d failed. */
nncl_status nncl__dist_wait(nncl_dist *d, int n, MPI_Request *req, const char *what, double grace,
                            int waiting);
/* An MPI error code as NNCL_ERR_COMM with MPI's text; marks d failed. */
nncl_status nncl__dist_mpi_error(nncl_dist *d, int rc, const char *what);
double nncl__dist_now(void);

/* grad_sync.c */
nncl_status nncl__grad_sync_create(nncl_dist *d, nncl_trainer *t, size_t bucket_bytes);
void nncl__grad_sync_destroy(struct grad_sync *s);

#endif
