"""How a convolution is computed: the methods (direct shift-and-add, im2col, FFT, Winograd) and
their machinery (the plan, row tiles, scratch buffers, BLAS calls, frame gathering).

`server.core.conv` picks one of them; nothing here is part of the core's public face.
"""
