// Makes TorchSharp's native library load on systems whose libstdc++ is older than the one it was built with.
//
// TorchSharp 0.107.0's libLibTorchSharp.so lists GLIBCXX_3.4.32 (GCC 13) among the versions it needs from
// libstdc++.so.6; Debian 12 ships 3.4.30, so the dynamic loader refuses the library. The only symbol behind
// that version is never bound, so it is enough to mark the requirement "weak" (VER_FLG_WEAK in the version-need
// entry): glibc then accepts a libstdc++ without that version. patchelf cannot set this flag, hence this file.
//
// This file is compiled three ways: by MSBuild's RoslynCodeTaskFactory (see Lightning.Runtime.targets), by the
// test project with LIGHTNING_NO_MSBUILD defined, and never into Lightning.Runtime itself. It must therefore
// stay dependency-free and compile against netstandard2.0: no Span, BinaryPrimitives or OperatingSystem.
// Only the task class is public: RoslynCodeTaskFactory picks it as the single exported type.
#nullable enable

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace Lightning.Build
{
    internal enum PatchResult
    {
        /// <summary>The file does not require the version at all: nothing to do.</summary>
        NotNeeded,
        /// <summary>The requirement was already weak: the file was left untouched.</summary>
        AlreadyWeak,
        /// <summary>The weak flag was written.</summary>
        Patched,
    }

    /// <summary>Reads and sets the flags of one version-need entry of an ELF64 little-endian file.</summary>
    internal static class ElfVersionNeeds
    {
        /// <summary>VER_FLG_WEAK: the loader tolerates a dependency that lacks this version.</summary>
        internal const ushort WeakFlag = 0x2;

        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const int ElfHeaderSize = 64;
        private const int SectionHeaderSize = 64;
        private const int EntrySize = 16; // both Elf64_Verneed and Elf64_Vernaux are 16 bytes

        /// <summary>The vna_flags of <paramref name="version"/>, or -1 when the file does not need it.</summary>
        internal static int ReadFlags(string path, string version)
        {
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
            {
                var image = ReadAll(file, path);
                long at = FindFlagsOffset(image, version, path);
                return at < 0 ? -1 : image[at] | image[at + 1] << 8;
            }
        }

        /// <summary>
        /// Sets the weak flag on <paramref name="version"/>. Writes only the two vna_flags bytes, and only when the
        /// flag is not set yet. Throws <see cref="InvalidDataException"/> naming the file if it is not valid ELF64.
        /// </summary>
        internal static PatchResult MarkWeak(string path, string version)
        {
            using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read))
            {
                var image = ReadAll(file, path);
                long at = FindFlagsOffset(image, version, path);
                if (at < 0)
                    return PatchResult.NotNeeded;
                int flags = image[at] | image[at + 1] << 8;
                if ((flags & WeakFlag) != 0)
                    return PatchResult.AlreadyWeak;
                flags |= WeakFlag;
                file.Position = at;
                file.Write(new[] { (byte)flags, (byte)(flags >> 8) }, 0, 2);
                return PatchResult.Patched;
            }
        }

        /// <summary>File offset of the vna_flags field naming <paramref name="version"/>, or -1 if there is none.</summary>
        internal static long FindFlagsOffset(byte[] image, string version, string path)
        {
            var elf = new Reader(image, path);

            // e_ident: magic, EI_CLASS (2 = 64-bit) at 4, EI_DATA (1 = little-endian) at 5.
            if (image.Length < ElfHeaderSize || image[0] != 0x7f || image[1] != 'E' || image[2] != 'L' || image[3] != 'F')
                throw elf.Invalid("no ELF header");
            if (image[4] != 2 || image[5] != 1)
                throw elf.Invalid("not a 64-bit little-endian ELF file");

            long shoff = elf.Size(0x28);       // e_shoff: where the section header table starts
            int shentsize = elf.U16(0x3a);     // e_shentsize
            long shnum = elf.U16(0x3c);        // e_shnum
            long shstrndx = elf.U16(0x3e);     // e_shstrndx: section holding the section names
            if (shoff == 0)
                throw elf.Invalid("no section header table");
            if (shentsize < SectionHeaderSize)
                throw elf.Invalid("section headers smaller than 64 bytes");
            // With 0xff00 sections or more, the real count (sh_size) and name-table index (sh_link) move to
            // section 0.
            if (shnum == 0)
                shnum = elf.Size(shoff + 0x20);
            if (shstrndx == 0xffff)
                shstrndx = elf.U32(shoff + 0x28);
            if (shnum > (image.Length - shoff) / shentsize)
                throw elf.Invalid("section header table extends past the end of the file");
            if (shstrndx >= shnum)
                throw elf.Invalid("section name table index out of range");

            // Section header fields: sh_name 0x00, sh_type 0x04, sh_offset 0x18, sh_size 0x20, sh_link 0x28.
            Func<long, long> header = index => shoff + index * shentsize;
            var names = Section.At(elf, header(shstrndx));
            for (long i = 0; i < shnum; i++)
            {
                long h = header(i);
                if (elf.U32(h + 0x04) != ShtGnuVerneed || elf.String(names, elf.U32(h)) != ".gnu.version_r")
                    continue;
                long link = elf.U32(h + 0x28); // the string table holding file and version names (.dynstr)
                if (link >= shnum)
                    throw elf.Invalid(".gnu.version_r links to a missing string table");
                return FindInVerneed(elf, Section.At(elf, h), Section.At(elf, header(link)), version);
            }
            return -1; // no version requirements at all
        }

        // .gnu.version_r is a chain of Verneed entries (one per needed library), each heading a chain of Vernaux
        // entries (one per version needed from that library). Links are byte offsets relative to the current entry:
        //   Verneed: vn_version u16 @0, vn_cnt u16 @2, vn_file u32 @4, vn_aux u32 @8 (first Vernaux), vn_next u32 @12
        //   Vernaux: vna_hash u32 @0, vna_flags u16 @4, vna_other u16 @6, vna_name u32 @8, vna_next u32 @12
        // A next link of 0 ends a chain. Links are unsigned, so the walk only moves forward and always ends.
        private static long FindInVerneed(Reader elf, Section verneed, Section strings, string version)
        {
            long need = verneed.Offset;
            while (true)
            {
                elf.RequireEntry(verneed, need);
                int count = elf.U16(need + 2);
                long aux = need + elf.U32(need + 8);
                for (int k = 0; k < count; k++)
                {
                    elf.RequireEntry(verneed, aux);
                    if (elf.String(strings, elf.U32(aux + 8)) == version)
                        return aux + 4;
                    long nextAux = elf.U32(aux + 12);
                    if (nextAux == 0)
                        break;
                    aux += nextAux;
                }
                long next = elf.U32(need + 12);
                if (next == 0)
                    return -1;
                need += next;
            }
        }

        private static byte[] ReadAll(FileStream file, string path)
        {
            if (file.Length > int.MaxValue)
                throw new InvalidDataException($"{path}: too large for an ELF shared library.");
            var image = new byte[file.Length];
            int read = 0;
            while (read < image.Length)
            {
                int n = file.Read(image, read, image.Length - read);
                if (n == 0)
                    throw new InvalidDataException($"{path}: file shrank while being read.");
                read += n;
            }
            return image;
        }

        private struct Section
        {
            public long Offset;
            public long Size;

            public static Section At(Reader elf, long header)
            {
                var section = new Section { Offset = elf.Size(header + 0x18), Size = elf.Size(header + 0x20) };
                if (section.Size > elf.Length - section.Offset)
                    throw elf.Invalid("a section extends past the end of the file");
                return section;
            }
        }

        /// <summary>Little-endian reads that check every offset against the file length.</summary>
        private struct Reader
        {
            private readonly byte[] _image;
            private readonly string _path;

            public Reader(byte[] image, string path)
            {
                _image = image;
                _path = path;
            }

            public long Length => _image.Length;

            public InvalidDataException Invalid(string reason) =>
                new InvalidDataException($"{_path}: not a valid ELF64 little-endian file ({reason}).");

            public int U16(long at) => (int)Read(at, 2);

            public long U32(long at) => (long)Read(at, 4);

            /// <summary>A 64-bit offset or size, which must lie within the file.</summary>
            public long Size(long at)
            {
                ulong value = Read(at, 8);
                if (value > (ulong)_image.Length)
                    throw Invalid($"offset or size 0x{value:x} at 0x{at:x} is past the end of the file");
                return (long)value;
            }

            /// <summary>The NUL-terminated string at <paramref name="offset"/> within a string table.</summary>
            public string String(Section table, long offset)
            {
                if (offset >= table.Size)
                    throw Invalid($"string offset 0x{offset:x} outside its string table");
                long start = table.Offset + offset, end = table.Offset + table.Size;
                long nul = start;
                while (nul < end && _image[nul] != 0)
                    nul++;
                if (nul == end)
                    throw Invalid("unterminated string");
                return Encoding.UTF8.GetString(_image, (int)start, (int)(nul - start));
            }

            /// <summary>Checks that a 16-byte version entry lies inside its section.</summary>
            public void RequireEntry(Section section, long at)
            {
                if (at < section.Offset || at > section.Offset + section.Size - EntrySize)
                    throw Invalid($"version entry at 0x{at:x} outside .gnu.version_r");
            }

            private ulong Read(long at, int bytes)
            {
                if (at < 0 || at > _image.Length - bytes)
                    throw Invalid($"read at 0x{at:x} past the end of the file");
                ulong value = 0;
                for (int i = bytes - 1; i >= 0; i--)
                    value = value << 8 | _image[at + i];
                return value;
            }
        }
    }

    /// <summary>Does the libstdc++ the loader would pick already define a given symbol version?</summary>
    internal static class SystemLibstdcxx
    {
        internal static readonly string[] StandardDirectories =
            { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib" };

        /// <summary>LD_LIBRARY_PATH entries first (the loader searches them first), then the standard directories.</summary>
        internal static IEnumerable<string> SearchDirectories() =>
            (Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? "")
                .Split(new[] { ':' }, StringSplitOptions.RemoveEmptyEntries)
                .Concat(StandardDirectories);

        /// <summary>
        /// True when the first libstdc++.so.6 found in <paramref name="directories"/> contains the NUL-terminated
        /// <paramref name="version"/> string (as in its .dynstr). False when it does not, or none is found.
        /// </summary>
        internal static bool Provides(string version, IEnumerable<string> directories, out string? library)
        {
            library = directories.Select(d => Path.Combine(d, "libstdc++.so.6")).FirstOrDefault(File.Exists);
            return library != null && Contains(File.ReadAllBytes(library), Encoding.ASCII.GetBytes(version + "\0"));
        }

        private static bool Contains(byte[] haystack, byte[] needle)
        {
            for (int i = 0; i <= haystack.Length - needle.Length; i++)
            {
                int j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j])
                    j++;
                if (j == needle.Length)
                    return true;
            }
            return false;
        }
    }

    /// <summary>Patches the build or publish output copy of libLibTorchSharp.so.</summary>
    internal static class LibTorchSharpPatch
    {
        internal const string FileName = "libLibTorchSharp.so";
        internal const string Version = "GLIBCXX_3.4.32";

        /// <summary>
        /// Marks <see cref="Version"/> weak in <paramref name="path"/>, an output copy. The copy may be a hard or
        /// symbolic link into the NuGet cache (CreateHardLinksForCopyLocalIfPossible and friends), so before the
        /// first write it is replaced by a file of its own. Its timestamp is kept, so that MSBuild's incremental
        /// copy (same size and time: skip) leaves the patched file in place.
        /// </summary>
        internal static PatchResult PatchOutputCopy(string path)
        {
            int flags = ElfVersionNeeds.ReadFlags(path, Version);
            if (flags < 0)
                return PatchResult.NotNeeded;
            if ((flags & ElfVersionNeeds.WeakFlag) != 0)
                return PatchResult.AlreadyWeak;

            string own = path + ".lightning-tmp";
            try
            {
                File.Copy(path, own, overwrite: true);     // the content behind any link, with its timestamp
                var time = File.GetLastWriteTimeUtc(own);  // (for a symbolic link, path would give the link's own)
                File.Replace(own, path, null);             // a rename: the link is replaced, its target untouched
                var result = ElfVersionNeeds.MarkWeak(path, Version);
                File.SetLastWriteTimeUtc(path, time);
                return result;
            }
            finally
            {
                File.Delete(own); // only left over if something failed; no error if it is gone
            }
        }
    }

#if !LIGHTNING_NO_MSBUILD
    /// <summary>
    /// MSBuild task: marks GLIBCXX_3.4.32 weak in every libLibTorchSharp.so under the given directories, unless
    /// the system libstdc++ provides that version. Does nothing except on Linux.
    /// </summary>
    public sealed class PatchLibTorchSharpGlibcxx : Microsoft.Build.Utilities.Task
    {
        /// <summary>Output or publish directories, searched recursively.</summary>
        [Microsoft.Build.Framework.Required]
        public string[] Directories { get; set; } = new string[0];

        public override bool Execute()
        {
            var low = Microsoft.Build.Framework.MessageImportance.Low;
            if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(
                    System.Runtime.InteropServices.OSPlatform.Linux))
                return true;

            var files = Directories.Where(Directory.Exists)
                .SelectMany(d => Directory.EnumerateFiles(d, LibTorchSharpPatch.FileName, SearchOption.AllDirectories))
                .Select(Path.GetFullPath).Distinct().ToList();
            if (files.Count == 0)
                return true;

            if (SystemLibstdcxx.Provides(LibTorchSharpPatch.Version, SystemLibstdcxx.SearchDirectories(), out var library))
            {
                Log.LogMessage(low, "Lightning: {0} provides {1}; {2} left unpatched.",
                    library, LibTorchSharpPatch.Version, string.Join(", ", files));
                return true;
            }

            foreach (var file in files)
            {
                try
                {
                    var result = LibTorchSharpPatch.PatchOutputCopy(file);
                    Log.LogMessage(low, "Lightning: {0} {1} in {2} (system libstdc++: {3}).", LibTorchSharpPatch.Version,
                        result == PatchResult.Patched ? "marked weak" :
                        result == PatchResult.AlreadyWeak ? "already weak" : "not required",
                        file, library ?? "not found");
                }
                catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
                {
                    // A broken output copy should not fail the whole build. The exception messages name the file.
                    Log.LogWarning("Lightning: could not mark {0} weak, TorchSharp may fail to load: {1}",
                        LibTorchSharpPatch.Version, e.Message);
                }
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
