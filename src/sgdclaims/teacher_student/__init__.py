"""Teacher-student networks: online SGD, order-parameter ODEs, closed forms (Goldt et al.)."""
