"""tconv: which PyTorch ConvTranspose layers turn this input size into that output size."""

__version__ = "0.1.0"
