"""KDS: the gRPC endpoint that zone control planes connect to."""
