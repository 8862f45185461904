/* cmd_caption.c: `nncl caption --train`: trains a CNN encoder + LSTM decoder with soft attention
   (caption_net.c) on a synthetic captioning set made from Fashion-MNIST (caption_data.c) with
   teacher forcing and per-token cross-entropy through the library's trainer, then captions
   held-out pictures (greedy or beam search) on the device (caption_decode.c) and prints exact
   match and corpus BLEU-4 (caption_bleu.c) against the most frequent training caption, with
   attention-map PNGs (caption_picture.c). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "caption_bleu.h"
#include "caption_data.h"
#include "caption_decode.h"
#include "caption_net.h"
#include "caption_picture.h"
#include "commands.h"
#include "nncl/train.h"

/* Returns the status of a failing builder call (the graph keeps the message). */
#define TRY(x)                                                                                     \
  do {                                                                                             \
    nncl_status try_st_ = (x);                                                                     \
    if (try_st_ != NNCL_OK) return try_st_;                                                        \
  } while (0)

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define L (CAPTION_GRID * CAPTION_GRID)
#define NUM_PICTURES 4 /* attention PNGs written */

struct opts {
  const char *device, *out_dir, *data_dir;
  long epochs, train_size, test_size, batch, seed, beam, garments;
  double lr;
  int train;
};

static int parse_long(const char *flag, const char *v, long lo, long hi, long *out) {
  long long k = 0;
  const int rc = cli_long("caption", flag, v, lo, hi, &k);
  *out = rc ? *out : (long)k;
  return rc;
}

static int parse(int argc, char **argv, struct opts *o) {
  int rc = 0;
  for (int i = 1; i < argc && !rc; i++) {
    const char *v;
    if (cli_is(argv[i], "--train"))
      o->train = 1;
    else if ((v = cli_value(argc, argv, &i, "--device")))
      o->device = v;
    else if ((v = cli_value(argc, argv, &i, "--out-dir")))
      o->out_dir = v;
    else if ((v = cli_value(argc, argv, &i, "--data-dir")))
      o->data_dir = v;
    else if ((v = cli_value(argc, argv, &i, "--epochs")))
      rc = parse_long("--epochs", v, 1, 10000, &o->epochs);
    else if ((v = cli_value(argc, argv, &i, "--train-size")))
      rc = parse_long("--train-size", v, 1, 1000000, &o->train_size);
    else if ((v = cli_value(argc, argv, &i, "--test-size")))
      rc = parse_long("--test-size", v, 1, 100000, &o->test_size);
    else if ((v = cli_value(argc, argv, &i, "--batch")))
      rc = parse_long("--batch", v, 1, 4096, &o->batch);
    else if ((v = cli_value(argc, argv, &i, "--garments")))
      rc = parse_long("--garments", v, 2, 3, &o->garments);
    else if ((v = cli_value(argc, argv, &i, "--beam")))
      rc = parse_long("--beam", v, 1, 64, &o->beam);
    else if ((v = cli_value(argc, argv, &i, "--seed")))
      rc = parse_long("--seed", v, 0, 1L << 30, &o->seed);
    else if ((v = cli_value(argc, argv, &i, "--lr"))) {
      char *end;
      o->lr = strtod(v, &end);
      if (end == v || *end || !(o->lr > 0 && o->lr < 10)) {
        fprintf(stderr, "nncl caption: --lr takes a number in (0, 10), not \"%s\"\n", v);
        rc = 2;
      }
    } else if (argv[i][0] == '-')
      return cli_unknown_option("caption", argv[i]);
    else
      return cli_usage(&cmd_caption);
  }
  if (rc) return rc;
  if (!o->train) {
    fprintf(stderr, "nncl caption: only --train is implemented (train, then caption held-out "
                    "pictures)\n");
    return 2;
  }
  if (o->batch > o->train_size) o->batch = o->train_size;
  return 0;
}

/* The most frequent caption of the training set: the trivial baseline. */
static const int *most_frequent(const caption_set *s) {
  const int T = s->steps;
  int best = 0, best_count = 0;
  for (int i = 0; i < s->n; i++) {
    int c = 0;
    for (int j = 0; j < s->n; j++)
      c += memcmp(s->tokens + (size_t)i * T, s->tokens + (size_t)j * T, T * sizeof(int)) == 0;
    if (c > best_count) best = i, best_count = c;
  }
  return s->tokens + (size_t)best * T;
}

/* Exact match (percent) and corpus BLEU-4 of hyp [n, steps] against the set's captions. */
static void score(const caption_set *s, const int *hyp, int hyp_stride, double *exact,
                  double *bleu) {
  const int T = s->steps;
  const int **h = malloc((size_t)s->n * sizeof *h), **r = malloc((size_t)s->n * sizeof *r);
  int *hl = malloc((size_t)s->n * sizeof *hl), *rl = malloc((size_t)s->n * sizeof *rl);
  int same = 0;
  *exact = *bleu = 0;
  if (h && r && hl && rl) {
    for (int i = 0; i < s->n; i++) {
      h[i] = hyp + (size_t)i * hyp_stride;
      r[i] = s->tokens + (size_t)i * T;
      hl[i] = caption_length(h[i], T);
      rl[i] = caption_length(r[i], T);
      same += hl[i] == rl[i] && memcmp(h[i], r[i], (size_t)hl[i] * sizeof(int)) == 0;
    }
    *exact = 100.0 * same / s->n;
    *bleu = 100.0 * caption_bleu4(s->n, h, hl, r, rl);
  }
  free(h);
  free(r);
  free(hl);
  free(rl);
}

/* One epoch of teacher-forced steps over the set in a shuffled order; returns the mean loss or
   NAN with the failure printed. */
static double train_epoch(nncl_context *ctx, nncl_trainer *tr, const nncl_lr_schedule *sched,
                          float lr, const caption_set *s, int batch, uint64_t *rng, int *order,
                          float *rows, int64_t *labels) {
  const int T = s->steps;
  for (int i = s->n - 1; i > 0; i--) { /* Fisher-Yates */
    *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
    const int j = (int)((*rng >> 33) % (uint64_t)(i + 1)), k = order[i];
    order[i] = order[j], order[j] = k;
  }
  double sum = 0;
  int steps = 0;
  for (int b = 0; b + batch <= s->n; b += batch) {
    for (int i = 0; i < batch; i++) {
      caption_rows(s, s->tokens, order[b + i], 1, rows + (size_t)i * T * CAPTION_ROW);
      for (int t = 0; t < T; t++)
        labels[(size_t)i * T + t] = s->tokens[(size_t)order[b + i] * T + t];
    }
    const nncl_array x = {NNCL_FLOAT32, {2, {(int64_t)batch * T, CAPTION_ROW}}, rows};
    const nncl_array y = {NNCL_INT64, {1, {(int64_t)batch * T}}, labels};
    float loss;
    nncl_trainer_set_lr(tr, nncl_lr_schedule_at(sched, lr, nncl_trainer_steps(tr)));
    nncl_status st = nncl_trainer_step(tr, &x, &y, &loss);
    if (st != NNCL_OK) {
      cli_fail(ctx, st, "training step");
      return NAN;
    }
    sum += loss;
    steps++;
  }
  return steps ? sum / steps : 0.0;
}

/* Copies the trainer's current parameters into p by name. */
static nncl_status trained_params(nncl_trainer *tr, caption_params *p) {
  for (int i = 0; i < nncl_trainer_num_params(tr); i++)
    for (int k = 0; k < CAPTION_NUM_PARAMS; k++)
      if (strcmp(nncl_trainer_param_name(tr, i), p->name[k]) == 0) {
        nncl_array_free(&p->value[k]);
        TRY(nncl_trainer_get_param(tr, i, &p->value[k]));
      }
  return NNCL_OK;
}

static int run(int argc, char **argv) {
  struct opts o = {.out_dir = "caption-out",
                   .data_dir = FASHION_DIR,
                   .epochs = 6,
                   .train_size = 6000,
                   .test_size = 500,
                   .batch = 16,
                   .seed = 1,
                   .beam = 1,
                   .garments = 2,
                   .lr = 3e-3};
  int rc = parse(argc, argv, &o);
  if (rc) return rc;
  demo_idx tr_im = {0}, tr_lb = {0}, te_im = {0}, te_lb = {0};
  caption_set train = {0}, test = {0};
  caption_params p = {0};
  nncl_context *ctx = NULL;
  nncl_graph *model = NULL, *infer = NULL;
  nncl_trainer *tr = NULL;
  int *order = NULL, *hyp = NULL;
  float *rows = NULL, *att = NULL;
  int64_t *labels = NULL;
  nncl_status st;
  char err[512];
  rc = 1;
  if (demo_idx_read_split(o.data_dir, "train", &tr_im, &tr_lb, err, sizeof err) != 0 ||
      demo_idx_read_split(o.data_dir, "t10k", &te_im, &te_lb, err, sizeof err) != 0) {
    fprintf(stderr,
            "nncl caption: %s\n(Debian: apt install dataset-fashion-mnist, or give "
            "--data-dir DIR)\n",
            err);
    goto done;
  }
  /* training pictures from the training images, test pictures from the held-out t10k images */
  if (caption_set_make(&tr_im, &tr_lb, (int)o.train_size, (int)o.garments, (uint64_t)o.seed,
                       &train) != 0 ||
      caption_set_make(&te_im, &te_lb, (int)o.test_size, (int)o.garments, (uint64_t)o.seed + 1,
                       &test) != 0) {
    fprintf(stderr, "nncl caption: out of memory for the pictures (or fewer than two images)\n");
    goto done;
  }
  const int T = train.steps;
  if (mkdir(o.out_dir, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "nncl caption: cannot make %s: %s\n", o.out_dir, strerror(errno));
    goto done;
  }
  if (!(ctx = cli_open_context(o.device))) goto done;
  nncl_trainer_options to;
  nncl_trainer_options_default(&to);
  nncl_optimizer_options_default(NNCL_OPTIM_ADAM, &to.optim);
  to.optim.lr = (float)o.lr;
  to.clip_norm = 5.0f; /* the LSTM's gradient can spike early on */
  if ((st = caption_params_init((uint64_t)o.seed, &p)) || (st = nncl_graph_create(ctx, &model)) ||
      (st = caption_net_build(model, &p, T, 0)) || (st = nncl_trainer_create(model, &to, &tr))) {
    cli_fail(ctx, st, "captioning network");
    goto done;
  }
  order = malloc((size_t)train.n * sizeof *order);
  rows = malloc((size_t)o.batch * T * CAPTION_ROW * sizeof *rows);
  labels = malloc((size_t)o.batch * T * sizeof *labels);
  hyp = malloc((size_t)test.n * T * sizeof *hyp);
  att = malloc((size_t)test.n * T * L * sizeof *att);
  if (!order || !rows || !labels || !hyp || !att) {
    fprintf(stderr, "nncl caption: out of memory\n");
    goto done;
  }
  for (int i = 0; i < train.n; i++) order[i] = i;
  printf("nncl caption: %d training and %d test pictures (%dx%d, %ld garments), %ld epochs, "
         "batch %ld, Adam lr %g cosine-annealed to 1%%\n",
         train.n, test.n, CAPTION_SIDE, CAPTION_SIDE, o.garments, o.epochs, o.batch, o.lr);
  /* cosine annealing to lr / 100 over the run: the large early steps learn the garments, the
     small late ones settle them */
  const nncl_lr_schedule sched = {NNCL_LR_COSINE,      0, 0, 0.0f, o.epochs * (train.n / o.batch),
                                  (float)o.lr / 100.0f};
  uint64_t rng = (uint64_t)o.seed;
  for (long e = 0; e < o.epochs; e++) {
    double loss =
        train_epoch(ctx, tr, &sched, (float)o.lr, &train, (int)o.batch, &rng, order, rows, labels);
    if (isnan(loss)) goto done;
    printf("epoch %ld: mean token loss %.4f\n", e + 1, loss);
    fflush(stdout);
  }
  /* caption the held-out pictures with the trained parameters, on the device */
  if ((st = trained_params(tr, &p)) || (st = nncl_graph_create(ctx, &infer)) ||
      (st = caption_net_build(infer, &p, T, 1)) ||
      (st = o.beam > 1 ? caption_decode_beam(infer, &test, 0, test.n, (int)o.beam, hyp, att)
                       : caption_decode_greedy(infer, &test, 0, test.n, hyp, att))) {
    cli_fail(ctx, st, "captioning");
    goto done;
  }
  double exact, bleu, base_exact, base_bleu;
  score(&test, hyp, T, &exact, &bleu);
  const int *base = most_frequent(&train);
  score(&test, base, 0, &base_exact, &base_bleu);
  char words[128];
  caption_format(base, T, words, sizeof words);
  printf("baseline (most frequent training caption \"%s\"): exact match %.1f%%, BLEU-4 %.1f\n",
         words, base_exact, base_bleu);
  printf("model (%s): exact match %.1f%%, BLEU-4 %.1f\n",
         o.beam > 1 ? "beam search" : "greedy decoding", exact, bleu);
  for (int i = 0; i < NUM_PICTURES && i < test.n; i++) {
    char path[1024], want[128], got[128];
    caption_format(hyp + (size_t)i * T, T, got, sizeof got);
    caption_format(test.tokens + (size_t)i * T, T, want, sizeof want);
    snprintf(path, sizeof path, "%s/caption_%d.png", o.out_dir, i);
    if (caption_picture_write(path, test.pixels + (size_t)i * CAPTION_PIXELS, hyp + (size_t)i * T,
                              T, att + (size_t)i * T * L, got) != 0)
      goto done;
    printf("%s: \"%s\" (truth \"%s\")\n", path, got, want);
  }
  rc = 0;
done:
  free(order);
  free(rows);
  free(labels);
  free(hyp);
  free(att);
  nncl_trainer_destroy(tr);
  nncl_graph_destroy(infer);
  nncl_graph_destroy(model);
  nncl_context_destroy(ctx);
  caption_params_free(&p);
  caption_set_free(&train);
  caption_set_free(&test);
  demo_idx_free(&tr_im);
  demo_idx_free(&tr_lb);
  demo_idx_free(&te_im);
  demo_idx_free(&te_lb);
  return rc;
}

const struct cli_command cmd_caption = {
    "caption", "image captioning: a CNN + LSTM with attention trained on the device", run,
    "nncl caption --train [options]\n"
    "  Makes pictures of two Fashion-MNIST garments (side by side or one above the other) with\n"
    "  captions such as \"a sandal left of a shirt\" (or of three in an L: \"a bag right of a\n"
    "  coat above a shirt\"), trains a CNN encoder + LSTM decoder with soft attention (teacher\n"
    "  forcing, per-token cross-entropy, Adam with a cosine learning rate) on the device,\n"
    "  captions held-out pictures (greedy or --beam K) and prints exact match and BLEU-4\n"
    "  against the most frequent caption; writes attention maps of a few pictures as PNGs.\n"
    "  --epochs N        passes over the training pictures (6)\n"
    "  --train-size N    training pictures (6000)\n"
    "  --test-size N     held-out pictures, from the t10k images (500)\n"
    "  --batch N         pictures per step (16)\n"
    "  --lr F            Adam's learning rate (0.003)\n"
    "  --garments 2|3    garments per picture (2)\n"
    "  --beam K          beam search with K hypotheses per picture (1: greedy)\n"
    "  --seed N          pictures, initial weights and shuffling (1)\n"
    "  --out-dir DIR     attention PNGs caption_0.png ... (caption-out)\n"
    "  --data-dir DIR    Fashion-MNIST IDX files (" FASHION_DIR ")\n"
    "  --device D        gpu, cpu, P:D or part of a device name"};
