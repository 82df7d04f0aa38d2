"""course.layers re-exports every pair the issues name, with the exact signatures."""

import inspect

import pytest

import course.layers as layers

SIGNATURES = {
    "affine_forward": ["x", "w", "b"],
    "affine_backward": ["dout", "cache"],
    "relu_forward": ["x"],
    "relu_backward": ["dout", "cache"],
    "sigmoid_forward": ["x"],
    "sigmoid_backward": ["dout", "cache"],
    "tanh_forward": ["x"],
    "tanh_backward": ["dout", "cache"],
    "softmax_cross_entropy": ["logits", "y"],
    "mse_loss": ["pred", "target"],
    "binary_cross_entropy_with_logits": ["z", "y"],
    "batchnorm_forward": ["x", "gamma", "beta", "bn_param"],
    "batchnorm_backward": ["dout", "cache"],
    "conv_naive_forward": ["x", "w", "b", "stride", "pad"],
    "conv_naive_backward": ["dout", "cache"],
    "conv_im2col_forward": ["x", "w", "b", "stride", "pad"],
    "conv_im2col_backward": ["dout", "cache"],
    "conv_im2col_fast_forward": ["x", "w", "b", "stride", "pad"],
    "conv_im2col_fast_backward": ["dout", "cache"],
    "max_pool_forward": ["x", "size", "stride"],
    "max_pool_backward": ["dout", "cache"],
    "max_pool_fast_forward": ["x", "size", "stride"],
    "max_pool_fast_backward": ["dout", "cache"],
    "word_embedding_forward": ["x", "W"],
    "word_embedding_backward": ["dout", "cache"],
    "rnn_step_forward": ["x", "prev_h", "Wx", "Wh", "b"],
    "rnn_step_backward": ["dnext_h", "cache"],
    "rnn_forward": ["x", "h0", "Wx", "Wh", "b"],
    "rnn_backward": ["dh", "cache"],
    "lstm_step_forward": ["x", "prev_h", "prev_c", "Wx", "Wh", "b"],
    "lstm_step_backward": ["dnext_h", "dnext_c", "cache"],
    "lstm_forward": ["x", "h0", "Wx", "Wh", "b"],
    "lstm_backward": ["dh", "cache"],
    "lstm_forward_fast": ["x", "h0", "Wx", "Wh", "b"],
    "lstm_backward_fast": ["dh", "cache"],
    "gru_step_forward": ["x", "prev_h", "Wx", "Wh", "b"],
    "gru_step_backward": ["dnext_h", "cache"],
    "gru_forward": ["x", "h0", "Wx", "Wh", "b"],
    "gru_backward": ["dh", "cache"],
    "temporal_affine_forward": ["x", "w", "b"],
    "temporal_affine_backward": ["dout", "cache"],
    "temporal_softmax_loss": ["x", "y", "mask"],
    "attention_read_forward": ["a", "E"],
    "attention_read_backward": ["dcontext", "cache"],
}

OTHER_NAMES = [
    "softmax",
    "log_softmax",
    "dropout_forward",
    "dropout_backward",
    "dropconnect_forward",
    "dropconnect_backward",
    "add_forward",
    "add_backward",
    "multiply_forward",
    "multiply_backward",
    "Linear",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "Conv2d",
    "MaxPool2d",
    "BatchNorm",
    "Dropout",
    "Embedding",
]


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_pair_is_exported_with_the_specified_leading_parameters(name):
    params = list(inspect.signature(getattr(layers, name)).parameters)
    assert params[: len(SIGNATURES[name])] == SIGNATURES[name]


@pytest.mark.parametrize("name", OTHER_NAMES)
def test_name_is_exported(name):
    assert name in layers.__all__ and callable(getattr(layers, name))


def test_all_lists_only_existing_names():
    missing = [n for n in layers.__all__ if not hasattr(layers, n)]
    assert not missing
