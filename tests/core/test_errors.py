"""One test per way `conv` and `conv_transpose` refuse their arguments: the right class, the
parameter named, the values quoted, and the nearest valid setting where there is one."""

from __future__ import annotations

import numpy as np
import pytest

from server.core import (
    CoreError,
    OutputSizeError,
    PaddingError,
    ParameterError,
    ShapeError,
    as_tuple,
    conv,
    conv_transpose,
    output_shape,
)

X = np.zeros((3, 8, 8))
W = np.zeros((4, 3, 3, 3))


def test_errors_are_value_errors() -> None:
    for cls in (ShapeError, ParameterError, PaddingError, OutputSizeError):
        assert issubclass(cls, CoreError)
        assert issubclass(cls, ValueError)


def test_conv_rejects_non_numeric_input() -> None:
    with pytest.raises(ParameterError, match=r"`input` must hold real numbers.*<U1") as err:
        conv(np.array([["a", "b"], ["c", "d"]]), np.ones((1, 1)))
    assert err.value.param == "input"


def test_conv_rejects_complex_kernel() -> None:
    with pytest.raises(ParameterError, match=r"`kernel` must hold real numbers.*complex") as err:
        conv(np.ones((4, 4)), np.ones((2, 2), complex))
    assert err.value.param == "kernel"


def test_conv_rejects_non_numeric_bias() -> None:
    with pytest.raises(ParameterError, match="`bias` must hold real numbers") as err:
        conv(X, W, bias=["a"] * 4)
    assert err.value.param == "bias"


def test_conv_rejects_unpairable_ranks() -> None:
    with pytest.raises(ShapeError, match=r"input of shape \(8, 8\) with a kernel of shape") as err:
        conv(np.zeros((8, 8)), np.zeros((1, 1, 1, 3, 3)))
    assert err.value.param == "kernel"


def test_conv_rejects_four_spatial_axes() -> None:
    with pytest.raises(ShapeError, match="cannot pair"):
        conv(np.zeros((1, 3, 3, 3, 3)), np.zeros((1, 1, 2, 2, 2, 2)))


def test_conv_rejects_groups_below_one() -> None:
    with pytest.raises(ParameterError, match="`groups` must be an int >= 1, got 0") as err:
        conv(X, W, groups=0)
    assert err.value.suggestion == {"groups": 1}


def test_conv_rejects_groups_not_dividing_channels() -> None:
    with pytest.raises(ShapeError, match=r"`groups` = 2 must divide the input channels \(3\)") as e:
        conv(X, np.zeros((4, 1, 3, 3)), groups=2)
    assert e.value.param == "groups"
    assert e.value.suggestion == {"groups": 1}


def test_conv_rejects_kernel_channel_mismatch() -> None:
    with pytest.raises(ShapeError, match="kernel has 2 channels per filter but the input has 3"):
        conv(X, np.zeros((4, 2, 3, 3)))


def test_conv_rejects_empty_input_axis() -> None:
    with pytest.raises(ShapeError, match="at least one element") as err:
        conv(np.zeros((3, 0, 8)), W)
    assert err.value.param == "input"


def test_conv_rejects_unknown_padding_mode() -> None:
    with pytest.raises(ParameterError, match=r"`padding_mode` must be one of .*'mirror'") as err:
        conv(X, W, padding_mode="mirror")
    assert err.value.suggestion == {"padding_mode": "zeros"}


def test_conv_rejects_stride_zero_naming_axis() -> None:
    with pytest.raises(ParameterError, match="`stride` must be >= 1, got 0 on axis 1") as err:
        conv(X, W, stride=[1, 0])
    assert err.value.param == "stride"
    assert err.value.suggestion == {"stride": [1, 1]}


def test_conv_rejects_stride_of_wrong_length() -> None:
    with pytest.raises(ParameterError, match=r"`stride` must be .* 2 such ints.*\[1, 2, 3\]"):
        conv(X, W, stride=[1, 2, 3])


def test_conv_rejects_float_dilation() -> None:
    with pytest.raises(ParameterError, match="`dilation` must be an int >= 1.*1.5") as err:
        conv(X, W, dilation=1.5)
    assert err.value.param == "dilation"


def test_conv_rejects_negative_padding() -> None:
    with pytest.raises(ParameterError, match=r"`padding` must be >= 0, got \[-1, -1\] on axis 0"):
        conv(X, W, padding=-1)


def test_conv_rejects_unknown_padding_word() -> None:
    with pytest.raises(ParameterError, match="`padding` must be .*'causal'") as err:
        conv(X, W, padding="causal")
    assert "same" in (err.value.accepted or "")


def test_conv_rejects_padding_with_wrong_number_of_axes() -> None:
    with pytest.raises(ParameterError, match=r"got \[1, 1, 1\] for 2 spatial axes"):
        conv(X, W, padding=[1, 1, 1])


def test_conv_rejects_empty_output_with_formula_and_suggestion() -> None:
    with pytest.raises(
        OutputSizeError, match=r"axis 1: floor\(\(2 \+ 0 \+ 0 - 1\*\(3-1\) - 1\)"
    ) as e:
        conv(np.zeros((1, 8, 2)), np.zeros((1, 1, 3, 3)))
    assert e.value.axis == 1
    assert e.value.param == "padding"
    assert e.value.suggestion is not None and e.value.suggestion["padding"] == 1
    # the suggestion works
    assert conv(np.zeros((1, 8, 2)), np.zeros((1, 1, 3, 3)), padding=1).shape == (1, 8, 2)


def test_conv_rejects_reflect_padding_as_wide_as_side() -> None:
    with pytest.raises(PaddingError, match=r'\[3, 3\] on axis 0 is too wide for .*"reflect"') as e:
        conv(np.zeros((1, 3, 9)), np.zeros((1, 1, 3, 3)), padding=3, padding_mode="reflect")
    assert e.value.param == "padding"


def test_conv_rejects_circular_padding_wider_than_side() -> None:
    with pytest.raises(PaddingError, match='"circular": that axis has 2 elements'):
        conv(np.zeros((1, 9, 2)), np.zeros((1, 1, 3, 3)), padding=3, padding_mode="circular")


def test_conv_rejects_non_boolean_flip() -> None:
    with pytest.raises(ParameterError, match="`flip` must be true or false, got 'yes'"):
        conv(X, W, flip="yes")


def test_conv_rejects_bias_of_wrong_length() -> None:
    with pytest.raises(ShapeError, match=r"one value per filter \(4\), got shape \(3,\)") as err:
        conv(X, W, bias=[1.0, 2.0, 3.0])
    assert err.value.param == "bias"


def test_conv_rejects_unknown_method() -> None:
    with pytest.raises(ParameterError, match="`method` must be one of .*'magic'"):
        conv(X, W, method="magic")


def test_conv_rejects_zero_tile_budget() -> None:
    with pytest.raises(ParameterError, match="`tile_bytes` must be an int >= 1, got 0"):
        conv(X, W, tile_bytes=0)


def test_conv_transpose_rejects_output_padding_not_below_stride() -> None:
    with pytest.raises(ParameterError, match="`output_padding` must be smaller .* got 2") as err:
        conv_transpose(X, np.zeros((3, 2, 3, 3)), stride=2, output_padding=2)
    assert err.value.suggestion == {"output_padding": 1}


def test_conv_transpose_rejects_kernel_for_other_channels() -> None:
    with pytest.raises(ShapeError, match="the input has 3 channels but the kernel's first axis"):
        conv_transpose(X, np.zeros((4, 2, 3, 3)))


def test_conv_transpose_rejects_padding_that_empties_output() -> None:
    with pytest.raises(OutputSizeError, match=r"\(2 - 1\)\*1 - 2\*3 \+ 1\*\(3 - 1\)") as err:
        conv_transpose(np.zeros((1, 2, 2)), np.zeros((1, 1, 3, 3)), padding=3)
    assert err.value.suggestion == {"padding": 1}


def test_conv_transpose_rejects_groups_not_dividing_channels() -> None:
    with pytest.raises(ShapeError, match=r"`groups` = 2 must divide the input channels \(3\)"):
        conv_transpose(X, np.zeros((3, 2, 3, 3)), groups=2)


def test_conv_transpose_rejects_bias_of_wrong_length() -> None:
    with pytest.raises(ShapeError, match=r"one value per filter \(2\)"):
        conv_transpose(X, np.zeros((3, 2, 3, 3)), bias=[1.0])


def test_conv_transpose_rejects_unpairable_ranks() -> None:
    with pytest.raises(ShapeError, match="transposed-convolution kernel of shape"):
        conv_transpose(np.zeros((8, 8)), np.zeros((1, 1, 1, 3, 3)))


def test_empty_output_offers_dilation_as_an_alternative_when_dilated() -> None:
    with pytest.raises(OutputSizeError) as err:
        output_shape((5, 5), (3, 3), dilation=[3, 1])
    assert err.value.suggestion == {"padding": 1}
    assert err.value.alternatives == [{"dilation": 2}]
    assert output_shape((5, 5), (3, 3), dilation=[2, 1]) == (1, 3)


def test_per_axis_suggestion_mends_only_the_axis_out_of_range() -> None:
    with pytest.raises(ParameterError) as err:
        as_tuple([0, 2], 2, "stride")
    assert err.value.suggestion == {"stride": [1, 2]}
