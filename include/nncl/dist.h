/* nncl/dist.h: data-parallel training over MPI: each process (rank) trains on its shard of every
   global batch and the ranks average their gradients with all-reduce, so every rank takes the
   same optimizer step. Built when meson finds Open MPI (-Dmpi=auto|enabled|disabled); without it
   every call that needs MPI fails with NNCL_ERR_UNSUPPORTED. See docs/TRAINING.md. */
#ifndef NNCL_DIST_H
#define NNCL_DIST_H

#include "nncl/train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nncl_dist nncl_dist;

/* 1 when nncl was built with MPI. */
NNCL_API int nncl_dist_built(void);

/* Joins the job of MPI_COMM_WORLD (initialising MPI unless the caller did; then the caller
   finalises it too). Errors on any collective come back as a status instead of aborting the
   job, and no collective waits longer than timeout_s seconds (30 when <= 0): a dead or hung rank
   fails the call with NNCL_ERR_COMM and a message naming the ranks that did not answer. The
   first gradient exchange, and the first after the global batch size changes (nncl_dist_shard),
   get ten times as long: those steps plan and compile kernels, which takes a different time on
   each rank. Errors are recorded on ctx. */
NNCL_API nncl_status nncl_dist_create(nncl_context *ctx, double timeout_s, nncl_dist **out);
/* Finalises MPI when create initialised it and no collective failed (after a failure MPI
   cannot finish cleanly: the process should exit with an error, and mpirun ends the job). */
NNCL_API void nncl_dist_destroy(nncl_dist *d);
NNCL_API int nncl_dist_rank(const nncl_dist *d);
NNCL_API int nncl_dist_size(const nncl_dist *d);

/* Makes t data-parallel: rank 0's parameters, optimizer state, step count and BatchNorm
   statistics are broadcast to every rank (so initialise or load on rank 0, then attach), and
   from now on each nncl_trainer_step averages the gradients over the ranks before the optimizer
   runs: in buckets of about bucket_bytes that start all-reducing as soon as the backward nodes
   producing them are done, while the rest of backward still runs. 0 takes 25 MiB, PyTorch DDP's
   bucket_cap_mb: every bucket pays the all-reduce's latency once per ring step, so smaller
   buckets overlap sooner but send more messages. t must outlive d or be detached by destroying d
   first. */
NNCL_API nncl_status nncl_dist_attach(nncl_dist *d, nncl_trainer *t, size_t bucket_bytes);

/* This rank's shard of a global batch of n samples: [*offset, *offset + *count), n / size
   samples each and the first n % size ranks one more. The next step weights this rank's
   gradient (the mean over its shard) by count / n before the sum over ranks, so the result is
   the gradient of the mean loss over all n samples, as one process would compute it. Error when
   n < size (a rank would have no sample). */
NNCL_API nncl_status nncl_dist_shard(nncl_dist *d, int64_t n, int64_t *offset, int64_t *count);

/* Sums v[0..n) over the ranks in place (in double), under the same deadline: loss and accuracy
   counts of a step. */
NNCL_API nncl_status nncl_dist_sum(nncl_dist *d, double *v, int n);

/* Where the last step's time went on this rank. comm_s: inside MPI calls and gradient copies
   between device and host; wait_s: blocked after backward for all-reduces still in flight (the
   part communication did not hide, plus waiting for slower ranks); bytes: gradient bytes this
   rank all-reduced, in `buckets` all-reduces of which `overlapped` started while the device was
   still running the step's graph. Compute is the step's time less comm_s and wait_s. */
typedef struct nncl_dist_stats {
  double comm_s, wait_s;
  uint64_t bytes;
  int buckets, overlapped;
} nncl_dist_stats;
NNCL_API void nncl_dist_last_step(const nncl_dist *d, nncl_dist_stats *s);

#ifdef __cplusplus
}
#endif
#endif
