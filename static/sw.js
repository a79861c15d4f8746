// filled in by the offline slice
