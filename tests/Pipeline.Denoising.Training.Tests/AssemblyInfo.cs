// libtorch's thread count is process-wide and the memory test reads process RSS: run classes one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
