"""Lets beat-this 1.1.0 (which asks for torch >= 2) run on Debian's python3-torch 1.13: the one torch 2
function it calls that 1.13 lacks is F.scaled_dot_product_attention (roformer.Attend, no mask, no
dropout at inference). Import this module before beat_this. The math is the documented definition
(softmax(q k^T / sqrt(d)) v), so logits match torch 2's within float rounding; it also exports to
ONNX as plain MatMul/Softmax on torch 1.13's exporter."""
import math

import torch
import torch.nn.functional as F

if not hasattr(F, "scaled_dot_product_attention"):

    def scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
        if attn_mask is not None or is_causal:
            raise NotImplementedError("polyfill: masks are not used by beat-this")
        s = scale if scale is not None else 1.0 / math.sqrt(q.shape[-1])
        w = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * s, dim=-1)
        if dropout_p > 0.0:
            w = F.dropout(w, p=dropout_p)
        return torch.matmul(w, v)

    F.scaled_dot_product_attention = scaled_dot_product_attention
