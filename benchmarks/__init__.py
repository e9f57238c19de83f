"""kdash benchmarks: generated clinics, the measures, and the naive and limit comparisons."""
