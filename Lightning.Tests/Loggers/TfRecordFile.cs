using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;

namespace Lightning.Tests.Loggers;

/// <summary>
/// Reads TensorBoard's event files: TFRecord framing (uint64 length, masked CRC-32C of the length, the bytes, masked
/// CRC-32C of the bytes, all little-endian) around serialized <c>Event</c> protobufs, checking both checksums as
/// TensorFlow's reader does.
/// </summary>
internal static class TfRecordFile
{
    public static List<Tensorboard.Event> ReadEvents(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var events = new List<Tensorboard.Event>();
        int at = 0;
        while (at < bytes.Length)
        {
            if (bytes.Length - at < 12) throw new InvalidDataException($"{path}: a record header is cut at byte {at}.");
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));
            uint lengthCrc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8));
            if (lengthCrc != MaskedCrc32C(bytes.AsSpan(at, 8))) throw new InvalidDataException($"{path}: bad length checksum at byte {at}.");
            if (length > (ulong)(bytes.Length - at - 16)) throw new InvalidDataException($"{path}: a record at byte {at} runs past the end.");
            var data = bytes.AsSpan(at + 12, (int)length);
            uint dataCrc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + (int)length));
            if (dataCrc != MaskedCrc32C(data)) throw new InvalidDataException($"{path}: bad data checksum at byte {at}.");
            events.Add(Tensorboard.Event.Parser.ParseFrom(data.ToArray()));
            at += 12 + (int)length + 4;
        }
        return events;
    }

    /// <summary>CRC-32C (Castagnoli), rotated right by 15 bits plus a constant, as TFRecord stores it.</summary>
    public static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        crc ^= 0xFFFFFFFFu;
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }
}
