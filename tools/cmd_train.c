/* cmd_train.c: `nncl train MODEL.onnx --inputs X.npy --labels Y.npy ...` (or --data
   fashion-mnist): trains the model's float initializers with nncl_trainer, one line per epoch
   (a live bar with loss, accuracy, images/s and time left on a terminal), validation after each
   epoch, checkpoints, and the trained model written as ONNX. Batches are consecutive slices of
   --batch samples in file order with --no-shuffle, as a PyTorch loop without shuffling takes
   them; otherwise each epoch visits a seeded permutation. Under mpirun (nncl/dist.h) every rank
   takes its shard of each global batch, rank 0 alone reads the checkpoint to resume from, prints,
   and writes checkpoints and the trained model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "demo_idx.h"
#include "demo_progress.h"
#include "train_cli.h"

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

struct dataset {
  nncl_array x, y; /* x: samples along axis `axis`; y: samples along axis 0 */
  int axis;
  int64_t n;
};

static void dataset_free(struct dataset *d) {
  nncl_array_free(&d->x);
  nncl_array_free(&d->y);
}

/* Fashion-MNIST split `prefix` as [N, 1, 28, 28] floats / 255 and int64 labels. */
static int load_fashion(const char *dir, const char *prefix, struct dataset *d) {
  demo_idx im, lb;
  char err[512];
  if (demo_idx_read_split(dir, prefix, &im, &lb, err, sizeof err) != 0) {
    fprintf(stderr, "nncl train: %s\n(Debian: apt install dataset-fashion-mnist)\n", err);
    return 1;
  }
  nncl_shape xs = {.rank = 4, .dims = {(int64_t)im.count, 1, 28, 28}};
  nncl_shape ys = {.rank = 1, .dims = {(int64_t)lb.count}};
  int rc = nncl_array_alloc(&d->x, NNCL_FLOAT32, &xs) != NNCL_OK ||
           nncl_array_alloc(&d->y, NNCL_INT64, &ys) != NNCL_OK;
  for (size_t i = 0; !rc && i < im.count * im.item_size; i++)
    ((float *)d->x.data)[i] = (float)im.data[i] / 255.0f;
  for (size_t i = 0; !rc && i < lb.count; i++) ((int64_t *)d->y.data)[i] = lb.data[i];
  d->n = (int64_t)im.count;
  demo_idx_free(&im);
  demo_idx_free(&lb);
  return rc;
}

static int load_npy_pair(nncl_context *ctx, const char *xp, const char *yp, int axis,
                         struct dataset *d) {
  nncl_status st = nncl_npy_load(ctx, xp, &d->x);
  if (st != NNCL_OK) return cli_fail(ctx, st, xp);
  st = nncl_npy_load(ctx, yp, &d->y);
  if (st != NNCL_OK) return cli_fail(ctx, st, yp);
  if (axis < 0 || axis >= d->x.shape.rank || d->y.shape.rank < 1 ||
      d->x.shape.dims[axis] != d->y.shape.dims[0]) {
    char a[128], b[128];
    fprintf(stderr, "nncl train: %s %s has no batch axis %d matching the %s labels of %s\n", xp,
            nncl_shape_format(&d->x.shape, a, sizeof a), axis,
            nncl_shape_format(&d->y.shape, b, sizeof b), yp);
    return 1;
  }
  d->axis = axis;
  d->n = d->x.shape.dims[axis];
  return 0;
}

/* Samples idx[0..n) of d into xb, yb (allocated by the caller's first call, reused after). */
static int gather(const struct dataset *d, const int64_t *idx, int64_t n, nncl_array *xb,
                  nncl_array *yb) {
  nncl_shape xs = d->x.shape, ys = d->y.shape;
  xs.dims[d->axis] = n;
  ys.dims[0] = n;
  if (memcmp(&xb->shape, &xs, sizeof xs) != 0) {
    nncl_array_free(xb);
    nncl_array_free(yb);
    if (nncl_array_alloc(xb, d->x.dtype, &xs) != NNCL_OK ||
        nncl_array_alloc(yb, d->y.dtype, &ys) != NNCL_OK)
      return 1;
  }
  size_t es = nncl_dtype_size(d->x.dtype), ysz = nncl_dtype_size(d->y.dtype);
  int64_t outer = 1, inner = 1, yin = 1;
  for (int k = 0; k < d->axis; k++) outer *= d->x.shape.dims[k];
  for (int k = d->axis + 1; k < d->x.shape.rank; k++) inner *= d->x.shape.dims[k];
  for (int k = 1; k < d->y.shape.rank; k++) yin *= d->y.shape.dims[k];
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < n; i++)
      memcpy((char *)xb->data + ((size_t)(o * n + i) * (size_t)inner) * es,
             (const char *)d->x.data + ((size_t)(o * d->n + idx[i]) * (size_t)inner) * es,
             (size_t)inner * es);
  for (int64_t i = 0; i < n; i++)
    memcpy((char *)yb->data + (size_t)(i * yin) * ysz,
           (const char *)d->y.data + (size_t)(idx[i] * yin) * ysz, (size_t)yin * ysz);
  return 0;
}

/* Loss and accuracy over a whole dataset in batches; under MPI each rank takes a contiguous
   part and the sums are added over the ranks. */
static int evaluate(nncl_context *ctx, nncl_trainer *t, nncl_dist *dist, const struct dataset *d,
                    int64_t batch, double *loss, double *acc) {
  int64_t *idx = malloc(sizeof *idx * (size_t)batch);
  nncl_array xb = {0}, yb = {0};
  double sum = 0.0;
  int64_t correct = 0;
  int rc = !idx;
  int64_t r = nncl_dist_rank(dist), p = nncl_dist_size(dist);
  int64_t lo = d->n * r / p, hi = d->n * (r + 1) / p;
  for (int64_t s = lo; !rc && s < hi; s += batch) {
    int64_t n = hi - s < batch ? hi - s : batch;
    for (int64_t i = 0; i < n; i++) idx[i] = s + i;
    rc = gather(d, idx, n, &xb, &yb);
    float l = 0;
    int64_t c = 0;
    nncl_status st = rc ? NNCL_OK : nncl_trainer_evaluate(t, &xb, &yb, &l, &c);
    if (st != NNCL_OK) rc = cli_fail(ctx, st, "evaluate");
    sum += (double)l * (double)n;
    correct += c;
  }
  double part[2] = {sum, (double)correct};
  nncl_status st = !rc && dist ? nncl_dist_sum(dist, part, 2) : NNCL_OK;
  if (st != NNCL_OK) rc = cli_fail(ctx, st, "evaluate");
  sum = part[0];
  correct = (int64_t)part[1];
  *loss = sum / (double)d->n;
  *acc = 100.0 * (double)correct / (double)d->n;
  nncl_array_free(&xb);
  nncl_array_free(&yb);
  free(idx);
  return rc;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* --bench N: N optimizer steps on the first batch, then N forward (+ loss) passes, each timed to
   the device's completion; prints the medians after the first of each (which plans and compiles)
   and the training memory. The figures tools/train_speed.py reads. */
static int bench(nncl_context *ctx, nncl_trainer *t, const struct dataset *d, int64_t batch,
                 int runs) {
  int64_t n = d->n < batch ? d->n : batch, *idx = malloc(sizeof *idx * (size_t)n);
  double *ts = malloc(sizeof *ts * (size_t)runs), med[2] = {0, 0};
  nncl_array xb = {0}, yb = {0};
  int rc = !idx || !ts;
  for (int64_t i = 0; !rc && i < n; i++) idx[i] = i;
  if (!rc) rc = gather(d, idx, n, &xb, &yb);
  for (int phase = 0; !rc && phase < 2; phase++) {
    for (int r = 0; !rc && r < runs; r++) {
      double t0 = demo_now();
      nncl_status st = phase ? nncl_trainer_evaluate(t, &xb, &yb, NULL, NULL)
                             : nncl_trainer_step(t, &xb, &yb, NULL);
      if (st == NNCL_OK && phase) st = nncl_context_finish(ctx);
      if (st != NNCL_OK) rc = cli_fail(ctx, st, phase ? "forward" : "step");
      ts[r] = demo_now() - t0;
    }
    if (!rc && runs > 1) qsort(ts + 1, (size_t)runs - 1, sizeof *ts, cmp_double);
    med[phase] = runs > 1 ? ts[1 + (runs - 1) / 2] : ts[0];
  }
  nncl_trainer_memory m;
  if (!rc && nncl_trainer_memory_use(t, &m) != NNCL_OK) rc = 1;
  if (!rc)
    printf("bench  batch %lld: step %.2f ms, forward+loss %.2f ms (medians of runs 2..%d); "
           "memory MB: arena %.2f workspace %.2f parameters %.2f optimizer %.2f\n",
           (long long)n, med[0] * 1e3, med[1] * 1e3, runs, (double)m.arena_bytes / 1e6,
           (double)m.workspace_bytes / 1e6, (double)m.param_bytes / 1e6,
           (double)m.optimizer_bytes / 1e6);
  nncl_profile p;
  nncl_status st = rc ? NNCL_OK : nncl_trainer_profile(t, runs, &p);
  if (st != NNCL_OK) rc = cli_fail(ctx, st, "profile");
  if (!rc) { /* where the step's device time goes: the op types, largest first */
    printf("bench  forward + backward device time %.2f ms by op type:", p.device_ns * 1e-6);
    for (int i = 0; i < p.n_ops && i < 8; i++)
      printf(" %s %.0f%%", p.ops[i].op_type, 100.0 * p.ops[i].share);
    printf("\nbench  kernels of 4%% or more, in launch order:");
    for (int shown = 0, i = 0; shown < 6 && i < p.n_kernels; i++) { /* the first of each name */
      double ns = 0.0;
      int seen = 0;
      for (int j = 0; j < p.n_kernels; j++)
        if (!strcmp(p.kernels[j].name, p.kernels[i].name)) {
          seen |= j < i;
          ns += p.kernels[j].device_ns;
        }
      if (seen || ns < 0.04 * p.device_ns) continue;
      printf(" %s %.0f%%", p.kernels[i].name, 100.0 * ns / p.device_ns);
      shown++;
    }
    printf("\n");
    nncl_profile_free(&p);
  }
  nncl_array_free(&xb);
  nncl_array_free(&yb);
  free(idx);
  free(ts);
  return rc;
}

static uint64_t next_rand(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* Joins the MPI job when started by mpirun (its environment says so); *d stays NULL otherwise. */
static int join_job(nncl_context *ctx, double timeout, nncl_dist **d) {
  const char *n = getenv("OMPI_COMM_WORLD_SIZE");
  if (!n) n = getenv("PMI_SIZE");
  if (!n) return 0;
  if (!nncl_dist_built() && atoi(n) <= 1) return 0;
  nncl_status st = nncl_dist_create(ctx, timeout, d);
  if (st != NNCL_OK) return cli_fail(ctx, st, "joining the MPI job");
  /* one voice: the other ranks' progress lines would repeat rank 0's (errors still go out) */
  if (nncl_dist_rank(*d) && !freopen("/dev/null", "w", stdout)) return 1;
  return 0;
}

/* Time of an epoch's steps, split as nncl_dist_last_step reports it. */
struct step_split {
  double step_s, comm_s, wait_s;
  uint64_t bytes;
  int64_t steps, buckets, overlapped;
};

static void print_split(const struct step_split *p, int ranks) {
  double n = (double)p->steps, ms = 1e3 / n, step = p->step_s * ms;
  double comm = p->comm_s * ms, wait = p->wait_s * ms, compute = step - comm - wait;
  printf("  [%d ranks: step %.2f ms = compute %.2f + communication %.2f (%.0f%%) + waiting %.2f "
         "(%.0f%%); %.1f KiB all-reduced per step in %.1f buckets, %.1f started during "
         "backward]",
         ranks, step, compute, comm, 100.0 * comm / step, wait, 100.0 * wait / step,
         (double)p->bytes / n / 1024.0, (double)p->buckets / n, (double)p->overlapped / n);
}

static int usage(void) {
  fprintf(stderr, "usage: %s\n", cmd_train.usage);
  return 2;
}

int train_cli_run(int argc, char **argv, double *val_acc) {
  const char *model = NULL, *xs = NULL, *ys = NULL, *vx = NULL, *vy = NULL, *data = NULL;
  const char *loss_s = "cross-entropy", *opt_s = "sgd", *device = NULL, *ckpt = NULL;
  const char *resume = NULL, *out = NULL, *data_dir = FASHION_DIR, *v;
  double lr = -1, momentum = 0, wd = -1, clip = 0, dist_timeout = 30, bucket_kb = 0;
  nncl_lr_schedule sched = {.kind = NNCL_LR_CONSTANT, .gamma = 0.1f};
  int64_t batch = 64, epochs = 1, steps = -1, seed = 1;
  int shuffle = 1, axis = -1, kaiming = 0, bench_runs = 0;
  const char *freeze[64];
  int n_freeze = 0;
  double dv = 0; /* a parsed number, before it is stored */
  long long lv = 0;
  int bad = 0;
  for (int i = 1; i < argc && !bad; i++) {
    if ((v = cli_value(argc, argv, &i, "--inputs")))
      xs = v;
    else if ((v = cli_value(argc, argv, &i, "--labels")))
      ys = v;
    else if ((v = cli_value(argc, argv, &i, "--val-inputs")))
      vx = v;
    else if ((v = cli_value(argc, argv, &i, "--val-labels")))
      vy = v;
    else if ((v = cli_value(argc, argv, &i, "--data")))
      data = v;
    else if ((v = cli_value(argc, argv, &i, "--data-dir")))
      data_dir = v;
    else if ((v = cli_value(argc, argv, &i, "--loss")))
      loss_s = v;
    else if ((v = cli_value(argc, argv, &i, "--optimizer")))
      opt_s = v;
    else if ((v = cli_value(argc, argv, &i, "--lr")))
      bad = cli_double("train", "--lr", v, 0, 1e6, &dv), lr = dv;
    else if ((v = cli_value(argc, argv, &i, "--momentum")))
      bad = cli_double("train", "--momentum", v, 0, 1e6, &dv), momentum = dv;
    else if ((v = cli_value(argc, argv, &i, "--weight-decay")))
      bad = cli_double("train", "--weight-decay", v, 0, 1e6, &dv), wd = dv;
    else if ((v = cli_value(argc, argv, &i, "--batch")))
      bad = cli_long("train", "--batch", v, 1, 1LL << 40, &lv), batch = lv;
    else if ((v = cli_value(argc, argv, &i, "--epochs")))
      bad = cli_long("train", "--epochs", v, 1, 1000000, &lv), epochs = lv;
    else if ((v = cli_value(argc, argv, &i, "--steps")))
      bad = cli_long("train", "--steps", v, 1, 1LL << 40, &lv), steps = lv;
    else if ((v = cli_value(argc, argv, &i, "--bench")))
      bad = cli_long("train", "--bench", v, 0, 1000000, &lv), bench_runs = (int)lv;
    else if ((v = cli_value(argc, argv, &i, "--batch-axis")))
      bad = cli_long("train", "--batch-axis", v, 0, 7, &lv), axis = (int)lv;
    else if ((v = cli_value(argc, argv, &i, "--checkpoint")))
      ckpt = v;
    else if ((v = cli_value(argc, argv, &i, "--resume")))
      resume = v;
    else if ((v = cli_value(argc, argv, &i, "--out")))
      out = v;
    else if ((v = cli_value(argc, argv, &i, "--device")))
      device = v;
    else if ((v = cli_value(argc, argv, &i, "--seed")))
      bad = cli_long("train", "--seed", v, 0, 1LL << 62, &lv), seed = lv;
    else if ((v = cli_value(argc, argv, &i, "--init")))
      kaiming = !strcmp(v, "kaiming");
    else if ((v = cli_value(argc, argv, &i, "--freeze")) && n_freeze < 64)
      freeze[n_freeze++] = v;
    else if ((v = cli_value(argc, argv, &i, "--dist-timeout")))
      bad = cli_double("train", "--dist-timeout", v, 0.001, 1e6, &dv), dist_timeout = dv;
    else if ((v = cli_value(argc, argv, &i, "--bucket-kb")))
      bad = cli_double("train", "--bucket-kb", v, 0, 1e9, &dv), bucket_kb = dv;
    else if ((v = cli_value(argc, argv, &i, "--clip-norm")))
      bad = cli_double("train", "--clip-norm", v, 0, 1e30, &dv), clip = dv;
    else if ((v = cli_value(argc, argv, &i, "--lr-schedule")))
      sched.kind = !strcmp(v, "step")     ? NNCL_LR_STEP
                   : !strcmp(v, "cosine") ? NNCL_LR_COSINE
                                          : NNCL_LR_CONSTANT;
    else if ((v = cli_value(argc, argv, &i, "--lr-step")))
      bad = cli_long("train", "--lr-step", v, 1, 1LL << 40, &lv), sched.step_size = lv;
    else if ((v = cli_value(argc, argv, &i, "--lr-gamma")))
      bad = cli_double("train", "--lr-gamma", v, 0, 1e6, &dv), sched.gamma = (float)dv;
    else if ((v = cli_value(argc, argv, &i, "--min-lr")))
      bad = cli_double("train", "--min-lr", v, 0, 1e6, &dv), sched.min_lr = (float)dv;
    else if ((v = cli_value(argc, argv, &i, "--warmup")))
      bad = cli_long("train", "--warmup", v, 0, 1LL << 40, &lv), sched.warmup_steps = lv;
    else if (cli_is(argv[i], "--no-shuffle"))
      shuffle = 0;
    else if (argv[i][0] != '-' && !model)
      model = argv[i];
    else {
      fprintf(stderr, "nncl train: unknown argument '%s'\n", argv[i]);
      return usage();
    }
  }
  if (bad) return bad;
  if (!model || (!data && (!xs || !ys)) || (data && strcmp(data, "fashion-mnist")) || batch < 1 ||
      epochs < 1 || !!vx != !!vy || bench_runs < 0)
    return usage();
  nncl_trainer_options o;
  nncl_trainer_options_default(&o);
  if (!strcmp(loss_s, "mse"))
    o.loss = NNCL_LOSS_MSE;
  else if (strcmp(loss_s, "cross-entropy"))
    return usage();
  nncl_optimizer_kind kind = !strcmp(opt_s, "adam")    ? NNCL_OPTIM_ADAM
                             : !strcmp(opt_s, "adamw") ? NNCL_OPTIM_ADAMW
                             : !strcmp(opt_s, "sgd")   ? NNCL_OPTIM_SGD
                                                       : (nncl_optimizer_kind)-1;
  if ((int)kind < 0) return usage();
  nncl_optimizer_options_default(kind, &o.optim);
  if (lr >= 0) o.optim.lr = (float)lr;
  if (wd >= 0) o.optim.weight_decay = (float)wd;
  o.optim.momentum = (float)momentum;
  o.freeze = freeze;
  o.n_freeze = n_freeze;
  o.clip_norm = (float)clip;

  nncl_context *ctx = cli_open_context(device);
  if (!ctx) return 1;
  nncl_graph *g = NULL;
  nncl_trainer *t = NULL;
  nncl_dist *dist = NULL;
  struct dataset tr = {0}, va = {0};
  int rc = join_job(ctx, dist_timeout, &dist), has_val = 0, rank = nncl_dist_rank(dist);
  nncl_status st = rc ? NNCL_OK : nncl_onnx_load(ctx, model, &g);
  if (st != NNCL_OK) rc = cli_fail(ctx, st, model);
  if (!rc && axis < 0) { /* the model input's symbolic dim, else 0 */
    nncl_shape is;
    nncl_graph_input_info(g, 0, NULL, &is);
    axis = 0;
    for (int k = is.rank - 1; k >= 0; k--)
      if (is.dims[k] < 0) axis = k;
  }
  if (!rc && data) {
    rc = load_fashion(data_dir, "train", &tr) || load_fashion(data_dir, "t10k", &va);
    has_val = !rc;
  } else if (!rc) {
    rc = load_npy_pair(ctx, xs, ys, axis, &tr);
    if (!rc && vx) rc = load_npy_pair(ctx, vx, vy, axis, &va), has_val = !rc;
  }
  o.batch_axis = tr.axis;
  if (!rc && (st = nncl_trainer_create(g, &o, &t)) != NNCL_OK) rc = cli_fail(ctx, st, "trainer");
  if (!rc && kaiming && (st = nncl_trainer_init_kaiming(t, (uint64_t)seed)) != NNCL_OK)
    rc = cli_fail(ctx, st, "initialisation");
  if (!rc && !rank && resume && (st = nncl_trainer_load_checkpoint(t, resume)) != NNCL_OK)
    rc = cli_fail(ctx, st, resume);
  /* rank 0's weights, optimizer state and step count to every rank */
  if (!rc && dist && (st = nncl_dist_attach(dist, t, (size_t)(bucket_kb * 1024))) != NNCL_OK)
    rc = cli_fail(ctx, st, "broadcast from rank 0");
  if (!rc && bench_runs > 0) {
    rc = bench(ctx, t, &tr, batch, bench_runs);
    epochs = 0; /* timing only */
  }
  int64_t per_epoch = (tr.n + batch - 1) / batch;
  if (steps > 0) epochs = (steps + per_epoch - 1) / per_epoch;
  if (sched.kind == NNCL_LR_COSINE && sched.total_steps <= 0)
    sched.total_steps = steps > 0 ? steps : epochs * per_epoch;
  if (sched.kind == NNCL_LR_STEP && sched.step_size <= 0) sched.step_size = per_epoch;
  int64_t *perm = rc ? NULL : malloc(sizeof *perm * (size_t)(tr.n + 1));
  if (!rc && !perm) rc = 1;
  if (!rc)
    printf("train  %s: %lld samples, %d parameters, batch %lld, %s, %s lr %g%s\n", model,
           (long long)tr.n, nncl_trainer_num_params(t), (long long)batch, loss_s, opt_s,
           (double)o.optim.lr, kaiming ? ", Kaiming init" : "");
  uint64_t rs = (uint64_t)seed * 2654435761u + 88172645463325252ull;
  int tty = isatty(fileno(stdout));
  nncl_array xb = {0}, yb = {0};
  int64_t done_steps = 0;
  for (int64_t e = 0; !rc && e < epochs; e++) {
    for (int64_t i = 0; i < tr.n; i++) perm[i] = i;
    for (int64_t i = tr.n - 1; shuffle && i > 0; i--) {
      int64_t j = (int64_t)(next_rand(&rs) % (uint64_t)(i + 1)), s = perm[i];
      perm[i] = perm[j], perm[j] = s;
    }
    double t0 = demo_now(), sum = 0.0, last_draw = 0.0;
    int64_t seen = 0, correct = 0;
    struct step_split split = {0};
    for (int64_t s = 0; !rc && s < tr.n && (steps < 0 || done_steps < steps); s += batch) {
      int64_t n = tr.n - s < batch ? tr.n - s : batch, off = 0, cnt = n;
      if (dist && (st = nncl_dist_shard(dist, n, &off, &cnt)) != NNCL_OK)
        rc = cli_fail(ctx, st, "batch");
      if (!rc && gather(&tr, perm + s + off, cnt, &xb, &yb)) rc = 1;
      float l = 0;
      nncl_trainer_set_lr(t, nncl_lr_schedule_at(&sched, o.optim.lr, done_steps));
      double ts = demo_now();
      if (!rc && (st = nncl_trainer_step(t, &xb, &yb, &l)) != NNCL_OK)
        rc = cli_fail(ctx, st, "step");
      /* the global batch's loss and accuracy: the shards' sums added over the ranks */
      double part[2] = {(double)l * (double)cnt, (double)nncl_trainer_last_correct(t)};
      if (!rc && dist && (st = nncl_dist_sum(dist, part, 2)) != NNCL_OK)
        rc = cli_fail(ctx, st, "step");
      if (dist && !rc) {
        nncl_dist_stats ds;
        nncl_dist_last_step(dist, &ds);
        split.step_s += demo_now() - ts;
        split.comm_s += ds.comm_s;
        split.wait_s += ds.wait_s;
        split.bytes += ds.bytes;
        split.buckets += ds.buckets;
        split.overlapped += ds.overlapped;
        split.steps++;
      }
      sum += part[0];
      seen += n;
      correct += (int64_t)part[1];
      done_steps++;
      double now = demo_now();
      if (tty && (now - last_draw > 0.25 || s + n >= tr.n)) {
        double rate = (double)seen / (now - t0);
        printf("\repoch %lld/%lld  %3.0f%%  loss %.4f  acc %.2f%%  %.0f images/s  %.0f s left   ",
               (long long)e + 1, (long long)epochs, 100.0 * (double)seen / (double)tr.n,
               sum / (double)seen, 100.0 * (double)correct / (double)seen, rate,
               (double)(tr.n - seen) / rate);
        fflush(stdout);
        last_draw = now;
      }
    }
    if (rc) break;
    double secs = demo_now() - t0;
    if (tty) printf("\r");
    printf("epoch %lld/%lld  loss %.4f  acc %.2f%%  %.1f s (%.0f images/s)", (long long)e + 1,
           (long long)epochs, sum / (double)seen,
           o.loss == NNCL_LOSS_CROSS_ENTROPY ? 100.0 * (double)correct / (double)seen : 0.0, secs,
           (double)seen / secs);
    if (split.steps) print_split(&split, nncl_dist_size(dist));
    if (has_val) {
      double vl, vacc;
      rc = evaluate(ctx, t, dist, &va, batch, &vl, &vacc);
      if (!rc) printf("  val loss %.4f  val acc %.2f%%", vl, vacc);
      if (!rc && val_acc) *val_acc = vacc;
    }
    printf("\n");
    fflush(stdout);
    if (!rc && !rank && ckpt && (st = nncl_trainer_save_checkpoint(t, ckpt)) != NNCL_OK)
      rc = cli_fail(ctx, st, ckpt);
  }
  if (!rc && !rank && out) {
    if ((st = nncl_trainer_save_onnx(t, model, out)) != NNCL_OK)
      rc = cli_fail(ctx, st, out);
    else
      printf("wrote  %s\n", out);
  }
  nncl_array_free(&xb);
  nncl_array_free(&yb);
  free(perm);
  dataset_free(&tr);
  dataset_free(&va);
  nncl_dist_destroy(dist);
  nncl_trainer_destroy(t);
  nncl_graph_destroy(g);
  nncl_context_destroy(ctx);
  return rc;
}

static int run(int argc, char **argv) { return train_cli_run(argc, argv, NULL); }

const struct cli_command cmd_train = {
    "train", "train an ONNX model's weights (cross-entropy or MSE; SGD, Adam, AdamW)", run,
    "nncl train MODEL.onnx --inputs X.npy --labels Y.npy | --data fashion-mnist [--data-dir DIR]\n"
    "       [--loss cross-entropy|mse] [--optimizer sgd|adam|adamw] [--lr F] [--momentum F]\n"
    "       [--weight-decay F] [--batch N (64)] [--epochs N (1) | --steps N] [--no-shuffle]\n"
    "       [--val-inputs X.npy --val-labels Y.npy] [--batch-axis K] [--checkpoint FILE]\n"
    "       [--resume FILE] [--out TRAINED.onnx] [--init kaiming] [--seed N] [--freeze NAME]...\n"
    "       [--clip-norm F] [--lr-schedule constant|step|cosine] [--lr-step N (an epoch)]\n"
    "       [--lr-gamma F (0.1)] [--min-lr F] [--warmup N] [--device D] [--bench N]\n"
    "       under mpirun: [--dist-timeout S (30)] [--bucket-kb N (25600)]\n"
    "  --bench N times N steps and N forward passes on the first batch instead of training."};
