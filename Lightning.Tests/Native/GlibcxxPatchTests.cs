using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using Lightning.Build;
using TorchSharp;
using Xunit;

namespace Lightning.Tests.Native
{
    /// <summary>
    /// The GLIBCXX_3.4.32 fix (Lightning.Runtime/build/GlibcxxPatch.cs, compiled into this project with
    /// LIGHTNING_NO_MSBUILD) and its effect on this project's own build output.
    /// </summary>
    public sealed class GlibcxxPatchTests : IDisposable
    {
        private const string Version = LibTorchSharpPatch.Version;
        private readonly string _dir = Directory.CreateDirectory(
            Path.Combine(Path.GetTempPath(), "lightning-glibcxx-" + Guid.NewGuid().ToString("N"))).FullName;

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private static string NuGetCacheCopy()
        {
            string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            string path = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", LibTorchSharpPatch.FileName);
            Assert.True(File.Exists(path), $"TorchSharp 0.107.0 is not restored: {path} is missing.");
            return path;
        }

        private string CopyOfCacheLibrary(string name = LibTorchSharpPatch.FileName)
        {
            string copy = Path.Combine(_dir, name);
            File.Copy(NuGetCacheCopy(), copy);
            return copy;
        }

        private static bool IsWeak(string path) => (ElfVersionNeeds.ReadFlags(path, Version) & ElfVersionNeeds.WeakFlag) != 0;

        [Fact]
        public void MarkWeak_SetsTheFlag_ChangesOnlyTheFlagBytes_AndIsIdempotent()
        {
            string path = CopyOfCacheLibrary();
            byte[] original = File.ReadAllBytes(path);
            long at = ElfVersionNeeds.FindFlagsOffset(original, Version, path);
            Assert.True(at > 0, "libLibTorchSharp.so 0.107.0 should require " + Version);
            Assert.False(IsWeak(NuGetCacheCopy()), "the NuGet cache copy must never be patched");
            Assert.False(IsWeak(path));

            Assert.Equal(PatchResult.Patched, ElfVersionNeeds.MarkWeak(path, Version));
            Assert.True(IsWeak(path));
            byte[] once = File.ReadAllBytes(path);

            Assert.Equal(PatchResult.AlreadyWeak, ElfVersionNeeds.MarkWeak(path, Version));
            Assert.Equal(once, File.ReadAllBytes(path));

            Assert.Equal(original.Length, once.Length);
            var changed = Enumerable.Range(0, once.Length).Where(i => once[i] != original[i]).ToArray();
            Assert.All(changed, i => Assert.InRange(i, at, at + 1));
            int before = original[at] | original[at + 1] << 8, after = once[at] | once[at + 1] << 8;
            Assert.Equal(before | ElfVersionNeeds.WeakFlag, after);
        }

        [Fact]
        public void MarkWeak_LeavesOtherVersionsAlone()
        {
            string path = CopyOfCacheLibrary();
            Assert.Equal(PatchResult.Patched, ElfVersionNeeds.MarkWeak(path, Version));
            Assert.Equal(0, ElfVersionNeeds.ReadFlags(path, "GLIBCXX_3.4.30"));
            Assert.Equal(-1, ElfVersionNeeds.ReadFlags(path, "GLIBCXX_9.9.9"));
            Assert.Equal(PatchResult.NotNeeded, ElfVersionNeeds.MarkWeak(path, "GLIBCXX_9.9.9"));
        }

        [DllImport("libc", EntryPoint = "link", SetLastError = true)]
        private static extern int HardLink(string existing, string newPath);

        [Fact]
        public void PatchOutputCopy_NeverWritesThroughLinks_AndKeepsTheTimestamp()
        {
            string shared = CopyOfCacheLibrary("shared.so");
            var time = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
            File.SetLastWriteTimeUtc(shared, time);
            byte[] original = File.ReadAllBytes(shared);

            string symlink = Path.Combine(_dir, "symlinked.so");
            File.CreateSymbolicLink(symlink, shared);
            string hardlink = Path.Combine(_dir, "hardlinked.so");
            Assert.Equal(0, HardLink(shared, hardlink));

            foreach (var output in new[] { symlink, hardlink })
            {
                Assert.Equal(PatchResult.Patched, LibTorchSharpPatch.PatchOutputCopy(output));
                Assert.True(IsWeak(output));
                Assert.Equal(time, File.GetLastWriteTimeUtc(output));
                Assert.Null(new FileInfo(output).LinkTarget);
                Assert.Equal(PatchResult.AlreadyWeak, LibTorchSharpPatch.PatchOutputCopy(output));
            }
            Assert.Equal(original, File.ReadAllBytes(shared));
        }

        private string FakeLibstdcxx(string dirName, string content)
        {
            string dir = Directory.CreateDirectory(Path.Combine(_dir, dirName)).FullName;
            File.WriteAllBytes(Path.Combine(dir, "libstdc++.so.6"), Encoding.ASCII.GetBytes(content));
            return dir;
        }

        [Fact]
        public void SystemCheck_ReadsTheFirstLibstdcxxFound()
        {
            string newer = FakeLibstdcxx("newer", "\x7f" + "ELF junk\0GLIBCXX_3.4.30\0GLIBCXX_3.4.32\0CXXABI_1.3.15\0");
            string older = FakeLibstdcxx("older", "\x7f" + "ELF junk\0GLIBCXX_3.4.30\0GLIBCXX_3.4.321\0");
            string empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;

            Assert.True(SystemLibstdcxx.Provides(Version, new[] { empty, newer }, out var library));
            Assert.Equal(Path.Combine(newer, "libstdc++.so.6"), library);
            Assert.False(SystemLibstdcxx.Provides(Version, new[] { older }, out library));
            Assert.Equal(Path.Combine(older, "libstdc++.so.6"), library);
            Assert.False(SystemLibstdcxx.Provides(Version, new[] { older, newer }, out _));
            Assert.False(SystemLibstdcxx.Provides(Version, new[] { empty, Path.Combine(_dir, "missing") }, out library));
            Assert.Null(library);
        }

        [Fact]
        public void SystemCheck_SearchesLdLibraryPathFirst()
        {
            var directories = SystemLibstdcxx.SearchDirectories().ToList();
            string? ld = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            var expected = (ld ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(SystemLibstdcxx.StandardDirectories);
            Assert.Equal(expected, directories);
            Assert.Contains("/usr/lib/x86_64-linux-gnu", directories);
        }

        public static TheoryData<string, int, int, byte[]> BrokenFiles => new TheoryData<string, int, int, byte[]>
        {
            // name, bytes kept from the real library (-1: all), where to overwrite (-1: nowhere), the new bytes
            { "empty", 0, -1, new byte[0] },
            { "header only", 64, -1, new byte[0] },
            { "truncated", 100_000, -1, new byte[0] },
            { "32-bit class", -1, 4, new byte[] { 1 } },
            { "big-endian", -1, 5, new byte[] { 2 } },
            { "e_shoff past the end", -1, 0x28, new byte[] { 0, 0, 0, 0, 0, 0, 0, 0x7f } },
            { "e_shnum past the end", -1, 0x3c, new byte[] { 0xfe, 0xff } },
            { "e_shstrndx out of range", -1, 0x3e, new byte[] { 31, 0 } },
        };

        private string WriteBroken(string name, byte[] image)
        {
            string path = Path.Combine(_dir, name.Replace(' ', '-') + ".so");
            File.WriteAllBytes(path, image);
            return path;
        }

        private static void AssertInvalid(string path)
        {
            byte[] before = File.ReadAllBytes(path);
            var read = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.ReadFlags(path, Version));
            Assert.Contains(path, read.Message);
            var patch = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.MarkWeak(path, Version));
            Assert.Contains(path, patch.Message);
            Assert.Equal(before, File.ReadAllBytes(path));
        }

        [Theory]
        [MemberData(nameof(BrokenFiles))]
        public void BrokenElf_GivesAnErrorNamingTheFile(string name, int keep, int at, byte[] bytes)
        {
            byte[] image = File.ReadAllBytes(NuGetCacheCopy());
            if (keep >= 0)
                image = image.Take(keep).ToArray();
            if (at >= 0)
                bytes.CopyTo(image, at);
            AssertInvalid(WriteBroken(name, image));
        }

        [Theory]
        [InlineData("name past the string table", 8)]  // vna_name of the entry before GLIBCXX_3.4.32
        [InlineData("next past the section", 12)]      // vna_next of that entry
        public void BrokenVersionEntry_GivesAnErrorNamingTheFile(string name, int field)
        {
            byte[] image = File.ReadAllBytes(NuGetCacheCopy());
            long previous = ElfVersionNeeds.FindFlagsOffset(image, Version, "cache") - 4 - 16;
            BitConverter.GetBytes(0xffff_fff0u).CopyTo(image, previous + field);
            AssertInvalid(WriteBroken(name, image));
        }

        [Fact]
        public void NotElf_GivesAnErrorNamingTheFile()
        {
            string path = Path.Combine(_dir, "notes.txt");
            File.WriteAllText(path, "this is not an ELF file, just some text long enough to hold a 64-byte header...");
            var e = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.MarkWeak(path, Version));
            Assert.Contains(path, e.Message);
            Assert.Contains("no ELF header", e.Message);
        }

        [Fact]
        public void BuildOutput_IsPatched_AndTorchSharpLoads()
        {
            var copies = Directory.GetFiles(AppContext.BaseDirectory, LibTorchSharpPatch.FileName, SearchOption.AllDirectories);
            Assert.NotEmpty(copies);
            bool systemProvides = SystemLibstdcxx.Provides(Version, SystemLibstdcxx.SearchDirectories(), out _);
            Assert.All(copies, copy => Assert.True(systemProvides || IsWeak(copy), copy + " was not patched"));

            Assert.Equal(3f, torch.ones(3).sum().item<float>());
        }
    }
}
