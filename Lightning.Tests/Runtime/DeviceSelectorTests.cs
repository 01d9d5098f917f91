using System;
using TorchSharp;
using Xunit;

namespace Lightning.Tests.Runtime;

public sealed class DeviceSelectorTests
{
    private static int NoCount() => throw new InvalidOperationException("the CUDA device count must not be asked for");

    [Theory]
    [InlineData("auto")]
    [InlineData("AUTO")]
    [InlineData(null)]
    [InlineData(" auto ")]
    public void AutoWithoutCudaIsCpu(string? device)
    {
        var d = DeviceSelector.Resolve(device, cudaAvailable: false, NoCount);
        Assert.Equal(DeviceType.CPU, d.type);
    }

    [Fact]
    public void AutoWithCudaIsTheFirstGpu()
    {
        var d = DeviceSelector.Resolve("auto", cudaAvailable: true, () => 2);
        Assert.Equal(DeviceType.CUDA, d.type);
        Assert.Equal(0, d.index);
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("CPU")]
    [InlineData("Cpu")]
    public void CpuIsCpu(string device)
    {
        Assert.Equal(DeviceType.CPU, DeviceSelector.Resolve(device, cudaAvailable: false, NoCount).type);
        Assert.Equal(DeviceType.CPU, DeviceSelector.Resolve(device, cudaAvailable: true, () => 1).type);
    }

    [Theory]
    [InlineData("cuda")]
    [InlineData("CUDA")]
    [InlineData("gpu")]
    [InlineData("cuda:0")]
    public void CudaWithoutCudaIsAnError(string device)
    {
        var e = Assert.Throws<LightningException>(() => DeviceSelector.Resolve(device, cudaAvailable: false, NoCount));
        Assert.Contains("TrainerOptions.Device", e.Message);
        Assert.Contains("CUDA is not available", e.Message);
        Assert.Contains($"'{device}'", e.Message);
    }

    [Fact]
    public void CudaWithCudaIsTheGivenGpu()
    {
        var first = DeviceSelector.Resolve("cuda", cudaAvailable: true, () => 2);
        Assert.Equal(DeviceType.CUDA, first.type);
        Assert.Equal(0, first.index);
        var second = DeviceSelector.Resolve("cuda:1", cudaAvailable: true, () => 2);
        Assert.Equal(DeviceType.CUDA, second.type);
        Assert.Equal(1, second.index);
    }

    [Fact]
    public void CudaIndexBeyondTheDeviceCountIsAnError()
    {
        var e = Assert.Throws<LightningException>(() => DeviceSelector.Resolve("cuda:1", cudaAvailable: true, () => 1));
        Assert.Contains("TrainerOptions.Device", e.Message);
        Assert.Contains("cuda:1", e.Message);
        Assert.Contains("1 CUDA device", e.Message);
    }

    [Theory]
    [InlineData("cuda:x")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    public void MalformedCudaIndexIsAnError(string device)
    {
        foreach (bool available in new[] { false, true })
        {
            var e = Assert.Throws<LightningException>(() => DeviceSelector.Resolve(device, available, () => 4));
            Assert.Contains("TrainerOptions.Device", e.Message);
            Assert.Contains(device, e.Message);
            Assert.Contains("cuda:N", e.Message);
        }
    }

    [Theory]
    [InlineData("tpu")]
    [InlineData("mps")]
    [InlineData("")]
    public void UnknownDeviceIsAnError(string device)
    {
        var e = Assert.Throws<LightningException>(() => DeviceSelector.Resolve(device, cudaAvailable: true, () => 1));
        Assert.Contains("TrainerOptions.Device", e.Message);
        Assert.Contains("is not a device", e.Message);
    }

    [Fact]
    public void PublicResolveOfCpuIsCpu()
    {
        Assert.Equal(DeviceType.CPU, DeviceSelector.Resolve("cpu").type);
    }
}
