/* style_adam.c: Adam's update of the picture as graph nodes (see style_adam.h). */
#include "style_adam.h"

#include <math.h>
#include <string.h>

static nncl_status add_const(nncl_graph *g, const char *name, const float *v, int channels) {
  const nncl_shape per_channel = {4, {1, channels, 1, 1}}, one = {1, {1}};
  nncl_array a = {NNCL_FLOAT32, channels > 0 ? per_channel : one, (void *)v};
  return nncl_graph_add_constant(g, name, &a);
}

static nncl_status bin(nncl_graph *g, const char *op, const char *a, const char *b,
                       const char *out) {
  const char *in[2] = {a, b};
  return nncl_graph_add_node(g, op, out, 2, in, 1, &out, NULL);
}

nncl_status style_adam_build(nncl_graph *g, const style_adam_spec *s) {
  nncl_dtype dt;
  nncl_shape shape = {0}, one = {1, {1}};
  int found = 0;
  for (int i = 0; i < nncl_graph_num_inputs(g) && !found; i++)
    found = strcmp(nncl_graph_input_name(g, i), s->image) == 0 &&
            nncl_graph_input_info(g, i, &dt, &shape) == NNCL_OK;
  if (!found) return NNCL_ERR_NOT_FOUND;
  const float c1 = (float)(1.0 - s->beta1), b2 = (float)s->beta2, c2 = (float)(1.0 - s->beta2),
              eps = (float)s->eps;
  const char *x = s->image, *gr = s->grad;
  nncl_status st;
  if ((st = nncl_graph_add_input(g, STYLE_ADAM_M, NNCL_FLOAT32, &shape)) ||
      (st = nncl_graph_add_input(g, STYLE_ADAM_V, NNCL_FLOAT32, &shape)) ||
      (st = nncl_graph_add_input(g, STYLE_ADAM_BC1, NNCL_FLOAT32, &one)) ||
      (st = nncl_graph_add_input(g, STYLE_ADAM_BC2, NNCL_FLOAT32, &one)) ||
      (st = add_const(g, "adam/one_minus_beta1", &c1, 0)) ||
      (st = add_const(g, "adam/beta2", &b2, 0)) ||
      (st = add_const(g, "adam/one_minus_beta2", &c2, 0)) ||
      (st = add_const(g, "adam/eps", &eps, 0)) ||
      (st = add_const(g, "adam/lr", s->lr, s->channels)) ||
      (st = add_const(g, "adam/lo", s->lo, s->channels)) ||
      (st = add_const(g, "adam/hi", s->hi, s->channels)))
    return st;
  /* m' = m + (1 - beta1)(g - m): PyTorch's lerp */
  if ((st = bin(g, "Sub", gr, STYLE_ADAM_M, "adam/g_minus_m")) ||
      (st = bin(g, "Mul", "adam/g_minus_m", "adam/one_minus_beta1", "adam/m_delta")) ||
      (st = bin(g, "Add", STYLE_ADAM_M, "adam/m_delta", STYLE_ADAM_M_OUT)))
    return st;
  /* v' = beta2 v + (1 - beta2) g^2 */
  if ((st = bin(g, "Mul", STYLE_ADAM_V, "adam/beta2", "adam/v_decayed")) ||
      (st = bin(g, "Mul", gr, gr, "adam/g2")) ||
      (st = bin(g, "Mul", "adam/g2", "adam/one_minus_beta2", "adam/g2_scaled")) ||
      (st = bin(g, "Add", "adam/v_decayed", "adam/g2_scaled", STYLE_ADAM_V_OUT)))
    return st;
  /* x' = clamp(x - lr bc1 m' / (sqrt(v') bc2 + eps), lo, hi) */
  const char *v_out = STYLE_ADAM_V_OUT, *sqrt_out = "adam/sqrt_v";
  if ((st = nncl_graph_add_node(g, "Sqrt", sqrt_out, 1, &v_out, 1, &sqrt_out, NULL)) ||
      (st = bin(g, "Mul", sqrt_out, STYLE_ADAM_BC2, "adam/sqrt_v_hat")) ||
      (st = bin(g, "Add", "adam/sqrt_v_hat", "adam/eps", "adam/denom")) ||
      (st = bin(g, "Div", STYLE_ADAM_M_OUT, "adam/denom", "adam/ratio")) ||
      (st = bin(g, "Mul", "adam/ratio", STYLE_ADAM_BC1, "adam/ratio_hat")) ||
      (st = bin(g, "Mul", "adam/ratio_hat", "adam/lr", "adam/step")) ||
      (st = bin(g, "Sub", x, "adam/step", "adam/moved")) ||
      (st = bin(g, "Max", "adam/moved", "adam/lo", "adam/above_lo")) ||
      (st = bin(g, "Min", "adam/above_lo", "adam/hi", STYLE_ADAM_IMAGE_OUT)))
    return st;
  if ((st = nncl_graph_add_output(g, STYLE_ADAM_IMAGE_OUT)) ||
      (st = nncl_graph_add_output(g, STYLE_ADAM_M_OUT)) ||
      (st = nncl_graph_add_output(g, STYLE_ADAM_V_OUT)))
    return st;
  return NNCL_OK;
}

nncl_status style_adam_set_step(nncl_graph *g, const style_adam_spec *s, long t) {
  float bc1 = (float)(1.0 / (1.0 - pow(s->beta1, (double)t)));
  float bc2 = (float)(1.0 / sqrt(1.0 - pow(s->beta2, (double)t)));
  const nncl_shape one = {1, {1}};
  nncl_array a = {NNCL_FLOAT32, one, &bc1}, b = {NNCL_FLOAT32, one, &bc2};
  nncl_status st = nncl_graph_set_input(g, STYLE_ADAM_BC1, &a);
  return st != NNCL_OK ? st : nncl_graph_set_input(g, STYLE_ADAM_BC2, &b);
}
