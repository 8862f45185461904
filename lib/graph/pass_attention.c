/* pass_attention.c: finds scaled dot-product attention as PyTorch exports it,
     S = MatMul(Q, K^T) [* or / constant scalars, on S, Q or K^T] [+ mask];  P = Softmax(S, last axis);
     Y = MatMul(P, V)
   and replaces it by one nncl.Attention node, so the [.., Lq, Lk] score matrix is never written.
   K^T usually comes from a Transpose: its input feeds the fused node directly when the Transpose
   only swapped the last two axes, otherwise the Transpose is kept with the swap undone (one copy,
   as before). Anchored at the Softmax; every score intermediate must have that one consumer. Scalar
   scales on Q or K are folded even when the scaled tensor has other readers (their node then stays
   for those readers). In rank 3, a Transpose(1, 0, 2) before Q, K or V or after the output (how
   nn.MultiheadAttention moves its heads between [L, batch * heads, d] and [batch * heads, L, d])
   is dropped too when the fused node is its only reader or writer: nncl.Attention's nncl.seq_first
   bits make it read and write that storage through strides, saving a copy of each tensor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

#define MAX_CHAIN 24

struct match {
  int sm, pv, qk;    /* Softmax, P.V MatMul, Q.K^T MatMul (pnode indices) */
  int q, k, v, mask; /* operands of the fused node (pvalue indices; mask -1 if none) */
  int kt;            /* >= 0: K is this value transposed by kperm (a node or a constant) */
  int kperm[NNCL_MAX_RANK];
  float scale;
  int kill[MAX_CHAIN], n_kill; /* nodes absorbed into the fused one (qk and pv not listed) */
  const char *pre[MAX_CHAIN];  /* op types absorbed before the Q.K^T MatMul */
  const char *post[MAX_CHAIN]; /* op types absorbed between the MatMuls, Softmax last */
  int n_pre, n_post;
  int seq_first; /* nncl.seq_first bits of the fused node */
  int y;         /* >= 0: the output Transpose(1, 0, 2) node absorbed (its value is the output) */
  int n_tail;    /* Transposes absorbed around V and the output, named after the last MatMul */
};

static const struct nncl__attr *attr(const struct pnode *n, const char *name) {
  for (int i = 0; i < n->n_attrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
  return NULL;
}

static int same_shape(const nncl_shape *a, const nncl_shape *b) {
  if (a->rank != b->rank) return 0;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

/* The alive node producing v, or NULL. */
static struct pnode *producer(struct plan *p, int v) {
  int i = v >= 0 ? p->v[v].producer : -1;
  return i >= 0 && p->n[i].alive ? &p->n[i] : NULL;
}

static int is_f32(const struct plan *p, int v) { return v >= 0 && p->v[v].dtype == NNCL_FLOAT32; }

/* v is a float32 constant with one element. */
static int scalar_const(const struct plan *p, int v, float *out) {
  const nncl_array *h = v >= 0 ? p->v[v].host : NULL;
  if (!h || h->dtype != NNCL_FLOAT32 || nncl_shape_numel(&h->shape) != 1) return 0;
  *out = *(const float *)h->data;
  return 1;
}

/* When node n is Mul(x, c), Mul(c, x) or Div(x, c) with a scalar constant c that leaves x's shape
   alone: returns x and multiplies *scale by c (or 1/c). Else -1. */
static int scale_operand(const struct plan *p, const struct pnode *n, float *scale) {
  if (n->n_in != 2 || n->n_out != 1 || n->in[0] < 0 || n->in[1] < 0) return -1;
  int is_mul = n->op == OP_MUL, is_div = n->op == OP_DIV;
  if (!is_mul && !is_div) return -1;
  float c;
  int x = -1;
  if (scalar_const(p, n->in[1], &c))
    x = n->in[0];
  else if (is_mul && scalar_const(p, n->in[0], &c))
    x = n->in[1];
  if (x < 0 || !is_f32(p, x) || !same_shape(&p->v[x].shape, &p->v[n->out[0]].shape)) return -1;
  if (is_div && c == 0.0f) return -1;
  *scale *= is_div ? 1.0f / c : c;
  return x;
}

/* Node n, before the Q.K^T MatMul, disappears into the fused node. */
static void absorb(struct match *m, struct plan *p, const struct pnode *n) {
  m->kill[m->n_kill++] = (int)(n - p->n);
  m->pre[m->n_pre++] = n->op_type;
}

/* Follows operand *v of node *user upwards through scalar Mul/Div nodes, folding their constants
   into the scale. A node is absorbed only while each link is its sole reader; past the first
   shared one, nodes are read around but stay. Returns 0 when the chain is too long. */
static int strip_scales(nncl_graph *g, struct plan *p, struct match *m, int *v, int *user,
                        int *absorbing) {
  for (struct pnode *n; (n = producer(p, *v));) {
    int x = scale_operand(p, n, &m->scale);
    if (x < 0) break;
    if (m->n_kill >= MAX_CHAIN) return 0;
    if (*absorbing) *absorbing = plan_sole_consumer(g, p, *v, NULL) == *user;
    if (*absorbing) absorb(m, p, n);
    *user = (int)(n - p->n);
    *v = x;
  }
  return 1;
}

/* v is made, through scalar Mul/Div nodes, by a MatMul: the scores side of the mask Add. */
static int reaches_matmul(struct plan *p, int v) {
  for (int i = 0; i < MAX_CHAIN; i++) {
    struct pnode *n = producer(p, v);
    float unused = 1.0f;
    if (!n) return 0;
    if (n->op == OP_MATMUL) return 1;
    if ((v = scale_operand(p, n, &unused)) < 0) return 0;
  }
  return 0;
}

/* Transpose's permutation (default: reversed), or 0 when malformed. */
static int transpose_perm(const struct plan *p, const struct pnode *n, int *perm) {
  int r = p->v[n->in[0]].shape.rank;
  const struct nncl__attr *a = attr(n, "perm");
  if (!a) {
    for (int d = 0; d < r; d++) perm[d] = r - 1 - d;
    return 1;
  }
  if (a->type != ATTR_INTS || a->n != r) return 0;
  for (int d = 0; d < r; d++) {
    int64_t x = a->ints[d] < 0 ? a->ints[d] + r : a->ints[d];
    if (x < 0 || x >= r) return 0;
    perm[d] = (int)x;
  }
  return 1;
}

/* Works out K [.., Lk, Dk] from the Q.K^T MatMul's second operand kt [.., Dk, Lk]. */
static int find_k(nncl_graph *g, struct plan *p, struct match *m, int kt) {
  int r = p->v[kt].shape.rank, absorbing = 1, user = m->qk;
  if (!strip_scales(g, p, m, &kt, &user, &absorbing)) return 0;
  struct pnode *t = producer(p, kt);
  int perm[NNCL_MAX_RANK];
  if (t && t->op == OP_TRANSPOSE && t->n_in == 1 && t->in[0] >= 0 && is_f32(p, t->in[0]) &&
      transpose_perm(p, t, perm) && m->n_kill < MAX_CHAIN) {
    /* K = Transpose(x, perm with its last two entries swapped) */
    int tmp = perm[r - 1], identity = 1;
    perm[r - 1] = perm[r - 2];
    perm[r - 2] = tmp;
    absorbing = absorbing && plan_sole_consumer(g, p, kt, NULL) == user;
    if (absorbing) absorb(m, p, t);
    user = (int)(t - p->n);
    int x = t->in[0];
    for (int d = 0; d < r; d++) identity = identity && perm[d] == d;
    if (identity) {
      if (!strip_scales(g, p, m, &x, &user, &absorbing)) return 0;
      m->k = x;
      return 1;
    }
    m->kt = x;
    memcpy(m->kperm, perm, sizeof perm);
    return 1;
  }
  for (int d = 0; d < r; d++) m->kperm[d] = d;
  m->kperm[r - 2] = r - 1;
  m->kperm[r - 1] = r - 2;
  m->kt = kt;
  return 1;
}

/* Node n is Transpose(x, perm (1, 0, 2)) of a rank-3 float32 x: returns x, else -1. */
static int swap01_input(const struct plan *p, const struct pnode *n) {
  int perm[NNCL_MAX_RANK];
  if (!n || n->op != OP_TRANSPOSE || n->n_in != 1 || n->n_out != 1 || n->in[0] < 0 ||
      !is_f32(p, n->in[0]) || p->v[n->in[0]].shape.rank != 3 || !transpose_perm(p, n, perm))
    return -1;
  return perm[0] == 1 && perm[1] == 0 && perm[2] == 2 ? n->in[0] : -1;
}

/* Rank 3: drops the Transpose(1, 0, 2) that makes Q (slot 0) or V (slot 2) when `user`, the
   fused node's side, is its only reader, and the operand is read in [L, batch, D] storage. */
static void seq_first_operand(nncl_graph *g, struct plan *p, struct match *m, int slot, int *v,
                              int user) {
  struct pnode *t = producer(p, *v);
  int x = swap01_input(p, t);
  if (x < 0 || m->n_kill >= MAX_CHAIN || plan_sole_consumer(g, p, *v, NULL) != user) return;
  m->kill[m->n_kill++] = (int)(t - p->n);
  if (slot == 0)
    m->pre[m->n_pre++] = t->op_type;
  else
    m->n_tail++;
  m->seq_first |= 1 << slot;
  *v = x;
}

/* Matches the chain around Softmax node `sm`; fills m and returns 1 when it can be fused. */
static int match(nncl_graph *g, struct plan *p, int sm, struct match *m) {
  memset(m, 0, sizeof *m);
  m->sm = sm;
  m->mask = m->kt = m->k = m->y = -1;
  m->scale = 1.0f;
  const struct pnode *s = &p->n[sm];
  if (s->n_in != 1 || s->n_out != 1 || s->in[0] < 0 || !is_f32(p, s->in[0])) return 0;
  int r = p->v[s->in[0]].shape.rank;
  if (r < 2 || r > 4) return 0;
  const struct nncl__attr *ax = attr(s, "axis");
  int64_t axis = ax && ax->type == ATTR_INT ? ax->i : g->opset < 13 ? 1 : -1;
  if (axis != -1 && axis != r - 1) return 0;
  /* P . V */
  int slot = -1, pv = plan_sole_consumer(g, p, s->out[0], &slot);
  if (pv < 0 || slot != 0 || p->n[pv].op != OP_MATMUL || p->n[pv].in[1] < 0) return 0;
  m->pv = pv;
  m->v = p->n[pv].in[1];
  /* back from the scores: [Add mask] then [Mul/Div by scalars]*, up to the Q.K^T MatMul. A scale
     between the Add and the Softmax would scale the mask too, which the fused op cannot do. */
  int user = sm, sv = s->in[0], have_mask = 0, seen_scale = 0;
  const char *post_rev[MAX_CHAIN];
  int n_post = 0;
  post_rev[n_post++] = "Softmax";
  for (;;) {
    if (plan_sole_consumer(g, p, sv, NULL) != user) return 0;
    struct pnode *n = producer(p, sv);
    if (!n || n->n_out != 1 || n_post >= MAX_CHAIN || m->n_kill >= MAX_CHAIN) return 0;
    if (n->op == OP_MATMUL) {
      m->qk = (int)(n - p->n);
      break;
    }
    int x = -1;
    if (n->op == OP_ADD) {
      if (have_mask || seen_scale || n->n_in != 2 || n->in[0] < 0 || n->in[1] < 0 ||
          n->in[0] == n->in[1])
        return 0;
      int side = reaches_matmul(p, n->in[0]) ? 0 : reaches_matmul(p, n->in[1]) ? 1 : -1;
      if (side < 0) return 0;
      x = n->in[side];
      m->mask = n->in[1 - side];
      if (!is_f32(p, m->mask) || !same_shape(&p->v[x].shape, &p->v[sv].shape)) return 0;
      have_mask = 1;
    } else {
      x = scale_operand(p, n, &m->scale);
      seen_scale = 1;
    }
    if (x < 0) return 0;
    m->kill[m->n_kill++] = (int)(n - p->n);
    post_rev[n_post++] = n->op_type;
    user = (int)(n - p->n);
    sv = x;
  }
  for (int i = n_post - 1; i >= 0; i--) m->post[m->n_post++] = post_rev[i];
  /* Q . K^T */
  const struct pnode *qk = &p->n[m->qk];
  if (qk->n_in != 2 || qk->in[0] < 0 || qk->in[1] < 0 || !is_f32(p, qk->in[0]) ||
      !is_f32(p, qk->in[1]) || !is_f32(p, m->v))
    return 0;
  const nncl_shape *a = &p->v[qk->in[0]].shape, *b = &p->v[qk->in[1]].shape;
  const nncl_shape *vs = &p->v[m->v].shape, *y = &p->v[p->n[pv].out[0]].shape;
  if (a->rank != r || b->rank != r || vs->rank != r || y->rank != r) return 0;
  for (int i = 0; i < r - 2; i++)
    if (b->dims[i] != a->dims[i] || vs->dims[i] != a->dims[i]) return 0;
  int64_t lq = a->dims[r - 2], dk = a->dims[r - 1], lk = b->dims[r - 1], dv = vs->dims[r - 1];
  if (b->dims[r - 2] != dk || vs->dims[r - 2] != lk || dk > 256 || dv > 256 || dk < 1) return 0;
  if (y->dims[r - 2] != lq || y->dims[r - 1] != dv) return 0;
  if (m->mask >= 0) {
    const nncl_shape *ms = &p->v[m->mask].shape;
    if (ms->rank > r) return 0;
    for (int i = 0; i < ms->rank; i++) {
      int64_t want = p->v[s->in[0]].shape.dims[r - ms->rank + i];
      if (ms->dims[i] != 1 && ms->dims[i] != want) return 0;
    }
  }
  m->q = qk->in[0];
  int absorbing = 1;
  user = m->qk;
  if (!strip_scales(g, p, m, &m->q, &user, &absorbing)) return 0;
  if (r == 3 && absorbing && m->n_pre < MAX_CHAIN) seq_first_operand(g, p, m, 0, &m->q, user);
  if (!find_k(g, p, m, qk->in[1])) return 0;
  if (r != 3) return 1;
  seq_first_operand(g, p, m, 2, &m->v, pv);
  int yt = plan_sole_consumer(g, p, p->n[pv].out[0], NULL);
  if (yt >= 0 && swap01_input(p, &p->n[yt]) >= 0 && m->n_kill < MAX_CHAIN) {
    m->y = yt;
    m->kill[m->n_kill++] = yt;
    m->n_tail++;
    m->seq_first |= 8;
  }
  return 1;
}

/* K as a new constant: kt's host data transposed by m->kperm. */
static int const_k(struct plan *p, const struct match *m, const nncl_shape *ks) {
  const nncl_array *h = p->v[m->kt].host;
  int v = plan_add_value(p, NNCL_FLOAT32, ks);
  if (v < 0) return -1;
  nncl_array *a = malloc(sizeof *a);
  if (!a || nncl_array_alloc(a, NNCL_FLOAT32, ks) != NNCL_OK) {
    free(a);
    return -1;
  }
  p->v[v].host = a;
  p->v[v].host_owned = 1;
  int r = ks->rank;
  int64_t in_st[NNCL_MAX_RANK], idx[NNCL_MAX_RANK] = {0}, n = nncl_shape_numel(ks);
  in_st[r - 1] = 1;
  for (int d = r - 2; d >= 0; d--) in_st[d] = in_st[d + 1] * h->shape.dims[d + 1];
  const float *src = h->data;
  float *dst = a->data;
  for (int64_t i = 0; i < n; i++) {
    int64_t off = 0;
    for (int d = 0; d < r; d++) off += idx[d] * in_st[m->kperm[d]];
    dst[i] = src[off];
    for (int d = r - 1; d >= 0 && ++idx[d] == ks->dims[d]; d--) idx[d] = 0;
  }
  return v;
}

/* Turns plan node i into a pass-made node of op `op` (enum op_id) reading in[] and writing out. */
static void remake(struct plan *p, int i, int op, const char *name, const int *in, int n_in,
                   int out, const struct nncl__attr *attrs, int n_attrs) {
  struct pnode *n = &p->n[i];
  n->gnode = -1;
  n->op = op;
  n->op_type = op_name(op);
  n->def = op_get(op);
  n->name = name;
  n->n_in = n_in;
  for (int k = 0; k < n_in; k++) n->in[k] = in[k];
  n->n_out = 1;
  n->out[0] = out;
  n->res = -1;
  memset(&n->epi, 0, sizeof n->epi);
  n->attrs = attrs;
  n->n_attrs = n_attrs;
  n->alive = 1;
  n->folded = 0;
  p->v[out].producer = i;
}

/* Runs infer on a node made here and checks it reproduces the value's planned shape. */
static nncl_status check_node(nncl_graph *g, struct plan *p, int i) {
  struct pnode *n = &p->n[i];
  plan_bind_call(g, p, i);
  nncl_status st = n->def->infer(&n->call);
  int same = st == NNCL_OK && same_shape(&n->call.out[0].shape, &p->v[n->out[0]].shape);
  if (n->def->release) n->def->release(&n->call);
  n->call.state = NULL;
  if (st != NNCL_OK) return st;
  if (!same)
    return nncl__error(g->ctx, NNCL_ERR_STATE,
                       "internal: attention fusion changed the shape at node '%s'", n->name);
  return NNCL_OK;
}

static nncl_status rewrite(nncl_graph *g, struct plan *p, struct match *m) {
  const nncl_shape *qs = &p->v[m->q].shape;
  int r = qs->rank;
  /* plan-owned attributes: scale for the fused node, perm for a K transpose */
  struct owned {
    struct nncl__attr att[2], tr[1];
    int64_t perm[NNCL_MAX_RANK];
    char name[];
  } * o;
  const char *qk_name = p->n[m->qk].name;
  size_t name_len = strlen(qk_name) + sizeof "/k_transpose";
  o = plan_alloc(p, sizeof *o + name_len);
  if (!o) return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "attention fusion");
  o->att[0] = A_FLOAT("scale", m->scale);
  int reuse_qk = 0;
  if (m->kt >= 0) {
    nncl_shape ks = p->v[m->kt].shape;
    for (int d = 0; d < r; d++) ks.dims[d] = p->v[m->kt].shape.dims[m->kperm[d]];
    if (p->v[m->kt].host && !producer(p, m->kt)) {
      m->k = const_k(p, m, &ks);
      if (m->k < 0) return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "attention fusion");
    } else if (r == 3 && m->kperm[0] == 1 && m->kperm[1] == 0 && m->kperm[2] == 2) {
      m->k = m->kt; /* K is kt's [Lk, batch, Dk] storage read through strides */
      m->seq_first |= 2;
    } else {
      m->k = plan_add_value(p, NNCL_FLOAT32, &ks);
      if (m->k < 0) return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "attention fusion");
      for (int d = 0; d < r; d++) o->perm[d] = m->kperm[d];
      o->tr[0] =
          (struct nncl__attr){.name = (char *)"perm", .type = ATTR_INTS, .ints = o->perm, .n = r};
      snprintf(o->name, name_len, "%s/k_transpose", qk_name);
      remake(p, m->qk, OP_TRANSPOSE, o->name, &m->kt, 1, m->k, o->tr, 1);
      reuse_qk = 1;
      NNCL_TRY(check_node(g, p, m->qk));
    }
  }
  if (!reuse_qk) {
    p->n[m->qk].alive = 0;
    p->n_fused++;
  }
  for (int i = 0; i < m->n_kill; i++) {
    p->n[m->kill[i]].alive = 0;
    p->n_fused++;
  }
  struct pnode *pv = &p->n[m->pv];
  int in[4] = {m->q, m->k, m->v, m->mask};
  int n_att = 1;
  if (m->seq_first) o->att[n_att++] = A_INT("nncl.seq_first", m->seq_first);
  const int out = m->y >= 0 ? p->n[m->y].out[0] : pv->out[0];
  remake(p, m->pv, OP_ATTENTION, pv->name, in, m->mask >= 0 ? 4 : 3, out, o->att, n_att);
  pv->fused[0] = 0;
  size_t used = 0;
  for (int i = 0; i < m->n_pre + 1 + m->n_post + 1 + m->n_tail; i++) {
    const char *t = i < m->n_pre                    ? m->pre[i]
                    : i == m->n_pre                 ? "MatMul"
                    : i <= m->n_pre + m->n_post     ? m->post[i - m->n_pre - 1]
                    : i == m->n_pre + m->n_post + 1 ? "MatMul"
                                                    : "Transpose";
    int w = snprintf(pv->fused + used, sizeof pv->fused - used, "%s%s", used ? "+" : "", t);
    if (w < 0 || (size_t)w >= sizeof pv->fused - used) break;
    used += (size_t)w;
  }
  return check_node(g, p, m->pv);
}

nncl_status pass_fuse_attention(nncl_graph *g, struct plan *p) {
  if (!nncl__option_on(&p->opts, NNCL__OPT_GRAPH_FUSION)) return NNCL_OK;
  if (op_lookup("nncl.Attention") < 0) return NNCL_OK;
  for (int i = 0; i < p->n_n; i++) {
    if (!p->n[i].alive || p->n[i].op != OP_SOFTMAX) continue;
    struct match m;
    if (match(g, p, i, &m)) NNCL_TRY(rewrite(g, p, &m));
  }
  return NNCL_OK;
}
