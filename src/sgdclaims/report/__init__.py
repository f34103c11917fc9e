"""HTML claim reports: index and one page per claim, rendered from the recorded JSON."""
