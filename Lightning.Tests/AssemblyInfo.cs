using Xunit;

// TorchSharp's default random generator is process-wide: a test drawing from it in parallel with a training test
// would change that test's dropout masks between a checkpoint's restore and its use. The whole suite takes seconds,
// so tests run one at a time and every seeded run is exactly repeatable.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Lightning.Tests
{
    internal static class TestWorkingDirectory
    {
        /// <summary>
        /// Fits write lightning_logs/version_N under the current folder by default (as Lightning's): run the tests in a
        /// fresh temporary folder, removed when the process exits, so they leave nothing behind.
        /// </summary>
        [System.Runtime.CompilerServices.ModuleInitializer]
        internal static void Use()
        {
            var dir = System.IO.Directory.CreateTempSubdirectory("lightning-tests-").FullName;
            System.IO.Directory.SetCurrentDirectory(dir);
            System.AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try { System.IO.Directory.Delete(dir, recursive: true); } catch (System.IO.IOException) { }
            };
        }
    }
}
