using System.Runtime.InteropServices;
using Ingest.Transports.Interop;

namespace Ingest.Transports.Tests.Signals;

public sealed class SyscallNumberTests
{
    [Theory]
    [InlineData(Architecture.X64, 297)]
    [InlineData(Architecture.Arm64, 240)]
    [InlineData(Architecture.RiscV64, 240)]
    [InlineData(Architecture.X86, 335)]
    [InlineData(Architecture.Arm, 363)]
    public void Rt_tgsigqueueinfo_has_its_architectures_number(Architecture architecture, long number) =>
        Assert.Equal(number, Libc.RtTgSigQueueInfoNumber(architecture));

    [Fact]
    public void An_unknown_architecture_is_refused_rather_than_guessed() =>
        Assert.Throws<PlatformNotSupportedException>(() => Libc.RtTgSigQueueInfoNumber(Architecture.Wasm));

    [Fact]
    public unsafe void The_number_for_this_machine_reaches_the_kernel()
    {
        // Signal 0 to ourselves: the kernel checks the target and permissions only. A wrong
        // number would be another syscall (or ENOSYS), not 0.
        var info = new siginfo_t { si_code = Libc.SI_QUEUE, si_pid = Environment.ProcessId };
        Assert.Equal(0, Libc.rt_tgsigqueueinfo(Environment.ProcessId, Libc.gettid(), 0, &info));
    }
}
