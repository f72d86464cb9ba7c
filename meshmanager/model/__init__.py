"""Resource model and validation: the lowest layer, importing nothing else of ours."""
