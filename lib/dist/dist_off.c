/* dist_off.c: nncl/dist.h in a build without MPI (meson -Dmpi=disabled, or Open MPI not found):
   every call that would need MPI says so. */
#include "nncl/dist.h"
#include "runtime.h"

#define NO_MPI "nncl was built without MPI (install libopenmpi-dev and rebuild with -Dmpi=enabled)"

int nncl_dist_built(void) { return 0; }

nncl_status nncl_dist_create(nncl_context *ctx, double timeout_s, nncl_dist **out) {
  (void)timeout_s;
  if (out) *out = NULL;
  return nncl__error(ctx, NNCL_ERR_UNSUPPORTED, "dist: %s", NO_MPI);
}

/* No nncl_dist can exist without MPI, so these only see NULL. */
void nncl_dist_destroy(nncl_dist *d) { (void)d; }
int nncl_dist_rank(const nncl_dist *d) { return (void)d, 0; }
int nncl_dist_size(const nncl_dist *d) { return (void)d, 1; }
nncl_status nncl_dist_attach(nncl_dist *d, nncl_trainer *t, size_t bucket_bytes) {
  (void)d, (void)t, (void)bucket_bytes;
  return NNCL_ERR_INVALID_ARGUMENT;
}
nncl_status nncl_dist_shard(nncl_dist *d, int64_t n, int64_t *offset, int64_t *count) {
  (void)d, (void)n, (void)offset, (void)count;
  return NNCL_ERR_INVALID_ARGUMENT;
}
nncl_status nncl_dist_sum(nncl_dist *d, double *v, int n) {
  (void)d, (void)v, (void)n;
  return NNCL_ERR_INVALID_ARGUMENT;
}
void nncl_dist_last_step(const nncl_dist *d, nncl_dist_stats *s) {
  (void)d;
  if (s) *s = (nncl_dist_stats){0};
}
