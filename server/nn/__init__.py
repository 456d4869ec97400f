"""Networks as objects over the core: layers (forward and backward), the Sequential model, Keras's
vocabulary and file formats, training, and the bundled digits model. ``nn`` imports ``core``;
``core`` never imports ``nn``."""
