/* ggml's other tensor types: lutlm knows their block sizes (so files holding them parse and
 * `lutlm info` can list them) but does not decode them (dequantize_row and quantize are NULL).
 * Sizes are those of ggml-common.h's block structs (QK_K = 256). */
#include "formats/format_impl.h"

#define PARSE_ONLY(var, str, id, bs, bytes, desc) \
    static const lt_format var = { .name = str, .type_id = id, .block_size = bs, .block_bytes = bytes, \
                                   .description = desc " (parse only)" }

PARSE_ONLY(q4_1, "q4_1", LT_TYPE_Q4_1, 32, 20, "llama.cpp 4-bit with min: f16 d, f16 m, 16 bytes");
PARSE_ONLY(q5_0, "q5_0", LT_TYPE_Q5_0, 32, 22, "llama.cpp 5-bit: f16 d, 4 bytes high bits, 16 bytes");
PARSE_ONLY(q5_1, "q5_1", LT_TYPE_Q5_1, 32, 24, "llama.cpp 5-bit with min: f16 d, f16 m, 4 + 16 bytes");
PARSE_ONLY(q8_1, "q8_1", LT_TYPE_Q8_1, 32, 36, "llama.cpp 8-bit with sum: f16 d, f16 s, 32 int8");
PARSE_ONLY(q2_k, "q2_k", LT_TYPE_Q2_K, 256, 84, "k-quant 2-bit");
PARSE_ONLY(q3_k, "q3_k", LT_TYPE_Q3_K, 256, 110, "k-quant 3-bit");
PARSE_ONLY(q4_k, "q4_k", LT_TYPE_Q4_K, 256, 144, "k-quant 4-bit");
PARSE_ONLY(q5_k, "q5_k", LT_TYPE_Q5_K, 256, 176, "k-quant 5-bit");
PARSE_ONLY(q6_k, "q6_k", LT_TYPE_Q6_K, 256, 210, "k-quant 6-bit");
PARSE_ONLY(q8_k, "q8_k", LT_TYPE_Q8_K, 256, 292, "k-quant 8-bit (activations): f32 d, 256 int8, 16 int16 sums");
PARSE_ONLY(iq2_xxs, "iq2_xxs", 16, 256, 66, "i-quant 2.06 bits/weight");
PARSE_ONLY(iq2_xs, "iq2_xs", 17, 256, 74, "i-quant 2.31 bits/weight");
PARSE_ONLY(iq3_xxs, "iq3_xxs", 18, 256, 98, "i-quant 3.06 bits/weight");
PARSE_ONLY(iq1_s, "iq1_s", 19, 256, 50, "i-quant 1.56 bits/weight");
PARSE_ONLY(iq4_nl, "iq4_nl", 20, 32, 18, "i-quant 4-bit non-linear");
PARSE_ONLY(iq3_s, "iq3_s", 21, 256, 110, "i-quant 3.44 bits/weight");
PARSE_ONLY(iq2_s, "iq2_s", 22, 256, 82, "i-quant 2.56 bits/weight");
PARSE_ONLY(iq4_xs, "iq4_xs", 23, 256, 136, "i-quant 4.25 bits/weight");
PARSE_ONLY(i8, "i8", LT_TYPE_I8, 1, 1, "8-bit integer");
PARSE_ONLY(i16, "i16", LT_TYPE_I16, 1, 2, "16-bit integer");
PARSE_ONLY(i32, "i32", LT_TYPE_I32, 1, 4, "32-bit integer");
PARSE_ONLY(i64, "i64", LT_TYPE_I64, 1, 8, "64-bit integer");
PARSE_ONLY(f64, "f64", LT_TYPE_F64, 1, 8, "64-bit IEEE float");
PARSE_ONLY(iq1_m, "iq1_m", 29, 256, 56, "i-quant 1.75 bits/weight");
PARSE_ONLY(mxfp4, "mxfp4", 39, 32, 17, "OCP MXFP4: e8m0 scale + 32 e2m1 nibbles");
PARSE_ONLY(nvfp4, "nvfp4", 40, 64, 36, "NVFP4: 4 ue4m3 scales + 64 e2m1 nibbles");
PARSE_ONLY(q1_0, "q1_0", 41, 128, 18, "llama.cpp 1-bit: f16 d + 128 sign bits");

const lt_format *const lt_ggml_parse_only_formats[] = {
    &q4_1, &q5_0, &q5_1, &q8_1, &q2_k, &q3_k, &q4_k, &q5_k, &q6_k, &q8_k,
    &iq2_xxs, &iq2_xs, &iq3_xxs, &iq1_s, &iq4_nl, &iq3_s, &iq2_s, &iq4_xs,
    &i8, &i16, &i32, &i64, &f64, &iq1_m, &mxfp4, &nvfp4, &q1_0,
};
const int lt_ggml_parse_only_count = (int)LT_ARRAY_LEN(lt_ggml_parse_only_formats);
