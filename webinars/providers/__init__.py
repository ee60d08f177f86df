"""Video platforms behind one interface; nothing outside this package imports an adapter."""
