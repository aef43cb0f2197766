"""Image providers behind one interface (see :mod:`photochanger.providers.base`)."""
