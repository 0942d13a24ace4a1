using System.Reflection;
using Ingest.Bench;

// usage: Ingest.Bench [--runs N] [name ...]   (no names: all benchmarks)
var runs = 5;
var names = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--runs" && i + 1 < args.Length)
    {
        runs = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
    }
    else if (args[i] is "-h" or "--help")
    {
        Console.WriteLine("usage: Ingest.Bench [--runs N] [benchmark ...]");
        foreach (var b in Discover())
        {
            Console.WriteLine($"  {b.Name,-12} {b.Description}");
        }

        return 0;
    }
    else
    {
        names.Add(args[i]);
    }
}

var all = Discover().ToList();
var unknown = names.Where(n => all.All(b => b.Name != n)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"unknown benchmark(s): {string.Join(", ", unknown)}; known: {string.Join(", ", all.Select(b => b.Name))}");
    return 2;
}

var root = FindRepoRoot();
var report = new BenchReport();
var context = new BenchContext(runs, root, report);
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
foreach (var benchmark in all.Where(b => names.Count == 0 || names.Contains(b.Name)))
{
    context.Progress($"== {benchmark.Name}: {benchmark.Description} ({runs} runs)");
    await benchmark.RunAsync(context, cts.Token);
}

Console.WriteLine(report.ToMarkdown());
return 0;

static IEnumerable<IBenchmark> Discover() =>
    typeof(IBenchmark).Assembly.GetTypes()
        .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
        .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
        .OrderBy(b => b.Name, StringComparer.Ordinal);

static string FindRepoRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ingest.sln")))
    {
        dir = dir.Parent;
    }

    return dir?.FullName ?? Directory.GetCurrentDirectory();
}
