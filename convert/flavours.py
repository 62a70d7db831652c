"""The TFLite flavours we build (importable without TensorFlow)."""

FLAVOURS = ("float32", "float16", "dynamic", "int8")
