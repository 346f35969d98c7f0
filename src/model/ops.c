#include "model/ops.h"

#include <math.h>

void lt_rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    double sum_sq = 0.0;
    for (int i = 0; i < n; i++) sum_sq += (double)x[i] * x[i];
    float scale = (float)(1.0 / sqrt(sum_sq / n + eps));
    if (w)
        for (int i = 0; i < n; i++) out[i] = x[i] * scale * w[i];
    else
        for (int i = 0; i < n; i++) out[i] = x[i] * scale;
}

void lt_rope(float *v, int head_dim, int rope_dim, int pos, float base, bool neox) {
    (void)head_dim;
    int half = rope_dim / 2;
    for (int i = 0; i < half; i++) {
        double theta = pos * pow(base, -2.0 * i / rope_dim);
        float c = (float)cos(theta), s = (float)sin(theta);
        int a = neox ? i : 2 * i;
        int b = neox ? i + half : 2 * i + 1;
        float x0 = v[a], x1 = v[b];
        v[a] = x0 * c - x1 * s;
        v[b] = x0 * s + x1 * c;
    }
}

void lt_softmax(float *x, int n) {
    float max = x[0];
    for (int i = 1; i < n; i++) max = x[i] > max ? x[i] : max;
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    float inv = (float)(1.0 / sum);
    for (int i = 0; i < n; i++) x[i] *= inv;
}

float lt_dot_f32(const float *a, const float *b, int64_t n) {
    float acc[8] = { 0 };
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += a[i + j] * b[i + j];
    float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

void lt_swiglu(float *g, const float *u, int64_t n) {
    for (int64_t i = 0; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

void lt_relu2_glu(float *g, const float *u, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float r = g[i] > 0.0f ? g[i] : 0.0f;
        g[i] = r * r * u[i];
    }
}

float lt_quantize_act_i8(const float *x, int8_t *q, int64_t n) {
    float max = 0.0f;
    for (int64_t i = 0; i < n; i++) max = fabsf(x[i]) > max ? fabsf(x[i]) : max;
    if (max == 0.0f) {
        for (int64_t i = 0; i < n; i++) q[i] = 0;
        return 0.0f;
    }
    float s = 127.0f / max;
    for (int64_t i = 0; i < n; i++) {
        float r = nearbyintf(x[i] * s);
        q[i] = (int8_t)(r > 127.0f ? 127.0f : r < -127.0f ? -127.0f : r);
    }
    return s;
}
