using System.Globalization;
using Ingest.Transports.Signals;
using Ingest.Transports.TestHost;

// usage:
//   signal-source <signo>                       runs a SignalSource; prints "ready <pid> <tid>", then one
//                                               line per event; stops when stdin closes
//   send <tgid> <tid> <signo> <value>           rt_tgsigqueueinfo once; exit code = errno (0: sent)
//   idle <signo>                                prints "ready <pid>" and waits for stdin to close
//   forge <tgid> <tid> <signo> <value>          forges module signals (ForgedSignal); exit 0 as expected
// Modes that receive a signal first reset what this process inherited for it (see InheritedSignalState).
return args switch
{
    ["signal-source", var signo] => await SignalHost.RunAsync(Reset(RealtimeSignal.Parse(signo))),
    ["send", var tgid, var tid, var signo, var value] => RealtimeSignal.TryQueue(Int(tgid), Int(tid), Int(signo), Int(value)),
    ["idle", var signo] => Idle(Reset(Int(signo))),
    ["forge", var tgid, var tid, var signo, var value] => ForgedSignal.Run(Int(tgid), Int(tid), Int(signo), Int(value)),
    _ => Usage(),
};

static int Reset(int signo)
{
    InheritedSignalState.Reset(signo);
    return signo;
}

static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

static int Idle(int signo)
{
    Console.WriteLine($"ready {Environment.ProcessId} signal {signo}");
    Console.In.ReadToEnd();
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("usage: Ingest.Transports.TestHost signal-source <signo> | send <tgid> <tid> <signo> <value> | idle <signo> | forge <tgid> <tid> <signo> <value>");
    return 64;
}
