/* style_optimise.c: Adam and L-BFGS loops of `nncl style` (see style_optimise.h). */
#include "style_optimise.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "demo_progress.h"
#include "style_adam.h"
#include "style_lbfgs.h"
#include "style_loss.h"

/* Progress: a bar redrawn in place on a terminal, else one line per tenth of the run (which the
   test reads). */
static void report(const style_run *o, long step, float loss, float style, float content,
                   double t0) {
  const double secs = demo_now() - t0,
               left = step > 0 ? secs / (double)step * (double)(o->steps - step) : 0;
  if (isatty(fileno(stderr))) {
    enum { WIDTH = 24 };
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++) bar[i] = i < WIDTH * step / o->steps ? '#' : '.';
    bar[WIDTH] = 0;
    fprintf(stderr, "\r  step %5ld/%ld [%s] loss %.4e  %4.0f s left ", step, o->steps, bar,
            (double)loss, left);
    fflush(stderr);
  }
  const long every = o->steps >= 10 ? o->steps / 10 : 1;
  if (step % every == 0 || step == o->steps) {
    if (isatty(fileno(stderr))) fputc('\n', stderr);
    printf("step %ld/%ld  loss %.6e  style %.6e  content %.6e  %.1f s\n", step, o->steps,
           (double)loss, (double)style, (double)content, secs);
    fflush(stdout);
  }
}

static nncl_status read_scalar(nncl_graph *g, const char *name, float *v) {
  nncl_array a = {0};
  nncl_status st = nncl_graph_get_output_by_name(g, name, &a);
  if (st == NNCL_OK) *v = ((const float *)a.data)[0];
  nncl_array_free(&a);
  return st;
}

/* Runs g at picture x: loss terms, and the gradient when grad is not NULL. */
static nncl_status evaluate(nncl_graph *g, const char *image, const nncl_array *x, float l[3],
                            nncl_array *grad) {
  nncl_status st;
  if ((st = nncl_graph_set_input(g, image, x)) || (st = nncl_graph_run(g)) ||
      (st = read_scalar(g, STYLE_LOSS, &l[0])) || (st = read_scalar(g, STYLE_LOSS_STYLE, &l[1])) ||
      (st = read_scalar(g, STYLE_LOSS_CONTENT, &l[2])))
    return st;
  if (!grad) return NNCL_OK;
  nncl_array_free(grad);
  return nncl_graph_get_output_by_name(g, STYLE_GRAD, grad);
}

static int write_frame(const style_run *o, const style_norm *n, long step, const nncl_array *x) {
  char path[4096];
  snprintf(path, sizeof path, "%s/step_%06ld.png", o->frames, step);
  return style_picture_save(path, n, x);
}

/* Adam: each run of g reads x, m, v and gives the loss at x and the next x, m, v. */
int style_optimise_adam(const style_run *o, nncl_context *ctx, nncl_graph *g, const char *image,
                        const style_norm *n, nncl_array *x, float first[3], float last[3]) {
  float lr[3], lo[3], hi[3];
  for (int c = 0; c < n->channels; c++) { /* --lr and the range [0, 1] are in pixel units */
    lr[c] = (float)o->lr / n->std[c];
    lo[c] = -n->mean[c] / n->std[c];
    hi[c] = (1.0f - n->mean[c]) / n->std[c];
  }
  const style_adam_spec a = {image, STYLE_GRAD, n->channels, lr, lo, hi, 0.9, 0.999, 1e-8};
  nncl_array m = {0}, v = {0};
  nncl_status st;
  int rc = 1;
  if ((st = style_adam_build(g, &a)) || (st = nncl_array_alloc(&m, NNCL_FLOAT32, &x->shape)) ||
      (st = nncl_array_alloc(&v, NNCL_FLOAT32, &x->shape))) {
    cli_fail(ctx, st, "Adam");
    goto done;
  }
  memset(m.data, 0, nncl_array_bytes(&m));
  memset(v.data, 0, nncl_array_bytes(&v));
  double t0 = 0.0; /* set after the first run, so that planning and kernel builds do not count */
  for (long t = 1; t <= o->steps + 1; t++) {
    float l[3];
    /* the last run only measures the final picture (its update is not kept) */
    if ((st = nncl_graph_set_input(g, STYLE_ADAM_M, &m)) ||
        (st = nncl_graph_set_input(g, STYLE_ADAM_V, &v)) || (st = style_adam_set_step(g, &a, t)) ||
        (st = evaluate(g, image, x, l, NULL))) {
      cli_fail(ctx, st, "style step");
      goto done;
    }
    if (t == 1) {
      memcpy(first, l, sizeof l);
      t0 = demo_now();
    }
    if (!isfinite(l[0])) {
      fprintf(stderr, "nncl style: the loss is %g at step %ld (try a smaller --lr)\n", (double)l[0],
              t - 1);
      goto done;
    }
    report(o, t - 1, l[0], l[1], l[2], t0);
    if (t > o->steps) {
      memcpy(last, l, sizeof l);
      break;
    }
    nncl_array_free(x);
    nncl_array_free(&m);
    nncl_array_free(&v);
    if ((st = nncl_graph_get_output_by_name(g, STYLE_ADAM_IMAGE_OUT, x)) ||
        (st = nncl_graph_get_output_by_name(g, STYLE_ADAM_M_OUT, &m)) ||
        (st = nncl_graph_get_output_by_name(g, STYLE_ADAM_V_OUT, &v))) {
      cli_fail(ctx, st, "style step");
      goto done;
    }
    if (o->every > 0 && t % o->every == 0 && write_frame(o, n, t, x) != 0) goto done;
  }
  rc = 0;
done:
  nncl_array_free(&m);
  nncl_array_free(&v);
  return rc;
}

/* The gradient with the components zeroed that push a pixel at an end of its range outwards: the
   pixels the clamp holds are left out of L-BFGS's direction and curvature pairs. */
static void free_gradient(const style_norm *n, int64_t plane, const float *x, const float *g,
                          int64_t numel, float *out) {
  for (int64_t i = 0; i < numel; i++) {
    const int c = (int)(i / plane);
    const float lo = -n->mean[c] / n->std[c], hi = (1.0f - n->mean[c]) / n->std[c];
    out[i] = (x[i] <= lo && g[i] > 0) || (x[i] >= hi && g[i] < 0) ? 0.0f : g[i];
  }
}

/* L-BFGS: the device gives loss and gradient, the host keeps the history, forms the direction by
   the two-loop recursion and searches along it (backtracking to Armijo's sufficient decrease), each
   trial picture clamped to the valid range (a projected L-BFGS). A first trial of a fresh history
   is scaled as torch.optim.LBFGS scales its first step: min(1, 1 / |g|_1) lr. When no trial
   lowers the loss, the history is dropped and the iteration retried from the gradient alone; a
   second failure ends the run early. */
int style_optimise_lbfgs(const style_run *o, nncl_context *ctx, nncl_graph *g, const char *image,
                         const style_norm *n, nncl_array *x, float first[3], float last[3]) {
  const int64_t numel = nncl_shape_numel(&x->shape), plane = numel / n->channels;
  enum { HISTORY = 10, TRIALS = 20 };
  style_lbfgs *mem = style_lbfgs_create(numel, HISTORY);
  nncl_array grad = {0}, grad_next = {0}, trial = {0};
  float *d = malloc((size_t)numel * sizeof *d), *dx = malloc((size_t)numel * sizeof *dx),
        *dg = malloc((size_t)numel * sizeof *dg), *gf = malloc((size_t)numel * sizeof *gf),
        *gf_next = malloc((size_t)numel * sizeof *gf_next);
  nncl_status st = NNCL_OK;
  int rc = 1, fresh = 1;
  float l[3], lt[3];
  if (!mem || !d || !dx || !dg || !gf || !gf_next ||
      nncl_array_alloc(&trial, NNCL_FLOAT32, &x->shape) != NNCL_OK) {
    fprintf(stderr, "nncl style: out of memory for L-BFGS\n");
    goto done;
  }
  if ((st = evaluate(g, image, x, l, &grad))) goto fail;
  memcpy(first, l, sizeof l);
  const double t0 = demo_now();
  long t = 1;
  for (int retry = 0; t <= o->steps; t++) {
    if (!retry) report(o, t - 1, l[0], l[1], l[2], t0);
    retry = 0;
    const float *xv = x->data;
    float *tv = trial.data;
    free_gradient(n, plane, xv, grad.data, numel, gf);
    style_lbfgs_direction(mem, gf, d);
    double slope = 0.0, g1 = 0.0;
    for (int64_t i = 0; i < numel; i++) slope += (double)gf[i] * d[i], g1 += fabs((double)gf[i]);
    if (!(slope < 0.0)) /* not a descent direction: the gradient's instead */
      for (int64_t i = 0; i < numel; i++) d[i] = -gf[i];
    double step = fresh ? fmin(1.0, 1.0 / g1) * o->lr : o->lr;
    int accepted = 0;
    for (int k = 0; k < TRIALS && !accepted; k++, step *= 0.5) {
      double decrease = 0.0;
      for (int64_t i = 0; i < numel; i++) {
        const int c = (int)(i / plane);
        const float lo = -n->mean[c] / n->std[c], hi = (1.0f - n->mean[c]) / n->std[c];
        tv[i] = fminf(fmaxf(xv[i] + (float)step * d[i], lo), hi);
        decrease += (double)gf[i] * (tv[i] - xv[i]);
      }
      if (!(decrease < 0.0)) break; /* the step no longer moves the picture */
      if ((st = evaluate(g, image, &trial, lt, &grad_next))) goto fail;
      accepted = isfinite(lt[0]) && lt[0] < l[0] && lt[0] <= l[0] + 1e-4 * decrease;
    }
    if (!accepted) {
      if (fresh) {
        printf("L-BFGS: no lower loss along the gradient at step %ld; stopping\n", t);
        break;
      }
      style_lbfgs_destroy(mem);
      if (!(mem = style_lbfgs_create(numel, HISTORY))) {
        fprintf(stderr, "nncl style: out of memory for L-BFGS\n");
        goto done;
      }
      fresh = retry = 1;
      t--;
      continue;
    }
    fresh = 0;
    free_gradient(n, plane, tv, grad_next.data, numel, gf_next);
    for (int64_t i = 0; i < numel; i++) dx[i] = tv[i] - xv[i], dg[i] = gf_next[i] - gf[i];
    style_lbfgs_push(mem, dx, dg);
    nncl_array swap = *x;
    *x = trial, trial = swap, swap = grad, grad = grad_next, grad_next = swap;
    memcpy(l, lt, sizeof l);
    if (o->every > 0 && t % o->every == 0 && write_frame(o, n, t, x) != 0) goto done;
  }
  report(o, t > o->steps ? o->steps : t, l[0], l[1], l[2], t0);
  memcpy(last, l, sizeof l);
  rc = 0;
  goto done;
fail:
  cli_fail(ctx, st, "style step");
done:
  nncl_array_free(&grad);
  nncl_array_free(&grad_next);
  nncl_array_free(&trial);
  free(d);
  free(dx);
  free(dg);
  free(gf);
  free(gf_next);
  style_lbfgs_destroy(mem);
  return rc;
}
