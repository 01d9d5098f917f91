using Xunit;

// TorchSharp's default random generator is process-wide: a test drawing from it in parallel with a training test
// would change that test's dropout masks between a checkpoint's restore and its use. The whole suite takes seconds,
// so tests run one at a time and every seeded run is exactly repeatable.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
