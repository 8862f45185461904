/* schedule.c: nncl_lr_schedule_at, the closed forms of PyTorch's StepLR, CosineAnnealingLR and
   LinearLR warm-up (see nncl/train.h), in double. */
#include <math.h>

#include "nncl/train.h"

float nncl_lr_schedule_at(const nncl_lr_schedule *s, float lr, int64_t t) {
  if (!s || t < 0) return lr;
  double r = lr;
  if (s->kind == NNCL_LR_STEP && s->step_size > 0)
    r = lr * pow((double)s->gamma, (double)(t / s->step_size));
  else if (s->kind == NNCL_LR_COSINE && s->total_steps > 0)
    r = s->min_lr + ((double)lr - s->min_lr) *
                        (1.0 + cos(3.14159265358979323846 * (double)t / (double)s->total_steps)) /
                        2.0;
  if (s->warmup_steps > 0) {
    double start = 1.0 / (double)s->warmup_steps;
    double k = t < s->warmup_steps ? (double)t : (double)s->warmup_steps;
    r *= start + (1.0 - start) * k / (double)s->warmup_steps;
  }
  return (float)r;
}
