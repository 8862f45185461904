/* test_selftest_op.c: the op path end to end (registry, infer, enqueue, op_run, errors) on the
   nncl.SelftestAdd op, independent of any real op family. */
#include <string.h>

#include "test_util.h"

Test(op_path, add_matches_c) {
  nncl_array a = TU_RAND(1, 3, 5, 7), b = TU_RAND(2, 3, 5, 7), out;
  const nncl_array *in[] = {&a, &b};
  tu_run_op("nncl.SelftestAdd", 17, NULL, 0, 2, in, 1, &out);
  cr_assert_eq(out.shape.rank, 3);
  float want[105];
  for (int i = 0; i < 105; i++) want[i] = ((float *)a.data)[i] + ((float *)b.data)[i];
  tu_assert_close((float *)out.data, want, 105, 0, 0, "SelftestAdd");
  nncl_array_free(&a);
  nncl_array_free(&b);
  nncl_array_free(&out);
}

Test(op_path, shape_mismatch_names_node_and_shapes) {
  nncl_array a = TU_RAND(1, 2, 3), b = TU_RAND(2, 3, 3), out;
  const nncl_array *in[] = {&a, &b};
  nncl_status st = tu_try_op("nncl.SelftestAdd", 17, NULL, 0, 2, in, 1, &out);
  cr_assert_eq(st, NNCL_ERR_SHAPE);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "[2, 3]") && strstr(msg, "[3, 3]") && strstr(msg, "SelftestAdd"), "%s",
            msg);
  nncl_array_free(&a);
  nncl_array_free(&b);
}

Test(op_path, unknown_op_is_unsupported) {
  nncl_array a = TU_RAND(1, 2), out;
  const nncl_array *in[] = {&a};
  cr_assert_eq(tu_try_op("NoSuchOp", 17, NULL, 0, 1, in, 1, &out), NNCL_ERR_UNSUPPORTED);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "NoSuchOp"));
  nncl_array_free(&a);
}
