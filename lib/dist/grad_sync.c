/* grad_sync.c: the gradient all-reduce of data-parallel steps. Gradients are grouped into buckets
   in the order backward finishes them; as the train graph is enqueued, a bucket whose producing
   nodes are all enqueued gets a non-blocking read to the host, and once that read is done (the
   device has finished those nodes) its MPI_Iallreduce starts, while the device still runs the
   rest of backward. After the run, the rest are started and waited for, and the summed
   gradients go back to the device before clipping and the optimizer read them. */
#include <stdlib.h>
#include <string.h>

#include "dist_internal.h"
#include "trainer_internal.h"

enum bucket_state { B_IDLE, B_READING, B_REDUCING, B_DONE };

struct bucket {
  int first, n; /* members: sync->order[first .. first + n) */
  int64_t floats;
  float *host; /* the members' gradients back to back */
  int ready_k; /* the members are final once node order[ready_k] of the plan is enqueued */
  enum bucket_state state;
  cl_event read; /* the last member's read */
  MPI_Request req;
};

struct grad_sync {
  nncl_dist *d;
  nncl_trainer *t;
  size_t bucket_bytes;
  int *order;      /* parameters in the order their gradients are finished */
  int *ready;      /* per parameter: order position of its gradient's last write */
  int64_t *offset; /* per parameter: float offset in its bucket */
  cl_mem *grad;    /* per parameter: gradient buffer of the current plan */
  struct bucket *b;
  int nb;
  nncl_status err; /* first failure inside enqueued(), reported by ready() */
  int in_run;      /* the train graph is still running (between begin and ready) */
};

static void free_buckets(struct grad_sync *s) {
  for (int i = 0; i < s->nb; i++) {
    if (s->b[i].read) clReleaseEvent(s->b[i].read);
    free(s->b[i].host);
  }
  free(s->b);
  s->b = NULL;
  s->nb = 0;
}

static int by_ready(const void *a, const void *b, void *ready) {
  int x = ((const int *)ready)[*(const int *)a], y = ((const int *)ready)[*(const int *)b];
  return x < y ? -1 : x > y ? 1 : *(const int *)a - *(const int *)b;
}

/* Insertion sort of the parameters by readiness (tens of tensors; qsort has no context
   argument in C11). */
static void sort_order(struct grad_sync *s) {
  int n = s->t->n_params;
  for (int i = 0; i < n; i++) s->order[i] = i;
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && by_ready(&s->order[j], &s->order[j - 1], s->ready) < 0; j--) {
      int x = s->order[j];
      s->order[j] = s->order[j - 1];
      s->order[j - 1] = x;
    }
}

/* Buckets for the train graph's current plan: which node finishes each gradient, and where its
   buffer is. */
static nncl_status make_buckets(struct grad_sync *s) {
  nncl_trainer *t = s->t;
  struct plan *p = t->train->plan;
  free_buckets(s);
  int *last = malloc(sizeof *last * (size_t)(p->n_st + 1));
  if (!last) return nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "dist buckets");
  for (int i = 0; i < p->n_st; i++) last[i] = -1;
  for (int k = 0; k < p->n_order; k++) {
    const struct pnode *pn = &p->n[p->order[k]];
    for (int o = 0; o < pn->n_out; o++)
      if (pn->out[o] >= 0 && p->v[pn->out[o]].storage >= 0) last[p->v[pn->out[o]].storage] = k;
  }
  nncl_status st = NNCL_OK;
  for (int i = 0; i < t->n_params && st == NNCL_OK; i++) {
    int st_i = p->v[graph_find_value(t->train, t->grad[i])].storage;
    if (st_i < 0) {
      st = nncl__error(t->ctx, NNCL_ERR_STATE, "dist: the gradient of '%s' has no buffer",
                       t->param[i]);
      break;
    }
    s->grad[i] = p->st[st_i].mem;
    s->ready[i] = last[st_i] >= 0 ? last[st_i] : p->n_order - 1;
  }
  free(last);
  if (st != NNCL_OK) return st;
  sort_order(s);
  s->b = calloc((size_t)t->n_params, sizeof *s->b);
  if (!s->b) return nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "dist buckets");
  for (int j = 0; j < t->n_params; j++) {
    int i = s->order[j];
    struct bucket *b = &s->b[s->nb];
    if (b->n && (size_t)b->floats * sizeof(float) >= s->bucket_bytes) b = &s->b[++s->nb];
    if (!b->n) b->first = j;
    s->offset[i] = b->floats;
    b->floats += nncl_shape_numel(&t->init[i].shape);
    b->ready_k = s->ready[i];
    b->n++;
  }
  s->nb++;
  for (int k = 0; k < s->nb; k++) {
    s->b[k].host = malloc(sizeof(float) * (size_t)s->b[k].floats);
    if (!s->b[k].host) return nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "dist buckets");
  }
  return NNCL_OK;
}

static nncl_status begin(void *user, nncl_trainer *t) {
  struct grad_sync *s = user;
  s->d->cur = (nncl_dist_stats){0};
  s->err = NNCL_OK;
  s->in_run = 1;
  /* remade every step: a new batch size means a new plan, with other buffers and node order */
  NNCL_TRY(nncl_graph_plan(t->train));
  return make_buckets(s);
}

/* Non-blocking reads of bucket b's gradients to the host. */
static nncl_status start_read(struct grad_sync *s, struct bucket *b) {
  nncl_context *ctx = s->t->ctx;
  for (int j = 0; j < b->n; j++) {
    int i = s->order[b->first + j];
    size_t bytes = sizeof(float) * (size_t)nncl_shape_numel(&s->t->init[i].shape);
    cl_int err =
        clEnqueueReadBuffer(ctx->queue, s->grad[i], CL_FALSE, 0, bytes, b->host + s->offset[i], 0,
                            NULL, j == b->n - 1 ? &b->read : NULL);
    if (err != CL_SUCCESS)
      return nncl__cl_error(ctx, err, "dist: reading the gradient of '%s'", s->t->param[i]);
  }
  b->state = B_READING;
  return NNCL_OK;
}

/* The bucket's read is done: weight this rank's share and start the sum over ranks. */
static nncl_status start_reduce(struct grad_sync *s, struct bucket *b) {
  nncl_dist *d = s->d;
  clReleaseEvent(b->read);
  b->read = NULL;
  float w = (float)d->weight;
  for (int64_t k = 0; k < b->floats; k++) b->host[k] *= w;
  int rc =
      MPI_Iallreduce(MPI_IN_PLACE, b->host, (int)b->floats, MPI_FLOAT, MPI_SUM, d->comm, &b->req);
  if (rc != MPI_SUCCESS) return nncl__dist_mpi_error(d, rc, "gradient all-reduce");
  b->state = B_REDUCING;
  d->cur.bytes += (uint64_t)b->floats * sizeof(float);
  d->cur.buckets++;
  d->cur.overlapped += s->in_run;
  return NNCL_OK;
}

/* Starts what can start now and lets MPI progress the sums in flight. */
static nncl_status advance(struct grad_sync *s, int k) {
  double t0 = nncl__dist_now();
  int flushed = 0;
  nncl_status st = NNCL_OK;
  for (int i = 0; i < s->nb && st == NNCL_OK; i++) {
    struct bucket *b = &s->b[i];
    if (b->state == B_IDLE && b->ready_k <= k) {
      st = start_read(s, b);
      flushed = 1;
    } else if (b->state == B_READING) {
      cl_int done = CL_QUEUED;
      clGetEventInfo(b->read, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof done, &done, NULL);
      if (done < 0)
        st = nncl__cl_error(s->t->ctx, done, "dist: reading gradients");
      else if (done == CL_COMPLETE)
        st = start_reduce(s, b);
    } else if (b->state == B_REDUCING) {
      int flag = 0, rc = MPI_Test(&b->req, &flag, MPI_STATUS_IGNORE);
      if (rc != MPI_SUCCESS)
        st = nncl__dist_mpi_error(s->d, rc, "gradient all-reduce");
      else if (flag)
        b->state = B_DONE;
    }
  }
  if (flushed) clFlush(s->t->ctx->queue); /* the device starts on the reads behind backward */
  s->d->cur.comm_s += nncl__dist_now() - t0;
  return st;
}

/* A failure with a sum in flight leaves MPI unable to finish cleanly. */
static nncl_status note_failure(struct grad_sync *s, nncl_status st) {
  for (int i = 0; st != NNCL_OK && i < s->nb; i++)
    if (s->b[i].state == B_REDUCING) s->d->failed = 1;
  return st;
}

static nncl_status enqueued(void *user, int k) {
  struct grad_sync *s = user;
  if (s->err == NNCL_OK) s->err = note_failure(s, advance(s, k));
  return s->err;
}

static nncl_status finish(struct grad_sync *s, nncl_trainer *t) {
  nncl_dist *d = s->d;
  s->in_run = 0;
  NNCL_TRY(s->err);
  /* the run has finished: every read can be issued and completes at once */
  NNCL_TRY(advance(s, INT32_MAX));
  double t0 = nncl__dist_now();
  for (int i = 0; i < s->nb; i++)
    if (s->b[i].state == B_READING) {
      cl_int err = clWaitForEvents(1, &s->b[i].read);
      if (err != CL_SUCCESS) return nncl__cl_error(t->ctx, err, "dist: reading gradients");
      NNCL_TRY(start_reduce(s, &s->b[i]));
    }
  d->cur.comm_s += nncl__dist_now() - t0;
  MPI_Request *req = malloc(sizeof *req * (size_t)s->nb);
  if (!req) return nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "dist");
  int n = 0;
  for (int i = 0; i < s->nb; i++)
    if (s->b[i].state == B_REDUCING) req[n++] = s->b[i].req;
  char what[64];
  snprintf(what, sizeof what, "gradient all-reduce of step %lld", (long long)d->step + 1);
  nncl_status st = nncl__dist_wait(d, n, req, what, d->step && !d->replanned ? 1.0 : 10.0, 1);
  d->replanned = 0;
  free(req);
  NNCL_TRY(st);
  d->step++;
  /* the sums back to the device; the in-order queue runs the optimizer after these writes */
  t0 = nncl__dist_now();
  for (int k = 0; k < s->nb; k++) {
    struct bucket *b = &s->b[k];
    b->state = B_DONE;
    for (int j = 0; j < b->n; j++) {
      int i = s->order[b->first + j];
      size_t bytes = sizeof(float) * (size_t)nncl_shape_numel(&t->init[i].shape);
      cl_int err = clEnqueueWriteBuffer(t->ctx->queue, s->grad[i], CL_FALSE, 0, bytes,
                                        b->host + s->offset[i], 0, NULL, NULL);
      if (err != CL_SUCCESS)
        return nncl__cl_error(t->ctx, err, "dist: writing the gradient of '%s'", t->param[i]);
    }
  }
  d->cur.comm_s += nncl__dist_now() - t0;
  return NNCL_OK;
}

static nncl_status ready(void *user, nncl_trainer *t, const cl_mem *grads) {
  (void)grads; /* the same buffers as s->grad: the plan has not changed since begin */
  return note_failure(user, finish(user, t));
}

nncl_status nncl__grad_sync_create(nncl_dist *d, nncl_trainer *t, size_t bucket_bytes) {
  struct grad_sync *s = calloc(1, sizeof *s);
  size_t n = (size_t)t->n_params;
  if (s) {
    s->order = calloc(n, sizeof *s->order);
    s->ready = calloc(n, sizeof *s->ready);
    s->offset = calloc(n, sizeof *s->offset);
    s->grad = calloc(n, sizeof *s->grad);
  }
  if (!s || !s->order || !s->ready || !s->offset || !s->grad) {
    nncl__grad_sync_destroy(s);
    return nncl__error(d->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "dist");
  }
  s->d = d;
  s->t = t;
  s->bucket_bytes = bucket_bytes;
  d->sync = s;
  struct nncl__grad_hook h = {begin, enqueued, ready, s};
  nncl__trainer_set_grad_hook(t, &h);
  return NNCL_OK;
}

void nncl__grad_sync_destroy(struct grad_sync *s) {
  if (!s) return;
  if (s->t) nncl__trainer_set_grad_hook(s->t, NULL);
  free_buckets(s);
  free(s->order);
  free(s->ready);
  free(s->offset);
  free(s->grad);
  free(s);
}
