"""The shape arithmetic exporters write for a reshape by the batch size, folded into constants.

PyTorch writes ``x.view(x.size(0), -1)`` as Shape(x) -> Gather(0) -> Unsqueeze -> Concat([.., -1])
-> Reshape(x, ..): a side branch that only reads x's shape. Sizes other than the batch are known
on import, so the branch is computed here once, with the batch as the marker ``BATCH``, and the
Reshape finds a constant target such as ``[BATCH, -1]``.
"""
import numpy as np

BATCH = 2**40 + 1   # the batch size, unknown on import: no real dimension has this value

_FOLDED = ("Shape", "Gather", "Unsqueeze", "Concat", "Squeeze", "Cast")


def _shape(inputs, attrs, shape):
    full = np.array([BATCH, *shape], np.int64)
    return full[attrs.get("start", 0):attrs.get("end", len(full))]


def _axes(inputs, attrs):
    return [int(a) for a in (inputs[1] if len(inputs) > 1 else attrs.get("axes", []))]


def _unsqueeze(inputs, attrs, shape):
    out = inputs[0]
    rank = out.ndim + len(_axes(inputs, attrs))
    for axis in sorted(a % rank for a in _axes(inputs, attrs)):
        out = np.expand_dims(out, axis)
    return out


def _squeeze(inputs, attrs, shape):
    axes = _axes(inputs, attrs)
    return np.squeeze(inputs[0], axis=tuple(axes) if axes else None)


_EVALUATE = {
    "Shape": _shape,
    "Gather": lambda inputs, attrs, shape: np.take(inputs[0], inputs[1], axis=attrs.get("axis", 0)),
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": lambda inputs, attrs, shape: np.concatenate(inputs, axis=attrs.get("axis", 0)),
    "Cast": lambda inputs, attrs, shape: inputs[0],
}


def fold(graph, shape_node, shape, attrs_of):
    """Compute the branch that starts at ``shape_node`` (reading a tensor of ``shape``, batch left out)
    into ``graph.constants``; returns the nodes folded. ``attrs_of(node)`` gives a node's attributes."""
    folded = {id(shape_node): shape_node}
    graph.constants[shape_node.output[0]] = _shape([], attrs_of(shape_node), shape)
    grew = True
    while grew:
        grew = False
        for node in graph.nodes:
            if id(node) in folded or node.op_type not in _FOLDED or node.op_type == "Shape":
                continue
            names = [name for name in node.input if name]
            if names and all(name in graph.constants for name in names):
                inputs = [graph.constants[name] for name in names]
                graph.constants[node.output[0]] = _EVALUATE[node.op_type](inputs, attrs_of(node), shape)
                folded[id(node)] = node
                grew = True
    return list(folded.values())
