"""A zoo network as an ONNX graph built directly from its weights, with ONNX's fused ``LSTM`` operator.

Keras's own ``model.export(format="onnx")`` (tf2onnx underneath) turns a *masked* LSTM into a ``Loop`` of small ops,
several times slower than a fused kernel, most of all for one example. ONNX's ``LSTM`` takes the rows' lengths
(``sequence_lens``) instead of a mask, which is what right-padded token ids or features need: the graph computes
each row's length (its last non-padding step) from the input, so callers feed only the padded ids or features.
A step of all-zero features inside a series, which Keras's ``Masking`` skips, is skipped here too: the graph moves
each row's real steps to its front (``TopK`` on a per-step key, then ``GatherElements``) before the LSTM.

It covers the networks made of ``Embedding(mask_zero=True)`` or ``Masking`` -> ``LSTM``/``Bidirectional(LSTM)``/
``Dropout`` layers, optionally ending in :class:`~zoo.layers.MaskedGlobalMaxPooling1D` or
:class:`~zoo.layers.MaskedGlobalAveragePooling1D` over the last one's outputs -> ``Dense(softmax)``: the three
built-ins (``bilstm`` pooled too) and plugins shaped like them. Anything else raises
:class:`NotSupported`, and :mod:`zoo.exporting` falls back to Keras's exporter. Keras computes gates in the order
i, f, c, o with one bias; ONNX wants i, o, f, c and two biases (``Wb`` and ``Rb``, summed): the bias goes to
``Wb`` and ``Rb`` is zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np

OPSET = 17


class NotSupported(Exception):
    """The network has a layer this builder does not translate."""


def _reorder(a: np.ndarray) -> np.ndarray:
    i, f, c, o = np.split(a, 4, axis=-1)
    return np.concatenate([i, o, f, c], axis=-1)


def _lstm_weights(layer: Any, backward: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ONNX ``W [4H, in]``, ``R [4H, H]``, ``B [8H]`` of a Keras LSTM layer (``backward``: a Bidirectional's)."""
    import keras

    cell = layer.cell
    if cell.activation is not keras.activations.tanh or cell.recurrent_activation is not keras.activations.sigmoid:
        raise NotSupported(f"{layer.name}: only tanh/sigmoid LSTMs match ONNX's LSTM defaults")
    if layer.go_backwards != backward or layer.stateful:
        raise NotSupported(f"{layer.name}: a go_backwards or stateful LSTM")
    units = cell.units
    bias = cell.bias.numpy() if cell.use_bias else np.zeros(4 * units, "float32")
    return (_reorder(cell.kernel.numpy()).T.astype("float32"), _reorder(cell.recurrent_kernel.numpy()).T
            .astype("float32"), np.concatenate([_reorder(bias), np.zeros(4 * units, "float32")]).astype("float32"))


class _Graph:
    """Nodes and initializers being collected, with names made unique."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.initializers: list = []

    def const(self, name: str, value: Any) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], outputs: int | list[str] = 1, **attrs: Any) -> Any:
        from onnx import helper

        names = outputs if isinstance(outputs, list) else [f"{op_type.lower()}_{len(self.nodes)}_{i}"
                                                            for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=f"{op_type}_{len(self.nodes)}", **attrs))
        return names[0] if len(names) == 1 else names


def _poolings() -> tuple:
    from .keras_layers import MaskedGlobalAveragePooling1D, MaskedGlobalMaxPooling1D

    return MaskedGlobalMaxPooling1D, MaskedGlobalAveragePooling1D


def _layers(network: Any) -> list:
    import keras

    layers = [layer for layer in network.layers if not isinstance(layer, keras.layers.InputLayer)]
    allowed = (keras.layers.Embedding, keras.layers.Masking, keras.layers.LSTM, keras.layers.Bidirectional,
               keras.layers.Dropout, keras.layers.Dense)
    for layer in layers:
        if not isinstance(layer, allowed) and type(layer) not in _poolings():
            raise NotSupported(f"layer '{layer.name}' ({type(layer).__name__})")
    return layers


def _input(g: _Graph, first: Any, network: Any) -> tuple[Any, str, str]:
    """The graph input, the time-major sequence the first LSTM reads, and a (batch, time) bool of real steps."""
    import keras
    from onnx import TensorProto, helper

    if isinstance(first, keras.layers.Embedding):
        if not first.mask_zero:
            raise NotSupported("an Embedding without mask_zero")
        value = helper.make_tensor_value_info("tokens", TensorProto.INT32, ["batch", "time"])
        ids = g.op("Transpose", ["tokens"], perm=[1, 0])
        x = g.op("Gather", [g.const("embeddings", first.embeddings.numpy().astype("float32")), ids], axis=0)
        real = g.op("Not", [g.op("Equal", ["tokens", g.const("zero_id", np.array(0, "int32"))])])
        return value, x, real
    if isinstance(first, keras.layers.Masking):
        width = network.input.shape[-1]
        value = helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", "time", width])
        differs = g.op("Not", [g.op("Equal", ["features", g.const("mask_value", np.array(
            float(first.mask_value), "float32"))])])
        count = g.op("ReduceSum", [g.op("Cast", [differs], to=TensorProto.INT32),
                                   g.const("last_axis", np.array([-1], "int64"))], keepdims=0)
        real = g.op("Greater", [count, g.const("zero_count", np.array(0, "int32"))])
        features, real = _compact(g, "features", real)
        return value, g.op("Transpose", [features], perm=[1, 0, 2]), real
    raise NotSupported(f"the first layer '{first.name}' ({type(first).__name__}) is not an Embedding or Masking")


def _compact(g: _Graph, features: str, real: str) -> tuple[str, str]:
    """Each row's real steps moved to its front, in order, as Keras's ``Masking`` skips the others wherever they
    stand: ``features`` (batch, time, F) and the real steps (batch, time) after the move (a prefix of each row)."""
    from onnx import TensorProto

    shape = g.op("Shape", [features])
    steps = g.op("Gather", [shape, g.const("time_index", np.array([1], "int64"))], axis=0)  # [time]
    t = g.op("Cast", [g.op("Range", [g.const("zero_step", np.array(0, "int64")),
                                     g.op("Squeeze", [steps, g.const("axis0", np.array([0], "int64"))]),
                                     g.const("step_one", np.array(1, "int64"))])], to=TensorProto.FLOAT)
    # a key per step, distinct and largest first for real steps in their order: time - t; padding -1 - t
    time = g.op("Cast", [steps], to=TensorProto.FLOAT)
    key = g.op("Where", [real, g.op("Sub", [time, t]), g.op("Sub", [g.const("minus_one", np.array(-1, "float32")),
                                                                     t])])
    _, order = g.op("TopK", [key, steps], 2, axis=1, largest=1, sorted=1)  # (batch, time) int64
    order = g.op("Expand", [g.op("Unsqueeze", [order, g.const("gather_axis", np.array([-1], "int64"))]), shape])
    count = g.op("ReduceSum", [g.op("Cast", [real], to=TensorProto.FLOAT), g.const("time_axes", np.array(
        [1], "int64"))], keepdims=1)  # (batch, 1)
    return g.op("GatherElements", [features, order], axis=1), g.op("Less", [t, count])


def _sequence_lengths(g: _Graph, real: str) -> str:
    """Per row: the index of its last real step + 1 (0 for an all-padding row)."""
    from onnx import TensorProto

    real_i = g.op("Cast", [real], to=TensorProto.INT32)
    steps = g.op("Gather", [g.op("Shape", [real_i]), g.const("time_axis", np.array(1, "int64"))], axis=0)
    steps = g.op("Cast", [steps], to=TensorProto.INT32)
    one = g.const("one", np.array(1, "int32"))
    positions = g.op("Range", [one, g.op("Add", [steps, one]), one])
    return g.op("ReduceMax", [g.op("Mul", [real_i, positions])], axes=[1], keepdims=0)


def _pool(g: _Graph, y: str, real: str, pooling: Any, width: int) -> str:
    """Max or mean over the real steps of the last LSTM's ``Y`` (time, dirs, batch, units): (batch, width)."""
    from onnx import TensorProto

    y = g.op("Reshape", [g.op("Transpose", [y], perm=[2, 0, 1, 3]),
                         g.const("pooled_shape", np.array([0, 0, width], "int64"))])  # (batch, time, width)
    real = g.op("Unsqueeze", [real, g.const("feature_axis", np.array([-1], "int64"))])  # (batch, time, 1)
    if type(pooling) is _poolings()[0]:  # as MaskedGlobalMaxPooling1D: padding takes the row's lowest value
        best = g.op("ReduceMax", [g.op("Where", [real, y, g.op("ReduceMin", [y], axes=[1], keepdims=1)])],
                    axes=[1], keepdims=0)
        any_real = g.op("Cast", [g.op("ReduceMax", [g.op("Cast", [real], to=TensorProto.INT32)], axes=[1],
                                      keepdims=0)], to=TensorProto.BOOL)  # (batch, 1); an all-padding row gives 0
        return g.op("Where", [any_real, best, g.const("pooled_zero", np.array(0, "float32"))])
    weights = g.op("Cast", [real], to=TensorProto.FLOAT)  # as MaskedGlobalAveragePooling1D
    axis = g.const("step_axis", np.array([1], "int64"))
    return g.op("Div", [g.op("ReduceSum", [g.op("Mul", [y, weights]), axis], keepdims=0),
                        g.op("Max", [g.op("ReduceSum", [weights, axis], keepdims=0),
                                     g.const("one_step", np.array(1, "float32"))])])


def _recurrent(g: _Graph, layers: list, x: str, lengths: str, real: str, pooling: Any = None) -> str:
    """The LSTM layers in turn; returns the last one's final state, or its outputs pooled over the real steps by
    ``pooling`` (a zoo pooling layer), (batch, directions * units)."""
    import keras

    recurrent = [layer for layer in layers if isinstance(layer, (keras.layers.LSTM, keras.layers.Bidirectional))]
    if not recurrent:
        raise NotSupported("no LSTM layer")
    for k, layer in enumerate(recurrent):
        last = k == len(recurrent) - 1
        if isinstance(layer, keras.layers.Bidirectional):
            if layer.merge_mode != "concat" or not isinstance(layer.forward_layer, keras.layers.LSTM):
                raise NotSupported(f"{layer.name}: Bidirectional other than LSTM with merge_mode='concat'")
            forward, backward = _lstm_weights(layer.forward_layer), _lstm_weights(layer.backward_layer, True)
            w, r, b = (np.stack(pair) for pair in zip(forward, backward))
            direction, units, sequences = "bidirectional", layer.forward_layer.cell.units, \
                layer.forward_layer.return_sequences
        else:
            w, r, b = (a[None] for a in _lstm_weights(layer))
            direction, units, sequences = "forward", layer.cell.units, layer.return_sequences
        if sequences != (not last or pooling is not None):
            raise NotSupported("every LSTM but the last must return sequences, and the last must not unless "
                               "a pooling layer follows it")
        dirs = 2 if direction == "bidirectional" else 1
        # the last layer's sequence output goes unnamed, so ONNX Runtime neither writes nor allocates it
        outputs = ["", f"lstm_{k}_state"] if last and pooling is None else 2
        y, y_h = g.op("LSTM", [x, g.const(f"W{k}", w), g.const(f"R{k}", r), g.const(f"B{k}", b), lengths],
                      outputs, hidden_size=units, direction=direction)
        if last and pooling is not None:  # ONNX's Y is zero past each row's length, like Keras's masked outputs
            return _pool(g, y, real, pooling, dirs * units)
        if not last:  # Y (time, dirs, batch, units) -> (time, batch, dirs * units)
            x = g.op("Reshape", [g.op("Transpose", [y], perm=[0, 2, 1, 3]),
                                 g.const(f"seq_shape{k}", np.array([0, 0, dirs * units], "int64"))])
        else:  # Y_h (dirs, batch, units) -> (batch, dirs * units): forward then backward, as Keras concatenates
            return g.op("Reshape", [g.op("Transpose", [y_h], perm=[1, 0, 2]),
                                    g.const("state_shape", np.array([0, dirs * units], "int64"))])
    raise AssertionError("unreachable")


def network_to_onnx(network: Any, name: str = "zoo") -> Any:
    """The ``onnx.ModelProto`` of a zoo network: ``tokens`` int32 (batch, time) or ``features`` float32
    (batch, time, F) in, ``probabilities`` float32 (batch, classes) out. Raises :class:`NotSupported`."""
    import keras
    import onnx
    from onnx import TensorProto, helper

    layers = _layers(network)
    head = layers[-1]
    body = [layer for layer in layers[1:-1] if not isinstance(layer, keras.layers.Dropout)]
    # exact classes: a subclass may pool differently
    pooling = body.pop() if body and type(body[-1]) in _poolings() else None
    for layer in body:
        if not isinstance(layer, (keras.layers.LSTM, keras.layers.Bidirectional)):
            raise NotSupported(f"layer '{layer.name}' ({type(layer).__name__}) between the input and the head")
    if not isinstance(head, keras.layers.Dense) or head.activation is not keras.activations.softmax:
        raise NotSupported("the last layer is not a Dense softmax")
    g = _Graph()
    value, x, real = _input(g, layers[0], network)
    state = _recurrent(g, body, x, _sequence_lengths(g, real), real, pooling)
    logits = g.op("MatMul", [state, g.const("dense_kernel", head.kernel.numpy().astype("float32"))])
    if head.use_bias:
        logits = g.op("Add", [logits, g.const("dense_bias", head.bias.numpy().astype("float32"))])
    g.op("Softmax", [logits], ["probabilities"], axis=-1)
    output = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", head.units])
    model = helper.make_model(helper.make_graph(g.nodes, name, [value], [output], initializer=g.initializers),
                              opset_imports=[helper.make_opsetid("", OPSET)], producer_name="keras-zoo")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


__all__ = ["NotSupported", "network_to_onnx"]
