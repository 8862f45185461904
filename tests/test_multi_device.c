/* test_multi_device.c: a context over several devices (PoCL exposes them as POCL_DEVICES lists,
   set in tests/meson.build): device lists, options and placement specs. Models across devices:
   test_multi_device_models.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/nncl.h"
#include "test_util.h"

static nncl_context *open_devices(const char *spec) {
  nncl_context *ctx = NULL;
  char msg[4096] = "";
  nncl_status st = nncl_context_create_devices(spec, &ctx, msg, sizeof msg);
  cr_assert_eq(st, NNCL_OK, "devices \"%s\": %s: %s", spec, nncl_status_string(st), msg);
  return ctx;
}

Test(multi_device, all_spans_every_device) {
  nncl_device_info *list = NULL;
  int count = 0;
  char msg[1024];
  cr_assert_eq(nncl_devices_list(&list, &count, msg, sizeof msg), NNCL_OK, "%s", msg);
  cr_assert_geq(count, 2, "the test env exposes two PoCL devices (POCL_DEVICES), found %d", count);
  nncl_context *ctx = open_devices("all");
  cr_assert_eq(nncl_context_device_count(ctx), count);
  for (int i = 0; i < count; i++) {
    const nncl_device_info *d = nncl_context_device_at(ctx, i);
    cr_assert_not_null(d);
    cr_assert_str_eq(d->name, list[i].name, "device %d", i);
  }
  cr_assert_null(nncl_context_device_at(ctx, count));
  cr_assert_str_eq(nncl_context_device(ctx)->name, list[0].name);
  nncl_context_destroy(ctx);
  /* an explicit list keeps its order: device 0 is the first named */
  ctx = open_devices("0:1,0:0");
  cr_assert_eq(nncl_context_device_count(ctx), 2);
  cr_assert_str_eq(nncl_context_device(ctx)->name, list[1].name);
  nncl_context_destroy(ctx);
  nncl_devices_free(list);
}

Test(multi_device, list_errors_name_the_entry) {
  nncl_context *ctx = NULL;
  char msg[4096] = "";
  nncl_status st = nncl_context_create_devices("0:0,0:0", &ctx, msg, sizeof msg);
  cr_assert_eq(st, NNCL_ERR_INVALID_ARGUMENT);
  cr_assert_null(ctx);
  cr_assert(strstr(msg, "again") && strstr(msg, "0:0"), "message: %s", msg);
  st = nncl_context_create_devices("0:0,,0:1", &ctx, msg, sizeof msg);
  cr_assert_eq(st, NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(msg, "empty entry"), "message: %s", msg);
  st = nncl_context_create_devices("0:0,7:7", &ctx, msg, sizeof msg);
  cr_assert_eq(st, NNCL_ERR_NO_DEVICE);
  cr_assert(strstr(msg, "7:7"), "message: %s", msg);
}

Test(multi_device, options_reach_every_device) {
  nncl_context *ctx = open_devices("all");
  cr_assert_eq(nncl_context_set_option(ctx, "conv.algo", "im2col"), NNCL_OK);
  const char *v = NULL;
  cr_assert_eq(nncl_context_get_option(ctx, "conv.algo", &v), NNCL_OK);
  cr_assert_str_eq(v, "im2col");
  cr_assert_eq(nncl_context_finish(ctx), NNCL_OK);
  nncl_context_destroy(ctx);
}

Test(multi_device, placement_errors_name_the_entry) {
  nncl_context *ctx = open_devices("all");
  cr_assert_eq(nncl_context_set_placement(ctx, "Conv:9"), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(ctx), "Conv:9"), "%s", nncl_context_last_error(ctx));
  cr_assert_eq(nncl_context_set_placement(ctx, "Conv"), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert_eq(nncl_context_set_placement(ctx, "Conv:1,Relu:0"), NNCL_OK);
  cr_assert_eq(nncl_context_set_placement(ctx, NULL), NNCL_OK);
  nncl_context_destroy(ctx);
}
