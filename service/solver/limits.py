"""Documented caps on request values; published by /v1/info and in the OpenAPI schema.

They keep every answer inside the service's time budget; they are far above what
real networks use (a 1024-wide kernel, a 2**20-pixel side).
"""

MAX_SPATIAL_DIMS = 3
MAX_SIZE = 1 << 20
MAX_KERNEL_SIZE = 1024
MAX_STRIDE = 1024
MAX_DILATION = 1024
MAX_PADDING = 1 << 20
# output_padding < max(stride, dilation) <= 1024, so 1023 is the largest value torch can accept.
MAX_OUTPUT_PADDING = 1023
MAX_CHANNELS = 1 << 16
MAX_BATCH_SIZE = 1 << 16
MAX_RANGE_VALUES = 256
MAX_LIMIT = 1000
# The largest integer every JSON parser reads exactly (a double's 53 bits); a page past the end is
# simply empty.
MAX_OFFSET = (1 << 53) - 1
MAX_SHAPE_BATCH = 10_000
MAX_SEARCH_BATCH = 1_000
# Verification runs real tensors: at most this many layers per request, and at most this many
# elements in any one tensor (input, weight or output; 2**26 float32 elements is 256 MiB).
MAX_VERIFY_LAYERS = 256
MAX_VERIFY_ELEMENTS = 1 << 26
MAX_VERIFY_REPEATS = 100
# Plans: layers per plan and plans per answer.
MAX_PLAN_LAYERS = 16
MAX_PLAN_LIMIT = 1000
