/* dist_mpi.c: nncl_dist over MPI: joining the job, shards, sums, the broadcast of rank 0's
   training state, and the one wait every collective goes through, with its deadline and the
   probe that names ranks that stopped answering. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dist_internal.h"
#include "optim.h"
#include "trainer_internal.h"

#define PROBE_TAG 7301 /* point-to-point tag of the liveness probe after a timeout */

int nncl_dist_built(void) { return 1; }

double nncl__dist_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

nncl_status nncl__dist_mpi_error(nncl_dist *d, int rc, const char *what) {
  char text[MPI_MAX_ERROR_STRING] = "";
  int len = 0;
  MPI_Error_string(rc, text, &len);
  d->failed = 1;
  return nncl__error(d->ctx, NNCL_ERR_COMM, "rank %d of %d: %s failed: %s", d->rank, d->size, what,
                     text);
}

/* After a timeout: every rank that timed out sends its rank to all others and listens for a few
   seconds; the ranks not heard from are written to buf ("1, 3"). A dead or stopped rank never
   answers; a live one is stuck in the same collective and times out too, within the skew of
   the ranks' steps. */
static void silent_ranks(nncl_dist *d, char *buf, size_t len) {
  int n = d->size, me = d->rank;
  int *got = calloc((size_t)n, sizeof *got);
  MPI_Request *rr = calloc((size_t)n, sizeof *rr), *sr = calloc((size_t)n, sizeof *sr);
  snprintf(buf, len, "unknown");
  if (!got || !rr || !sr) goto done;
  for (int r = 0; r < n; r++) {
    rr[r] = sr[r] = MPI_REQUEST_NULL;
    got[r] = r == me;
    if (r == me) continue;
    if (MPI_Irecv(&got[r], 1, MPI_INT, r, PROBE_TAG, d->comm, &rr[r]) != MPI_SUCCESS)
      rr[r] = MPI_REQUEST_NULL;
    static const int one = 1;
    if (MPI_Isend(&one, 1, MPI_INT, r, PROBE_TAG, d->comm, &sr[r]) != MPI_SUCCESS)
      sr[r] = MPI_REQUEST_NULL;
  }
  double end = nncl__dist_now() + (d->timeout_s < 5.0 ? d->timeout_s : 5.0);
  for (int pending = 1; pending && nncl__dist_now() < end;) {
    pending = 0;
    for (int r = 0; r < n; r++) {
      int flag = 0;
      if (rr[r] == MPI_REQUEST_NULL) continue;
      if (MPI_Test(&rr[r], &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
        rr[r] = MPI_REQUEST_NULL; /* the peer's connection broke: it stays unheard */
        got[r] = 0;
      } else if (!flag) {
        pending = 1;
      }
    }
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  size_t off = 0;
  buf[0] = 0;
  for (int r = 0; r < n && off < len; r++)
    if (!got[r]) off += (size_t)snprintf(buf + off, len - off, "%s%d", off ? ", " : "", r);
  if (!off) snprintf(buf, len, "none (all answered the probe: a collective mismatch?)");
  /* the unanswered receives and sends are abandoned: MPI cannot finish cleanly after this */
  for (int r = 0; r < n; r++) {
    if (rr[r] != MPI_REQUEST_NULL) {
      MPI_Cancel(&rr[r]);
      MPI_Request_free(&rr[r]);
    }
    if (sr[r] != MPI_REQUEST_NULL) MPI_Request_free(&sr[r]);
  }
done:
  free(got);
  free(rr);
  free(sr);
}

nncl_status nncl__dist_wait(nncl_dist *d, int n, MPI_Request *req, const char *what, double grace,
                            int waiting) {
  double t0 = nncl__dist_now(), limit = d->timeout_s * grace;
  nncl_status st = NNCL_OK;
  for (;;) {
    int flag = 0, rc = MPI_Testall(n, req, &flag, MPI_STATUSES_IGNORE);
    if (rc != MPI_SUCCESS) {
      st = nncl__dist_mpi_error(d, rc, what);
      break;
    }
    if (flag) break;
    if (nncl__dist_now() - t0 > limit) {
      char who[256];
      silent_ranks(d, who, sizeof who);
      d->failed = 1;
      st = nncl__error(d->ctx, NNCL_ERR_COMM,
                       "rank %d of %d: %s did not complete within %.0f s; ranks not answering: %s "
                       "(dead, hung or far behind)",
                       d->rank, d->size, what, limit, who);
      break;
    }
    /* MPI progresses inside Test; a short sleep leaves the core to the device threads */
    nanosleep(&(struct timespec){0, 20000}, NULL);
  }
  double dt = nncl__dist_now() - t0;
  if (waiting)
    d->cur.wait_s += dt;
  else
    d->cur.comm_s += dt;
  return st;
}

nncl_status nncl_dist_create(nncl_context *ctx, double timeout_s, nncl_dist **out) {
  if (!out) return NNCL_ERR_INVALID_ARGUMENT;
  *out = NULL;
  nncl_dist *d = calloc(1, sizeof *d);
  if (!d) return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "dist");
  d->ctx = ctx;
  d->timeout_s = timeout_s > 0 ? timeout_s : 30.0;
  d->comm = MPI_COMM_NULL;
  int inited = 0, rc = MPI_Initialized(&inited);
  if (rc == MPI_SUCCESS && !inited) {
    rc = MPI_Init(NULL, NULL);
    d->own_init = rc == MPI_SUCCESS;
    /* errors of the calls below come back instead of ending the job */
    if (rc == MPI_SUCCESS) rc = MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  }
  if (rc == MPI_SUCCESS) rc = MPI_Comm_dup(MPI_COMM_WORLD, &d->comm);
  if (rc == MPI_SUCCESS) rc = MPI_Comm_set_errhandler(d->comm, MPI_ERRORS_RETURN);
  if (rc == MPI_SUCCESS) rc = MPI_Comm_rank(d->comm, &d->rank);
  if (rc == MPI_SUCCESS) rc = MPI_Comm_size(d->comm, &d->size);
  if (rc != MPI_SUCCESS) {
    nncl_status st = nncl__dist_mpi_error(d, rc, "joining the MPI job");
    nncl_dist_destroy(d);
    return st;
  }
  d->weight = 1.0 / d->size;
  *out = d;
  return NNCL_OK;
}

void nncl_dist_destroy(nncl_dist *d) {
  if (!d) return;
  nncl__grad_sync_destroy(d->sync);
  if (!d->failed) {
    if (d->comm != MPI_COMM_NULL) MPI_Comm_free(&d->comm);
    if (d->own_init) MPI_Finalize();
  }
  free(d);
}

int nncl_dist_rank(const nncl_dist *d) { return d ? d->rank : 0; }
int nncl_dist_size(const nncl_dist *d) { return d ? d->size : 1; }

nncl_status nncl_dist_shard(nncl_dist *d, int64_t n, int64_t *offset, int64_t *count) {
  if (!d || !offset || !count) return NNCL_ERR_INVALID_ARGUMENT;
  if (n < d->size)
    return nncl__error(d->ctx, NNCL_ERR_INVALID_ARGUMENT,
                       "dist: a global batch of %lld samples cannot be split over %d ranks "
                       "(each needs one)",
                       (long long)n, d->size);
  int64_t base = n / d->size, extra = n % d->size, r = d->rank;
  *count = base + (r < extra);
  *offset = r * base + (r < extra ? r : extra);
  d->weight = (double)*count / (double)n;
  d->replanned |= n != d->last_n;
  d->last_n = n;
  return NNCL_OK;
}

nncl_status nncl_dist_sum(nncl_dist *d, double *v, int n) {
  if (!d || (!v && n > 0) || n < 0) return NNCL_ERR_INVALID_ARGUMENT;
  MPI_Request req;
  int rc = MPI_Iallreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, d->comm, &req);
  if (rc != MPI_SUCCESS) return nncl__dist_mpi_error(d, rc, "sum");
  return nncl__dist_wait(d, 1, &req, "sum", 1.0, 0);
}

void nncl_dist_last_step(const nncl_dist *d, nncl_dist_stats *s) {
  if (d && s) *s = d->cur;
}

/* Rank 0's n floats to every rank. */
static nncl_status bcast(nncl_dist *d, float *data, int64_t n, const char *what) {
  MPI_Request req;
  int rc = MPI_Ibcast(data, (int)n, MPI_FLOAT, 0, d->comm, &req);
  if (rc != MPI_SUCCESS) return nncl__dist_mpi_error(d, rc, what);
  return nncl__dist_wait(d, 1, &req, what, 1.0, 0);
}

/* Rank 0's parameters, optimizer state, step count and BatchNorm statistics to every rank. */
static nncl_status bcast_state(nncl_dist *d, nncl_trainer *t) {
  char what[300];
  for (int i = 0; i < t->n_params; i++) {
    nncl_array a;
    NNCL_TRY(nncl_trainer_get_param(t, i, &a));
    snprintf(what, sizeof what, "broadcast of parameter '%s'", t->param[i]);
    nncl_status st = bcast(d, a.data, nncl_shape_numel(&a.shape), what);
    if (st == NNCL_OK && d->rank) st = nncl_trainer_set_param(t, i, &a);
    for (int k = 0; st == NNCL_OK && k < nncl__optim_state_count(t->opt); k++) {
      st = nncl__optim_state_read(t->opt, i, k, a.data);
      snprintf(what, sizeof what, "broadcast of the optimizer state of '%s'", t->param[i]);
      if (st == NNCL_OK) st = bcast(d, a.data, nncl_shape_numel(&a.shape), what);
      if (st == NNCL_OK && d->rank) st = nncl__optim_state_write(t->opt, i, k, a.data);
    }
    nncl_array_free(&a);
    NNCL_TRY(st);
  }
  for (int i = 0; i < t->n_bn; i++) {
    snprintf(what, sizeof what, "broadcast of BatchNorm statistics '%s'", t->bn[i].mean_name);
    NNCL_TRY(bcast(d, t->bn[i].mean.data, nncl_shape_numel(&t->bn[i].mean.shape), what));
    NNCL_TRY(bcast(d, t->bn[i].var.data, nncl_shape_numel(&t->bn[i].var.shape), what));
  }
  t->bn_dirty = 1;
  double steps = (double)nncl__optim_steps(t->opt);
  MPI_Request req;
  int rc = MPI_Ibcast(&steps, 1, MPI_DOUBLE, 0, d->comm, &req);
  if (rc != MPI_SUCCESS) return nncl__dist_mpi_error(d, rc, "broadcast of the step count");
  NNCL_TRY(nncl__dist_wait(d, 1, &req, "broadcast of the step count", 1.0, 0));
  nncl__optim_set_steps(t->opt, (int64_t)steps);
  return NNCL_OK;
}

nncl_status nncl_dist_attach(nncl_dist *d, nncl_trainer *t, size_t bucket_bytes) {
  if (!d || !t) return NNCL_ERR_INVALID_ARGUMENT;
  if (d->sync) return nncl__error(d->ctx, NNCL_ERR_STATE, "dist: a trainer is already attached");
  NNCL_TRY(bcast_state(d, t));
  return nncl__grad_sync_create(d, t, bucket_bytes ? bucket_bytes : (size_t)25 << 20);
}
