"""lead_scoring's Python package: the synthetic world, training, ONNX export and scoring."""

__version__ = "0.1.0"
