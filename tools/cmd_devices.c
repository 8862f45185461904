/* cmd_devices.c: `nncl devices [--json]`: every OpenCL platform and device with its facts. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"

static cJSON *device_json(const nncl_device_info *d, int is_default) {
  cJSON *o = cJSON_CreateObject();
  char id[32];
  snprintf(id, sizeof id, "%d:%d", d->platform_index, d->device_index);
  cJSON_AddStringToObject(o, "id", id);
  cJSON_AddBoolToObject(o, "default", is_default);
  cJSON_AddStringToObject(o, "platform", d->platform_name);
  cJSON_AddStringToObject(o, "platform_version", d->platform_version);
  cJSON_AddStringToObject(o, "name", d->name);
  cJSON_AddStringToObject(o, "vendor", d->vendor);
  cJSON_AddStringToObject(o, "type", d->is_gpu ? "gpu" : d->is_cpu ? "cpu" : "other");
  cJSON_AddStringToObject(o, "version", d->version);
  cJSON_AddStringToObject(o, "driver_version", d->driver_version);
  cJSON_AddStringToObject(o, "opencl_c_version", d->c_version);
  cJSON_AddNumberToObject(o, "compute_units", d->compute_units);
  cJSON_AddNumberToObject(o, "clock_mhz", d->clock_mhz);
  cJSON_AddNumberToObject(o, "global_mem_bytes", (double)d->global_mem_bytes);
  cJSON_AddNumberToObject(o, "max_alloc_bytes", (double)d->max_alloc_bytes);
  cJSON_AddNumberToObject(o, "local_mem_bytes", (double)d->local_mem_bytes);
  cJSON_AddNumberToObject(o, "max_work_group_size", (double)d->max_work_group_size);
  cJSON_AddNumberToObject(o, "mem_base_addr_align_bytes", d->mem_base_addr_align_bytes);
  cJSON_AddBoolToObject(o, "fp16", d->has_fp16);
  cJSON_AddBoolToObject(o, "fp64", d->has_fp64);
  return o;
}

static int run(int argc, char **argv) {
  int json = 0;
  for (int i = 1; i < argc; i++) {
    if (cli_is(argv[i], "--json"))
      json = 1;
    else {
      cli_unknown_option("devices", argv[i]);
      return 2;
    }
  }
  nncl_device_info *list = NULL;
  int count = 0, def = -1;
  char msg[4096] = "";
  nncl_status st = nncl_devices_list(&list, &count, msg, sizeof msg);
  if (st != NNCL_OK) {
    fprintf(stderr, "nncl devices: %s: %s\n", nncl_status_string(st), msg);
    return 1;
  }
  char sel_msg[4096] = "";
  nncl_status sel = nncl_device_select(list, count, NULL, &def, sel_msg, sizeof sel_msg);
  if (json) {
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "devices");
    for (int i = 0; i < count; i++) cJSON_AddItemToArray(arr, device_json(&list[i], i == def));
    if (sel != NNCL_OK) cJSON_AddStringToObject(root, "default_error", sel_msg);
    cli_print_json(root);
  } else {
    int last_platform = -1;
    for (int i = 0; i < count; i++) {
      const nncl_device_info *d = &list[i];
      if (d->platform_index != last_platform) {
        printf("platform %d: %s (%s)\n", d->platform_index, d->platform_name, d->platform_version);
        last_platform = d->platform_index;
      }
      printf("  %s %d:%d %s\n", i == def ? "*" : " ", d->platform_index, d->device_index, d->name);
      printf("      type %s, vendor %s, %s, driver %s, %s\n",
             d->is_gpu   ? "GPU"
             : d->is_cpu ? "CPU"
                         : "other",
             d->vendor, d->version, d->driver_version, d->c_version);
      printf("      %u compute units at %u MHz, global memory %.2f GiB (max buffer %.2f GiB), "
             "local memory %llu KiB%s\n",
             d->compute_units, d->clock_mhz, (double)d->global_mem_bytes / (1 << 30),
             (double)d->max_alloc_bytes / (1 << 30), (unsigned long long)d->local_mem_bytes / 1024,
             d->local_mem_is_global ? " (emulated in global)" : "");
      printf("      max work-group %zu, base address alignment %u bytes, fp16 %s, fp64 %s\n",
             d->max_work_group_size, d->mem_base_addr_align_bytes, d->has_fp16 ? "yes" : "no",
             d->has_fp64 ? "yes" : "no");
    }
    if (sel != NNCL_OK)
      fprintf(stderr, "nncl devices: NNCL_DEVICE selects nothing: %s\n", sel_msg);
    else
      printf("(* = default device%s)\n", getenv("NNCL_DEVICE") ? ", from NNCL_DEVICE" : "");
  }
  nncl_devices_free(list);
  return sel == NNCL_OK ? 0 : 1;
}

const struct cli_command cmd_devices = {"devices", "list OpenCL platforms and devices", run,
                                        "nncl devices [--json]"};
