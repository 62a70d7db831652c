"""TFLite conversion (float32, float16, dynamic-range, full-integer int8) and the parity gate."""
