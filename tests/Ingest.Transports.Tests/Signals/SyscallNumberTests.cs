using System.Runtime.InteropServices;
using Ingest.Transports.Interop;
using Tmds.Linux;

namespace Ingest.Transports.Tests.Signals;

public sealed class SyscallNumberTests
{
    [Theory]
    [InlineData(Architecture.X64, 297)]
    [InlineData(Architecture.Arm64, 240)]
    [InlineData(Architecture.RiscV64, 240)]
    [InlineData(Architecture.X86, 335)]
    [InlineData(Architecture.Arm, 363)]
    [InlineData(Architecture.LoongArch64, 240)]
    public void Rt_tgsigqueueinfo_has_its_architectures_number(Architecture architecture, long number) =>
        Assert.Equal(number, SyscallNumbers.For(architecture).RtTgSigQueueInfo);

    [Fact]
    public void An_unknown_architecture_is_refused_rather_than_guessed() =>
        Assert.Throws<PlatformNotSupportedException>(() => SyscallNumbers.For(Architecture.Wasm));

    [Fact]
    public unsafe void The_number_for_this_machine_reaches_the_kernel()
    {
        // Signal 0 to ourselves: the kernel checks the target and permissions only. A wrong
        // number would be another syscall (or ENOSYS), not 0.
        var info = new rt_siginfo { si_code = LibC.SI_QUEUE, si_pid = Environment.ProcessId };
        Assert.Equal(0, Sys.rt_tgsigqueueinfo(Environment.ProcessId, Sys.gettid(), 0, &info));
    }
}
